/**
 * Entry point of `nodepool cloud-sim`: start the simulator with the faults asked for, write its
 * clouds.yaml, say where it is.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import type { Logger } from '../log.ts';
import { faultsForCloud, type CloudFaults } from './fault-spec.ts';
import { createCloudSim, type CloudSim } from './index.ts';

export interface RunCloudSimOptions {
  host: string;
  port: number;
  clouds: string[];
  bootDelayMs: number;
  deleteDelayMs: number;
  sshPort: number;
  /** Where to write a clouds.yaml for the simulated clouds (mode 0600: it holds passwords). */
  cloudsYamlPath?: string;
  /** A faults file (YAML): `default` and `clouds.<name>` entries, see fault-spec.ts. */
  faultsFile?: string;
  /** Seed of every cloud's generator, over the file's. */
  seed?: number;
  /** Every API call of every cloud fails with this probability (500, 503 or 429), before the file's rules. */
  errorRate?: number;
  /** Servers other users run in every cloud, over the file's. */
  unmanagedServers?: number;
  logger: Logger;
}

/** Each cloud's faults: the file's, then the command line's on top. */
async function cloudFaults(opts: RunCloudSimOptions): Promise<Map<string, CloudFaults>> {
  let file: unknown = {};
  if (opts.faultsFile) {
    const text = await readFile(opts.faultsFile, 'utf8');
    try {
      file = YAML.parse(text) ?? {};
    } catch (err) {
      throw new Error(`faults file ${opts.faultsFile}: not YAML: ${(err as Error).message}`);
    }
  }
  const out = new Map<string, CloudFaults>();
  for (const name of opts.clouds) {
    const f = faultsForCloud(file, name);
    if (opts.seed !== undefined) f.seed = opts.seed;
    if (opts.errorRate !== undefined && opts.errorRate > 0) {
      f.errors = [{ rate: opts.errorRate, answer: [500, 503, 429], retryAfterSeconds: 1 }, ...f.errors];
    }
    if (opts.unmanagedServers !== undefined) f.unmanagedServers = opts.unmanagedServers;
    out.set(name, f);
  }
  return out;
}

export async function runCloudSim(opts: RunCloudSimOptions): Promise<CloudSim> {
  const faults = await cloudFaults(opts);
  const sim = await createCloudSim({
    host: opts.host,
    port: opts.port,
    logger: opts.logger,
    clouds: opts.clouds.map((name) => {
      const { unmanagedServers, ...spec } = faults.get(name)!;
      return { name, bootDelayMs: opts.bootDelayMs, deleteDelayMs: opts.deleteDelayMs, sshPort: opts.sshPort, faults: spec, unmanagedServers };
    }),
  });
  try {
    if (opts.cloudsYamlPath) {
      await writeFile(opts.cloudsYamlPath, YAML.stringify(sim.cloudsYaml()), { mode: 0o600 });
      // An existing file keeps its mode on write; tighten it too.
      await chmod(opts.cloudsYamlPath, 0o600);
    }
  } catch (err) {
    await sim.close();
    throw err;
  }
  const seeds = Object.fromEntries(opts.clouds.map((c) => [c, sim.cloud(c).faults().seed]));
  opts.logger.info({ url: sim.url, clouds: opts.clouds, cloudsYaml: opts.cloudsYamlPath, seeds }, 'cloud simulator listening');
  return sim;
}
