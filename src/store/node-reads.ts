import type { NodeRecord } from '../model.ts';
import type { NodeFilter, Store } from './store.ts';

/**
 * Reads of the whole fleet by the parts that only look at it: the status listings, /metrics, the
 * status plots' sampler, the launcher's resource sweep. Reading 10,000 rows costs 30-60 ms, and
 * the same unchanged fleet is read again and again (a dashboard polling, each /metrics scrape
 * three times over), so the last full read is kept while the store's change token holds (any
 * write of a node or request, by any process on the same store, changes it), reads asked for at
 * once share one, and filters are applied in memory. When it moved, a store that keeps a copy of
 * the fleet (SQLite: ./sqlite/fleet-copy.ts) re-reads only the rows it wrote since. A store
 * without a token is read every time. The records and lists are shared: readers must not change
 * them.
 */
const lastRead = new WeakMap<Store, { token: string; nodes: Promise<readonly NodeRecord[]> }>();

export async function readNodes(store: Store, filter: NodeFilter = {}): Promise<readonly NodeRecord[]> {
  const token = store.changeToken();
  if (token === null) return store.listNodes(filter);
  let hit = lastRead.get(store);
  if (hit?.token !== token) {
    // Keyed by the token taken before the read: the rows are at least that new, and a write
    // meanwhile moves the token, so the next reader reads again.
    const read: { token: string; nodes: Promise<readonly NodeRecord[]> } = { token, nodes: store.readFleet ? store.readFleet() : store.listNodes() };
    hit = read;
    lastRead.set(store, read);
    read.nodes.catch(() => { if (lastRead.get(store) === read) lastRead.delete(store); });
  }
  return filterNodes(await hit.nodes, filter);
}

/** The rows of `nodes` that `filter` selects, as the store's own WHERE would (order kept). */
export function filterNodes(nodes: readonly NodeRecord[], f: NodeFilter): readonly NodeRecord[] {
  if (!f.ids && !f.states && !f.provider && !f.label && !f.allocatedTo) return nodes;
  const ids = f.ids ? new Set(f.ids) : null;
  return nodes.filter((n) =>
    (!ids || ids.has(n.id)) && (!f.states || f.states.includes(n.state)) && (!f.provider || n.provider === f.provider)
    && (!f.label || n.label === f.label) && (!f.allocatedTo || n.allocatedTo === f.allocatedTo));
}
