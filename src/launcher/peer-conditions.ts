import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { mergeProviderStates } from '../status/provider-state-merge.ts';
import { publishIntervalMs, staleAfterMs } from '../status/launcher-live.ts';
import type { ProviderConditions } from './plan-input.ts';

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

  constructor(private readonly o: {
    store: Pick<Store, 'listProviderStates'>; launcher: string; logger: Logger; now: () => number;
    /** The providers this launcher serves: their conditions are its own. */
    served: ReadonlySet<string>;
  }) {}

  /** The conditions of a provider this launcher does not serve, as last read; undefined before the first read. */
  get(provider: string): ProviderConditions | undefined {
    return this.byProvider.get(provider);
  }

  /** Whether a read is due (one per publish interval). */
  due(config: Config): boolean {
    return this.reading === null && (this.readAt === null || this.o.now() - this.readAt >= publishIntervalMs(config));
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
    for (const p of config.providers) {
      if (this.o.served.has(p.name)) continue;
      const live = merged.get(p.name);
      const known = live && (live.health === 'healthy' || live.health === 'degraded' || live.health === 'unhealthy');
      const c: ProviderConditions = known
        ? { health: live.health as ProviderConditions['health'], labelCost: live.labelCost, cloudRoom: live.room, pausedUntil: live.pausedUntil, backoffUntil: new Map() }
        : { health: 'unhealthy', labelCost: new Map(), cloudRoom: null, pausedUntil: new Map(), backoffUntil: new Map() };
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
