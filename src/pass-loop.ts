/**
 * Runs a reconcile pass whenever something changed or a time-based condition comes due, never on a
 * fixed period; the launcher and the builder both plan this way. Passes never overlap: changes that
 * arrive during one make another run right after it. With `pace`, under load (hundreds of changes
 * a second) a pass follows the previous one only after as long again as it took, so passes use at
 * most half the CPU and each batches the changes that arrived meanwhile; an idle loop reacts at once.
 * Under sustained load (passes took BUSY_MS or more of the last 100 ms: a burst, not one request's
 * steps), passes are also at least SUSTAINED_PAUSE_MS apart: in a 500-request burst that made
 * 54-93 passes instead of 266-403, each planning over the whole fleet, for 9-18 % less CPU per
 * node (bench/README.md).
 */
const SUSTAINED_PAUSE_MS = 10;
const BUSY_MS = 20;
const MAX_PAUSE_MS = 50;

export class PassLoop {
  private running = false;
  private dirty = false;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private idle: Promise<void> = Promise.resolve();
  /** Time spent in passes, in 100 ms buckets: the current one and the one before it. */
  private bucketStart = -Infinity;
  private bucketMs = 0;
  private previousMs = 0;
  private lastEnd = -Infinity;
  private lastTook = 0;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly opts: { pace: boolean; now: () => number; onError?: (err: unknown) => void },
  ) {}

  start(): void {
    this.stopped = false;
  }

  /** Asks for a pass as soon as possible (under sustained load: once the pause since the last one is over). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) { this.dirty = true; return; }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = true;
    const wait = this.busy() ? this.lastEnd + this.pauseAfter(this.lastTook) - performance.now() : 0;
    this.idle = new Promise<void>((resolve) => {
      const run = () => { void this.loop().finally(resolve); };
      if (wait > 0) setTimeout(run, wait); else setImmediate(run);
    });
  }

  private countPass(took: number): void {
    const now = performance.now();
    if (now - this.bucketStart >= 100) {
      this.previousMs = now - this.bucketStart < 200 ? this.bucketMs : 0;
      this.bucketStart = now;
      this.bucketMs = 0;
    }
    this.bucketMs += took;
  }

  /** Under sustained load: passes took BUSY_MS or more of the current 100 ms bucket or the one before. */
  private busy(): boolean {
    return Math.max(this.bucketMs, this.previousMs) >= BUSY_MS;
  }

  /** How long the next pass waits after one that took `took` ms (0: none; only with `pace`). */
  private pauseAfter(took: number): number {
    if (!this.opts.pace) return 0;
    return Math.min(this.busy() ? Math.max(took, SUSTAINED_PAUSE_MS) : took >= 1 ? took : 0, MAX_PAUSE_MS);
  }

  /** Asks for a pass at `at` (ms since the epoch), replacing the previous such request. */
  wakeAt(at: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = null; this.wake(); }, Math.max(0, at - this.opts.now()));
  }

  /** Stops asking for passes and waits for the one running, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.idle;
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.dirty = false;
        const started = performance.now();
        try {
          await this.pass();
        } catch (err) {
          if (!this.opts.onError) throw err;
          this.opts.onError(err);
        }
        this.lastEnd = performance.now();
        const took = this.lastTook = this.lastEnd - started;
        this.countPass(took);
        const pause = this.pauseAfter(took);
        if (this.dirty && pause > 0) await new Promise((r) => setTimeout(r, pause));
      } while (this.dirty && !this.stopped);
    } finally {
      this.running = false;
    }
  }
}
