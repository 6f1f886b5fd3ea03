/**
 * Cinder (block-storage v3, its catalog URL carries the project id): volumes listed with their
 * metadata and attachments, and deleted. Cinder's faults have Nova's shape
 * (`{"itemNotFound": {code, message}}`), so the one classifier reads them.
 */
import { CloudError } from '../errors.ts';
import type { VolumeExtension, VolumeView } from '../extensions/volumes.ts';
import { readErrorBody } from './classify.ts';
import { collectPages } from './pages.ts';
import { VolumeListSchema, type CinderVolume } from './resource-schemas.ts';
import { parseBody } from './schemas.ts';
import type { ServiceAnswer, Session } from './session.ts';

export class CinderClient implements VolumeExtension {
  constructor(private readonly session: Session) {}

  /** `GET /volumes/detail`, one call per page (`volumes_links`). */
  async list(): Promise<VolumeView[]> {
    const volumes = await collectPages({
      fetch: (query) => this.session.call('block-storage', { method: 'GET', path: '/volumes/detail', query }),
      read: (res) => {
        const body = parseBody(VolumeListSchema, res.body, res);
        return { items: body.volumes, links: body.volumes_links };
      },
    });
    return volumes.map(toVolumeView);
  }

  /** 202 and deleted in the background; a 404 in Cinder's words means an earlier delete finished. */
  async delete(id: string): Promise<void> {
    const res = await this.session.call('block-storage', { method: 'DELETE', path: `/volumes/${encodeURIComponent(id)}`, also: [404] });
    if (res.status === 404) gone(res);
  }
}

function toVolumeView(v: CinderVolume): VolumeView {
  return {
    id: v.id, name: v.name ?? '', status: v.status, sizeGb: v.size, metadata: v.metadata ?? {},
    attachedTo: (v.attachments ?? []).flatMap((a) => (a.server_id ? [a.server_id] : [])), created: v.created_at ?? null,
  };
}

function gone(res: ServiceAnswer): void {
  const err = readErrorBody(res.body);
  if (err.shape === 'nova' && err.novaKey === 'itemNotFound') return;
  throw new CloudError({
    kind: 'config',
    message: `cinder ${res.method} ${res.url} answered 404 without a Cinder error body; is the block-storage endpoint right?`,
    status: 404, service: 'cinder', method: res.method, url: res.url, requestId: res.requestId,
  });
}
