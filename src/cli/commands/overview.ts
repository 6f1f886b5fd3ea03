import { createInterface } from 'node:readline/promises';
import { DIB_IMAGE_COLUMNS, IMAGE_COLUMNS } from '../../status/images.ts';
import { LABEL_COLUMNS } from '../../status/labels.ts';
import { PROVIDER_COLUMNS } from '../../status/providers.ts';
import { NODE_COLUMNS } from '../../status/rows.ts';
import { renderRows } from '../../status/format.ts';
import { renderSummary } from '../../status/summary.ts';
import { ConflictError, UsageError } from '../../ops/errors.ts';
import { withBackend } from '../backend.ts';
import { write, type GlobalOptions } from '../context.ts';

/** `nodepool label list`, `provider list`, `image-list`, `dib-image-list`, `status`, `info`, `erase`. */

type Listing = { json?: boolean; detail?: boolean };

export async function listLabels(g: GlobalOptions, o: Listing): Promise<void> {
  write(renderRows(await withBackend(g, (b) => b.labels()), LABEL_COLUMNS, o.json ? 'json' : 'text'));
}

export async function listProviders(g: GlobalOptions, o: Listing): Promise<void> {
  write(renderRows(await withBackend(g, (b) => b.providers()), PROVIDER_COLUMNS, o.json ? 'json' : 'text', { detail: o.detail }));
}

export async function listImages(g: GlobalOptions, o: Listing): Promise<void> {
  write(renderRows(await withBackend(g, (b) => b.images()), IMAGE_COLUMNS, o.json ? 'json' : 'text'));
}

export async function listDibImages(g: GlobalOptions, o: Listing): Promise<void> {
  write(renderRows(await withBackend(g, (b) => b.dibImages()), DIB_IMAGE_COLUMNS, o.json ? 'json' : 'text'));
}

export async function status(g: GlobalOptions, o: { json?: boolean }): Promise<void> {
  const s = await withBackend(g, (b) => b.summary());
  write(o.json ? JSON.stringify(s) : renderSummary(s));
}

/** Nodepool's `info`: what the store holds for one provider. */
export async function info(g: GlobalOptions, provider: string, o: { json?: boolean }): Promise<void> {
  const i = await withBackend(g, (b) => b.providerInfo(provider));
  if (o.json) return write(JSON.stringify(i));
  write([
    `Provider ${provider}:`,
    renderRows([i.provider], PROVIDER_COLUMNS, 'text').trimEnd(),
    '',
    `Nodes (${i.nodes.length}):`,
    renderRows(i.nodes, NODE_COLUMNS, 'text').trimEnd(),
    '',
    `Image uploads (${i.images.length}):`,
    renderRows(i.images, IMAGE_COLUMNS, 'text').trimEnd(),
  ].join('\n'));
}

/**
 * Nodepool's `erase`: forget a provider's records. Asks the operator to type the provider's name
 * unless `--force`; without a terminal to ask on, refuses (a script must say --force).
 */
export async function erase(g: GlobalOptions, provider: string, o: { force?: boolean; json?: boolean }): Promise<void> {
  await withBackend(g, async (b) => {
    if (!o.force) {
      const i = await b.providerInfo(provider);
      if (!process.stdin.isTTY) throw new UsageError(`erase asks for confirmation on a terminal; give --force to erase ${provider} without asking`);
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question([
        `This removes from the store the ${i.nodes.length} node record(s) of provider ${provider}.`,
        'Their servers are not deleted; while the provider is still configured, the launcher deletes them as leaks.',
        `Type the provider's name to go on: `,
      ].join('\n'));
      rl.close();
      if (answer.trim() !== provider) throw new ConflictError('not confirmed; nothing was erased');
    }
    const r = await b.erase(provider);
    write(o.json ? JSON.stringify(r) : `erased provider ${r.provider}: ${r.nodes} node record(s) removed`);
  });
}
