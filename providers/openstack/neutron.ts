/**
 * Neutron v2.0: networks by name or id.
 */
import { CloudError } from '../errors.ts';
import type { Network } from '../provider.ts';
import { looksLikeUuid, notFoundIsNull } from './lookup.ts';
import { collectPages } from './pages.ts';
import { NeutronNetworkBodySchema, NeutronNetworkListSchema, parseBody } from './schemas.ts';
import type { Session } from './session.ts';

type NeutronNetwork = { id: string; name: string; 'router:external'?: boolean };

export class NeutronClient {
  constructor(private readonly session: Session, private readonly cloud: string) {}

  /**
   * The network with this id, else the one with this name; null when there is none. Two
   * networks of the same name is a configuration error: booting on the wrong one would give
   * nodes that cannot reach each other or the launcher.
   */
  async findNetwork(nameOrId: string): Promise<Network | null> {
    if (looksLikeUuid(nameOrId)) {
      const byId = await notFoundIsNull(this.session.call('network', { method: 'GET', path: `/networks/${encodeURIComponent(nameOrId)}` }));
      if (byId) return toNetwork(parseBody(NeutronNetworkBodySchema, byId.body, byId).network);
    }
    const networks = await collectPages({
      first: { name: nameOrId },
      fetch: (query) => this.session.call('network', { method: 'GET', path: '/networks', query }),
      read: (res) => {
        const body = parseBody(NeutronNetworkListSchema, res.body, res);
        return { items: body.networks, links: body.networks_links };
      },
    });
    const named = networks.filter((n) => n.name === nameOrId);
    if (named.length > 1) {
      throw new CloudError({
        kind: 'config',
        message: `cloud ${this.cloud}: ${named.length} networks are named ${nameOrId} (${named.map((n) => n.id).join(', ')}); name one by id`,
        service: 'neutron',
      });
    }
    return named[0] ? toNetwork(named[0]) : null;
  }
}

function toNetwork(n: NeutronNetwork): Network {
  return { id: n.id, name: n.name, external: n['router:external'] ?? false };
}
