import type { Config } from '../../config/types.ts';
import { createLogger, type Logger } from '../../log.ts';
import { write, type GlobalOptions } from '../context.ts';
import { untilSignal } from '../signals.ts';

/** The part of src/run.ts this command uses. */
interface RunModule {
  startSystem(opts: { config: Config; logger: Logger }): Promise<{ apiUrl: string; stop(): Promise<void> }>;
}

/**
 * `nodepool run`: every role in one process until SIGINT/SIGTERM, then a clean stop. The system
 * module is named by a computed path so this file builds without depending on all of it.
 */
export async function run(g: GlobalOptions): Promise<void> {
  const { loadConfig } = await import('../../config/load.ts');
  const { startSystem } = (await import(new URL('../../run.ts', import.meta.url).href)) as RunModule;
  const config = loadConfig(g.config);
  const logger = createLogger();
  const system = await startSystem({ config, logger });
  write(`nodepool: API listening at ${system.apiUrl}`);
  const sig = await untilSignal();
  logger.info({ signal: sig }, 'stopping');
  await system.stop();
}
