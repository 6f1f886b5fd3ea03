import { readFile } from 'node:fs/promises';
import type { ImageFlags } from '../../model.ts';
import { ConflictError, NotFoundError } from '../../ops/errors.ts';
import { renderRows } from '../../status/format.ts';
import { IMAGE_STATUS_COLUMNS, dibImageRow, imageRow, queryImageDetail, queryImageStatus, type ImageDetail, type ImageStatusRow } from '../../status/image-rows.ts';
import { DIB_IMAGE_COLUMNS, IMAGE_COLUMNS, type DibImageRow, type ImageRow } from '../../status/images.ts';
import type { Store } from '../../store/store.ts';
import type { NodepoolClient } from '../../client/client.ts';
import { apiClient, write, type GlobalOptions } from '../context.ts';

/**
 * `nodepool image build|list|status|delete|pause|unpause|logs` and `dib-image list|delete`.
 * Through the running system's API, or with --store straight on the store (the builder then
 * carries the orders out at its next pass).
 */

interface Images {
  detail(image: string): Promise<ImageDetail>;
  status(): Promise<ImageStatusRow[]>;
  build(image: string): Promise<ImageFlags>;
  pause(image: string, reason: string | null): Promise<ImageFlags>;
  unpause(image: string): Promise<ImageFlags>;
  deleteBuild(id: string): Promise<DibImageRow>;
  deleteUpload(id: string): Promise<ImageRow>;
  log(id: string): Promise<string>;
  close(): Promise<void>;
}

const enc = encodeURIComponent;

function overHttp(api: NodepoolClient): Images {
  return {
    detail: (image) => api.call('get', `/api/v1/images/${enc(image)}`),
    status: async () => (await api.call<{ images: ImageStatusRow[] }>('get', '/api/v1/images')).images,
    build: (image) => api.call('post', `/api/v1/images/${enc(image)}/build`, { data: {} }),
    pause: (image, reason) => api.call('post', `/api/v1/images/${enc(image)}/pause`, { data: reason ? { reason } : {} }),
    unpause: (image) => api.call('post', `/api/v1/images/${enc(image)}/unpause`, { data: {} }),
    deleteBuild: (id) => api.call('delete', `/api/v1/builds/${enc(id)}`),
    deleteUpload: (id) => api.call('delete', `/api/v1/uploads/${enc(id)}`),
    log: async (id) => (await api.call<{ log: string }>('get', `/api/v1/builds/${enc(id)}/log`)).log,
    close: async () => undefined,
  };
}

async function onStore(g: GlobalOptions): Promise<Images> {
  const { loadConfig } = await import('../../config/load.ts');
  const { openStore } = await import('../../store/index.ts');
  const ops = await import('../../ops/images.ts');
  const config = loadConfig(g.config);
  const store: Store = await openStore(config.store);
  const names = (config.diskimages ?? []).map((d) => d.name);
  const ctx = () => ({ now: Date.now(), by: 'cli', leaseTimeoutMs: config.api.requestLeaseTimeout * 1000 });
  return {
    detail: async (image) => {
      const d = await queryImageDetail(store, names, image, Date.now(), config.providers.filter((p) => p.diskimages?.some((x) => x.name === image)).map((p) => p.name));
      if (!d) throw new NotFoundError('image', image);
      return d;
    },
    status: () => queryImageStatus(store, names, Date.now()),
    build: (image) => ops.requestBuild(store, image, names, ctx()),
    pause: (image, reason) => ops.pauseImage(store, image, names, reason, ctx()),
    unpause: (image) => ops.unpauseImage(store, image, names, ctx()),
    deleteBuild: async (id) => dibImageRow(await ops.deleteBuild(store, id, ctx()), Date.now()),
    deleteUpload: async (id) => imageRow(await ops.deleteUpload(store, id, ctx()), Date.now()),
    log: async (id) => {
      const b = await store.getBuild(id);
      if (!b?.logPath) throw new NotFoundError('build', id);
      return readFile(b.logPath, 'utf8').catch(() => { throw new NotFoundError('build', `${id} log (not on this host: it is on builder ${b.builder})`); });
    },
    close: () => store.close(),
  };
}

async function withImages<T>(g: GlobalOptions, fn: (i: Images) => Promise<T>): Promise<T> {
  const images = g.store ? await onStore(g) : overHttp(await apiClient(g));
  try {
    return await fn(images);
  } finally {
    await images.close();
  }
}

export async function imageStatus(g: GlobalOptions, o: { json?: boolean }): Promise<void> {
  write(renderRows(await withImages(g, (i) => i.status()), IMAGE_STATUS_COLUMNS, o.json ? 'json' : 'text'));
}

export async function pause(g: GlobalOptions, image: string, o: { reason?: string; json?: boolean }): Promise<void> {
  const f = await withImages(g, (i) => i.pause(image, o.reason ?? null));
  write(o.json ? JSON.stringify(f) : `image ${f.image} paused${f.pausedReason ? `: ${f.pausedReason}` : ''}`);
}

export async function unpause(g: GlobalOptions, image: string, o: { json?: boolean }): Promise<void> {
  const f = await withImages(g, (i) => i.unpause(image));
  write(o.json ? JSON.stringify(f) : `image ${f.image} unpaused`);
}

export async function deleteBuild(g: GlobalOptions, id: string, o: { json?: boolean }): Promise<void> {
  const row = await withImages(g, (i) => i.deleteBuild(id));
  write(o.json ? JSON.stringify(row) : renderRows([row], DIB_IMAGE_COLUMNS, 'text'));
}

export async function deleteUpload(g: GlobalOptions, id: string, o: { json?: boolean }): Promise<void> {
  const row = await withImages(g, (i) => i.deleteUpload(id));
  write(o.json ? JSON.stringify(row) : renderRows([row], IMAGE_COLUMNS, 'text'));
}

export async function logs(g: GlobalOptions, id: string): Promise<void> {
  process.stdout.write(await withImages(g, (i) => i.log(id)));
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/**
 * `image build <name> [--wait]`: asks for a build; with --wait, follows it: the build's phase and
 * time, then each provider's upload (bytes, rate) and validation, until every upload of the
 * new build is settled. Exit 1 when the build or any upload failed.
 */
export async function build(g: GlobalOptions, image: string, o: { wait?: boolean; pollMs?: number }): Promise<void> {
  await withImages(g, async (i) => {
    const flags = await i.build(image);
    write(`image ${image}: build requested at ${new Date(flags.buildRequestedAt!).toISOString()}`);
    if (!o.wait) return;
    const every = o.pollMs ?? 1000;
    let buildId: string | null = null;
    let lastLine = '';
    const sent = new Map<string, { bytes: number; at: number }>();
    for (;;) {
      const d = await i.detail(image);
      const now = Date.now();
      if (buildId === null && d.status.build_request === null && d.builds[0]) buildId = String(d.builds[0].id);
      const b = buildId ? d.builds.find((x) => x.id === buildId) : undefined;
      // The newest upload per provider (a failed one is followed by a retry).
      const ups = d.uploads.filter((u, n, all) => u.id === buildId && all.findIndex((x) => x.id === buildId && x.provider === u.provider) === n);
      const lines: string[] = [];
      if (!b) lines.push(d.status.paused ? `image ${image} is paused` : 'waiting for the builder to start');
      else lines.push(`build ${b.id}: ${b.state}${b.state === 'building' ? ` (${b.age} s)` : ''}${b.reason ? ` — ${b.reason}` : ''}`);
      for (const u of ups) {
        const key = String(u.upload_id);
        const prev = sent.get(key);
        const bytes = Number(u.bytes);
        const rate = prev && now > prev.at ? ((bytes - prev.bytes) / ((now - prev.at) / 1000)) / 1e6 : null;
        sent.set(key, { bytes, at: now });
        const what = u.state === 'uploading'
          ? `uploading ${mib(bytes)} / ${mib(Number(u.size))}${rate !== null ? `, ${rate.toFixed(1)} MB/s` : ''}`
          : `${u.state}${u.validation !== 'none' ? `, validation ${u.validation}` : ''}${u.reason ? ` — ${u.reason}` : ''}`;
        lines.push(`  ${u.provider}: ${what}`);
      }
      const text = lines.join('\n');
      if (text !== lastLine) { write(text); lastLine = text; }
      if (b?.state === 'failed') throw new ConflictError(`build ${b.id} of ${image} failed: ${b.reason ?? 'see nodepool image logs'}`);
      const settled = (u: ImageRow) => u.state === 'failed' || (u.state === 'ready' && (u.validation === 'none' || u.validation === 'passed' || u.validation === 'failed'));
      const everywhere = d.providers.every((p) => ups.some((u) => u.provider === p));
      if (b?.state === 'ready' && ups.length > 0 && everywhere && ups.every(settled)) {
        const bad = ups.filter((u) => u.state === 'failed' || u.validation === 'failed');
        if (bad.length) throw new ConflictError(`build ${b.id} of ${image}: ${bad.map((u) => `${u.provider} ${u.reason ?? u.state}`).join('; ')}`);
        write(renderRows(ups, IMAGE_COLUMNS, 'text'));
        return;
      }
      await new Promise((r) => setTimeout(r, every));
    }
  });
}
