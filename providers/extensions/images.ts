/**
 * The image extension (Glance): the builder uploads its builds through it, deletes old uploads and
 * sweeps leaked ones. A provider whose driver lacks it cannot take `diskimages`.
 */

/** An image in the cloud as the builder sees it. */
export interface ImageView {
  id: string;
  name: string;
  /** The cloud's status word (Glance: queued, saving, active, killed, deleted, pending_delete, deactivated). */
  status: string;
  /** Bytes stored; null before the data arrived. */
  size: number | null;
  /** MD5 of the data (Glance `checksum`); null before the data arrived. */
  checksum: string | null;
  tags: string[];
  /** Custom properties, our nodepool_* tags among them. */
  properties: Record<string, string>;
  /** ISO time from the cloud. */
  created: string | null;
}

export interface CreateImageSpec {
  name: string;
  /** qcow2, raw, vhd, vmdk... */
  diskFormat: string;
  containerFormat: string;
  /** Our tags as image properties (promise 1): nodepool_provider_name, nodepool_upload_id, ..., plus the operator's `meta`. */
  properties: Record<string, string>;
  tags: string[];
}

/** The data of an upload, read as a stream (an image can be larger than the memory). */
export interface ImageData {
  /** Opens the data from its start; called again if the call has to be made again (a token renewed on 401). */
  open(): NodeJS.ReadableStream;
  size: number;
  /** Aborts the transfer (a timeout, a shutdown). */
  signal?: AbortSignal;
}

export interface ImageExtension {
  /** Creates an image record without data (Glance `queued`), carrying our properties and tags; resolves with its id. */
  create(spec: CreateImageSpec): Promise<{ id: string }>;
  /** Sends an image's data streamed from `data.open()`, never held in memory; resolves once the cloud took all of it. */
  upload(id: string, data: ImageData): Promise<void>;
  /** Fetches one image; null when it does not exist. */
  get(id: string): Promise<ImageView | null>;
  /** Lists the project's images carrying `tag` and every one of `properties`, following pagination. */
  list(filter: { tag: string; properties?: Record<string, string> }): Promise<ImageView[]>;
  /** Asks the cloud to delete an image; an image already gone is not an error. */
  delete(id: string): Promise<void>;
}
