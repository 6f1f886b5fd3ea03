/**
 * Neutron ports Nova made for servers. Nova names them `compute:<availability zone>`, so the
 * owner is matched by its prefix here (Neutron filters only on the whole value); the status
 * filter is Neutron's. Whether a port is a leak (its server gone) is the launcher's decision.
 */
import type { PortExtension, PortView } from '../extensions/ports.ts';
import { neutronGone } from './floating-ips.ts';
import { collectPages } from './pages.ts';
import { PortListSchema, type NeutronPort } from './resource-schemas.ts';
import { parseBody } from './schemas.ts';
import type { Session } from './session.ts';

export class PortClient implements PortExtension {
  constructor(private readonly session: Session) {}

  async list(filter: { status?: string } = {}): Promise<PortView[]> {
    const ports = await collectPages({
      first: filter.status ? { status: filter.status } : undefined,
      fetch: (query) => this.session.call('network', { method: 'GET', path: '/ports', query }),
      read: (res) => {
        const body = parseBody(PortListSchema, res.body, res);
        return { items: body.ports, links: body.ports_links };
      },
    });
    return ports.filter((p) => (p.device_owner ?? '').startsWith('compute:')).map(toPortView);
  }

  /** 204; a 404 in Neutron's words means it is gone already. */
  async delete(id: string): Promise<void> {
    const res = await this.session.call('network', { method: 'DELETE', path: `/ports/${encodeURIComponent(id)}`, also: [404] });
    if (res.status === 404) neutronGone(res);
  }
}

function toPortView(p: NeutronPort): PortView {
  return {
    id: p.id, networkId: p.network_id, deviceId: p.device_id ?? '', deviceOwner: p.device_owner ?? '', status: p.status,
    tags: p.tags ?? [], created: p.created_at ?? null,
  };
}
