import type { FastifyInstance } from 'fastify';
import type { ProviderAdapter } from '../providers/provider.ts';
import { createOpenStackProvider } from '../providers/openstack/index.ts';
import type { CloudCredentials } from './config/cloud-credentials.ts';
import { loadClouds, resolveCloud } from './config/clouds.ts';
import { cloudsUnseal } from './config/sealed-values.ts';
import type { Config } from './config/types.ts';
import type { Logger } from './log.ts';
import { Launcher } from './launcher/launcher.ts';
import { openStore } from './store/index.ts';
import type { Store } from './store/store.ts';
import { buildApiApp } from './api/app.ts';
import { apiOptionsFromConfig } from './api/config-options.ts';
import { launcherLive } from './status/launcher-live.ts';
import { startObserving, type Observing } from './metrics/observe.ts';
import type { CloudSim } from './cloudsim/index.ts';
import { Builder, type BuilderOptions } from './builder/builder.ts';
import { UsableUploads } from './builder/usable-uploads.ts';

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
  stop(): Promise<void>;
}

/**
 * The whole system in one process (`nodepool run`): the store, one launcher for every provider
 * and the HTTP API, plus the OpenStack simulator for every provider whose cloud is not in
 * clouds.yaml (`cloud-sim.enabled: auto`), so a new user sees nodes boot before owning a cloud.
 */
export async function startSystem(opts: SystemOptions): Promise<System> {
  const { config, logger } = opts;
  const loaded = loadClouds({ env: opts.env ?? process.env, unseal: cloudsUnseal(config.secrets?.keyFile ?? null) });
  const simulated = config.providers
    .filter((p) => config.cloudSim.enabled === true || (config.cloudSim.enabled === 'auto' && !(p.cloud in loaded.entries)))
    .map((p) => p.cloud);
  const simClouds = [...new Set(simulated)];

  let sim: CloudSim | null = null;
  const credentials = new Map<string, CloudCredentials>();
  if (simClouds.length) {
    const { createCloudSim } = await import('./cloudsim/index.ts');
    sim = await createCloudSim({
      port: config.cloudSim.port,
      logger: logger.child({ component: 'cloud-sim' }),
      clouds: simClouds.map((name) => ({
        name, bootDelayMs: config.cloudSim.bootDelay * 1000, deleteDelayMs: config.cloudSim.deleteDelay * 1000, sshPort: config.cloudSim.sshPort,
      })),
    });
    logger.info({ url: sim.url, clouds: simClouds }, 'started the built-in OpenStack simulator for clouds missing from clouds.yaml');
    for (const name of simClouds) credentials.set(name, simCredentials(sim, name));
  }

  // Set once the store is open, before the launcher starts and the drivers make their first call.
  let observing: Observing | null = null;
  const adapters = new Map<string, ProviderAdapter>();
  for (const p of config.providers) {
    const cred = credentials.get(p.cloud) ?? resolveCloud(loaded, p.cloud, p.regionName);
    adapters.set(p.name, createOpenStackProvider({
      name: p.name, credentials: { ...cred, regionName: p.regionName ?? cred.regionName },
      computeMicroversion: p.computeMicroversion, logger: logger.child({ provider: p.name }),
      onCall: (c) => observing?.metrics.cloudCall(c),
    }));
  }

  const store = await openStore(config.store, { listen: true, applicationName: opts.launcherName ?? 'nodepool-run' });
  const images = new UsableUploads(store).watch();
  const launcher = new Launcher({ config, store, adapters, logger: logger.child({ component: 'launcher' }), name: opts.launcherName, images });
  const builder = config.diskimages?.length
    ? new Builder({ ...opts.builder, config, store, adapters, logger: logger.child({ component: 'builder' }) })
    : null;
  let api: FastifyInstance | null = null;
  try {
    // Before the launcher starts, so its first cloud calls and launches are counted too.
    observing = startObserving({
      store, config, logger: logger.child({ component: 'metrics' }), live: launcherLive(launcher), leaks: () => launcher.applier.leaksDeletedBy,
    });
    await launcher.start();
    await builder?.start();
    const fromConfig = apiOptionsFromConfig(config);
    api = buildApiApp({
      ...fromConfig, store, logger: logger.child({ component: 'api' }), isReady: () => launcher.isReady(),
      status: { ...fromConfig.status, providers: launcherLive(launcher) }, metrics: observing.metrics,
    });
    const address = await api.listen({ host: config.api.listen, port: opts.apiPort ?? config.api.port });
    logger.info({ url: address }, 'node-request API listening');
    const system: System = {
      apiUrl: address, store, launcher, builder, api, sim, observing, simulated: config.providers.filter((p) => simClouds.includes(p.cloud)).map((p) => p.name),
      stop: stopAll,
    };
    return system;
  } catch (err) {
    await stopAll();
    throw err;
  }

  /** Stops every part, the API first (no new work) and the simulator last (the others talk to it). */
  async function stopAll(): Promise<void> {
    await api?.close();
    await observing?.stop();
    await builder?.stop();
    await launcher.stop();
    images.close();
    for (const a of adapters.values()) await a.close();
    await store.close();
    await sim?.close();
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
