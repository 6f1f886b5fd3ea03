import type { Config } from '../config/types.ts';
import type { NodeRecord } from '../model.ts';
import { ageSeconds, type Cell, type Column } from './rows.ts';

/**
 * `/provider-list` and `nodepool provider list`: each provider's health (and why), its nodes
 * against max-servers, and its quota use against the room the cloud leaves us (the cloud's
 * absolute limits less what servers we do not manage use there).
 */

/**
 * What launchers know of a provider beyond its nodes: from the launcher in this process, or as
 * launchers published it to the store (./provider-state-merge.ts merges several).
 */
export interface ProviderLive {
  /** healthy | degraded | unhealthy, as the launcher judges it from recent results; unknown when its launchers stopped publishing. */
  health: string;
  reason: string | null;
  /** Since when (ms) the provider is in this health. */
  since: number | null;
  /** Room the cloud leaves for our nodes; Infinity on an unlimited axis; null until read. */
  room: { instances: number; cores: number; ram: number } | null;
  /** Cost of one node of `<pool>/<label>`; missing until the flavors were read. */
  labelCost: ReadonlyMap<string, { instances: number; cores: number; ram: number }>;
  /** Pools paused after a quota refusal, until when (ms). */
  pausedUntil: ReadonlyMap<string, number>;
  /** The launcher whose view this is (the one that judges the provider worst when several serve it). */
  launcher?: string | null;
  /** Every launcher whose state is current for this provider. */
  launchers?: readonly string[];
}

export const PROVIDER_COLUMNS = [
  { key: 'provider', header: 'Provider' },
  { key: 'health', header: 'Health' },
  { key: 'nodes', header: 'Nodes' },
  { key: 'max_servers', header: 'Max Servers' },
  { key: 'instances', header: 'Instances' },
  { key: 'cores', header: 'Cores' },
  { key: 'ram', header: 'RAM (MiB)' },
  { key: 'paused', header: 'Paused' },
  { key: 'reason', header: 'Reason' },
  { key: 'launcher', header: 'Launcher', detail: true },
  { key: 'age', header: 'Age', detail: true },
  { key: 'launchers', header: 'Launchers', jsonOnly: true },
  { key: 'instances_used', header: 'Instances Used', jsonOnly: true },
  { key: 'instances_limit', header: 'Instances Limit', jsonOnly: true },
  { key: 'cores_used', header: 'Cores Used', jsonOnly: true },
  { key: 'cores_limit', header: 'Cores Limit', jsonOnly: true },
  { key: 'ram_used', header: 'RAM Used', jsonOnly: true },
  { key: 'ram_limit', header: 'RAM Limit', jsonOnly: true },
] as const satisfies readonly Column[];

export type ProviderRow = Record<(typeof PROVIDER_COLUMNS)[number]['key'], Cell>;

/** A limit for JSON: null when unknown or unlimited (JSON has no Infinity). */
const limit = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v);

function usedOf(used: number | null, lim: number | null, known: boolean): string {
  if (used === null) return '';
  if (!known) return `${used}/?`;
  return `${used}/${lim ?? 'unlimited'}`;
}

/**
 * One row per configured provider (and per provider only nodes know of). Without live state (no
 * launcher serves it, or none published lately) health is `unknown`.
 */
export function providerRows(
  config: Pick<Config, 'providers'> | null, nodes: readonly NodeRecord[], live: ReadonlyMap<string, ProviderLive>, now: number,
): ProviderRow[] {
  const byProvider = new Map<string, NodeRecord[]>();
  // Every state counts: a deleting server still holds its quota until the cloud lets it go.
  for (const n of nodes) {
    const list = byProvider.get(n.provider) ?? [];
    list.push(n);
    byProvider.set(n.provider, list);
  }
  const configured = new Map((config?.providers ?? []).map((p) => [p.name, p]));
  const names = [...new Set([...configured.keys(), ...byProvider.keys()])].sort();
  return names.map((name) => {
    const mine = byProvider.get(name) ?? [];
    const l = live.get(name);
    const cfg = configured.get(name);
    let cores: number | null = 0;
    let ram: number | null = 0;
    for (const n of mine) {
      const cost = l?.labelCost.get(`${n.pool}/${n.label}`);
      if (!cost) { cores = null; ram = null; break; }
      cores! += cost.cores;
      ram! += cost.ram;
    }
    const room = l?.room ?? null;
    const paused = [...(l?.pausedUntil ?? [])].filter(([, until]) => until > now).map(([pool]) => pool);
    return {
      provider: name,
      health: l ? l.health : cfg ? 'unknown' : 'not configured',
      nodes: mine.length,
      max_servers: cfg ? cfg.pools.reduce((s, p) => s + p.maxServers, 0) : null,
      instances: usedOf(mine.length, limit(room?.instances), room !== null),
      cores: usedOf(cores, limit(room?.cores), room !== null),
      ram: usedOf(ram, limit(room?.ram), room !== null),
      paused,
      reason: l?.reason ?? null,
      launcher: l?.launcher ?? null,
      launchers: [...(l?.launchers ?? [])],
      age: l?.since != null ? ageSeconds(l.since, now) : null,
      instances_used: mine.length,
      instances_limit: limit(room?.instances),
      cores_used: cores,
      cores_limit: limit(room?.cores),
      ram_used: ram,
      ram_limit: limit(room?.ram),
    };
  });
}
