import type { Store } from '../store/store.ts';
import type { OpContext } from './context.ts';

/**
 * Nodepool's `erase`: forget everything the store holds for a provider, typically one removed
 * from the configuration whose records would otherwise stay for ever. Cloud resources are not
 * touched; while the provider is still configured, the launcher's leak cleanup deletes its
 * servers, which carry our tags and are now unknown to the store.
 */
export async function eraseProvider(store: Store, provider: string, ctx: OpContext): Promise<{ provider: string; nodes: number }> {
  let erased = 0;
  for (const n of await store.listNodes({ provider })) {
    if (await store.removeNode(n.id, ctx.by)) erased++;
  }
  return { provider, nodes: erased };
}
