import type { CloudCall } from '../../providers/provider.ts';
import type { CloudCallTotal } from '../store/store.ts';

/**
 * The cloud calls a launcher made since it started, per provider and (service, method, status):
 * their count and summed duration. A launcher publishes these with its provider states, so that an
 * API process can serve every launcher's calls on /metrics. A few dozen keys per provider: kept
 * for the life of the process.
 */
export class CallTotals {
  private readonly byProvider = new Map<string, Map<string, CloudCallTotal>>();

  /** For the provider drivers' `onCall`. */
  readonly record = (c: CloudCall): void => {
    let totals = this.byProvider.get(c.provider);
    if (!totals) this.byProvider.set(c.provider, totals = new Map());
    const status = c.status === null ? 'none' : String(c.status);
    const key = `${c.service}\u0000${c.method}\u0000${status}`;
    let t = totals.get(key);
    if (!t) totals.set(key, t = { service: c.service, method: c.method, status, count: 0, seconds: 0 });
    t.count++;
    t.seconds += c.seconds;
  };

  /** A copy of one provider's totals, in a stable order. */
  of(provider: string): CloudCallTotal[] {
    return [...(this.byProvider.get(provider)?.values() ?? [])].map((t) => ({ ...t }))
      .sort((a, b) => a.service.localeCompare(b.service) || a.method.localeCompare(b.method) || a.status.localeCompare(b.status));
  }
}
