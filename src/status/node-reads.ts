import type { NodeRecord } from '../model.ts';
import type { NodeFilter, Store } from '../store/store.ts';

/**
 * The node reads behind the status listings. Reading 10,000 rows costs 30-60 ms; a dashboard polls
 * the same unchanged fleet again and again, so the last full read is kept while the store's change
 * token holds (any write, by any process on the same store, changes it) and filters are applied in
 * memory. A store without a token is read every time. The records are shared: readers must not
 * change them.
 */
const lastRead = new WeakMap<Store, { token: string; nodes: readonly NodeRecord[] }>();

export async function readNodes(store: Store, filter: NodeFilter = {}): Promise<readonly NodeRecord[]> {
  const token = store.changeToken();
  if (token === null) return store.listNodes(filter);
  let hit = lastRead.get(store);
  if (hit?.token !== token) {
    hit = { token, nodes: await store.listNodes() };
    // Keep it only if nothing was written while it was read.
    if (store.changeToken() === token) lastRead.set(store, hit);
  }
  return filterNodes(hit.nodes, filter);
}

/** The rows of `nodes` that `filter` selects, as the store's own WHERE would (order kept). */
export function filterNodes(nodes: readonly NodeRecord[], f: NodeFilter): readonly NodeRecord[] {
  if (!f.ids && !f.states && !f.provider && !f.label && !f.allocatedTo) return nodes;
  const ids = f.ids ? new Set(f.ids) : null;
  return nodes.filter((n) =>
    (!ids || ids.has(n.id)) && (!f.states || f.states.includes(n.state)) && (!f.provider || n.provider === f.provider)
    && (!f.label || n.label === f.label) && (!f.allocatedTo || n.allocatedTo === f.allocatedTo));
}
