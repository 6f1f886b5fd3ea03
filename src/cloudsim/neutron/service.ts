/**
 * Neutron (networking v2.0) as one service: networks and their subnets here, ports
 * (neutron-ports.ts), floating IPs (neutron-floatingips.ts), tags on both (neutron-tags.ts) and
 * the project's quota; `NeutronError` bodies and the request id header on every answer.
 */
import { ERROR_TYPES, collection, one, overQuota, type Item } from './common.ts';
import { floatingIpRoutes } from './floating-ips.ts';
import { portRoutes } from './ports.ts';
import { tagRoutes } from './tags.ts';
import { SimError, middlewareUnauthorized, type ServiceDef, type SimRequest } from '../service.ts';
import type { CloudState, NetworkRecord } from '../state.ts';
import { isoSeconds } from '../util.ts';

function networkView(n: NetworkRecord): Item {
  const v: Item = {
    id: n.id, name: n.name, tenant_id: n.projectId, admin_state_up: true, mtu: n.mtu, status: 'ACTIVE', subnets: [n.subnetId],
    shared: n.shared, availability_zone_hints: [], availability_zones: [], ipv4_address_scope: null, ipv6_address_scope: null,
    'router:external': n.external, description: '', port_security_enabled: true,
  };
  if (n.external) v.is_default = false;
  Object.assign(v, { tags: [], created_at: isoSeconds(n.createdAt), updated_at: isoSeconds(n.createdAt), revision_number: 2, project_id: n.projectId });
  return v;
}

/** Ports draw their addresses from the cloud's loopback /16, floating IPs from their own. */
function subnetView(cloud: CloudState, n: NetworkRecord): Item {
  const base = n.external ? cloud.floatingAddresses.base : cloud.addresses.base;
  const cidr = `${base}.0.0/16`;
  return {
    id: n.subnetId, name: `${n.name}-subnet`, tenant_id: n.projectId, network_id: n.id, ip_version: 4, subnetpool_id: null,
    enable_dhcp: !n.external, ipv6_ra_mode: null, ipv6_address_mode: null, gateway_ip: null, cidr,
    allocation_pools: [{ start: `${base}.0.1`, end: `${base}.255.254` }], host_routes: [],
    dns_nameservers: [], description: '', service_types: [], tags: [], created_at: isoSeconds(n.createdAt),
    updated_at: isoSeconds(n.createdAt), revision_number: 0, project_id: n.projectId,
  };
}

export const neutron: ServiceDef = {
  name: 'neutron',
  statsRoots: ['/network'],
  routes: [
    {
      method: 'GET', path: '/network/', auth: false,
      handler: (req) => ({ status: 200, body: { versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${req.cloud.endpoints().network}/v2.0/` }] }] } }),
    },
    {
      method: 'GET', path: '/network/v2.0/', auth: true,
      handler: (req) => ({
        status: 200,
        body: {
          resources: ['network', 'subnet', 'port', 'floatingip', 'quota'].map((name) => ({
            links: [{ href: `${req.cloud.endpoints().network}/v2.0/${name}s`, rel: 'self' }], name, collection: `${name}s`,
          })),
        },
      }),
    },
    { method: 'GET', path: '/network/v2.0/networks', auth: true, handler: (req) => collection(req, 'networks', req.cloud.networks.map(networkView)) },
    {
      method: 'GET', path: '/network/v2.0/networks/:id', auth: true,
      handler: (req) => {
        const n = req.cloud.findNetwork(req.params.id);
        return one('network', n && networkView(n), req.params.id, 'NetworkNotFound', 'Network');
      },
    },
    { method: 'GET', path: '/network/v2.0/subnets', auth: true, handler: (req) => collection(req, 'subnets', req.cloud.networks.map((n) => subnetView(req.cloud, n))) },
    {
      method: 'GET', path: '/network/v2.0/subnets/:id', auth: true,
      handler: (req) => {
        const n = req.cloud.networks.find((x) => x.subnetId === req.params.id);
        return one('subnet', n && subnetView(req.cloud, n), req.params.id, 'SubnetNotFound', 'Subnet');
      },
    },
    { method: 'GET', path: '/network/v2.0/quotas/:project', auth: true, handler: (req) => ({ status: 200, body: { quota: quotaOf(req) } }) },
    { method: 'GET', path: '/network/v2.0/quotas/:project/details', auth: true, handler: quotaDetails },
    ...portRoutes,
    ...floatingIpRoutes,
    ...tagRoutes,
  ],
  decorate(req, reply) {
    if (req.path.startsWith('/network/v2.0')) (reply.headers ??= {})['X-Openstack-Request-Id'] = req.requestId;
  },
  error(_req, err) {
    return {
      status: err.status, headers: { ...err.headers },
      body: { NeutronError: { type: err.type ?? ERROR_TYPES[err.status] ?? 'HTTPError', message: err.message, detail: '' } },
    };
  },
  unauthorized: middlewareUnauthorized,
  quotaError(req) {
    return overQuota(req.path.includes('/floatingips') ? 'floatingip' : req.path.includes('/ports') ? 'port' : 'network');
  },
};

/** A member may read its own project's quota only. */
function quotaOf(req: SimRequest): Record<string, number> {
  const { cloud } = req;
  if (req.params.project !== cloud.projectId) throw new SimError(403, "(rule:get_quota) is disallowed by policy", 'PolicyNotAuthorized');
  // Neutron's defaults for what the simulator does not have (`neutron-quotas-show-200`).
  return {
    network: 100, subnet: 100, subnetpool: -1, port: cloud.networkQuota.port, router: 20,
    floatingip: cloud.networkQuota.floatingip, rbac_policy: 10, security_group: 10, security_group_rule: 100,
  };
}

/** `quota_details`: limit, used and reserved per resource. */
function quotaDetails(req: SimRequest) {
  const { cloud } = req;
  const used: Record<string, number> = {
    network: cloud.networks.filter((n) => n.projectId === cloud.projectId).length, subnet: 0, port: cloud.ports.size,
    floatingip: cloud.floatingIps.size, router: 0, security_group: 1, security_group_rule: 4,
  };
  const quota = Object.fromEntries(Object.entries(quotaOf(req)).map(([k, limit]) => [k, { limit, used: used[k] ?? 0, reserved: 0 }]));
  return { status: 200, body: { quota } };
}
