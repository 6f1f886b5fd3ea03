import type { ProviderAdapter } from '../../providers/provider.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { IMAGE_TAG } from './uploader.ts';

/**
 * Finds and deletes leaked uploads (promise 1): images carrying our tag and this provider's name
 * that no upload record accounts for (an upload that timed out and could not delete its image, a
 * builder that died between Glance's answer and the store write, a record deleted by hand). As
 * with servers, an image is deleted only when unknown on two sweeps in a row, so an upload that
 * is just being recorded is never taken for a leak.
 */
export class ImageLeakSweep {
  /** `<provider>/<image id>` → the sweep that first saw it unknown. */
  private readonly sightings = new Map<string, number>();
  private sweeps = 0;

  constructor(private readonly store: Store, private readonly logger: Logger) {}

  /** One sweep over these providers; a provider that fails is logged and skipped. Resolves with the images deleted. */
  async sweep(adapters: Map<string, ProviderAdapter>): Promise<string[]> {
    const n = ++this.sweeps;
    const seen = new Set<string>();
    const deleted: string[] = [];
    await Promise.all([...adapters].map(async ([provider, adapter]) => {
      const cloudImages = adapter.images;
      if (!cloudImages) return;
      try {
        const [images, uploads] = await Promise.all([
          cloudImages.list({ tag: IMAGE_TAG, properties: { nodepool_provider_name: provider } }),
          this.store.listUploads({ provider }),
        ]);
        const byId = new Map(uploads.map((u) => [u.id, u]));
        for (const img of images) {
          const rec = byId.get(img.properties.nodepool_upload_id ?? '');
          const known = rec && (rec.externalId === img.id || (rec.externalId === null && rec.state === 'uploading'));
          const key = `${provider}/${img.id}`;
          if (known || img.properties.nodepool_provider_name !== provider) continue;
          seen.add(key);
          const first = this.sightings.get(key);
          if (first === undefined) { this.sightings.set(key, n); continue; }
          if (first >= n) continue;
          this.logger.warn({ provider, image_id: img.id, name: img.name, upload: img.properties.nodepool_upload_id }, 'deleting a leaked image upload');
          await cloudImages.delete(img.id);
          this.sightings.delete(key);
          deleted.push(key);
        }
      } catch (err) {
        this.logger.warn({ provider, err: (err as Error).message }, 'image leak sweep failed for this provider');
        for (const key of this.sightings.keys()) if (key.startsWith(`${provider}/`)) seen.add(key);
      }
    }));
    for (const key of [...this.sightings.keys()]) if (!seen.has(key)) this.sightings.delete(key);
    return deleted;
  }
}
