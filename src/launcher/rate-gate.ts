/**
 * Spaces a provider's create and delete calls (Nodepool's `rate`: seconds between them), in the
 * order they asked. Callers wait for their turn; nothing is dropped.
 */
export class RateGate {
  private next = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Resolves when the caller may make its call. */
  async turn(): Promise<void> {
    if (this.intervalMs <= 0) return;
    const now = this.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    if (at > now) await this.sleep(at - now);
  }
}
