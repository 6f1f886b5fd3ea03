import { createLogger } from '../../log.ts';
import { write, type GlobalOptions } from '../context.ts';
import { untilSignal } from '../signals.ts';

/** `nodepool run`: every role in one process until SIGINT/SIGTERM, then a clean stop. */
export async function run(g: GlobalOptions): Promise<void> {
  const { loadConfig } = await import('../../config/load.ts');
  const { startSystem } = await import('../../run.ts');
  const config = loadConfig(g.config);
  const logger = createLogger();
  const system = await startSystem({ config, logger });
  write(`nodepool: API listening at ${system.apiUrl}`);
  const sig = await untilSignal();
  logger.info({ signal: sig }, 'stopping');
  await system.stop();
}
