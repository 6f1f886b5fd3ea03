import type { Config } from '../config/types.ts';
import type { NodeRecord } from '../model.ts';
import type { Cell, Column } from './rows.ts';

/**
 * `/label-list` and `nodepool label list`: each label with its warm-pool target, how many of its
 * nodes are ready, building, in use and held now, and which providers serve it. Nodepool's own
 * `/label-list` has the `label` key only; the others are added after it, so a dashboard reading
 * `label` keeps working.
 */

export const LABEL_COLUMNS = [
  { key: 'label', header: 'Label' },
  { key: 'min_ready', header: 'Min Ready' },
  { key: 'ready', header: 'Ready' },
  { key: 'building', header: 'Building' },
  { key: 'in_use', header: 'In Use' },
  { key: 'hold', header: 'Hold' },
  { key: 'providers', header: 'Providers' },
] as const satisfies readonly Column[];

export type LabelRow = Record<(typeof LABEL_COLUMNS)[number]['key'], Cell>;

/** A label as the configuration defines it: min-ready and the providers whose pools list it. */
export interface LabelSpec {
  name: string;
  /** null for a label seen on nodes but not in this process's configuration. */
  minReady: number | null;
  providers: string[];
}

export function labelSpecs(config: Pick<Config, 'labels' | 'providers'>): LabelSpec[] {
  return config.labels.map((l) => ({
    name: l.name,
    minReady: l.minReady,
    providers: config.providers.filter((p) => p.pools.some((pool) => pool.labels.some((pl) => pl.name === l.name))).map((p) => p.name),
  }));
}

/** One row per configured label, and one per label only nodes know of (a label since removed). */
export function labelRows(specs: readonly LabelSpec[], nodes: readonly NodeRecord[]): LabelRow[] {
  const counts = new Map<string, { ready: number; building: number; in_use: number; hold: number; providers: Set<string> }>();
  const at = (label: string) => {
    let c = counts.get(label);
    if (!c) counts.set(label, c = { ready: 0, building: 0, in_use: 0, hold: 0, providers: new Set() });
    return c;
  };
  for (const n of nodes) {
    const c = at(n.label);
    c.providers.add(n.provider);
    if (n.state === 'ready') c.ready++;
    else if (n.state === 'building') c.building++;
    else if (n.state === 'in-use') c.in_use++;
    else if (n.state === 'hold') c.hold++;
  }
  const known = new Map(specs.map((s) => [s.name, s]));
  const names = [...new Set([...known.keys(), ...counts.keys()])].sort();
  return names.map((label) => {
    const spec = known.get(label);
    const c = counts.get(label);
    return {
      label,
      min_ready: spec ? spec.minReady : null,
      ready: c?.ready ?? 0,
      building: c?.building ?? 0,
      in_use: c?.in_use ?? 0,
      hold: c?.hold ?? 0,
      providers: spec ? spec.providers : [...(c?.providers ?? [])].sort(),
    };
  });
}
