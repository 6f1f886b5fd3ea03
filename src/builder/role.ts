import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { providerAdapters } from '../provider-adapters.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/store.ts';
import { Builder } from './builder.ts';

export interface BuilderRole {
  builder: Builder;
  store: Store;
  stop(): Promise<void>;
}

/**
 * `nodepool builder`: the builder as a process of its own on the configured store, with every
 * provider that uses a diskimage reached through clouds.yaml, sealed values opened with the
 * configuration's key (never the built-in simulator, as with the other roles). Several builders
 * may share a PostgreSQL store; each uploads its own builds.
 */
export async function startBuilderRole(o: { config: Config; logger: Logger; env?: NodeJS.ProcessEnv; name?: string }): Promise<BuilderRole> {
  const adapters = providerAdapters({ config: o.config, logger: o.logger, env: o.env, serve: (p) => Boolean(p.diskimages?.length) });
  const store = await openStore(o.config.store, { listen: true, applicationName: o.name ?? 'nodepool-builder' });
  const builder = new Builder({ config: o.config, store, adapters, logger: o.logger.child({ component: 'builder' }), name: o.name });
  const stop = async () => {
    await builder.stop();
    for (const a of adapters.values()) await a.close();
    await store.close();
  };
  try {
    await builder.start();
  } catch (err) {
    await stop();
    throw err;
  }
  return { builder, store, stop };
}
