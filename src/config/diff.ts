import { isDeepStrictEqual } from 'node:util';
import type { Config, ProviderConfig } from './types.ts';

/**
 * What changed between two configurations, for a reload: the providers and labels added, removed
 * and changed, the providers whose driver must be built again, and the settings a running
 * process cannot take without a restart.
 */
export interface ConfigDiff {
  providersAdded: string[];
  providersRemoved: string[];
  providersChanged: string[];
  /** Changed providers whose adapter is built again (cloud, region, driver settings, static hosts). */
  adaptersChanged: string[];
  labelsAdded: string[];
  labelsRemoved: string[];
  labelsChanged: string[];
  /** Settings that differ but only take effect at the next start (`api.listen`, `store`...). */
  restartOnly: string[];
}

/** The parts of a provider its adapter is built from (src/provider-adapters.ts). */
function adapterPart(p: ProviderConfig): unknown {
  return { driver: p.driver, cloud: p.cloud, regionName: p.regionName, computeMicroversion: p.computeMicroversion, fake: p.fake, staticPools: p.staticPools };
}

export function diffConfig(before: Config, after: Config): ConfigDiff {
  const providers = compare(before.providers, after.providers);
  const labels = compare(before.labels, after.labels);
  const old = new Map(before.providers.map((p) => [p.name, p]));
  const adaptersChanged = providers.changed.filter((name) => {
    const next = after.providers.find((p) => p.name === name)!;
    return !isDeepStrictEqual(adapterPart(old.get(name)!), adapterPart(next));
  });
  const restartOnly: string[] = [];
  const fixed: [string, unknown, unknown][] = [
    ['api.listen', before.api.listen, after.api.listen],
    ['api.port', before.api.port, after.api.port],
    ['api (tokens, read-public, request-lease-timeout, max-nodes-per-request)', { ...before.api, listen: 0, port: 0 }, { ...after.api, listen: 0, port: 0 }],
    ['store', before.store, after.store],
    ['cloud-sim', before.cloudSim, after.cloudSim],
    ['secrets', before.secrets, after.secrets],
    ['diskimages', before.diskimages ?? [], after.diskimages ?? []],
    ['builder', before.builder, after.builder],
    ['gate', before.gate ?? null, after.gate ?? null],
    ['status', before.status, after.status],
  ];
  for (const [key, a, b] of fixed) if (!isDeepStrictEqual(a, b)) restartOnly.push(key);
  return {
    providersAdded: providers.added, providersRemoved: providers.removed, providersChanged: providers.changed, adaptersChanged,
    labelsAdded: labels.added, labelsRemoved: labels.removed, labelsChanged: labels.changed, restartOnly,
  };
}

function compare<T extends { name: string }>(before: T[], after: T[]): { added: string[]; removed: string[]; changed: string[] } {
  const old = new Map(before.map((x) => [x.name, x]));
  const next = new Map(after.map((x) => [x.name, x]));
  return {
    added: [...next.keys()].filter((n) => !old.has(n)),
    removed: [...old.keys()].filter((n) => !next.has(n)),
    changed: [...next.keys()].filter((n) => old.has(n) && !isDeepStrictEqual(old.get(n), next.get(n))),
  };
}
