/**
 * Entry point of `nodepool cloud-sim`: start the simulator, write its clouds.yaml, say where it is.
 */
import { chmod, writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import type { Logger } from '../log.ts';
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
  logger: Logger;
}

export async function runCloudSim(opts: RunCloudSimOptions): Promise<CloudSim> {
  const sim = await createCloudSim({
    host: opts.host,
    port: opts.port,
    logger: opts.logger,
    clouds: opts.clouds.map((name) => ({ name, bootDelayMs: opts.bootDelayMs, deleteDelayMs: opts.deleteDelayMs, sshPort: opts.sshPort })),
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
  opts.logger.info({ url: sim.url, clouds: opts.clouds, cloudsYaml: opts.cloudsYamlPath }, 'cloud simulator listening');
  return sim;
}
