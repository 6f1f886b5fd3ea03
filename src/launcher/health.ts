import type { CloudErrorKind } from '../../providers/errors.ts';

export type HealthState = 'healthy' | 'degraded' | 'unhealthy';

/** Failures that say something about the provider, not about one node or our configuration. */
export const PROVIDER_FAULTS: ReadonlySet<CloudErrorKind> = new Set(['transient', 'rate-limit', 'capacity']);

/**
 * A provider's health from its recent results. Consecutive provider faults (API errors, timeouts,
 * "No valid host", boot timeouts) make it degraded (2) and then unhealthy (5); an unhealthy provider
 * gets no new launches for a cool-down that doubles each time (10 s up to 5 min), after which a
 * successful server list (token + list: the probe) makes it healthy again. Any success resets it.
 *
 * A failure counts only when the operation that failed started after the last failure counted: a
 * burst of launches that all meet one outage (or share one failed image or network lookup) is one
 * piece of evidence, not twenty. Counting each made a cloud with a fifth of its calls failing flap
 * to unhealthy within a millisecond of every recovery, and requests it could serve waited minutes.
 * The cool-down starts again from 10 s once the provider has stayed healthy for five minutes.
 */
export class ProviderHealth {
  state: HealthState = 'healthy';
  reason: string | null = null;
  since: number;
  consecutive = 0;
  /** While unhealthy: no probe counts before this time. */
  coolDownUntil = 0;
  private trips = 0;
  /** When the last counted failure was recorded. */
  private lastCountedAt = -Infinity;
  private healthySince: number;
  /** Told after every change of state (the launcher publishes its provider states at once). */
  onChange: (() => void) | null = null;

  constructor(now: number, private readonly limits = { degradedAfter: 2, unhealthyAfter: 5, baseCoolDownMs: 10_000, maxCoolDownMs: 300_000 }) {
    this.since = now;
    this.healthySince = now;
  }

  /**
   * Records a provider fault seen by an operation that started at `startedAt` (default: now);
   * returns true when the state changed.
   */
  failure(now: number, reason: string, startedAt = now): boolean {
    const before = this.state;
    if (startedAt < this.lastCountedAt) {
      if (before !== 'healthy') this.reason = `${this.consecutive} failures in a row, last: ${reason}`;
      return false;
    }
    this.lastCountedAt = now;
    this.consecutive++;
    if (this.consecutive >= this.limits.unhealthyAfter) {
      if (before !== 'unhealthy') {
        if (now - this.healthySince >= this.limits.maxCoolDownMs) this.trips = 0;
        this.trips++;
        this.coolDownUntil = now + Math.min(this.limits.maxCoolDownMs, this.limits.baseCoolDownMs * 2 ** (this.trips - 1));
      }
      this.set('unhealthy', now, `${this.consecutive} failures in a row, last: ${reason}`);
    } else if (this.consecutive >= this.limits.degradedAfter && before === 'healthy') {
      this.set('degraded', now, `${this.consecutive} failures in a row, last: ${reason}`);
    } else if (before !== 'healthy') {
      this.reason = `${this.consecutive} failures in a row, last: ${reason}`;
    }
    return before !== this.state;
  }

  /** Records a success of a launch or a call; an unhealthy provider only recovers by a probe. */
  success(now: number): boolean {
    if (this.state === 'unhealthy') return false;
    return this.reset(now);
  }

  /** A server list (token + list) answered: brings an unhealthy provider back once its cool-down is over. */
  probe(now: number): boolean {
    if (this.state === 'unhealthy' && now < this.coolDownUntil) return false;
    return this.reset(now);
  }

  private reset(now: number): boolean {
    const changed = this.state !== 'healthy';
    this.consecutive = 0;
    if (this.state === 'unhealthy') this.healthySince = now;
    if (changed) this.set('healthy', now, null);
    return changed;
  }

  private set(state: HealthState, now: number, reason: string | null): void {
    const changed = state !== this.state;
    if (changed) this.since = now;
    this.state = state;
    this.reason = reason;
    if (changed) this.onChange?.();
  }
}

/**
 * Exponential backoff with jitter for one provider and label: 1 s, 2 s, 4 s ... up to a minute,
 * each drawn from [50 %, 150 %] (never past the minute) so that launchers and labels do not retry
 * in step; a `Retry-After` from the cloud is a floor. Failures of launches that were already in flight when the backoff
 * began do not raise it again: twenty launches failing together are one failure, not twenty
 * (measured: counting each drove the delay to a minute within a second under a 20 % error rate),
 * and a Retry-After they meet only lengthens it to that floor (ten 429s answered to one burst had
 * raised it ten times, to 86 s).
 */
export class Backoff {
  private failures = new Map<string, number>();
  readonly until = new Map<string, number>();

  constructor(private readonly random: () => number = Math.random, private readonly baseMs = 1000, private readonly maxMs = 60_000) {}

  failure(key: string, now: number, retryAfterMs?: number): number {
    const running = this.until.get(key);
    if (running !== undefined && running > now) {
      // A Retry-After met by a launch already in flight can only lengthen the running backoff.
      const until = Math.max(running, now + (retryAfterMs ?? 0));
      this.until.set(key, until);
      return until - now;
    }
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const delay = Math.max(retryAfterMs ?? 0, Math.min(this.maxMs, this.baseMs * 2 ** (n - 1) * (0.5 + this.random())));
    this.until.set(key, now + delay);
    return delay;
  }

  success(key: string): void {
    this.failures.delete(key);
    this.until.delete(key);
  }
}
