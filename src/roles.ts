import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { providerAdapters } from './provider-adapters.ts';
import type { Config } from './config/types.ts';
import type { Logger } from './log.ts';
import { Launcher } from './launcher/launcher.ts';
import { openStore } from './store/index.ts';
import type { Store } from './store/store.ts';
import { buildApiApp } from './api/app.ts';
import { apiOptionsFromConfig } from './api/config-options.ts';
import { startObserving } from './metrics/observe.ts';
import { UsableUploads } from './builder/usable-uploads.ts';
import { CallTotals } from './metrics/call-totals.ts';
import { liveSource, publishIntervalMs, staleAfterMs } from './status/launcher-live.ts';
import { StatePublisher } from './status/state-publisher.ts';
import { watchConfig } from './reload.ts';

/**
 * The roles as separate processes (`nodepool launcher`, `nodepool api`), any number of each on
 * any machines, sharing one PostgreSQL store. Unlike `nodepool run`, a role never starts the
 * built-in simulator: each launcher would get a cloud of its own. Clouds come from clouds.yaml
 * (`nodepool cloud-sim --clouds-yaml` writes one for the simulator).
 */

export interface LauncherRole {
  launcher: Launcher;
  store: Store;
  stop(): Promise<void>;
}

export interface LauncherRoleOptions {
  config: Config;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** Written in leases and shown by `nodepool launcher list`. Default `<hostname>-<pid>`. */
  name?: string;
  /** Providers to serve; default all. */
  providers?: string[];
  leaseMs?: number;
}

export async function startLauncherRole(o: LauncherRoleOptions): Promise<LauncherRole> {
  const name = o.name ?? `${hostname()}-${process.pid}`;
  // Counted here and published with the provider states: an API process serves them on /metrics.
  const calls = new CallTotals();
  const serves = (name: string) => !o.providers || o.providers.includes(name);
  const adapters = providerAdapters({
    config: o.config, logger: o.logger, env: o.env, serve: (p) => serves(p.name), onCall: calls.record,
  });
  const store = await openStore(o.config.store, { listen: true, applicationName: name });
  const images = new UsableUploads(store).watch();
  const launcher = new Launcher({
    config: o.config, store, adapters, logger: o.logger.child({ component: 'launcher' }), name,
    providers: o.providers, leaseMs: o.leaseMs, images,
  });
  const publisher = new StatePublisher({
    store, launcher, calls, intervalMs: publishIntervalMs(o.config), logger: o.logger.child({ component: 'launcher' }),
  });
  let watcher: ReturnType<typeof watchConfig> = null;
  const stop = async () => {
    await watcher?.stop();
    await launcher.stop();
    await publisher.stop();
    images.close();
    // Those of the start, and those built for a reloaded configuration.
    for (const a of new Set([...adapters.values(), ...[...launcher.providers.values()].map((rt) => rt.adapter)])) await a.close();
    await store.close();
    logStoreUse(o.logger, store);
  };
  try {
    await launcher.start();
    publisher.start();
    // This process has no /metrics (an API process serves the store's): its reloads are in its log.
    watcher = watchConfig({
      config: o.config, logger: o.logger, env: o.env, launcher, serves,
      adapters: (next, names) => providerAdapters({ config: next, logger: o.logger, env: o.env, serve: (p) => names.includes(p.name), onCall: calls.record }),
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { launcher, store, stop };
}

export interface ApiRole {
  api: FastifyInstance;
  url: string;
  store: Store;
  stop(): Promise<void>;
}

export async function startApiRole(o: { config: Config; logger: Logger; port?: number; name?: string }): Promise<ApiRole> {
  const store = await openStore(o.config.store, { listen: true, applicationName: o.name ?? `api-${process.pid}` });
  // The configuration's tokens protect this API as they do `nodepool run`'s; its /metrics and
  // plots read the shared store, and count the launches every launcher reports through it.
  // Provider health, quota room, leaks and cloud calls: as the launchers publish them.
  const live = liveSource({ store, staleAfterMs: staleAfterMs(o.config) });
  // What the status paths and /metrics read of the configuration: follows each reload.
  const view: Config = { ...o.config };
  const observing = startObserving({ store, config: view, logger: o.logger.child({ component: 'metrics' }), live });
  const fromConfig = apiOptionsFromConfig(view);
  const api = buildApiApp({
    ...fromConfig, store, logger: o.logger.child({ component: 'api' }), actor: o.name ?? 'api', metrics: observing.metrics,
    status: { ...fromConfig.status, providers: live.providers },
  });
  try {
    const url = await api.listen({ host: o.config.api.listen, port: o.port ?? o.config.api.port });
    const watcher = watchConfig({ config: o.config, logger: o.logger, view, metrics: observing.metrics });
    return { api, url, store, stop: async () => { await watcher?.stop(); await api.close(); await observing.stop(); await store.close(); logStoreUse(o.logger, store); } };
  } catch (err) {
    await api.close();
    await observing.stop();
    await store.close();
    throw err;
  }
}

/** The round trips a PostgreSQL store made and the announcements it received, logged at stop (the benchmark reads them). */
function logStoreUse(logger: Logger, store: Store): void {
  const { queries, heard } = store as { queries?: number; heard?: number };
  if (queries !== undefined) logger.info({ queries, heard }, 'store closed');
}
