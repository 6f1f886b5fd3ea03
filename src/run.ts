import type { FastifyInstance } from 'fastify';
import { resolveProviderClouds, type CloudCredentials } from './config/provider-clouds.ts';
import { configClouds, providerAdapters } from './provider-adapters.ts';
import type { Config } from './config/types.ts';
import type { Logger } from './log.ts';
import { Launcher } from './launcher/launcher.ts';
import { openStore } from './store/index.ts';
import type { Store } from './store/store.ts';
import { buildApiApp } from './api/app.ts';
import { apiOptionsFromConfig } from './api/config-options.ts';
import { liveSource, publishIntervalMs, staleAfterMs } from './status/launcher-live.ts';
import { StatePublisher } from './status/state-publisher.ts';
import { CallTotals } from './metrics/call-totals.ts';
import { startObserving, type Observing } from './metrics/observe.ts';
import type { CloudSim } from './cloudsim/index.ts';
import { Builder, type BuilderOptions } from './builder/builder.ts';
import { UsableUploads } from './builder/usable-uploads.ts';
import { gateLogRoot, startGate, type Gate, type GateOptions } from './gate/gate.ts';
import { startSimulatedGerrits } from './gate/sim.ts';
import type { GerritSim } from './gerritsim/index.ts';
import type { ProviderAdapter } from '../providers/provider.ts';
import type { ConfigWatcher } from './config/watch.ts';
import { watchConfig } from './reload.ts';

export interface SystemOptions {
  config: Config;
  logger: Logger;
  /** Environment for clouds.yaml lookup (OS_CLIENT_CONFIG_FILE, OS_*). Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Launcher name written in leases. */
  launcherName?: string;
  /** Listen port override (0 = any free port), for tests. */
  apiPort?: number;
  /** Builder settings besides the configuration's (its name, quicker waits in tests). */
  builder?: Partial<Pick<BuilderOptions, 'name' | 'sleep' | 'uploadBackoffMs' | 'buildRetryMs' | 'checkSchedule' | 'leakSchedule'>>;
  /** Gate settings besides the configuration's (quicker reconnects in tests); `false` leaves the gate to a `nodepool gate` process. */
  gate?: Partial<Pick<GateOptions, 'owner' | 'leaseMs' | 'reconnectMs'>> | false;
}

export interface System {
  apiUrl: string;
  store: Store;
  launcher: Launcher;
  /** The image builder, when the configuration has diskimages. */
  builder: Builder | null;
  api: FastifyInstance;
  /** The built-in OpenStack simulator, when some provider runs against it. */
  sim: CloudSim | null;
  /** Names of the providers served by the simulator. */
  simulated: string[];
  /** /metrics, launch and request outcomes, and the status page's sampler. */
  observing: Observing;
  /** The gating core, when the configuration has a gate section. */
  gate: Gate | null;
  /** The built-in Gerrit simulators of the gate's `simulated` connections. */
  gerritSims: GerritSim[];
  /** Reads the configuration file again every `reload-interval`; null without a file or with 0. */
  configWatcher: ConfigWatcher | null;
  stop(): Promise<void>;
}

/**
 * The whole system in one process (`nodepool run`): the store, one launcher for every provider
 * and the HTTP API, plus the OpenStack simulator for the clouds `cloud-sim.clouds` names, so a new
 * user sees nodes boot before owning a cloud. Every other provider's cloud must be in clouds.yaml:
 * a provider whose cloud is missing stops the start with an error naming it, before anything runs.
 */
export async function startSystem(opts: SystemOptions): Promise<System> {
  const { config, logger } = opts;
  const loaded = configClouds(config, opts.env);
  const clouds = resolveProviderClouds(config, loaded, { simulator: true });
  const simClouds = [...new Set(config.providers.filter((p) => clouds.simulated.includes(p.name)).map((p) => p.cloud))];
  const shadowed = simClouds.filter((name) => name in loaded.entries);
  if (shadowed.length) {
    logger.warn({ clouds: shadowed, files: loaded.files }, 'cloud-sim.clouds names clouds that clouds.yaml also defines: the simulator serves them');
  }

  let sim: CloudSim | null = null;
  const credentials = clouds.credentials;
  if (simClouds.length) {
    const { createCloudSim } = await import('./cloudsim/index.ts');
    sim = await createCloudSim({
      port: config.cloudSim.port,
      logger: logger.child({ component: 'cloud-sim' }),
      clouds: simClouds.map((name) => ({
        name, bootDelayMs: config.cloudSim.bootDelay * 1000, deleteDelayMs: config.cloudSim.deleteDelay * 1000, sshPort: config.cloudSim.sshPort,
      })),
    });
    logger.info({ url: sim.url, clouds: simClouds, providers: clouds.simulated }, 'started the built-in OpenStack simulator for the clouds cloud-sim.clouds names');
    for (const p of config.providers) if (simClouds.includes(p.cloud)) credentials.set(p.name, simCredentials(sim, p.cloud));
  }

  // Set once the store is open, before the launcher starts and the drivers make their first call.
  let observing: Observing | null = null;
  const calls = new CallTotals();
  const onCall = (c: Parameters<typeof calls.record>[0]) => { calls.record(c); observing?.metrics.cloudCall(c); };
  const adapters = providerAdapters({ config, logger, clouds: loaded, credentials, onCall });
  /** Adapters for a reloaded configuration: the simulator serves the clouds it started with, clouds.yaml the others. */
  const reloadAdapters = (next: Config, names: string[]): Map<string, ProviderAdapter> => {
    const nextLoaded = configClouds(next, opts.env);
    const found = resolveProviderClouds(next, nextLoaded, { simulator: true, providers: names });
    const unserved = [...new Set(next.providers.filter((p) => found.simulated.includes(p.name) && !simClouds.includes(p.cloud)).map((p) => p.cloud))];
    if (unserved.length) {
      throw new Error(`the built-in simulator serves the clouds it started with (${simClouds.join(', ') || 'none'}) until a restart; not ${unserved.join(', ')}`);
    }
    for (const p of next.providers) if (sim && found.simulated.includes(p.name)) found.credentials.set(p.name, simCredentials(sim, p.cloud));
    return providerAdapters({ config: next, logger, clouds: nextLoaded, credentials: found.credentials, serve: (p) => names.includes(p.name), onCall });
  };

  const store = await openStore(config.store, { listen: true, applicationName: opts.launcherName ?? 'nodepool-run' });
  const images = new UsableUploads(store).watch();
  const launcher = new Launcher({ config, store, adapters, logger: logger.child({ component: 'launcher' }), name: opts.launcherName, images });
  // This launcher is read from memory; others sharing a PostgreSQL store as they publish.
  const live = liveSource({ store, local: { launcher, calls }, staleAfterMs: staleAfterMs(config) });
  const publisher = new StatePublisher({
    store, launcher, calls, intervalMs: publishIntervalMs(config), logger: logger.child({ component: 'launcher' }),
  });
  const builder = config.diskimages?.length
    ? new Builder({ ...opts.builder, config, store, adapters, logger: logger.child({ component: 'builder' }) })
    : null;
  let api: FastifyInstance | null = null;
  let gate: Gate | null = null;
  let gerritSims: GerritSim[] = [];
  let configWatcher: ConfigWatcher | null = null;
  // What the status paths and /metrics read of the configuration: follows each reload.
  const view: Config = { ...config };
  try {
    if (config.gate) gerritSims = await startSimulatedGerrits(config.gate, logger);
    // Before the launcher starts, so its first cloud calls and launches are counted too.
    observing = startObserving({
      store, config: view, logger: logger.child({ component: 'metrics' }), live,
    });
    await launcher.start();
    publisher.start();
    await builder?.start();
    const fromConfig = apiOptionsFromConfig(view);
    api = buildApiApp({
      ...fromConfig, store, logger: logger.child({ component: 'api' }), isReady: () => launcher.isReady(),
      status: { ...fromConfig.status, providers: live.providers }, metrics: observing.metrics,
      ...(config.gate ? { gate: { config: config.gate, logDir: gateLogRoot(config.gate) } } : {}),
    });
    const address = await api.listen({ host: config.api.listen, port: opts.apiPort ?? config.api.port });
    logger.info({ url: address }, 'node-request API listening');
    if (config.gate && opts.gate !== false) {
      gate = await startGate({ ...opts.gate, config: config.gate, store, apiNeedsToken: (config.api.tokens ?? []).length > 0, logger: logger.child({ component: 'gate' }), apiUrl: address, logBaseUrl: `${address}/gate/logs` });
    }
    configWatcher = watchConfig({ config, logger, env: opts.env, launcher, adapters: reloadAdapters, view, metrics: observing.metrics });
    const system: System = {
      apiUrl: address, store, launcher, builder, api, sim, observing, simulated: clouds.simulated,
      gate, gerritSims, configWatcher, stop: stopAll,
    };
    return system;
  } catch (err) {
    await stopAll();
    throw err;
  }

  /** Stops every part: the gate first (it gives its nodes back through the API), then the API (no new work), the simulators last (the others talk to them). */
  async function stopAll(): Promise<void> {
    await configWatcher?.stop();
    await gate?.stop();
    await api?.close();
    await observing?.stop();
    await builder?.stop();
    await launcher.stop();
    await publisher.stop();
    images.close();
    // The launcher's adapters: those of the start, or those built for a reloaded configuration.
    for (const a of new Set([...adapters.values(), ...[...launcher.providers.values()].map((rt) => rt.adapter)])) await a.close();
    await store.close();
    await sim?.close();
    for (const g of gerritSims) await g.close();
  }
}

/** Credentials for one of the simulator's clouds, from the clouds.yaml it would write. */
function simCredentials(sim: CloudSim, name: string): CloudCredentials {
  const entry = (sim.cloudsYaml() as { clouds: Record<string, { auth: Record<string, string>; region_name?: string }> }).clouds[name];
  return {
    cloud: name, authType: 'password', authUrl: entry.auth.auth_url, username: entry.auth.username, password: entry.auth.password,
    projectName: entry.auth.project_name, userDomainName: entry.auth.user_domain_name, projectDomainName: entry.auth.project_domain_name,
    regionName: entry.region_name, interface: 'public', verify: true,
  };
}
