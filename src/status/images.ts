import type { Cell, Column } from './rows.ts';

/**
 * `/dib-image-list` (local builds) and `/image-list` (uploads to providers), with Nodepool's
 * columns and keys. Both are empty until the builder has made an image.
 */

export const DIB_IMAGE_COLUMNS = [
  { key: 'id', header: 'ID' },
  { key: 'image', header: 'Image' },
  { key: 'builder', header: 'Builder' },
  { key: 'formats', header: 'Formats' },
  { key: 'state', header: 'State' },
  { key: 'age', header: 'Age' },
  { key: 'reason', header: 'Reason', detail: true },
  { key: 'files', header: 'Files', jsonOnly: true },
] as const satisfies readonly Column[];

export type DibImageRow = Record<(typeof DIB_IMAGE_COLUMNS)[number]['key'], Cell>;

export const IMAGE_COLUMNS = [
  { key: 'id', header: 'Build ID' },
  { key: 'upload_id', header: 'Upload ID' },
  { key: 'provider', header: 'Provider' },
  { key: 'image', header: 'Image' },
  { key: 'external_name', header: 'Provider Image Name' },
  { key: 'external_id', header: 'Provider Image ID' },
  { key: 'state', header: 'State' },
  { key: 'validation', header: 'Validation' },
  { key: 'age', header: 'Age' },
  { key: 'reason', header: 'Reason', detail: true },
  { key: 'bytes', header: 'Bytes', jsonOnly: true },
  { key: 'size', header: 'Size', jsonOnly: true },
] as const satisfies readonly Column[];

export type ImageRow = Record<(typeof IMAGE_COLUMNS)[number]['key'], Cell>;

/** Where image rows come from; the builder's records once it has made some. */
export interface ImageSource {
  dibImageRows(now: number): Promise<DibImageRow[]>;
  imageRows(now: number): Promise<ImageRow[]>;
}

export const NO_IMAGES: ImageSource = {
  dibImageRows: async () => [],
  imageRows: async () => [],
};
