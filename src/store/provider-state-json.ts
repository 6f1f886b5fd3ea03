import type { QuotaAmounts } from './store.ts';

/**
 * A cloud's room may be unlimited on an axis (Infinity), which JSON cannot hold: both stores keep
 * it as null in the room column and read it back as Infinity.
 */

export function roomToJson(room: QuotaAmounts | null): string | null {
  if (room === null) return null;
  const axis = (v: number) => (Number.isFinite(v) ? v : null);
  return JSON.stringify({ instances: axis(room.instances), cores: axis(room.cores), ram: axis(room.ram) });
}

export function roomFromJson(value: unknown): QuotaAmounts | null {
  if (value === null || value === undefined) return null;
  const o = (typeof value === 'string' ? JSON.parse(value) : value) as Record<keyof QuotaAmounts, number | null>;
  const axis = (v: number | null) => (v === null ? Infinity : v);
  return { instances: axis(o.instances), cores: axis(o.cores), ram: axis(o.ram) };
}
