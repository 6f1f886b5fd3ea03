/**
 * Cinder (block-storage v3, `/<cloud>/volume/v3/<project_id>`; in the catalog as `block-storage`
 * and `volumev3`): volumes created, listed (brief and detail, filters on name, status and
 * metadata, newest first, limit/marker), shown, their metadata read and merged, and deleted;
 * `creating` -> `available`, `in-use` while a server boots from one, `deleting` -> gone, 404
 * `itemNotFound`; 413 with `Retry-After: 0` at the quota; absolute limits.
 */
import { cinderError, readVolumeMicroversion, volumeBrief, volumeQuotaError, volumeView } from './view.ts';
import type { VolumeRecord } from '../records.ts';
import { SimError, isObject, middlewareUnauthorized, parseJson, type RouteDef, type ServiceDef, type SimReply, type SimRequest } from '../service.ts';
import { createVolume, deleteVolume, volumeUsage } from './volume-ops.ts';
import { pyRepr } from '../util.ts';

const ROOT = '/volume/v3/:project';
const MAX_LIMIT = 1000;
const DELETABLE = new Set(['available', 'error', 'error_restoring', 'error_extending', 'error_managing']);

const badRequest = (message: string) => new SimError(400, message);

function body(req: SimRequest, key: string): Record<string, unknown> {
  const parsed = parseJson(req.body);
  if (!parsed.ok) throw badRequest('Malformed request body');
  if (!isObject(parsed.value) || !isObject(parsed.value[key])) throw badRequest(`Missing required element '${key}' in request body.`);
  return parsed.value[key] as Record<string, unknown>;
}

function stringMap(field: string, v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw badRequest(`Invalid input for field/attribute ${field}. Value: ${pyRepr(v)}. ${pyRepr(v)} is not of type 'object'`);
  }
  return v as Record<string, string>;
}

function volumeOf(req: SimRequest): VolumeRecord {
  const v = req.cloud.volumes.get(req.params.id);
  if (!v) throw new SimError(404, `Volume ${req.params.id} could not be found.`);
  return v;
}

function filtered(req: SimRequest): VolumeRecord[] {
  const q = req.query;
  let metadata: Record<string, string> | undefined;
  const raw = q.get('metadata');
  if (raw !== null) {
    try {
      metadata = stringMap('metadata', JSON.parse(raw));
    } catch (err) {
      if (err instanceof SimError) throw err;
      throw badRequest(`Invalid filter: metadata ${raw} is not a JSON object.`);
    }
  }
  const name = q.get('name');
  const status = q.get('status');
  let all = [...req.cloud.volumes.values()]
    .filter((v) => (name === null || v.name === name) && (status === null || v.status === status))
    .filter((v) => !metadata || Object.entries(metadata).every(([k, x]) => v.metadata[k] === x))
    .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  const marker = q.get('marker');
  if (marker !== null) {
    const i = all.findIndex((v) => v.id === marker);
    if (i < 0) throw new SimError(404, `Marker ${marker} could not be found.`);
    all = all.slice(i + 1);
  }
  return all;
}

function list(detail: boolean) {
  return (req: SimRequest): SimReply => {
    const rawLimit = req.query.get('limit');
    if (rawLimit !== null && !/^\d+$/.test(rawLimit)) throw badRequest(`Invalid input received: limit must be an integer`);
    const limit = rawLimit === null ? MAX_LIMIT : Math.min(Number(rawLimit), MAX_LIMIT);
    const page = filtered(req).slice(0, limit);
    const out: Record<string, unknown> = { volumes: page.map((v) => (detail ? volumeView(req.cloud, v) : volumeBrief(req.cloud, v))) };
    if (page.length > 0 && page.length === limit) {
      const q = new URLSearchParams(req.query);
      q.set('marker', page[page.length - 1].id);
      out.volumes_links = [{ href: `${req.cloud.endpoints().volume}/volumes${detail ? '/detail' : ''}?${q.toString()}`, rel: 'next' }];
    }
    return { status: 200, body: out };
  };
}

function create(req: SimRequest): SimReply {
  const { cloud } = req;
  const v = body(req, 'volume');
  const size = v.size;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
    throw badRequest(`Invalid input for field/attribute size. Value: ${pyRepr(size)}. ${pyRepr(size)} is not valid under any of the given schemas`);
  }
  const used = volumeUsage(cloud);
  const q = cloud.volumeQuota;
  if (q.volumes >= 0 && used.volumes + 1 > q.volumes) throw volumeQuotaError(cloud);
  if (q.gigabytes >= 0 && used.gigabytes + size > q.gigabytes) throw volumeQuotaError(cloud, size, used.gigabytes);
  const vol = createVolume(cloud, {
    name: typeof v.name === 'string' ? v.name : '', description: typeof v.description === 'string' ? v.description : null,
    size, metadata: stringMap('metadata', v.metadata), imageId: null,
  });
  return { status: 202, body: { volume: volumeView(cloud, vol) } };
}

function remove(req: SimRequest): SimReply {
  const v = volumeOf(req);
  if (!DELETABLE.has(v.status) || v.attachedTo) {
    throw badRequest('Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.');
  }
  deleteVolume(req.cloud, v);
  return { status: 202 };
}

function limits(req: SimRequest): SimReply {
  const { cloud } = req;
  const used = volumeUsage(cloud);
  return {
    status: 200,
    body: {
      limits: {
        rate: [],
        absolute: {
          totalSnapshotsUsed: 0, maxTotalBackups: 10, maxTotalVolumeGigabytes: cloud.volumeQuota.gigabytes, maxTotalSnapshots: 10,
          maxTotalBackupGigabytes: 1000, totalBackupGigabytesUsed: 0, maxTotalVolumes: cloud.volumeQuota.volumes,
          totalVolumesUsed: used.volumes, totalBackupsUsed: 0, totalGigabytesUsed: used.gigabytes,
        },
      },
    },
  };
}

const routes: RouteDef[] = [
  {
    method: 'GET', path: '/volume/', auth: false,
    handler: (req) => ({
      status: 300,
      body: { versions: [{ id: 'v3.0', status: 'CURRENT', version: '3.70', min_version: '3.0', updated: '2023-08-31T00:00:00Z', links: [{ rel: 'self', href: `${req.cloud.endpoints().volume.replace(/\/v3\/.*$/, '')}/v3/` }] }] },
    }),
  },
  { method: 'GET', path: `${ROOT}/volumes`, auth: true, handler: list(false) },
  { method: 'GET', path: `${ROOT}/volumes/detail`, auth: true, handler: list(true) },
  { method: 'POST', path: `${ROOT}/volumes`, auth: true, handler: create },
  { method: 'GET', path: `${ROOT}/volumes/:id`, auth: true, handler: (req) => ({ status: 200, body: { volume: volumeView(req.cloud, volumeOf(req)) } }) },
  { method: 'DELETE', path: `${ROOT}/volumes/:id`, auth: true, handler: remove },
  { method: 'GET', path: `${ROOT}/volumes/:id/metadata`, auth: true, handler: (req) => ({ status: 200, body: { metadata: { ...volumeOf(req).metadata } } }) },
  {
    method: 'POST', path: `${ROOT}/volumes/:id/metadata`, auth: true,
    handler: (req) => {
      const v = volumeOf(req);
      const parsed = parseJson(req.body);
      if (!parsed.ok) throw badRequest('Malformed request body');
      const metadata = isObject(parsed.value) ? parsed.value.metadata : undefined;
      if (!isObject(metadata)) throw badRequest("Missing required element 'metadata' in request body.");
      Object.assign(v.metadata, stringMap('metadata', metadata));
      v.updatedAt = Date.now();
      return { status: 200, body: { metadata: { ...v.metadata } } };
    },
  },
  { method: 'GET', path: `${ROOT}/limits`, auth: true, handler: limits },
];

export const cinder: ServiceDef = {
  name: 'cinder',
  statsRoots: [ROOT, '/volume'],
  routes,
  before(req) {
    if (!req.path.startsWith('/volume/v3/')) return;
    req.microversion = readVolumeMicroversion(req);
    // A project id other than the token's is a URL this user has no business with.
    if (req.params.project !== undefined && req.token && req.params.project !== req.token.projectId) throw badRequest('Malformed request url');
  },
  decorate(req, reply) {
    if (!req.path.startsWith('/volume/v3/')) return;
    const h = (reply.headers ??= {});
    h['x-openstack-request-id'] = req.requestId;
    h['OpenStack-API-Version'] = `volume 3.${req.microversion ?? 0}`;
    h['Vary'] = 'OpenStack-API-Version';
  },
  error: cinderError,
  unauthorized: middlewareUnauthorized,
  quotaError: (req) => volumeQuotaError(req.cloud),
};
