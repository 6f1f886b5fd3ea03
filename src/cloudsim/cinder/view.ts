/**
 * Cinder (block-storage v3) shapes: volumes at microversion 3.0, the fault bodies Cinder shares
 * with Nova (`{"itemNotFound": {code, message}}`, `overLimit` with `retryAfter`), and the
 * microversion headers.
 */
import type { VolumeRecord } from '../records.ts';
import { SimError, type SimReply, type SimRequest } from '../service.ts';
import type { CloudState } from '../state.ts';

type Json = Record<string, unknown>;

export const MAX_VOLUME_MINOR = 70;

const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound', 405: 'badMethod',
  406: 'notAcceptable', 409: 'conflictingRequest', 413: 'overLimit', 415: 'badMediaType', 429: 'overLimit',
  501: 'notImplemented', 503: 'serviceUnavailable',
};

/** `2026-11-26T11:37:07.000000`: Cinder's created_at / updated_at (no zone). */
export function cinderTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

export function volumeLinks(cloud: CloudState, id: string) {
  const self = `${cloud.endpoints().volume}/volumes/${id}`;
  return [{ href: self, rel: 'self' }, { href: self.replace('/v3/', '/'), rel: 'bookmark' }];
}

export function volumeBrief(cloud: CloudState, v: VolumeRecord): Json {
  return { id: v.id, links: volumeLinks(cloud, v.id), name: v.name };
}

export function volumeView(cloud: CloudState, v: VolumeRecord): Json {
  const a = v.attachedTo;
  const view: Json = {
    attachments: a ? [{
      server_id: a.serverId, attachment_id: a.attachmentId, attached_at: cinderTime(a.at), host_name: null, volume_id: v.id,
      device: '/dev/vda', id: v.id,
    }] : [],
    availability_zone: 'nova', bootable: String(v.bootable), consistencygroup_id: null, created_at: cinderTime(v.createdAt),
    description: v.description, encrypted: false, id: v.id, links: volumeLinks(cloud, v.id), metadata: { ...v.metadata },
    multiattach: false, name: v.name, 'os-vol-tenant-attr:tenant_id': cloud.projectId, replication_status: null, size: v.size,
    snapshot_id: null, source_volid: null, status: v.status, updated_at: cinderTime(v.updatedAt), user_id: cloud.userId,
    volume_type: '__DEFAULT__',
  };
  if (v.imageId) view.volume_image_metadata = { image_id: v.imageId };
  return view;
}

/** `OpenStack-API-Version: volume 3.x`; 3.0 without. */
export function readVolumeMicroversion(req: SimRequest): number {
  const header = req.headers['openstack-api-version'];
  const value = (Array.isArray(header) ? header.join(',') : header ?? '')
    .split(',').map((p) => p.trim().split(/\s+/)).find(([service]) => service?.toLowerCase() === 'volume')?.[1];
  if (!value) return 0;
  if (value.toLowerCase() === 'latest') return MAX_VOLUME_MINOR;
  const m = /^3\.(\d+)$/.exec(value);
  if (!m || Number(m[1]) > MAX_VOLUME_MINOR) {
    throw new SimError(406, `Version ${value} is not supported by the API. Minimum is 3.0 and maximum is 3.${MAX_VOLUME_MINOR}.`);
  }
  return Number(m[1]);
}

export function cinderError(_req: SimRequest, err: SimError): SimReply {
  const name = FAULT_NAMES[err.status] ?? 'computeFault';
  const fault: Json = { code: err.status, message: err.message };
  // Cinder's fault wrapper copies Retry-After into the body of a 413/429.
  const retry = err.headers?.['Retry-After'];
  if ((err.status === 413 || err.status === 429) && retry !== undefined) fault.retryAfter = retry;
  return { status: err.status, headers: { ...err.headers }, body: { [name]: fault }, contentType: 'application/json' };
}

/**
 * Cinder's QuotaError: 413 with `Retry-After: 0` (the class sets that header), the exception's
 * name before its message.
 */
export function volumeQuotaError(cloud: CloudState, requestedGb?: number, usedGb?: number): SimError {
  const headers = { 'Retry-After': '0' };
  if (requestedGb !== undefined && usedGb !== undefined) {
    return new SimError(413, `VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested ${requestedGb}G, quota is ${cloud.volumeQuota.gigabytes}G and ${usedGb}G has been consumed.`, undefined, headers);
  }
  return new SimError(413, `VolumeLimitExceeded: Maximum number of volumes allowed (${cloud.volumeQuota.volumes}) exceeded for quota 'volumes'.`, undefined, headers);
}
