/**
 * The cloud each provider runs against: the built-in simulator when `cloud-sim.clouds` names its
 * cloud (only `nodepool run` starts it), otherwise an entry of clouds.yaml (or the OS_* variables).
 * A provider whose cloud is neither is a configuration error, reported by `nodepool config check`
 * and at start before anything runs: a simulator standing in for a misspelt cloud would hand
 * simulated nodes to CI.
 */
import { resolveCloud, type CloudCredentials, type LoadedClouds } from '../../providers/openstack/clouds-yaml/index.ts';
export type { CloudCredentials } from '../../providers/openstack/clouds-yaml/index.ts';
import { ConfigError, UnknownCloudError, plural, type ConfigIssue } from './errors.ts';
import type { Config } from './types.ts';
import { formatPath, type PathSegment } from './yaml-source.ts';

/** A problem of one provider's cloud, at the provider's `cloud` key; `related` are the problems behind it, in their own files. */
export interface ProviderCloudProblem {
  path: PathSegment[];
  message: string;
  related: ConfigIssue[];
  /** No clouds.yaml, secure.yaml or OS_* variable defines the cloud (else its entry is broken). */
  unknown: boolean;
}

export interface ProviderClouds {
  /** Credentials by provider name, for the providers not served by the simulator. */
  credentials: Map<string, CloudCredentials>;
  /** Names of the providers the simulator serves. */
  simulated: string[];
  problems: ProviderCloudProblem[];
}

export interface ProviderCloudsOptions {
  /** Whether this process starts the simulator for `cloud-sim.clouds` (`nodepool run`, `config check`); the roles do not. */
  simulator: boolean;
  /** Only these providers (a launcher serving a subset); default all. */
  providers?: readonly string[];
}

/** Finds every provider's cloud, collecting the problems instead of stopping at the first. */
export function providerClouds(config: Config, loaded: LoadedClouds, o: ProviderCloudsOptions): ProviderClouds {
  const listed = new Set(config.cloudSim.clouds);
  const out: ProviderClouds = { credentials: new Map(), simulated: [], problems: [] };
  config.providers.forEach((p, index) => {
    if (o.providers && !o.providers.includes(p.name)) return;
    // A fake provider's cloud lives in the process (providers/fake), a static one has hosts: nothing to find.
    if (p.driver !== 'openstack') return;
    if (o.simulator && listed.has(p.cloud)) {
      out.simulated.push(p.name);
      return;
    }
    try {
      out.credentials.set(p.name, resolveCloud(loaded, p.cloud, p.regionName));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const headline = err.message.split('\n')[0];
      let hint = '';
      if (err instanceof UnknownCloudError) {
        hint = o.simulator
          ? '; add it to clouds.yaml, or list it under cloud-sim.clouds to have the built-in simulator serve it'
          : listed.has(p.cloud)
            ? '; cloud-sim.clouds names it, but only `nodepool run` starts the simulator: run `nodepool cloud-sim --clouds-yaml FILE` and set OS_CLIENT_CONFIG_FILE=FILE'
            : '; add it to clouds.yaml';
      }
      out.problems.push({
        path: ['providers', index, 'cloud'], message: `provider "${p.name}": ${headline}${hint}`, related: err.issues,
        unknown: err instanceof UnknownCloudError,
      });
    }
  });
  return out;
}

/** The providers' clouds; throws one ConfigError naming every provider whose cloud cannot be used. */
export function resolveProviderClouds(config: Config, loaded: LoadedClouds, o: ProviderCloudsOptions): ProviderClouds {
  const found = providerClouds(config, loaded, o);
  if (found.problems.length) {
    const file = config.path ?? 'nodepool.yaml';
    const n = found.problems.length;
    throw new ConfigError(file, problemIssues(found.problems, () => ({ line: 0, column: 0 }), true),
      `${file}: ${plural(n, 'provider')} ${n === 1 ? 'names a cloud that cannot' : 'name clouds that cannot'} be used`);
  }
  return found;
}

/**
 * The problems as issues: a missing cloud at its provider's `cloud` (placed by `at`), then the
 * files passed over; a broken entry at its own lines in clouds.yaml or secure.yaml (`named`: after
 * the provider that names it), each once however many providers name it.
 */
export function problemIssues(problems: ProviderCloudProblem[], at: (path: PathSegment[]) => { line: number; column: number }, named = false): ConfigIssue[] {
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const p of problems) {
    if (named || p.unknown || !p.related.length) issues.push({ path: formatPath(p.path), ...at(p.path), message: p.message });
    for (const r of p.related) {
      // Files passed over are behind every unknown cloud: said once.
      const key = JSON.stringify(r);
      if (!seen.has(key)) issues.push(r);
      seen.add(key);
    }
  }
  return issues;
}
