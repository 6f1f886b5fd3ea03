import type { StoreEvent } from '../store/store.ts';

/**
 * Whether a store change should wake this launcher's pass loop, decided from the facts the change
 * announces (StoreEvent.row) without reading the store. A launcher hears every change of the
 * providers it serves and, of the others, those that may change where a request goes (the rest
 * travel on each provider's channel, ../store/postgres/rows.ts); with several launchers on one
 * PostgreSQL most of what it hears still concerns another launcher's providers or work another
 * live launcher holds. Skipping them halved the passes of each of 2 and 4 launchers in a burst of
 * 500 requests (4 launchers: 39–43 → 16–18 passes each, `npm run bench:multi`), though not the CPU
 * per node much (bench/multi.ts says where the rest goes).
 *
 * A skipped change is still noted in the launcher's mirror, so the next pass (woken by anything
 * else) plans on the row as it now is. When in doubt the change wakes: an event without facts,
 * a request nobody holds, anything about this launcher's own leases.
 */

export interface RelevanceContext {
  /** This launcher's name: the owner written in its leases. */
  launcher: string;
  /** The providers it serves; null: every configured one. */
  served: ReadonlySet<string> | null;
  /**
   * Labels with min-ready: the count of their unassigned nodes is kept across every provider, so
   * a change to such a node in another provider may leave a deficit this launcher's pool fills.
   */
  minReadyLabels: ReadonlySet<string>;
  /** Tenant limits count nodes across every provider: another provider's change may free room here. */
  sharedCapacity: boolean;
}

/** `wake`: run a pass; otherwise, if `wakeAt` is set, a pass is due then (a lease held elsewhere runs out). */
export type Relevance = { wake: true } | { wake: false; wakeAt: number | null; why: SkipReason };

export type SkipReason = 'other-provider' | 'leased-elsewhere';

const WAKE: Relevance = { wake: true };

export function relevance(e: StoreEvent, ctx: RelevanceContext, now: number): Relevance {
  const row = e.row;
  if (!row || (e.kind !== 'node' && e.kind !== 'request')) return WAKE;
  if (row.leaseOwner === ctx.launcher) return WAKE;
  const served = row.provider === null || ctx.served === null || ctx.served.has(row.provider);
  if (e.kind === 'node') {
    if (!served) {
      const minReady = row.label === undefined || ctx.minReadyLabels.has(row.label);
      return minReady || ctx.sharedCapacity ? WAKE : { wake: false, wakeAt: null, why: 'other-provider' };
    }
    return leasedElsewhere(row, now) ?? WAKE;
  }
  // A request waiting for a launcher may be claimed by any launcher, this one included.
  if (e.state === 'requested') return leasedElsewhere(row, now) ?? WAKE;
  // Claimed for (or fulfilled from) another launcher's provider: its nodes are that launcher's
  // work, and if it dies the request stays with the provider, for the next launcher serving it.
  if (!served && !ctx.sharedCapacity) return { wake: false, wakeAt: null, why: 'other-provider' };
  return leasedElsewhere(row, now) ?? WAKE;
}

/**
 * A row another launcher holds under a lease that still runs: nothing for this launcher to do until
 * the lease runs out, when it may take the work over (if the holder died and did not renew).
 */
function leasedElsewhere(row: NonNullable<StoreEvent['row']>, now: number): Relevance | null {
  if (row.leaseOwner === null || row.leaseExpires === null || row.leaseExpires <= now) return null;
  return { wake: false, wakeAt: row.leaseExpires, why: 'leased-elsewhere' };
}
