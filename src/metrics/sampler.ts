import type { Logger } from '../log.ts';
import { NODE_STATES, OPEN_REQUEST_STATES } from '../model.ts';
import type { Store } from '../store/store.ts';
import { readNodes } from '../store/node-reads.ts';

/**
 * Records the points of the status page's plots in the store: every `intervalMs`, the requests
 * waiting, the wait times (p50, p95) of the requests fulfilled since the previous point, the
 * nodes in each state, and the launch failures counted since then; points older than
 * `retentionMs` are removed. `sampleOnce(now)` is the whole step, with the time passed in.
 */

export interface SamplerOptions {
  store: Store;
  logger: Logger;
  intervalMs: number;
  retentionMs: number;
  now?: () => number;
  /** Launch failures since the previous call (an OutcomeWatcher's); 0 points without one. */
  launchFailures?: () => number;
}

/** How many of the newest fulfilled requests a point looks at: more than any minute serves. */
const RECENT = 2000;

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export class Sampler {
  private last: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: SamplerOptions) {}

  /** Takes one point of every series at `now` and stores it; returns what it stored. */
  async sampleOnce(now: number): Promise<Record<string, number>> {
    const { store } = this.opts;
    const since = this.last ?? now - this.opts.intervalMs;
    const [nodes, open, recent] = await Promise.all([
      readNodes(store),
      store.listRequests({ states: OPEN_REQUEST_STATES }),
      store.listRequests({ states: ['fulfilled'], limit: RECENT }),
    ]);
    const values: Record<string, number> = { 'requests.waiting': open.length };
    const waits = recent
      .filter((r) => r.fulfilledAt !== null && r.fulfilledAt > since && r.fulfilledAt <= now)
      .map((r) => (r.fulfilledAt! - r.createdAt) / 1000)
      .sort((a, b) => a - b);
    // No request fulfilled since the last point: no wait-time point (a gap, not a zero).
    if (waits.length) {
      values['requests.wait_p50'] = percentile(waits, 50);
      values['requests.wait_p95'] = percentile(waits, 95);
    }
    for (const s of NODE_STATES) values[`nodes.${s}`] = 0;
    for (const n of nodes) values[`nodes.${n.state}`]! += 1;
    values['launch.failures'] = this.opts.launchFailures?.() ?? 0;
    await store.appendSamples(now, values);
    await store.pruneSamples(now - this.opts.retentionMs);
    this.last = now;
    return values;
  }

  /** Samples now and then every interval until stopped. */
  start(): void {
    const now = this.opts.now ?? Date.now;
    const tick = () => {
      this.running = this.sampleOnce(now()).catch((err) => this.opts.logger.warn({ err }, 'status sample failed'));
      this.timer = setTimeout(tick, this.opts.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
