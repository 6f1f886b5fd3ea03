import { StaticProvider } from './adapter.ts';
import type { StaticPoolConfig } from './schema.ts';

export { StaticProvider, slotId } from './adapter.ts';
export { resolveStaticPools, staticProviderSchema, type StaticHost, type StaticPoolConfig, type StaticProviderYaml } from './schema.ts';

/** The adapter of a provider with `driver: static`. */
export function createStaticProvider(o: { name: string; pools: StaticPoolConfig[]; now?: () => number }): StaticProvider {
  return new StaticProvider(o.name, o.pools, o.now);
}
