import type { ProviderAdapter } from '../providers/provider.ts';
import { diffConfig, type ConfigDiff } from './config/diff.ts';
import type { Config } from './config/types.ts';
import { ConfigWatcher } from './config/watch.ts';
import { configClouds } from './provider-adapters.ts';
import type { Launcher } from './launcher/launcher.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics/metrics.ts';

/**
 * Configuration changes without a restart, for every process that runs from nodepool.yaml
 * (`nodepool run`, `nodepool launcher`, `nodepool api`): the file watched (src/config/watch.ts),
 * each valid change put in place in the launcher (between two passes) and in what the API's
 * status paths and /metrics read, and logged with what changed. What a running process cannot
 * change (where the API listens, the store, the simulator, the builder, the gate) is named in a
 * warning and waits for the next start.
 */
export interface ReloadOptions {
  /** The configuration running now; read from `config.path` (nothing is watched without one). */
  config: Config;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** The launcher of this process, if any. */
  launcher?: Launcher;
  /**
   * Builds the adapters of the providers named, for `next`, through src/provider-adapters.ts.
   * Throwing (a cloud missing from clouds.yaml) refuses the configuration.
   */
  adapters?: (next: Config, names: string[]) => Map<string, ProviderAdapter>;
  /** Providers this process serves (`nodepool launcher --providers`); default every one. */
  serves?: (provider: string) => boolean;
  /** The object the status paths and /metrics read: its labels, providers and tenants follow each reload. */
  view?: Config;
  metrics?: Metrics;
  /** Milliseconds between two reads; default the configuration's `reload-interval`. */
  intervalMs?: number;
}

/** Starts watching `config.path`; null when there is no file or `reload-interval` is 0. */
export function watchConfig(o: ReloadOptions): ConfigWatcher | null {
  const intervalMs = o.intervalMs ?? (o.config.reloadInterval ?? 0) * 1000;
  if (!o.config.path || intervalMs <= 0) return null;
  const log = o.logger.child({ component: 'config' });
  const watcher = new ConfigWatcher({
    path: o.config.path, current: o.config, intervalMs, logger: log,
    // clouds.yaml and secure.yaml as found now: a file created later is seen once nodepool.yaml changes.
    related: (c) => (c.providers.some((p) => p.driver === 'openstack') ? relatedFiles(c, o.env) : []),
    apply: (next, previous, relatedChanged) => applyConfig(o, log, next, previous, relatedChanged),
    onResult: (result) => o.metrics?.configReloads.inc({ result }),
  });
  watcher.start();
  return watcher;
}

function relatedFiles(config: Config, env: NodeJS.ProcessEnv | undefined): string[] {
  try {
    return configClouds(config, env).files;
  } catch {
    return [];
  }
}

async function applyConfig(o: ReloadOptions, log: Logger, next: Config, previous: Config, relatedChanged: boolean): Promise<void> {
  const diff = diffConfig(previous, next);
  const serves = o.serves ?? (() => true);
  if (o.launcher && o.adapters) {
    const rebuild = new Set([...diff.providersAdded, ...diff.adaptersChanged]);
    // clouds.yaml or secure.yaml changed: every OpenStack provider's credentials may have.
    if (relatedChanged) for (const p of next.providers) if (p.driver === 'openstack') rebuild.add(p.name);
    const names = [...rebuild].filter(serves);
    const adapters = names.length ? o.adapters(next, names) : new Map<string, ProviderAdapter>();
    try {
      await o.launcher.reconfigure(next, adapters);
    } catch (err) {
      for (const a of adapters.values()) await a.close();
      throw err;
    }
  }
  if (o.view) Object.assign(o.view, { labels: next.labels, providers: next.providers, tenantResourceLimits: next.tenantResourceLimits });
  log.info({ file: next.path, ...changes(diff), cloudsFilesChanged: relatedChanged || undefined }, 'configuration reloaded');
  if (diff.restartOnly.length) {
    log.warn({ file: next.path, settings: diff.restartOnly },
      `changed settings that take effect only at the next start (the running process keeps the previous ones): ${diff.restartOnly.join(', ')}`);
  }
  for (const name of diff.providersRemoved.filter(serves)) {
    log.warn({ provider: name }, 'provider removed from the configuration: no more launches there; its nodes are deleted (those in use once released), then its driver is closed');
  }
}

/** The diff as log fields, leaving out what did not change. */
function changes(d: ConfigDiff): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(d)) if (k !== 'restartOnly' && v.length) out[k] = v;
  return out;
}
