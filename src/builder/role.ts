import type { ProviderAdapter } from '../../providers/provider.ts';
import { createOpenStackProvider } from '../../providers/openstack/index.ts';
import { loadClouds, resolveCloud } from '../config/clouds.ts';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
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
 * provider that uses a diskimage reached through clouds.yaml (never the built-in simulator, as
 * with the other roles). Several builders may share a PostgreSQL store; each uploads its own builds.
 */
export async function startBuilderRole(o: { config: Config; logger: Logger; env?: NodeJS.ProcessEnv; name?: string }): Promise<BuilderRole> {
  const loaded = loadClouds({ env: o.env ?? process.env });
  const adapters = new Map<string, ProviderAdapter>();
  for (const p of o.config.providers) {
    if (!p.diskimages?.length) continue;
    const cred = resolveCloud(loaded, p.cloud, p.regionName);
    adapters.set(p.name, createOpenStackProvider({
      name: p.name, credentials: { ...cred, regionName: p.regionName ?? cred.regionName },
      computeMicroversion: p.computeMicroversion, logger: o.logger.child({ provider: p.name }),
    }));
  }
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
