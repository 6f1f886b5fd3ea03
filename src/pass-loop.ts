/**
 * Runs a reconcile pass whenever something changed or a time-based condition comes due, never on a
 * fixed period; the launcher and the builder both plan this way. Passes never overlap: changes that
 * arrive during one make another run right after it. With `pace`, under load (hundreds of changes
 * a second) a pass follows the previous one only after as long again as it took, so passes use at
 * most half the CPU and each batches the changes that arrived meanwhile; an idle loop reacts at once.
 */
export class PassLoop {
  private running = false;
  private dirty = false;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly opts: { pace: boolean; now: () => number; onError?: (err: unknown) => void },
  ) {}

  start(): void {
    this.stopped = false;
  }

  /** Asks for a pass as soon as possible. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) { this.dirty = true; return; }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = true;
    this.idle = new Promise<void>((resolve) => setImmediate(() => { void this.loop().finally(resolve); }));
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
        const took = performance.now() - started;
        if (this.opts.pace && this.dirty && took >= 1) await new Promise((r) => setTimeout(r, Math.min(took, 50)));
      } while (this.dirty && !this.stopped);
    } finally {
      this.running = false;
    }
  }
}
