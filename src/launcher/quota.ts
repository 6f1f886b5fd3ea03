import type { Flavor, Limits } from '../../providers/provider.ts';

/** What one node costs against a quota. Quota is plain data: instances, cores, RAM (MiB). */
export interface Cost {
  instances: number;
  cores: number;
  ram: number;
}

export const ZERO: Cost = { instances: 0, cores: 0, ram: 0 };
export const UNLIMITED: Cost = { instances: Infinity, cores: Infinity, ram: Infinity };

export function add(a: Cost, b: Cost, times = 1): Cost {
  return { instances: a.instances + times * b.instances, cores: a.cores + times * b.cores, ram: a.ram + times * b.ram };
}

/** True when `used + extra` stays within `limit` on every axis. */
export function fits(used: Cost, extra: Cost, limit: Cost): boolean {
  return used.instances + extra.instances <= limit.instances && used.cores + extra.cores <= limit.cores && used.ram + extra.ram <= limit.ram;
}

export function flavorCost(f: Flavor): Cost {
  return { instances: 1, cores: f.vcpus, ram: f.ram };
}

/**
 * Room the cloud leaves for our nodes: its absolute limits minus what servers we do not manage use
 * there. Nova's usage counts our servers too, so ours (as counted when the limits were read) are
 * taken back out. -1 (unlimited) becomes Infinity.
 */
export function cloudRoom(limits: Limits, oursAtRead: Cost): Cost {
  const lim = (max: number) => (max < 0 ? Infinity : max);
  const foreign = (used: number, ours: number) => Math.max(0, used - ours);
  return {
    instances: lim(limits.maxInstances) - foreign(limits.instancesUsed, oursAtRead.instances),
    cores: lim(limits.maxCores) - foreign(limits.coresUsed, oursAtRead.cores),
    ram: lim(limits.maxRam) - foreign(limits.ramUsed, oursAtRead.ram),
  };
}
