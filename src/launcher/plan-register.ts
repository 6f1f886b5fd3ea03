import type { PlanPass } from './plan-pass.ts';
import { poolKey, type PoolView } from './topology.ts';

/**
 * Nodes on reusable servers (a driver with `reusableServers`, e.g. static hosts): every listed
 * server that no node holds gets a node, registered (not launched) and then scanned like any
 * other. The store inserts it only while no other node holds the server (another launcher may
 * have registered it since our snapshot), so a server is never held by two nodes. Its label is
 * the one the oldest waiting request lacks, if the server offers it; else its first label.
 */
export function registerServers(pass: PlanPass): void {
  const { topology, cloud, nodes } = pass.input;
  for (const [provider, limits] of topology.providers) {
    if (!limits.reusableServers) continue;
    const view = cloud.get(provider);
    // Only after a complete list, and never on an unhealthy provider's word.
    if (!view?.fullRefreshedAt || pass.cap.cond(provider).health === 'unhealthy') continue;
    const held = new Set(nodes.flatMap((n) => (n.provider === provider && n.serverId ? [n.serverId] : [])));
    const wanted = new Map<string, string[]>();
    for (const s of view.servers.values()) {
      if (!s.host || s.state !== 'active' || held.has(s.id)) continue;
      const pool = topology.pools.find((p) => p.provider === provider && p.pool === s.host!.pool);
      const offered = s.host.labels.filter((l) => pool?.labels.has(l) && topology.labels.has(l));
      if (!pool || !offered.length) continue;
      if (!wanted.has(pool.pool)) wanted.set(pool.pool, demand(pass, pool));
      const waiting = wanted.get(pool.pool)!;
      const i = waiting.findIndex((l) => offered.includes(l));
      const label = i >= 0 ? waiting.splice(i, 1)[0] : offered[0];
      pass.cap.reserve(provider, pool.pool, [label], null);
      const k = poolKey(provider, pool.pool);
      pass.registering.set(k, [...(pass.registering.get(k) ?? []), label]);
      pass.actions.push({ type: 'register-node', provider, pool: pool.pool, serverId: s.id, label });
    }
  }
}

/** Labels the pool's waiting requests lack, oldest and most urgent request first, after its spare nodes. */
function demand(pass: PlanPass, pool: PoolView): string[] {
  const spare = new Map<string, number>();
  for (const label of pool.labels.keys()) {
    spare.set(label, (pass.spare.get(`${poolKey(pool.provider, pool.pool)}/${label}`) ?? []).filter((n) => !pass.taken.has(n.id)).length);
  }
  const out: string[] = [];
  const open = pass.input.requests
    .filter((r) => (r.state === 'requested' && r.labels.every((l) => pool.labels.has(l))) ||
      (r.state === 'pending' && r.provider === pool.provider && r.pool === pool.pool))
    .sort((a, b) => a.priority - b.priority || a.createdAt - b.createdAt);
  for (const r of open) {
    const have = (pass.nodesByRequest.get(r.id) ?? []).filter((n) => n.state === 'building' || n.state === 'ready').map((n) => n.label);
    for (const l of r.labels) {
      const h = have.indexOf(l);
      if (h >= 0) { have.splice(h, 1); continue; }
      const s = spare.get(l) ?? 0;
      if (s > 0) { spare.set(l, s - 1); continue; }
      out.push(l);
    }
  }
  return out;
}
