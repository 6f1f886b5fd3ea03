import type { Config } from '../config/types.ts';
import type { Launcher } from '../launcher/launcher.ts';
import type { CallTotals } from '../metrics/call-totals.ts';
import type { ProviderStateRecord, Store } from '../store/store.ts';
import { mergeProviderStates } from './provider-state-merge.ts';
import type { ProviderLive } from './providers.ts';

/**
 * The one source of what launchers know in memory (provider health and why, quota room, paused
 * pools, leaks, cloud calls) for the status paths, the CLI and /metrics. A launcher in this
 * process is read from memory, as fresh as its own view; every other launcher as it last
 * published to the store (./state-publisher.ts). So `nodepool run` and a lone `nodepool api`
 * answer through the same code.
 */

/** What is read of a launcher in this process. */
export type LocalLauncher = Pick<Launcher, 'name' | 'providerStatus' | 'providers' | 'applier'>;

/** A launcher's provider states at `now`, as it publishes them. */
export function launcherStates(launcher: LocalLauncher, calls: CallTotals | null, now: number): Omit<ProviderStateRecord, 'launcher'>[] {
  const leaks = launcher.applier.leaksDeletedBy;
  return launcher.providerStatus().map((p) => ({
    provider: p.name,
    health: p.health,
    reason: p.reason,
    since: p.since,
    room: p.cloudRoom,
    labelCosts: Object.fromEntries(launcher.providers.get(p.name)?.labelCost ?? []),
    pausedUntil: p.paused,
    leaked: { instances: leaks.get(p.name) ?? 0 },
    calls: calls?.of(p.name) ?? [],
    updatedAt: now,
  }));
}

export interface LiveSourceOptions {
  store: Pick<Store, 'listProviderStates'>;
  /** The launcher in this process, if any, and the totals of its cloud calls. */
  local?: { launcher: LocalLauncher; calls: CallTotals | null } | null;
  /** A published row older than this is stale (3 × status.publish-interval). */
  staleAfterMs: number;
  now?: () => number;
  /**
   * Reads within this many ms share one store read: a scrape of /metrics asks from several
   * collect callbacks at once. Default 1000.
   */
  reuseMs?: number;
}

export interface LiveSource {
  /** Every launcher's provider states: this process's launcher's from memory, the others' as published. */
  rows(): Promise<ProviderStateRecord[]>;
  /** One merged view per provider (worst health wins; stale rows show as unknown). */
  providers(): Promise<ReadonlyMap<string, ProviderLive>>;
  readonly staleAfterMs: number;
  now(): number;
}

export function liveSource(o: LiveSourceOptions): LiveSource {
  const now = o.now ?? Date.now;
  const reuseMs = o.reuseMs ?? 1000;
  let last: { at: number; rows: Promise<ProviderStateRecord[]> } | null = null;
  const read = async (): Promise<ProviderStateRecord[]> => {
    const published = await o.store.listProviderStates();
    if (!o.local) return published;
    const name = o.local.launcher.name;
    const own = launcherStates(o.local.launcher, o.local.calls, now()).map((r) => ({ launcher: name, ...r }));
    return [...published.filter((r) => r.launcher !== name), ...own];
  };
  const rows = (): Promise<ProviderStateRecord[]> => {
    const t = now();
    if (!last || t - last.at >= reuseMs || t < last.at) {
      const entry = { at: t, rows: read() };
      // A failed read is not reused: the next caller tries again.
      entry.rows.catch(() => { if (last === entry) last = null; });
      last = entry;
    }
    return last.rows;
  };
  return {
    rows,
    providers: async () => mergeProviderStates(await rows(), now(), o.staleAfterMs),
    staleAfterMs: o.staleAfterMs,
    now,
  };
}

/** A source with no launcher anywhere (an API built for tests). */
export const NO_LAUNCHERS: LiveSource = {
  rows: async () => [],
  providers: async () => new Map(),
  staleAfterMs: Infinity,
  now: Date.now,
};

/** A launcher's rows are stale after this many publish intervals unrenewed. */
export const STALE_AFTER_INTERVALS = 3;

/** `status.publish-interval` in ms (5 s when the configuration was built without a status section). */
export function publishIntervalMs(config: Pick<Config, 'status'>): number {
  return (config.status?.publishInterval ?? 5) * 1000;
}

export function staleAfterMs(config: Pick<Config, 'status'>): number {
  return STALE_AFTER_INTERVALS * publishIntervalMs(config);
}
