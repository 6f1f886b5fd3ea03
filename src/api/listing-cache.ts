import type { PreparedBody } from './compress.ts';

/**
 * Rendered listings (`/node-list`: 5 MiB of JSON with 10,000 nodes), kept while the store's
 * change token holds (./../store/node-reads.ts says when it moves) and for at most `maxAgeMs`:
 * ages are whole seconds, so a listing served from here is at most that much older than one
 * rendered now. A lock ends when its lease runs out, not with a write: an entry also ends at the
 * first lease expiry among its rows. Stores without a token (PostgreSQL) are not cached.
 *
 * Dashboards poll; ten of them on one fleet ask for the same bytes, compressed the same way.
 */
export class ListingCache {
  private readonly entries = new Map<string, { token: string; until: number; body: PreparedBody }>();

  constructor(private readonly opts: { maxAgeMs: number; maxEntries: number } = { maxAgeMs: 1000, maxEntries: 64 }) {}

  get(key: string, token: string | null, now: number): PreparedBody | null {
    const e = token === null ? undefined : this.entries.get(key);
    if (!e) return null;
    if (e.token !== token || now >= e.until) {
      this.entries.delete(key);
      return null;
    }
    return e.body;
  }

  /** `token`: the store's token taken before the rows were read. `leaseEnds`: the rows' lease expiries. */
  set(key: string, token: string | null, now: number, leaseEnds: Iterable<number | null>, body: PreparedBody): void {
    if (token === null) return;
    let until = now + this.opts.maxAgeMs;
    for (const t of leaseEnds) if (t !== null && t > now && t < until) until = t;
    this.entries.delete(key);
    this.entries.set(key, { token, until, body });
    // The oldest entry goes first (a Map keeps insertion order).
    while (this.entries.size > this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
