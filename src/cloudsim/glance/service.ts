/**
 * Glance (image v2): version discovery, image list (filters, sort, limit/marker with `next`),
 * show, create, data upload (hashed while streamed, never stored) and delete. A 404 is JSON only
 * when the client accepts JSON; otherwise Glance sends a plain-text page.
 */
import { createHash } from 'node:crypto';
import { GLANCE_DEFAULT_LIMIT, GLANCE_MAX_LIMIT } from '../defaults.ts';
import { REASONS, SimError, isObject, middlewareUnauthorized, parseJson, type ServiceDef, type SimReply, type SimRequest } from '../service.ts';
import type { CloudState, ImageRecord } from '../state.ts';
import { isoSeconds, uuid } from '../util.ts';

const VERSIONS = ['v2.15', 'v2.13', 'v2.12', 'v2.11', 'v2.10', 'v2.9', 'v2.8', 'v2.7', 'v2.6', 'v2.5', 'v2.4', 'v2.3', 'v2.2', 'v2.1', 'v2.0'];
/** Keys that are image fields, not filters on custom properties. */
const CORE_KEYS = new Set([
  'id', 'name', 'status', 'visibility', 'owner', 'disk_format', 'container_format', 'min_disk', 'min_ram', 'protected',
  'tags', 'size', 'virtual_size', 'checksum', 'os_hidden', 'os_hash_algo', 'os_hash_value', 'created_at', 'updated_at',
  'self', 'file', 'schema', 'stores', 'locations', 'direct_url',
]);
const LIST_PARAMS = new Set(['limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'tag', 'member_status']);

function imageView(img: ImageRecord): Record<string, unknown> {
  const path = `/v2/images/${img.id}`;
  const v: Record<string, unknown> = {
    ...img.properties,
    name: img.name, disk_format: img.diskFormat, container_format: img.containerFormat, visibility: img.visibility,
    size: img.size, virtual_size: img.size, status: img.status, checksum: img.checksum, protected: img.protected,
    min_ram: img.minRam, min_disk: img.minDisk, owner: img.owner, os_hidden: false,
    os_hash_algo: img.hashValue ? 'sha512' : null, os_hash_value: img.hashValue, id: img.id,
    created_at: isoSeconds(img.createdAt), updated_at: isoSeconds(img.updatedAt), tags: [...img.tags],
    self: path, file: `${path}/file`, schema: '/v2/schemas/image',
  };
  if (img.size !== null) v.stores = 'fs';
  return v;
}

function imageOf(cloud: CloudState, id: string): ImageRecord {
  const img = cloud.findImage(id);
  if (!img) throw new SimError(404, `No image found with ID ${id}`);
  return img;
}

function field(img: ImageRecord, key: string): unknown {
  return imageView(img)[key];
}

function sortSpec(q: URLSearchParams): [string, 'asc' | 'desc'][] {
  const sort = q.get('sort');
  if (sort) {
    return sort.split(',').map((part) => {
      const [key, dir = 'desc'] = part.split(':');
      if (dir !== 'asc' && dir !== 'desc') throw new SimError(400, `Invalid sort direction: ${dir}`);
      return [key, dir];
    });
  }
  const keys = q.getAll('sort_key');
  const dirs = q.getAll('sort_dir');
  if (keys.length > 0) return keys.map((k, i) => [k, (dirs[i] ?? dirs[0] ?? 'desc') === 'asc' ? 'asc' : 'desc']);
  return [['created_at', 'desc']];
}

function list(req: SimRequest): SimReply {
  const { cloud, query } = req;
  const rawLimit = query.get('limit');
  let limit = GLANCE_DEFAULT_LIMIT;
  if (rawLimit !== null) {
    if (!/^-?\d+$/.test(rawLimit)) throw new SimError(400, 'limit param must be an integer');
    limit = Number(rawLimit);
    if (limit < 0) throw new SimError(400, 'limit param must be positive');
    limit = Math.min(limit, GLANCE_MAX_LIMIT);
  }
  let images = cloud.images.filter((img) => {
    for (const [key, value] of query) {
      if (LIST_PARAMS.has(key)) continue;
      const actual = CORE_KEYS.has(key) ? field(img, key) : img.properties[key];
      if (String(actual) !== value) return false;
    }
    const tags = query.getAll('tag');
    return tags.every((t) => img.tags.includes(t));
  });
  // Sorted by the keys asked for, then by created_at and id descending (Glance's tie-breakers).
  const spec = [...sortSpec(query), ['created_at', 'desc'], ['id', 'desc']] as [string, 'asc' | 'desc'][];
  images = images.map((img, i) => ({ img, i })).sort((a, b) => {
    for (const [key, dir] of spec) {
      const x = String(field(a.img, key) ?? '');
      const y = String(field(b.img, key) ?? '');
      if (x !== y) return (x < y ? -1 : 1) * (dir === 'asc' ? 1 : -1);
    }
    return b.i - a.i;
  }).map((e) => e.img);
  const marker = query.get('marker');
  if (marker !== null) {
    const i = images.findIndex((img) => img.id === marker);
    if (i < 0) throw new SimError(400, `Invalid marker. Image ${marker} could not be found.`);
    images = images.slice(i + 1);
  }
  const page = images.slice(0, limit);
  const params = new URLSearchParams(query);
  params.delete('marker');
  const q = params.toString();
  const body: Record<string, unknown> = { images: page.map(imageView), first: q ? `/v2/images?${q}` : '/v2/images', schema: '/v2/schemas/images' };
  if (page.length > 0 && page.length === limit) {
    params.set('marker', page[page.length - 1].id);
    body.next = `/v2/images?${params.toString()}`;
  }
  return { status: 200, body };
}

function create(req: SimRequest): SimReply {
  const { cloud } = req;
  const parsed = parseJson(req.body);
  if (!parsed.ok || !isObject(parsed.value)) throw new SimError(400, 'Malformed JSON in request body.');
  const b = parsed.value;
  const id = typeof b.id === 'string' ? b.id : uuid();
  if (cloud.findImage(id)) throw new SimError(409, `Image with identifier ${id} already exists!`);
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(b)) {
    if (CORE_KEYS.has(k)) continue;
    if (typeof v !== 'string') throw new SimError(400, `Provided object does not match schema 'image': ${JSON.stringify(v)} is not of type 'string'`);
    properties[k] = v;
  }
  const now = Date.now();
  const img: ImageRecord = {
    id, name: typeof b.name === 'string' ? b.name : '', status: 'queued', minDisk: Number(b.min_disk ?? 0), minRam: Number(b.min_ram ?? 0),
    size: null, checksum: null, hashValue: null, visibility: typeof b.visibility === 'string' ? b.visibility : 'shared',
    owner: cloud.projectId, createdAt: now, updatedAt: now, diskFormat: typeof b.disk_format === 'string' ? b.disk_format : null,
    containerFormat: typeof b.container_format === 'string' ? b.container_format : null, protected: b.protected === true,
    tags: Array.isArray(b.tags) ? b.tags.map(String) : [], properties,
  };
  cloud.images.push(img);
  return {
    status: 201,
    headers: {
      Location: `${cloud.endpoints().image}/v2/images/${id}`,
      'Openstack-Image-Import-Methods': 'glance-direct,web-download,copy-image',
      'Openstack-Image-Store-Ids': 'fs,os_glance_staging_store,os_glance_tasks_store',
    },
    body: imageView(img),
  };
}

/** Injected upload faults of each cloud: the next n uploads lose their connection after some bytes. */
const uploadDrops = new WeakMap<CloudState, { afterBytes: number }[]>();

/** The next `n` image uploads of this cloud have their connection dropped once `afterBytes` arrived. */
export function dropNextUploads(cloud: CloudState, n: number, afterBytes: number): void {
  const list = uploadDrops.get(cloud) ?? [];
  for (let i = 0; i < n; i++) list.push({ afterBytes });
  uploadDrops.set(cloud, list);
}

/**
 * Reads the data as it arrives, keeping only its size and hashes (the file store becomes active at
 * once). Only `application/octet-stream` is accepted (415 otherwise, as Glance answers). A
 * transfer cut short sends the image back to `queued`, where Glance leaves a failed upload.
 */
async function upload(req: SimRequest): Promise<SimReply> {
  const img = imageOf(req.cloud, req.params.id);
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/octet-stream') throw new SimError(415, `Content type '${type}' is not supported for this request.`);
  if (img.status !== 'queued') throw new SimError(409, `Image status transition from ${img.status} to saving is not allowed`);
  img.status = 'saving';
  const drop = uploadDrops.get(req.cloud)?.shift();
  const md5 = createHash('md5');
  const sha512 = createHash('sha512');
  let size = 0;
  try {
    for await (const chunk of req.stream ?? []) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += buf.length;
      md5.update(buf);
      sha512.update(buf);
      if (drop && size >= drop.afterBytes) {
        (req.stream as { socket?: { destroy(): void } }).socket?.destroy();
        throw new Error('connection dropped (injected)');
      }
    }
  } catch {
    if (img.status === 'saving') img.status = 'queued';
    // The client is gone (or was cut off): nobody reads this answer.
    throw new SimError(400, 'The image data upload was interrupted.');
  }
  // Deleted while its data was arriving: Glance drops the data.
  if (!req.cloud.findImage(img.id)) throw new SimError(410, `Image ${img.id} could not be found after upload. The image may have been deleted during the upload.`);
  Object.assign(img, { status: 'active', size, checksum: md5.digest('hex'), hashValue: sha512.digest('hex'), updatedAt: Date.now() });
  return { status: 204, contentType: 'text/html; charset=UTF-8' };
}

function remove(req: SimRequest): SimReply {
  const img = imageOf(req.cloud, req.params.id);
  if (img.protected) throw new SimError(403, `Image ${img.id} is protected and cannot be deleted.`);
  req.cloud.images.splice(req.cloud.images.indexOf(img), 1);
  return { status: 204, contentType: 'text/html; charset=UTF-8' };
}

function acceptsJson(req: SimRequest): boolean {
  return String(req.headers.accept ?? '').includes('application/json');
}

export const glance: ServiceDef = {
  name: 'glance',
  statsRoots: ['/image'],
  routes: [
    {
      method: 'GET', path: '/image/', auth: false,
      handler: (req) => ({
        status: 300,
        body: { versions: VERSIONS.map((id, i) => ({ id, status: i === 0 ? 'CURRENT' : 'SUPPORTED', links: [{ rel: 'self', href: `${req.cloud.endpoints().image}/v2/` }] })) },
      }),
    },
    { method: 'GET', path: '/image/v2/images', auth: true, handler: list },
    { method: 'POST', path: '/image/v2/images', auth: true, handler: create },
    { method: 'GET', path: '/image/v2/images/:id', auth: true, handler: (req) => ({ status: 200, body: imageView(imageOf(req.cloud, req.params.id)) }) },
    { method: 'PUT', path: '/image/v2/images/:id/file', auth: true, stream: true, handler: upload },
    { method: 'DELETE', path: '/image/v2/images/:id', auth: true, handler: remove },
  ],
  decorate(req, reply) {
    if (req.path.startsWith('/image/v2')) (reply.headers ??= {})['X-Openstack-Request-Id'] = req.requestId;
  },
  error(req, err) {
    const reason = REASONS[err.status] ?? 'Error';
    const headers = { ...err.headers };
    if (acceptsJson(req)) {
      return { status: err.status, headers, body: { message: `${err.message}<br /><br />\n\n\n`, code: `${err.status} ${reason}`, title: reason } };
    }
    return { status: err.status, headers, body: `${err.status} ${reason}\n\n${err.message}\n\n   `, contentType: 'text/plain; charset=UTF-8' };
  },
  unauthorized: middlewareUnauthorized,
};
