import type { BuildRecord, ImageFlags, UploadRecord } from '../model.ts';
import type { Store } from '../store/store.ts';
import type { OpContext } from './context.ts';
import { ConflictError, NotFoundError } from './errors.ts';

/**
 * Operators' orders to the builder, written to the store for it to carry out: build now, pause
 * and unpause an image, delete a build (rolling back to the one before) or one upload.
 */

function known(image: string, images: readonly string[]): void {
  if (!images.includes(image)) throw new NotFoundError('image', image);
}

/** `image build`: a build starts at the builder's next pass (unless one runs: it fulfils the order). */
export async function requestBuild(store: Store, image: string, images: readonly string[], ctx: OpContext): Promise<ImageFlags> {
  known(image, images);
  const current = (await store.listImageFlags()).find((f) => f.image === image);
  if (current?.paused) throw new ConflictError(`image ${image} is paused${current.pausedReason ? ` (${current.pausedReason})` : ''}: unpause it first`, 'paused');
  return store.setImageFlags(image, { buildRequestedAt: ctx.now }, ctx.by);
}

/** `image pause`: no new builds or uploads of the image; the ready ones stay in use. */
export async function pauseImage(store: Store, image: string, images: readonly string[], reason: string | null, ctx: OpContext): Promise<ImageFlags> {
  known(image, images);
  return store.setImageFlags(image, { paused: true, pausedReason: reason }, ctx.by);
}

export async function unpauseImage(store: Store, image: string, images: readonly string[], ctx: OpContext): Promise<ImageFlags> {
  known(image, images);
  return store.setImageFlags(image, { paused: false, pausedReason: null }, ctx.by);
}

/**
 * `dib-image delete`: the build and all its uploads go. Deleting the newest build rolls back:
 * launches use the previous build's uploads from the moment this returns.
 */
export async function deleteBuild(store: Store, id: string, ctx: OpContext): Promise<BuildRecord> {
  const b = await store.getBuild(id);
  if (!b) throw new NotFoundError('build', id);
  if (b.state === 'deleting') return b;
  if (b.state === 'building') throw new ConflictError(`build ${id} is still building; it can be deleted once it is ready or failed`, b.state);
  const reason = `deleted by ${ctx.by}`;
  if (!await store.updateBuild(id, { state: 'deleting', reason, stateTime: ctx.now }, ctx.by, { states: ['ready', 'failed'] }, reason)) {
    throw new ConflictError(`build ${id} changed while it was being deleted; try again`);
  }
  // Its uploads stop being used at once, not only when the builder gets to them.
  for (const u of await store.listUploads({ buildId: id, states: ['ready', 'failed'] })) {
    await store.updateUpload(u.id, { state: 'deleting', reason, stateTime: ctx.now }, ctx.by, { states: ['ready', 'failed'] }, reason);
  }
  return (await store.getBuild(id)) ?? b;
}

/** `image delete`: one upload goes (the provider then boots from the next newest). */
export async function deleteUpload(store: Store, id: string, ctx: OpContext): Promise<UploadRecord> {
  const u = await store.getUpload(id);
  if (!u) throw new NotFoundError('upload', id);
  if (u.state === 'deleting') return u;
  if (u.state === 'uploading') throw new ConflictError(`upload ${id} is in progress; it can be deleted once it is ready or failed`, u.state);
  const reason = `deleted by ${ctx.by}`;
  if (!await store.updateUpload(id, { state: 'deleting', reason, stateTime: ctx.now }, ctx.by, { states: ['ready', 'failed'] }, reason)) {
    throw new ConflictError(`upload ${id} changed while it was being deleted; try again`);
  }
  return (await store.getUpload(id)) ?? u;
}
