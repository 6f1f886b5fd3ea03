import type { BuildRecord, ImageFlags, UploadRecord } from '../model.ts';
import type { Store } from '../store/store.ts';
import type { DibImageRow, ImageRow, ImageSource } from './images.ts';
import { ageSeconds, type Column } from './rows.ts';

/**
 * Image rows from the builder's records: builds (`dib-image list`), uploads (`image list`) and
 * one row per configured image with the operator's flags and what is in use (`image status`).
 */

export function dibImageRow(b: BuildRecord, now: number): DibImageRow {
  return {
    id: b.id, image: b.image, builder: b.builder, formats: b.formats, state: b.state, age: ageSeconds(b.stateTime, now),
    reason: b.reason, files: b.files.map((f) => `${f.path} ${f.size} sha256:${f.sha256}`),
  };
}

export function imageRow(u: UploadRecord, now: number): ImageRow {
  return {
    id: u.buildId, upload_id: u.id, provider: u.provider, image: u.image, external_name: u.externalName, external_id: u.externalId,
    state: u.state, validation: u.validation, age: ageSeconds(u.stateTime, now), reason: u.reason, bytes: u.bytes, size: u.size,
  };
}

/** The store's builds and uploads, newest first, behind `/dib-image-list` and `/image-list`. */
export function storeImages(store: Store): ImageSource {
  return {
    dibImageRows: async (now) => (await store.listBuilds()).map((b) => dibImageRow(b, now)),
    imageRows: async (now) => (await store.listUploads()).map((u) => imageRow(u, now)),
  };
}

export const IMAGE_STATUS_COLUMNS = [
  { key: 'image', header: 'Image' },
  { key: 'paused', header: 'Paused' },
  { key: 'build_request', header: 'Build Request' },
  { key: 'paused_reason', header: 'Paused Reason' },
  { key: 'current_build', header: 'Current Build' },
  { key: 'building', header: 'Building' },
  { key: 'uploads', header: 'Uploads' },
] as const satisfies readonly Column[];

export type ImageStatusRow = Record<(typeof IMAGE_STATUS_COLUMNS)[number]['key'], string | boolean | null | string[]>;

/**
 * One row per image, Nodepool's `image-status` columns first: paused, a pending build request;
 * then the build launches use (newest ready), a build in progress with its seconds, and each
 * upload of the newest build as `provider:state` (with percent while uploading).
 */
export function imageStatusRows(images: readonly string[], flags: ImageFlags[], builds: BuildRecord[], uploads: UploadRecord[], now: number): ImageStatusRow[] {
  const names = [...new Set([...images, ...flags.map((f) => f.image), ...builds.map((b) => b.image)])].sort();
  return names.map((image) => {
    const f = flags.find((x) => x.image === image);
    const mine = builds.filter((b) => b.image === image);
    const ready = mine.find((b) => b.state === 'ready');
    const building = mine.find((b) => b.state === 'building');
    const newest = mine.find((b) => b.state !== 'deleting');
    const pending = f?.buildRequestedAt != null && (!newest || newest.createdAt < f.buildRequestedAt);
    return {
      image,
      paused: f?.paused ?? false,
      build_request: pending ? new Date(f!.buildRequestedAt!).toISOString() : null,
      paused_reason: f?.pausedReason ?? null,
      current_build: ready?.id ?? null,
      building: building ? `${building.id} (${ageSeconds(building.createdAt, now)} s)` : null,
      uploads: newest ? uploads.filter((u) => u.buildId === newest.id).map(uploadCell) : [],
    };
  });
}

function uploadCell(u: UploadRecord): string {
  if (u.state === 'uploading') return `${u.provider}:uploading ${u.size ? Math.floor((100 * u.bytes) / u.size) : 0}%`;
  if (u.state === 'ready' && u.validation !== 'none') return `${u.provider}:ready/${u.validation}`;
  return `${u.provider}:${u.state}`;
}

export async function queryImageStatus(store: Store, images: readonly string[], now: number): Promise<ImageStatusRow[]> {
  const [flags, builds, uploads] = await Promise.all([store.listImageFlags(), store.listBuilds(), store.listUploads()]);
  return imageStatusRows(images, flags, builds, uploads, now);
}

/** Everything about one image, for `image build --wait` and `GET /api/v1/images/{name}`. */
export interface ImageDetail {
  status: ImageStatusRow;
  /** Providers that use the image: each gets every new build. */
  providers: string[];
  builds: DibImageRow[];
  uploads: ImageRow[];
}

export async function queryImageDetail(
  store: Store, images: readonly string[], image: string, now: number, providers: readonly string[] = [],
): Promise<ImageDetail | null> {
  const [flags, builds, uploads] = await Promise.all([store.listImageFlags(), store.listBuilds({ image }), store.listUploads({ image })]);
  const status = imageStatusRows(images.includes(image) ? [image] : [], flags.filter((f) => f.image === image), builds, uploads, now)[0];
  if (!status) return null;
  return { status, providers: [...providers], builds: builds.map((b) => dibImageRow(b, now)), uploads: uploads.map((u) => imageRow(u, now)) };
}
