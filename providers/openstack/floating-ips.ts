/**
 * Neutron floating IPs: allocated with our tags, associated with a server's port, listed,
 * released.
 *
 * Our tags go into the floating IP's `description`, written by the same `POST` that allocates
 * it. Neutron's own tags (`standard-attr-tag`) would need a second call (`PUT
 * /v2.0/floatingips/{id}/tags`; tags in the create body only came with the later `tag-creation`
 * extension, which the recorded Zed cloud lacks), and a crash or a failure between the two calls
 * would leave a floating IP nobody can recognise as ours: a leak for ever. The description
 * (a standard attribute since Mitaka, at most 255 characters, filterable) has no such window.
 * It reads `key=value` pairs separated by spaces, keys sorted; a description that is not
 * entirely such pairs is not ours.
 */
import { CloudError } from '../errors.ts';
import type { FloatingIp, FloatingIpExtension } from '../extensions/floating-ips.ts';
import { readErrorBody } from './classify.ts';
import { collectPages } from './pages.ts';
import { FloatingIpBodySchema, FloatingIpListSchema, PortListSchema, type NeutronFloatingIp } from './resource-schemas.ts';
import { parseBody } from './schemas.ts';
import type { ServiceAnswer, Session } from './session.ts';

const MAX_DESCRIPTION = 255;
const PAIR = /^([^\s=]+)=(\S*)$/;

/** Our tags as a floating IP description: `k1=v1 k2=v2`, keys sorted. */
export function tagsToDescription(tags: Record<string, string>): string {
  const pairs = Object.keys(tags).sort().map((k) => {
    const v = tags[k];
    if (!/^[^\s=]+$/.test(k) || /\s/.test(v)) {
      throw new CloudError({ kind: 'config', message: `floating IP tag ${JSON.stringify(k)}=${JSON.stringify(v)}: keys and values may not hold spaces, keys no '='`, service: 'neutron' });
    }
    return `${k}=${v}`;
  });
  const text = pairs.join(' ');
  if (text.length > MAX_DESCRIPTION) {
    throw new CloudError({ kind: 'config', message: `floating IP tags take ${text.length} characters; Neutron's description holds ${MAX_DESCRIPTION}`, service: 'neutron' });
  }
  return text;
}

/** The tags a description holds; empty when it is not entirely `key=value` pairs (not ours). */
export function descriptionToTags(description: string | null | undefined): Record<string, string> {
  const words = (description ?? '').trim().split(/\s+/).filter(Boolean);
  const out: Record<string, string> = {};
  for (const w of words) {
    const m = PAIR.exec(w);
    if (!m) return {};
    out[m[1]] = m[2];
  }
  return out;
}

export function toFloatingIp(f: NeutronFloatingIp): FloatingIp {
  return {
    id: f.id, address: f.floating_ip_address, networkId: f.floating_network_id, portId: f.port_id ?? null,
    fixedAddress: f.fixed_ip_address ?? null, status: f.status, tags: descriptionToTags(f.description), created: f.created_at ?? null,
  };
}

export class FloatingIpClient implements FloatingIpExtension {
  constructor(private readonly session: Session) {}

  async list(): Promise<FloatingIp[]> {
    const fips = await collectPages({
      fetch: (query) => this.session.call('network', { method: 'GET', path: '/floatingips', query }),
      read: (res) => {
        const body = parseBody(FloatingIpListSchema, res.body, res);
        return { items: body.floatingips, links: body.floatingips_links };
      },
    });
    return fips.map(toFloatingIp);
  }

  async create(networkId: string, tags: Record<string, string>): Promise<FloatingIp> {
    const body = { floatingip: { floating_network_id: networkId, description: tagsToDescription(tags) } };
    const res = await this.session.call('network', { method: 'POST', path: '/floatingips', body });
    return toFloatingIp(parseBody(FloatingIpBodySchema, res.body, res).floatingip);
  }

  /** Two calls: the server's port (`GET /ports?device_id=`), then `PUT /floatingips/{id}` with it (200). */
  async attach(floatingIpId: string, serverId: string, networkId?: string): Promise<FloatingIp> {
    const query: Record<string, string> = { device_id: serverId };
    if (networkId) query.network_id = networkId;
    const found = await this.session.call('network', { method: 'GET', path: '/ports', query });
    const port = parseBody(PortListSchema, found.body, found).ports[0];
    if (!port) {
      // Nova binds the port while it builds the server; asking before that is asking too early.
      throw new CloudError({
        kind: 'transient', service: 'neutron', method: 'GET', url: found.url, requestId: found.requestId,
        message: `server ${serverId} has no port${networkId ? ` on network ${networkId}` : ''} yet to attach floating IP ${floatingIpId} to`,
      });
    }
    const res = await this.session.call('network', {
      method: 'PUT', path: `/floatingips/${encodeURIComponent(floatingIpId)}`, body: { floatingip: { port_id: port.id } },
    });
    return toFloatingIp(parseBody(FloatingIpBodySchema, res.body, res).floatingip);
  }

  /** 204 (also while associated); a 404 in Neutron's words means it is gone already. */
  async delete(id: string): Promise<void> {
    const res = await this.session.call('network', { method: 'DELETE', path: `/floatingips/${encodeURIComponent(id)}`, also: [404] });
    if (res.status === 404) neutronGone(res);
  }
}

/**
 * A 404 means "gone" only when Neutron said so (`{"NeutronError": {...}}`); any other 404 (a
 * proxy's page, a wrong endpoint) would make us forget what still exists.
 */
export function neutronGone(res: ServiceAnswer): void {
  if (readErrorBody(res.body).shape === 'neutron') return;
  throw new CloudError({
    kind: 'config',
    message: `neutron ${res.method} ${res.url} answered 404 without a Neutron error body; is the network endpoint right?`,
    status: 404, service: 'neutron', method: res.method, url: res.url, requestId: res.requestId,
  });
}
