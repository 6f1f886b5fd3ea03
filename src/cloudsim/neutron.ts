/**
 * Neutron (networking v2.0), read side: networks, their subnets and the ports Nova made for
 * servers, with attribute filters, `fields`, and limit/marker pagination (`next` on a full page,
 * `previous` whenever a limit is given, as the recorded answers show). Floating IPs are never
 * allocated here: their list is empty and creating one is not simulated.
 */
import { SimError, middlewareUnauthorized, type ServiceDef, type SimReply, type SimRequest } from './service.ts';
import type { CloudState, NetworkRecord, PortRecord } from './state.ts';
import { isoSeconds } from './util.ts';

type Item = Record<string, unknown>;
const CONTROL_PARAMS = new Set(['limit', 'marker', 'page_reverse', 'fields', 'sort_key', 'sort_dir']);
const ERROR_TYPES: Record<number, string> = {
  400: 'HTTPBadRequest', 401: 'HTTPUnauthorized', 403: 'HTTPForbidden', 404: 'HTTPNotFound', 409: 'HTTPConflict',
  429: 'HTTPTooManyRequests', 500: 'HTTPInternalServerError', 503: 'HTTPServiceUnavailable',
};

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

/** Every port draws its address from the cloud's loopback /16, whatever its network. */
function subnetView(cloud: CloudState, n: NetworkRecord): Item {
  const cidr = `${cloud.addresses.base}.0.0/16`;
  return {
    id: n.subnetId, name: `${n.name}-subnet`, tenant_id: n.projectId, network_id: n.id, ip_version: 4, subnetpool_id: null,
    enable_dhcp: !n.external, ipv6_ra_mode: null, ipv6_address_mode: null, gateway_ip: null, cidr,
    allocation_pools: [{ start: `${cloud.addresses.base}.0.1`, end: `${cloud.addresses.base}.255.254` }], host_routes: [],
    dns_nameservers: [], description: '', service_types: [], tags: [], created_at: isoSeconds(n.createdAt),
    updated_at: isoSeconds(n.createdAt), revision_number: 0, project_id: n.projectId,
  };
}

function portView(cloud: CloudState, p: PortRecord): Item {
  const net = cloud.findNetwork(p.networkId);
  return {
    id: p.id, name: '', network_id: p.networkId, tenant_id: cloud.projectId, mac_address: p.mac, admin_state_up: true,
    status: p.status, device_id: p.deviceId, device_owner: 'compute:nova',
    fixed_ips: [{ subnet_id: net?.subnetId ?? '', ip_address: p.ip }], allowed_address_pairs: [], extra_dhcp_opts: [],
    security_groups: [cloud.securityGroupId], description: '', 'binding:vnic_type': 'normal', port_security_enabled: true,
    tags: [], created_at: isoSeconds(p.createdAt), updated_at: isoSeconds(p.updatedAt), revision_number: 3, project_id: cloud.projectId,
  };
}

/** Each filter is `attribute=value` (repeat for "any of"); booleans compare case-insensitively. */
function matches(item: Item, query: URLSearchParams): boolean {
  for (const key of new Set(query.keys())) {
    if (CONTROL_PARAMS.has(key) || !(key in item)) continue;
    const actual = item[key];
    const wanted = query.getAll(key);
    const ok = typeof actual === 'boolean'
      ? wanted.some((w) => w.toLowerCase() === String(actual))
      : wanted.some((w) => w === String(actual));
    if (!ok) return false;
  }
  return true;
}

function collection(req: SimRequest, resource: string, all: Item[]): SimReply {
  const { query } = req;
  let items = all.filter((i) => matches(i, query)).sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
  const rawLimit = query.get('limit');
  const limit = rawLimit === null ? 0 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 0) throw new SimError(400, `Bad limit request: Limit must be an integer 0 or greater and not '${rawLimit}'.`);
  const reverse = (query.get('page_reverse') ?? '').toLowerCase() === 'true';
  const marker = query.get('marker');
  if (marker !== null) {
    const i = items.findIndex((x) => x.id === marker);
    if (i < 0) throw new SimError(404, `Marker ${marker} could not be found.`, 'HTTPNotFound');
    items = reverse ? items.slice(0, i) : items.slice(i + 1);
  }
  if (limit > 0) items = reverse ? items.slice(-limit) : items.slice(0, limit);
  const fields = query.getAll('fields');
  const shown = fields.length === 0 ? items : items.map((i) => Object.fromEntries(fields.filter((f) => f in i).map((f) => [f, i[f]])));
  const body: Item = { [resource]: shown };
  if (limit > 0) {
    const base = `${req.cloud.endpoints().network}/v2.0/${resource}`;
    const href = (params: URLSearchParams) => `${base}?${params.toString()}`;
    const links: Item[] = [];
    if (!(items.length < limit && !reverse)) {
      const p = new URLSearchParams(query);
      if (items.length > 0) p.set('marker', String(items[items.length - 1].id));
      p.delete('page_reverse');
      links.push({ rel: 'next', href: href(p) });
    }
    if (!(items.length < limit && reverse)) {
      const p = new URLSearchParams(query);
      if (items.length > 0) p.set('marker', String(items[0].id));
      p.set('page_reverse', 'True');
      links.push({ rel: 'previous', href: href(p) });
    }
    body[`${resource}_links`] = links;
  }
  return { status: 200, body };
}

function one(resource: string, item: Item | undefined, id: string, type: string, what: string): SimReply {
  if (!item) throw new SimError(404, `${what} ${id} could not be found.`, type);
  return { status: 200, body: { [resource]: item } };
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
          resources: ['network', 'subnet', 'port', 'floatingip'].map((name) => ({
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
    {
      method: 'GET', path: '/network/v2.0/ports', auth: true,
      handler: (req) => collection(req, 'ports', [...req.cloud.ports.values()].map((p) => portView(req.cloud, p))),
    },
    {
      method: 'GET', path: '/network/v2.0/ports/:id', auth: true,
      handler: (req) => {
        const p = req.cloud.ports.get(req.params.id);
        return one('port', p && portView(req.cloud, p), req.params.id, 'PortNotFound', 'Port');
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
    { method: 'GET', path: '/network/v2.0/floatingips', auth: true, handler: (req) => collection(req, 'floatingips', []) },
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
};
