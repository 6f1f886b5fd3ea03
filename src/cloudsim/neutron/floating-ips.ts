/**
 * Neutron floating IPs, as recorded: allocated on an external network (201, DOWN, port_id null),
 * associated by `PUT` with a port_id (200; router and fixed address filled in; status stays
 * DOWN as in a cloud without an L3 agent), listed with filters, deleted (204, also while
 * associated), 409 OverQuota at the floatingip quota, 404 FloatingIPNotFound.
 */
import { collection, overQuota, resourceBody, type Item } from './common.ts';
import { portOf, portView } from './ports.ts';
import { associate, disassociate, releaseFloatingIp } from './network-ops.ts';
import type { FloatingIpRecord } from '../records.ts';
import { SimError, type RouteDef, type SimReply, type SimRequest } from '../service.ts';
import type { CloudState } from '../state.ts';
import { isoSeconds, uuid } from '../util.ts';

/** Key order of the recorded list and update answers. */
export function floatingIpView(cloud: CloudState, f: FloatingIpRecord): Item {
  const port = f.portId ? cloud.ports.get(f.portId) : undefined;
  const details = port ? portView(cloud, port) : undefined;
  return {
    id: f.id, tenant_id: cloud.projectId, floating_ip_address: f.address, floating_network_id: f.networkId, router_id: f.routerId,
    port_id: f.portId, fixed_ip_address: f.fixedIp, status: f.status, description: f.description,
    port_details: details ? {
      name: details.name, network_id: details.network_id, mac_address: details.mac_address, admin_state_up: true,
      status: details.status, device_id: details.device_id, device_owner: details.device_owner,
    } : null,
    tags: [...f.tags], created_at: isoSeconds(f.createdAt), updated_at: isoSeconds(f.updatedAt), revision_number: f.revision,
    project_id: cloud.projectId,
  };
}

export function floatingIpOf(cloud: CloudState, id: string): FloatingIpRecord {
  const f = cloud.floatingIps.get(id);
  if (!f) throw new SimError(404, `Floating IP ${id} could not be found`, 'FloatingIPNotFound');
  return f;
}

/** A port may carry one floating IP per fixed address. */
function checkPort(cloud: CloudState, portId: unknown, fip: FloatingIpRecord | undefined) {
  if (typeof portId !== 'string') throw new SimError(400, `Invalid input for port_id. Reason: '${String(portId)}' is not a valid UUID.`, 'HTTPBadRequest');
  const port = portOf(cloud, portId);
  const taken = [...cloud.floatingIps.values()].find((x) => x.portId === port.id && x.id !== fip?.id);
  if (taken) {
    throw new SimError(409, `Cannot associate floating IP ${fip?.address ?? ''} (${fip?.id ?? ''}) with port ${port.id} using fixed IP ${port.ip}, as that fixed IP already has a floating IP on external network ${taken.networkId}.`, 'FloatingIPPortAlreadyAssociated');
  }
  return port;
}

function create(req: SimRequest): SimReply {
  const { cloud } = req;
  const body = resourceBody(req, 'floatingip');
  const netId = body.floating_network_id;
  if (typeof netId !== 'string') throw new SimError(400, "Failed to parse request. Required attribute 'floating_network_id' not specified", 'HTTPBadRequest');
  const net = cloud.findNetwork(netId);
  if (!net) throw new SimError(404, `Network ${netId} could not be found.`, 'NetworkNotFound');
  if (!net.external) throw new SimError(400, `Bad floatingip request: Network ${netId} is not a valid external network.`, 'BadRequest');
  const limit = cloud.networkQuota.floatingip;
  if (limit >= 0 && cloud.floatingIps.size >= limit) throw overQuota('floatingip');
  const description = typeof body.description === 'string' ? body.description : '';
  if (description.length > 255) throw new SimError(400, `Invalid input for description. Reason: '${description}' exceeds maximum length of 255.`, 'HTTPBadRequest');
  const port = body.port_id === undefined || body.port_id === null ? undefined : checkPort(cloud, body.port_id, undefined);
  const now = Date.now();
  const fip: FloatingIpRecord = {
    id: uuid(), address: cloud.floatingAddresses.allocate(), networkId: net.id, portId: null, fixedIp: null, routerId: null,
    status: 'DOWN', description, tags: [], revision: 0, createdAt: now, updatedAt: now, novaSeesAt: null,
  };
  cloud.floatingIps.set(fip.id, fip);
  if (port) associate(cloud, fip, port);
  // The create answer puts project_id right after status (recorded: `neutron-floatingips-create-201`).
  const { project_id: projectId, ...view } = floatingIpView(cloud, fip);
  const ordered: Item = {};
  for (const [k, v] of Object.entries(view)) {
    ordered[k] = v;
    if (k === 'status') ordered.project_id = projectId;
  }
  return { status: 201, body: { floatingip: ordered } };
}

function update(req: SimRequest): SimReply {
  const { cloud } = req;
  const fip = floatingIpOf(cloud, req.params.id);
  const body = resourceBody(req, 'floatingip');
  if (typeof body.description === 'string') fip.description = body.description;
  // Leaving port_id out disassociates, as the API reference says.
  if (body.port_id === undefined || body.port_id === null) disassociate(cloud, fip);
  else associate(cloud, fip, checkPort(cloud, body.port_id, fip));
  return { status: 200, body: { floatingip: floatingIpView(cloud, fip) } };
}

export const floatingIpRoutes: RouteDef[] = [
  {
    method: 'GET', path: '/network/v2.0/floatingips', auth: true,
    handler: (req) => collection(req, 'floatingips', [...req.cloud.floatingIps.values()].map((f) => floatingIpView(req.cloud, f))),
  },
  { method: 'POST', path: '/network/v2.0/floatingips', auth: true, handler: create },
  {
    method: 'GET', path: '/network/v2.0/floatingips/:id', auth: true,
    handler: (req) => ({ status: 200, body: { floatingip: floatingIpView(req.cloud, floatingIpOf(req.cloud, req.params.id)) } }),
  },
  { method: 'PUT', path: '/network/v2.0/floatingips/:id', auth: true, handler: update },
  {
    method: 'DELETE', path: '/network/v2.0/floatingips/:id', auth: true,
    handler: (req) => {
      releaseFloatingIp(req.cloud, floatingIpOf(req.cloud, req.params.id));
      return { status: 204 };
    },
  },
];
