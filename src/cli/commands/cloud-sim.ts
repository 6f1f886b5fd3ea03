import { createLogger, type Logger } from '../../log.ts';
import { untilSignal } from '../signals.ts';

export interface CloudSimCliOptions {
  port?: number;
  clouds?: string[];
  bootDelay?: number;
  deleteDelay?: number;
  sshPort?: number;
  cloudsYaml?: string;
}

/** What `runCloudSim` in src/cloudsim/main.ts is expected to take and give back. */
interface CloudSimMain {
  runCloudSim(opts: CloudSimCliOptions & { logger: Logger }): Promise<{ stop?(): Promise<void>; close?(): Promise<void> } | void>;
}

/**
 * `nodepool cloud-sim`: the OpenStack simulator on its own. The module is named by a computed
 * path so that this file does not depend on the simulator's at build time.
 */
export async function cloudSim(o: CloudSimCliOptions): Promise<void> {
  const modUrl = new URL('../../cloudsim/main.ts', import.meta.url).href;
  const { runCloudSim } = (await import(modUrl)) as CloudSimMain;
  const logger = createLogger();
  const handle = await runCloudSim({ ...o, logger });
  if (!handle || !(handle.stop || handle.close)) return;
  const sig = await untilSignal();
  logger.info({ signal: sig }, 'stopping');
  await (handle.stop ?? handle.close)!.call(handle);
}
