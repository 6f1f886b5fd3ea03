import type { ProviderAdapter } from '../providers/provider.ts';
import { createFakeProvider, fakeCloudOptions } from '../providers/fake/index.ts';
import { createOpenStackProvider, type CloudCall } from '../providers/openstack/index.ts';
import { createStaticProvider } from '../providers/static/index.ts';
import { loadClouds, type CloudCredentials, type LoadedClouds } from '../providers/openstack/clouds-yaml/index.ts';
import { resolveProviderClouds } from './config/provider-clouds.ts';
import { cloudsUnseal } from './config/sealed-values.ts';
import type { Config, ProviderConfig } from './config/types.ts';
import type { Logger } from './log.ts';

/**
 * How every process reaches its clouds (`nodepool run`, `nodepool launcher`, `nodepool builder`;
 * `nodepool api` calls no cloud): clouds.yaml read with the configuration's secrets key, so a
 * sealed password or secret opens the same way in each, and one adapter per provider.
 */

/** clouds.yaml (and secure.yaml, OS_* variables) as this configuration reads them: sealed values opened. */
export function configClouds(config: Config, env: NodeJS.ProcessEnv = process.env): LoadedClouds {
  return loadClouds({ env, unseal: cloudsUnseal(config.secrets?.keyFile ?? null) });
}

export interface ProviderAdaptersOptions {
  config: Config;
  logger: Logger;
  /** Environment for clouds.yaml lookup (OS_CLIENT_CONFIG_FILE, OS_*). Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** clouds.yaml already read with `configClouds`; read here when absent. */
  clouds?: LoadedClouds;
  /** Which providers get an adapter; default every one. */
  serve?: (p: ProviderConfig) => boolean;
  /** Credentials by provider name, already resolved (`nodepool run`: clouds.yaml's and the built-in simulator's). */
  credentials?: ReadonlyMap<string, CloudCredentials>;
  /** Told of every cloud call when it ends (metrics). */
  onCall?: (call: CloudCall) => void;
}

/**
 * One adapter per served provider, by provider name, built by its driver (`openstack`; `fake`:
 * an in-memory cloud of this process; `static`: existing hosts). Without `credentials`, every served OpenStack
 * provider's cloud must be in clouds.yaml (the roles never start the simulator): a ConfigError
 * names each one that is not.
 */
export function providerAdapters(o: ProviderAdaptersOptions): Map<string, ProviderAdapter> {
  const served = o.config.providers.filter((p) => !o.serve || o.serve(p));
  const openstack = served.filter((p) => p.driver === 'openstack');
  const credentials = o.credentials ?? (openstack.length ? resolveProviderClouds(o.config, o.clouds ?? configClouds(o.config, o.env), {
    simulator: false, providers: openstack.map((p) => p.name),
  }).credentials : new Map<string, CloudCredentials>());
  const adapters = new Map<string, ProviderAdapter>();
  for (const p of served) {
    if (p.driver === 'fake') {
      adapters.set(p.name, createFakeProvider({ name: p.name, cloud: p.cloud, options: p.fake && fakeCloudOptions(p.fake) }));
      continue;
    }
    if (p.driver === 'static') {
      adapters.set(p.name, createStaticProvider({ name: p.name, pools: p.staticPools ?? [] }));
      continue;
    }
    const cred = credentials.get(p.name)!;
    adapters.set(p.name, createOpenStackProvider({
      name: p.name, credentials: { ...cred, regionName: p.regionName ?? cred.regionName },
      computeMicroversion: p.computeMicroversion, logger: o.logger, onCall: o.onCall,
    }));
  }
  return adapters;
}
