import type { Config } from '../config/types.ts';
import type { StoreEvent } from '../store/store.ts';
import { relevance, type RelevanceContext, type SkipReason } from './relevance.ts';
import type { Topology } from './topology.ts';

/**
 * Between the store's change events and a launcher's pass loop: wakes it for the changes that may
 * give it work (./relevance.ts), and for a change it skips because another live launcher holds the
 * row, asks for a pass just after that lease runs out (one timer, for the earliest such lease), so
 * that the work of a launcher that died is taken over. Counts what it woke for and what it skipped.
 */
export class WakeGate {
  private ctx: RelevanceContext;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private closed = false;
  /** Changes that woke the pass loop, and those that did not, by reason. */
  readonly counts = { woken: 0, skipped: { 'other-provider': 0, 'leased-elsewhere': 0 } as Record<SkipReason, number> };

  constructor(
    private readonly o: { launcher: string; served: ReadonlySet<string> | null; now: () => number; wake: () => void },
    config: Config, topology: Topology,
  ) {
    this.ctx = this.context(config, topology);
  }

  /** Follows a new configuration (min-ready labels, tenant limits). */
  configure(config: Config, topology: Topology): void {
    this.ctx = this.context(config, topology);
  }

  private context(config: Config, topology: Topology): RelevanceContext {
    const minReadyLabels = new Set([...topology.labels].filter(([, l]) => l.minReady > 0).map(([name]) => name));
    return { launcher: this.o.launcher, served: this.o.served, minReadyLabels, sharedCapacity: config.tenantResourceLimits.length > 0 };
  }

  /** Wakes the pass loop now, later, or not, for one change. */
  onEvent(e: StoreEvent): void {
    const r = relevance(e, this.ctx, this.o.now());
    if (r.wake) {
      this.counts.woken++;
      this.o.wake();
      return;
    }
    this.counts.skipped[r.why]++;
    if (r.wakeAt !== null) this.wakeAfter(r.wakeAt);
  }

  skipped(): number {
    return this.counts.skipped['other-provider'] + this.counts.skipped['leased-elsewhere'];
  }

  private wakeAfter(at: number): void {
    if (this.closed || (this.timer && this.timerAt <= at)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => { this.timer = null; this.o.wake(); }, Math.max(0, at + 1 - this.o.now()));
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
