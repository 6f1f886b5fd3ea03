/**
 * Upload backoff, one per provider (promise 5): after a failed upload the provider gets no new
 * upload before `base * 2^(failures-1)` (capped, with up to 20 % jitter so builders sharing a
 * cloud do not retry in step), or the cloud's `Retry-After` if longer. A success resets it. Other
 * providers are never held back: each keeps its own count.
 */
export class ProviderBackoff {
  private readonly failures = new Map<string, number>();
  private readonly notBefore = new Map<string, number>();

  constructor(
    private readonly baseMs: number,
    private readonly capMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records a failure at `now`; returns the time before which the provider gets no new upload. */
  failed(provider: string, now: number, retryAfterMs?: number): number {
    const n = (this.failures.get(provider) ?? 0) + 1;
    this.failures.set(provider, n);
    const delay = Math.min(this.capMs, this.baseMs * 2 ** Math.min(n - 1, 30)) * (1 + 0.2 * this.random());
    const at = now + Math.max(delay, retryAfterMs ?? 0);
    this.notBefore.set(provider, at);
    return at;
  }

  succeeded(provider: string): void {
    this.failures.delete(provider);
    this.notBefore.delete(provider);
  }

  /** Per provider, the time before which no new upload is tried. */
  view(): ReadonlyMap<string, number> {
    return this.notBefore;
  }

  failureCount(provider: string): number {
    return this.failures.get(provider) ?? 0;
  }
}
