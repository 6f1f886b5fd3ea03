/**
 * Glance v2: images by name or id for launches; for the builder, image records created with our
 * properties, data uploaded as a stream (`PUT /v2/images/{id}/file`, 204), images listed by tag
 * and property, and deleted.
 */
import { CloudError } from '../errors.ts';
import type { Image } from '../extensions/catalog.ts';
import type { CreateImageSpec, ImageData, ImageExtension, ImageView } from '../extensions/images.ts';
import { readErrorBody } from './classify.ts';
import { collectPages } from './pages.ts';
import { type GlanceImage, GlanceImageListSchema, GlanceImageSchema, parseBody } from './schemas.ts';
import type { ServiceAnswer, Session } from './session.ts';
import { looksLikeUuid, notFoundIsNull } from './lookup.ts';

/** Fields of a Glance image that are not custom properties. */
const CORE_FIELDS = new Set([
  'id', 'name', 'status', 'visibility', 'owner', 'disk_format', 'container_format', 'min_disk', 'min_ram', 'protected',
  'tags', 'size', 'virtual_size', 'checksum', 'os_hidden', 'os_hash_algo', 'os_hash_value', 'created_at', 'updated_at',
  'self', 'file', 'schema', 'stores', 'locations', 'direct_url',
]);

export class GlanceClient implements ImageExtension {
  constructor(private readonly session: Session) {}

  /**
   * The active image with this id, else the newest active image with this name; null when
   * there is none. Image names are not unique in Glance (a rebuilt image is often uploaded
   * under the same name before the old one is deleted), and the newest is the one meant.
   */
  async findImage(nameOrId: string): Promise<Image | null> {
    if (looksLikeUuid(nameOrId)) {
      const byId = await notFoundIsNull(this.session.call('image', { method: 'GET', path: `/images/${encodeURIComponent(nameOrId)}` }));
      if (byId) {
        const image = parseBody(GlanceImageSchema, byId.body, byId);
        if (image.status === 'active') return toImage(image);
      }
    }
    const images = await this.listRaw({ name: nameOrId });
    const active = images.filter((i) => i.status === 'active' && i.name === nameOrId);
    active.sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''));
    return active[0] ? toImage(active[0]) : null;
  }

  /** `POST /v2/images`: 201 with the image `queued`. Unknown top-level keys become string properties. */
  async create(spec: CreateImageSpec): Promise<{ id: string }> {
    const res = await this.session.call('image', {
      method: 'POST',
      path: '/images',
      body: {
        ...spec.properties,
        name: spec.name, disk_format: spec.diskFormat, container_format: spec.containerFormat, visibility: 'private', tags: spec.tags,
      },
    });
    return { id: parseBody(GlanceImageSchema, res.body, res).id };
  }

  /** `PUT /v2/images/{id}/file` with the data as `application/octet-stream`: 204. */
  async upload(id: string, data: ImageData): Promise<void> {
    await this.session.call('image', {
      method: 'PUT',
      path: `/images/${encodeURIComponent(id)}/file`,
      stream: { open: () => data.open(), length: data.size, signal: data.signal },
    });
  }

  async get(id: string): Promise<ImageView | null> {
    const res = await this.session.call('image', { method: 'GET', path: `/images/${encodeURIComponent(id)}`, also: [404] });
    if (res.status === 404) return this.gone(res);
    return toImageView(parseBody(GlanceImageSchema, res.body, res));
  }

  /** Glance filters on custom properties as on core fields (`?nodepool_provider_name=east`). */
  async list(filter: { tag: string; properties?: Record<string, string> }): Promise<ImageView[]> {
    return (await this.listRaw({ ...filter.properties, tag: filter.tag })).map(toImageView);
  }

  /** 204; a 404 means an earlier delete finished. */
  async delete(id: string): Promise<void> {
    const res = await this.session.call('image', { method: 'DELETE', path: `/images/${encodeURIComponent(id)}`, also: [404] });
    if (res.status === 404) this.gone(res);
  }

  private listRaw(first: Record<string, string>): Promise<GlanceImage[]> {
    return collectPages({
      first,
      fetch: (query) => this.session.call('image', { method: 'GET', path: '/images', query }),
      read: (res) => {
        const body = parseBody(GlanceImageListSchema, res.body, res);
        return { items: body.images, next: body.next };
      },
    });
  }

  /**
   * A 404 means "no such image" only in Glance's own words (`{message, code: "404 Not Found"}`,
   * or its plain-text page); an HTML page from a proxy means a wrong endpoint, and believing it
   * would forget an image that still exists.
   */
  private gone(res: ServiceAnswer): null {
    const shape = readErrorBody(res.body).shape;
    if (shape === 'glance' || (shape === 'text' && /^404 Not Found/.test(String(res.body)))) return null;
    throw new CloudError({
      kind: 'config',
      message: `glance ${res.method} ${res.url} answered 404 without a Glance error body; is the image endpoint right?`,
      status: 404, service: 'glance', method: res.method, url: res.url, requestId: res.requestId,
    });
  }
}

function toImage(i: GlanceImage): Image {
  return { id: i.id, name: i.name ?? '', status: i.status };
}

export function toImageView(i: GlanceImage): ImageView {
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(i)) if (!CORE_FIELDS.has(k) && typeof v === 'string') properties[k] = v;
  return {
    id: i.id, name: i.name ?? '', status: i.status, size: i.size ?? null, checksum: i.checksum ?? null,
    tags: i.tags ?? [], properties, created: i.created_at ?? null,
  };
}
