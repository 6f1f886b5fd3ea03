import { createReadStream } from 'node:fs';
import { Transform, pipeline } from 'node:stream';
import type { ImageExtension } from '../../providers/extensions/images.ts';
import type { ProviderAdapter } from '../../providers/provider.ts';
import { CloudError } from '../../providers/errors.ts';
import type { BuildRecord, UploadRecord } from '../model.ts';
import type { Logger } from '../log.ts';
import { newId } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import { diskFormatOf } from './paths.ts';

/** The tag every image we upload carries (with our nodepool_* properties): how leaks are found. */
export const IMAGE_TAG = 'nodepool';

export interface UploadContext {
  store: Store;
  adapter: ProviderAdapter;
  logger: Logger;
  /** This builder's name: the lease owner and the `nodepool_builder` property. */
  builder: string;
  now: () => number;
  leaseMs: number;
  /** Seconds from the create call until the image must be active (provider `image-upload-timeout`). */
  timeoutMs: number;
  /** Waits between status checks; resolves early (rejects) when `signal` aborts. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Aborted at shutdown. */
  signal: AbortSignal;
  /** Extra Glance properties (the provider's `meta` for the image). */
  meta: Record<string, string>;
  /** Whether the image asks for validation before use. */
  validate: boolean;
  /** Shortest gap between two progress writes to the store. Default 1 s. */
  progressEveryMs?: number;
}

/** The driver's image uploads; a config error for a driver that has none (the upload is marked failed). */
export function imagesOf(adapter: ProviderAdapter): ImageExtension {
  if (!adapter.images) throw new CloudError({ kind: 'config', message: `provider ${adapter.name}: its driver has no image uploads` });
  return adapter.images;
}

/** Our properties on an uploaded image (promise 1): enough to tell whose it is when the store does not know it. */
export function uploadProperties(u: UploadRecord, builder: string): Record<string, string> {
  return {
    nodepool_provider_name: u.provider, nodepool_image_name: u.image, nodepool_build_id: u.buildId,
    nodepool_upload_id: u.id, nodepool_builder: builder,
  };
}

/**
 * Uploads one build to one provider: the record first, then Glance's image record with our
 * properties, then the file streamed (64 KiB to 1 MiB in flight, whatever its size), then the
 * wait for `active` and a checksum comparison. Any failure deletes the cloud's image before the
 * record is marked failed, so an interrupted upload leaves nothing behind; a builder that dies
 * mid-way leaves a tagged image that the leak sweep deletes.
 */
export async function uploadBuild(ctx: UploadContext, build: BuildRecord, provider: string): Promise<UploadRecord> {
  const file = build.files[0];
  if (!file) throw new Error(`build ${build.id} has no output`);
  const now = ctx.now();
  const rec: UploadRecord = {
    id: newId(now), buildId: build.id, image: build.image, provider, state: 'uploading', format: file.format,
    externalId: null, externalName: `${build.image}-${build.id}`, bytes: 0, size: file.size, validation: 'none',
    validationNode: null, reason: null, leaseOwner: ctx.builder, leaseExpires: now + ctx.leaseMs, createdAt: now, stateTime: now,
  };
  await ctx.store.insertUpload(rec, ctx.builder);
  const log = ctx.logger.child({ provider, image: build.image, build: build.id, upload: rec.id });
  const abort = new AbortController();
  const onShutdown = () => abort.abort(new Error('the builder is stopping'));
  ctx.signal.addEventListener('abort', onShutdown);
  const deadline = setTimeout(() => abort.abort(new Error(`image-upload-timeout of ${ctx.timeoutMs / 1000} s passed`)), ctx.timeoutMs);
  let externalId: string | null = null;
  try {
    const images = imagesOf(ctx.adapter);
    const { id } = await images.create({
      name: rec.externalName, diskFormat: diskFormatOf(file.format), containerFormat: 'bare',
      properties: { ...ctx.meta, ...uploadProperties(rec, ctx.builder) }, tags: [IMAGE_TAG],
    });
    externalId = id;
    await ctx.store.updateUpload(rec.id, { externalId: id }, ctx.builder);
    log.info({ image_id: id, bytes: file.size }, 'uploading image data');
    const progress = new Progress(ctx, rec.id);
    await images.upload(id, {
      size: file.size,
      signal: abort.signal,
      // pipeline: when the request ends early and destroys the counter, the file is closed too.
      open: () => pipeline(createReadStream(file.path, { highWaterMark: 1 << 20 }), progress.counter(), () => undefined),
    });
    await progress.flush();
    await waitActive(ctx, images, id, file.md5, abort.signal);
    const validation = ctx.validate ? 'pending' : 'none';
    await ctx.store.updateUpload(rec.id, {
      state: 'ready', bytes: file.size, validation, leaseOwner: null, leaseExpires: null, stateTime: ctx.now(),
    }, ctx.builder, { states: ['uploading'] });
    log.info({ image_id: id, ms: ctx.now() - now }, 'upload ready');
    return { ...rec, state: 'ready', externalId: id, bytes: file.size, validation };
  } catch (err) {
    const why = abort.signal.aborted ? String((abort.signal.reason as Error)?.message ?? abort.signal.reason) : (err as Error).message;
    log.warn({ err: why, image_id: externalId }, 'upload failed');
    let gone = externalId === null;
    if (externalId !== null) {
      try {
        await imagesOf(ctx.adapter).delete(externalId);
        gone = true;
      } catch (e) {
        log.warn({ err: (e as Error).message, image_id: externalId }, 'could not delete the failed upload; the leak sweep will');
      }
    }
    await ctx.store.updateUpload(rec.id, {
      state: 'failed', reason: why, externalId: gone ? null : externalId, leaseOwner: null, leaseExpires: null, stateTime: ctx.now(),
    }, ctx.builder, { states: ['uploading'] });
    throw err instanceof CloudError || !abort.signal.aborted ? err : new Error(why);
  } finally {
    clearTimeout(deadline);
    ctx.signal.removeEventListener('abort', onShutdown);
  }
}

/** Glance turns an image `active` once its data is stored; `killed` or a vanished image is a failed upload. */
async function waitActive(ctx: UploadContext, images: ImageExtension, id: string, md5: string, signal: AbortSignal): Promise<void> {
  let pause = 250;
  for (;;) {
    const img = await images.get(id);
    if (!img) throw new Error(`image ${id} vanished after its upload`);
    if (img.status === 'active') {
      if (img.checksum && img.checksum !== md5) throw new Error(`the cloud stored checksum ${img.checksum}, the build's is ${md5}`);
      return;
    }
    if (!['queued', 'saving', 'importing', 'uploading'].includes(img.status)) throw new Error(`image ${id} went ${img.status}`);
    await ctx.sleep(pause, signal);
    pause = Math.min(pause * 2, 10_000);
  }
}

/** Counts bytes as they are read and writes the count (and the lease) to the store at most once a second. */
class Progress {
  private bytes = 0;
  private lastWrite = 0;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly ctx: UploadContext, private readonly uploadId: string) {}

  counter(): Transform {
    this.bytes = 0;
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.bytes += chunk.length;
        const now = this.ctx.now();
        if (now - this.lastWrite >= (this.ctx.progressEveryMs ?? 1000)) {
          this.lastWrite = now;
          const bytes = this.bytes;
          this.writing = this.writing.then(() => this.ctx.store.updateUpload(this.uploadId, {
            bytes, leaseExpires: now + this.ctx.leaseMs,
          }, this.ctx.builder)).catch(() => undefined);
        }
        done(null, chunk);
      },
    });
  }

  flush(): Promise<unknown> {
    return this.writing;
  }
}
