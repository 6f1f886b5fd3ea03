import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { mergeProviderStates } from '../status/provider-state-merge.ts';
import { publishIntervalMs, staleAfterMs } from '../status/launcher-live.ts';
import type { ProviderConditions } from './plan-input.ts';

/** How often the states are read again while a provider has nobody publishing for it. */
const UNPUBLISHED_EVERY_MS = 1000;

/**
 * What a launcher serving some providers (`--providers`) knows of the others: their health, quota
 * room, label costs and paused pools as their launchers last published them to the store
 * (../status/state-publisher.ts). Every launcher plans with every provider so that all of them
 * pick the same pool for a request and only its launcher claims it; a launcher that took another
 * provider for healthy while that provider's own launcher knew it was down would leave the request
 * to it, and that launcher would leave it back. A provider no launcher has published for lately
 * (none serves it, or its launchers stopped) is planned as unhealthy: nobody would claim there.
 *
 * Read at start and then once per publish interval; a change that matters to a plan wakes one.
 */
export class PeerConditions {
  private readonly byProvider = new Map<string, ProviderConditions>();
  private readAt: number | null = null;
  private reading: Promise<void> | null = null;
  private signature = '';
  /** Whether the last read found a provider nobody publishes for. */
  private unpublished = false;
  private readonly startedAt: number;

  constructor(private readonly o: {
    store: Pick<Store, 'listProviderStates'>; launcher: string; logger: Logger; now: () => number;
    /** The providers this launcher serves: their conditions are its own. */
    served: ReadonlySet<string>;
  }) {
    this.startedAt = o.now();
  }

  /** The conditions of a provider this launcher does not serve, as last read; undefined before the first read. */
  get(provider: string): ProviderConditions | undefined {
    return this.byProvider.get(provider);
  }

  /**
   * Whether a read is due: one per publish interval; in the launcher's first 3 publish intervals,
   * every second while a provider has nobody publishing for it (launchers started together: the
   * others have not published yet).
   */
  due(config: Config): boolean {
    const now = this.o.now();
    const starting = now - this.startedAt < staleAfterMs(config);
    const every = this.unpublished && starting ? Math.min(UNPUBLISHED_EVERY_MS, publishIntervalMs(config)) : publishIntervalMs(config);
    return this.reading === null && (this.readAt === null || now - this.readAt >= every);
  }

  /** Reads every launcher's published states; resolves true when what a plan uses of them changed. */
  async read(config: Config): Promise<boolean> {
    if (this.reading) { await this.reading; return false; }
    const before = this.signature;
    this.reading = this.readOnce(config).finally(() => { this.reading = null; });
    await this.reading;
    return this.signature !== before;
  }

  private async readOnce(config: Config): Promise<void> {
    const now = this.o.now();
    this.readAt = now;
    let rows;
    try {
      rows = (await this.o.store.listProviderStates()).filter((r) => r.launcher !== this.o.launcher);
    } catch (err) {
      // Kept as last read; asked again after the interval.
      this.o.logger.warn({ err, launcher: this.o.launcher }, 'reading the other launchers\' provider states failed');
      return;
    }
    const merged = mergeProviderStates(rows, now, staleAfterMs(config));
    this.byProvider.clear();
    const seen: string[] = [];
    this.unpublished = false;
    for (const p of config.providers) {
      if (this.o.served.has(p.name)) continue;
      const live = merged.get(p.name);
      const known = live && (live.health === 'healthy' || live.health === 'degraded' || live.health === 'unhealthy');
      const c: ProviderConditions = known
        ? { health: live.health as ProviderConditions['health'], labelCost: live.labelCost, cloudRoom: live.room, pausedUntil: live.pausedUntil, backoffUntil: new Map() }
        : { health: 'unhealthy', labelCost: new Map(), cloudRoom: null, pausedUntil: new Map(), backoffUntil: new Map() };
      if (!known) this.unpublished = true;
      this.byProvider.set(p.name, c);
      seen.push(`${p.name}:${c.health}:${JSON.stringify(c.cloudRoom)}:${JSON.stringify([...c.pausedUntil])}`);
    }
    const signature = seen.join('|');
    if (signature !== this.signature) {
      this.o.logger.info({ launcher: this.o.launcher, providers: Object.fromEntries([...this.byProvider].map(([name, c]) => [name, c.health])) }, 'other launchers\' providers read');
    }
    this.signature = signature;
  }
}
