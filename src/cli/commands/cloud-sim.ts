import { createLogger } from '../../log.ts';
import { write } from '../context.ts';
import { untilSignal } from '../signals.ts';

export interface CloudSimCliOptions {
  port?: number;
  clouds?: string[];
  bootDelay?: number;
  deleteDelay?: number;
  sshPort?: number;
  cloudsYaml?: string;
  host?: string;
  faults?: string;
  errorRate?: number;
  seed?: number;
  unmanagedServers?: number;
}

/** `nodepool cloud-sim`: the OpenStack simulator on its own, until SIGINT/SIGTERM. */
export async function cloudSim(o: CloudSimCliOptions): Promise<void> {
  const { runCloudSim } = await import('../../cloudsim/main.ts');
  const logger = createLogger();
  const sim = await runCloudSim({
    host: o.host ?? '127.0.0.1', port: o.port ?? 0, clouds: o.clouds?.length ? o.clouds : ['sim-east', 'sim-west'],
    bootDelayMs: (o.bootDelay ?? 1) * 1000, deleteDelayMs: (o.deleteDelay ?? 0.5) * 1000, sshPort: o.sshPort ?? 2022,
    cloudsYamlPath: o.cloudsYaml, faultsFile: o.faults, errorRate: o.errorRate, seed: o.seed, unmanagedServers: o.unmanagedServers, logger,
  });
  write(`nodepool: cloud simulator listening at ${sim.url}${o.cloudsYaml ? `; clouds.yaml written to ${o.cloudsYaml}` : ''}`);
  const sig = await untilSignal();
  logger.info({ signal: sig }, 'stopping');
  await sim.close();
}
