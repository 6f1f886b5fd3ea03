/**
 * Neutron ports: the ones Nova makes for servers (`device_owner` `compute:nova`), ports created
 * through the API (DOWN, no device), and those a failed unbind leaves behind (DOWN, still naming a
 * server that is gone). List with filters, show, create (409 OverQuota at the port quota), delete.
 */
import { collection, one, overQuota, resourceBody, type Item } from './common.ts';
import { removePort } from './network-ops.ts';
import { SimError, type RouteDef, type SimReply, type SimRequest } from '../service.ts';
import type { CloudState, PortRecord } from '../state.ts';
import { isoSeconds, randomMac, uuid } from '../util.ts';

/** Key order as recorded (`neutron-ports-list-200-by-device`); a member sees no binding:* but vnic_type. */
export function portView(cloud: CloudState, p: PortRecord): Item {
  const net = cloud.findNetwork(p.networkId);
  return {
    id: p.id, name: p.name, network_id: p.networkId, tenant_id: cloud.projectId, mac_address: p.mac, admin_state_up: true,
    status: p.status, device_id: p.deviceId, device_owner: p.deviceOwner,
    fixed_ips: [{ subnet_id: net?.subnetId ?? '', ip_address: p.ip }], allowed_address_pairs: [], extra_dhcp_opts: [],
    security_groups: [cloud.securityGroupId], description: '', 'binding:vnic_type': 'normal', port_security_enabled: true,
    tags: [...p.tags], created_at: isoSeconds(p.createdAt), updated_at: isoSeconds(p.updatedAt), revision_number: p.revision,
    project_id: cloud.projectId,
  };
}

export function portOf(cloud: CloudState, id: string): PortRecord {
  const p = cloud.ports.get(id);
  if (!p) throw new SimError(404, `Port ${id} could not be found.`, 'PortNotFound');
  return p;
}

function create(req: SimRequest): SimReply {
  const { cloud } = req;
  const body = resourceBody(req, 'port');
  if (typeof body.network_id !== 'string') throw new SimError(400, "Failed to parse request. Required attribute 'network_id' not specified", 'HTTPBadRequest');
  const net = cloud.findNetwork(body.network_id);
  if (!net) throw new SimError(404, `Network ${body.network_id} could not be found.`, 'NetworkNotFound');
  const limit = cloud.networkQuota.port;
  if (limit >= 0 && cloud.ports.size >= limit) throw overQuota('port');
  const now = Date.now();
  const port: PortRecord = {
    id: uuid(), name: typeof body.name === 'string' ? body.name : '', networkId: net.id, mac: randomMac(), ip: cloud.addresses.allocate(),
    deviceId: '', deviceOwner: '', status: 'DOWN', tags: [], revision: 1, createdAt: now, updatedAt: now,
  };
  cloud.ports.set(port.id, port);
  return { status: 201, body: { port: portView(cloud, port) } };
}

export const portRoutes: RouteDef[] = [
  {
    method: 'GET', path: '/network/v2.0/ports', auth: true,
    handler: (req) => collection(req, 'ports', [...req.cloud.ports.values()].map((p) => portView(req.cloud, p))),
  },
  { method: 'POST', path: '/network/v2.0/ports', auth: true, handler: create },
  {
    method: 'GET', path: '/network/v2.0/ports/:id', auth: true,
    handler: (req) => {
      const p = req.cloud.ports.get(req.params.id);
      return one('port', p && portView(req.cloud, p), req.params.id, 'PortNotFound', 'Port');
    },
  },
  {
    method: 'DELETE', path: '/network/v2.0/ports/:id', auth: true,
    handler: (req) => {
      removePort(req.cloud, portOf(req.cloud, req.params.id).id);
      return { status: 204 };
    },
  },
];
