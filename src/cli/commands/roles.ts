import { createLogger } from '../../log.ts';
import { write, type GlobalOptions } from '../context.ts';
import { untilSignal } from '../signals.ts';

/** `nodepool launcher`: one launcher process on the configured store, until SIGINT/SIGTERM. */
export async function launcher(g: GlobalOptions, o: { name?: string; providers?: string[]; lease?: number }): Promise<void> {
  const { loadConfig } = await import('../../config/load.ts');
  const { startLauncherRole } = await import('../../roles.ts');
  const config = loadConfig(g.config);
  const logger = createLogger();
  const role = await startLauncherRole({ config, logger, name: o.name, providers: o.providers, leaseMs: o.lease === undefined ? undefined : o.lease * 1000 });
  write(`nodepool: launcher ${role.launcher.name} serving ${[...role.launcher.providers.keys()].join(', ') || 'no provider'}`);
  const sig = await untilSignal();
  logger.info({ signal: sig }, 'stopping');
  await role.stop();
}

/** `nodepool api`: one API process on the configured store, until SIGINT/SIGTERM. */
export async function api(g: GlobalOptions, o: { port?: number; name?: string }): Promise<void> {
  const { loadConfig } = await import('../../config/load.ts');
  const { startApiRole } = await import('../../roles.ts');
  const config = loadConfig(g.config);
  const logger = createLogger();
  const role = await startApiRole({ config, logger, port: o.port, name: o.name });
  write(`nodepool: API listening at ${role.url}`);
  const sig = await untilSignal();
  logger.info({ signal: sig }, 'stopping');
  await role.stop();
}
