import type { ProviderStateRecord, QuotaAmounts } from '../store/store.ts';
import type { ProviderLive } from './providers.ts';

/**
 * Launchers' provider states (published to the store, or read from a launcher in this process)
 * merged into one view per provider, as the status paths show it. Pure: the rows and the time in,
 * the view out.
 *
 * - A row its launcher has not renewed within `staleAfterMs` (3 publish intervals) is stale: that
 *   launcher may be dead or cut off from the store, so its health, room and pauses are not
 *   trusted. A provider with only stale rows shows `unknown`, the reason naming the launchers and
 *   how long ago they last wrote.
 * - When several launchers serve a provider, the worst health wins (unhealthy, then degraded,
 *   then healthy) and the view names the launcher that judged it so; the room is the smallest any
 *   of them read (the one a launch must fit), pauses and label costs are united.
 */

const RANK: Readonly<Record<string, number>> = { healthy: 0, degraded: 1, unhealthy: 2 };

export function isStale(row: Pick<ProviderStateRecord, 'updatedAt'>, now: number, staleAfterMs: number): boolean {
  return now - row.updatedAt > staleAfterMs;
}

export function mergeProviderStates(rows: readonly ProviderStateRecord[], now: number, staleAfterMs: number): Map<string, ProviderLive> {
  const byProvider = new Map<string, ProviderStateRecord[]>();
  for (const r of rows) {
    const list = byProvider.get(r.provider) ?? [];
    list.push(r);
    byProvider.set(r.provider, list);
  }
  const out = new Map<string, ProviderLive>();
  for (const [provider, all] of byProvider) {
    const fresh = all.filter((r) => !isStale(r, now, staleAfterMs));
    out.set(provider, fresh.length ? mergeFresh(fresh) : staleView(all, now));
  }
  return out;
}

function mergeFresh(fresh: ProviderStateRecord[]): ProviderLive {
  // Worst health first; among equals the latest written, then by name, so the answer is stable.
  const [worst] = [...fresh].sort((a, b) => (RANK[b.health] ?? 0) - (RANK[a.health] ?? 0) || b.updatedAt - a.updatedAt || a.launcher.localeCompare(b.launcher));
  const labelCost = new Map<string, QuotaAmounts>();
  const pausedUntil = new Map<string, number>();
  for (const r of [worst!, ...fresh]) {
    for (const [key, cost] of Object.entries(r.labelCosts)) if (!labelCost.has(key)) labelCost.set(key, cost);
    for (const [pool, until] of Object.entries(r.pausedUntil)) pausedUntil.set(pool, Math.max(until, pausedUntil.get(pool) ?? -Infinity));
  }
  return {
    health: worst!.health,
    reason: worst!.reason,
    since: worst!.since,
    room: smallestRoom(fresh.map((r) => r.room)),
    labelCost,
    pausedUntil,
    launcher: worst!.launcher,
    launchers: fresh.map((r) => r.launcher).sort(),
  };
}

function smallestRoom(rooms: (QuotaAmounts | null)[]): QuotaAmounts | null {
  const read = rooms.filter((r): r is QuotaAmounts => r !== null);
  if (!read.length) return null;
  return {
    instances: Math.min(...read.map((r) => r.instances)),
    cores: Math.min(...read.map((r) => r.cores)),
    ram: Math.min(...read.map((r) => r.ram)),
  };
}

function staleView(all: ProviderStateRecord[], now: number): ProviderLive {
  const [newest] = [...all].sort((a, b) => b.updatedAt - a.updatedAt);
  const who = all.map((r) => r.launcher).sort().join(', ');
  return {
    health: 'unknown',
    reason: `stale: launcher${all.length > 1 ? 's' : ''} ${who} last published ${Math.round((now - newest!.updatedAt) / 1000)} s ago`,
    since: newest!.updatedAt,
    room: null,
    labelCost: new Map(),
    pausedUntil: new Map(),
    launcher: newest!.launcher,
    launchers: [],
  };
}
