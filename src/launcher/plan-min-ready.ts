import type { PlanPass } from './plan-pass.ts';
import { poolKey, type PoolView } from './topology.ts';

/** Keeps min-ready unassigned nodes of each label, spread over the pools that have it. */
export function minReady(pass: PlanPass): void {
  for (const [label, cfg] of pass.input.topology.labels) {
    if (cfg.minReady <= 0) continue;
    let spare = 0;
    for (const pool of pass.input.topology.pools) {
      for (const n of pass.spare.get(`${poolKey(pool.provider, pool.pool)}/${label}`) ?? []) if (!pass.taken.has(n.id)) spare++;
    }
    let deficit = cfg.minReady - spare;
    while (deficit > 0) {
      const pools = pass.input.topology.pools.filter((p) => p.labels.has(label) && !pass.cap.blocked(p, [label], null));
      if (!pools.length) break;
      // Spread a label over the providers that have it: the pool with the fewest of the label first.
      const count = (p: PoolView) => pass.perPoolLabel.get(`${poolKey(p.provider, p.pool)}/${label}`) ?? 0;
      const degraded = (p: PoolView) => (pass.cap.cond(p.provider).health === 'degraded' ? 1 : 0);
      pools.sort((a, b) => degraded(a) - degraded(b) || count(a) - count(b) || a.priority - b.priority || pass.cap.free(b) - pass.cap.free(a));
      const pool = pools[0];
      pass.cap.reserve(pool.provider, pool.pool, [label], null);
      const lk = `${poolKey(pool.provider, pool.pool)}/${label}`;
      pass.perPoolLabel.set(lk, (pass.perPoolLabel.get(lk) ?? 0) + 1);
      pass.actions.push({ type: 'launch', label, provider: pool.provider, pool: pool.pool });
      deficit--;
    }
  }
}