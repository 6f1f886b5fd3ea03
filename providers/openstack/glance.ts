/**
 * Glance v2: images by name or id.
 */
import type { Image } from '../provider.ts';
import { collectPages } from './pages.ts';
import { GlanceImageListSchema, GlanceImageSchema, parseBody } from './schemas.ts';
import type { Session } from './session.ts';
import { looksLikeUuid, notFoundIsNull } from './lookup.ts';

type GlanceImage = { id: string; name?: string | null; status: string; created_at?: string | null };

export class GlanceClient {
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
    const images = await collectPages({
      first: { name: nameOrId },
      fetch: (query) => this.session.call('image', { method: 'GET', path: '/images', query }),
      read: (res) => {
        const body = parseBody(GlanceImageListSchema, res.body, res);
        return { items: body.images, next: body.next };
      },
    });
    const active = images.filter((i) => i.status === 'active' && i.name === nameOrId);
    active.sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''));
    return active[0] ? toImage(active[0]) : null;
  }
}

function toImage(i: GlanceImage): Image {
  return { id: i.id, name: i.name ?? '', status: i.status };
}
