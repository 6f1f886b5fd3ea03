import { createLogger } from '../../log.ts';
import { write, type GlobalOptions } from '../context.ts';
import { untilSignal } from '../signals.ts';

/** `nodepool builder`: the image builder on the configured store until SIGINT/SIGTERM, then a clean stop. */
export async function builder(g: GlobalOptions, o: { name?: string }): Promise<void> {
  const { loadConfig } = await import('../../config/load.ts');
  const { startBuilderRole } = await import('../../builder/role.ts');
  const config = loadConfig(g.config);
  const logger = createLogger();
  const role = await startBuilderRole({ config, logger, name: o.name });
  write(`nodepool: builder ${role.builder.name} for ${(config.diskimages ?? []).map((d) => d.name).join(', ') || 'no image'}`);
  const sig = await untilSignal();
  logger.info({ signal: sig }, 'stopping');
  await role.stop();
}
