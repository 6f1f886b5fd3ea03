import type { UploadedImages } from '../launch-spec.ts';
import { NO_NODES, type Store, type StoreEvent } from '../store/store.ts';

/**
 * What launches boot a `diskimage` label from: per provider and image, the cloud image id of the
 * newest ready build's ready upload whose validation passed (or was not asked for). A failed
 * validation, a deleted build or a deleted upload makes the next older one take its place.
 *
 * Kept in memory for the launcher's passes: re-read when the store reports a build, upload or
 * image change, and every `fullIntervalMs` for changes made by other processes.
 */
export class UsableUploads implements UploadedImages {
  private index = new Map<string, string>();
  private dirty = true;
  private lastRead = 0;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly store: Store, private readonly opts: { now: () => number; fullIntervalMs?: number } = { now: Date.now }) {}

  /** Follows the store's change events; returns this. */
  watch(): this {
    this.unsubscribe ??= this.store.subscribe((e: StoreEvent) => { if (e.kind === 'build' || e.kind === 'upload') this.dirty = true; }, NO_NODES);
    return this;
  }

  async refresh(): Promise<void> {
    const now = this.opts.now();
    if (!this.dirty && now - this.lastRead < (this.opts.fullIntervalMs ?? 10_000)) return;
    this.dirty = false;
    this.lastRead = now;
    const [builds, uploads] = await Promise.all([this.store.listBuilds({ states: ['ready'] }), this.store.listUploads({ states: ['ready'] })]);
    const buildAt = new Map(builds.map((b) => [b.id, b.createdAt]));
    const usable = uploads
      .filter((u) => buildAt.has(u.buildId) && u.externalId && (u.validation === 'none' || u.validation === 'passed'))
      .sort((a, b) => buildAt.get(b.buildId)! - buildAt.get(a.buildId)! || (a.buildId < b.buildId ? 1 : -1));
    const index = new Map<string, string>();
    for (const u of usable) {
      const key = `${u.provider}/${u.image}`;
      if (!index.has(key)) index.set(key, u.externalId!);
    }
    this.index = index;
  }

  imageId(provider: string, diskimage: string): string | null {
    return this.index.get(`${provider}/${diskimage}`) ?? null;
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }
}
