import type { NodeRecord, RequestRecord } from '../model.ts';
import { canMove } from './plan-failures.ts';
import { LIVE, type PlanPass } from './plan-pass.ts';
import { poolKey, type PoolView } from './topology.ts';

/**
 * The request side of a plan, oldest and most urgent first: fail what cannot be served, claim a
 * request for the best pool (its ready nodes first), make room in a full pool it waits on, top up
 * a request that lost a node, and fulfil it once all its nodes are ready.
 */

export function requestsInOrder(pass: PlanPass): void {
  const open = pass.input.requests
    .filter((r) => r.state === 'requested' || r.state === 'pending')
    .sort((a, b) => a.priority - b.priority || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  for (const r of open) {
    if (!pass.owned(r)) continue;
    if (r.state === 'requested') claim(pass, r);
    else progress(pass, r);
  }
}

function claim(pass: PlanPass, r: RequestRecord): void {
  const unknown = [...new Set(r.labels.filter((l) => !pass.input.topology.labels.has(l)))];
  if (unknown.length) {
    pass.actions.push({ type: 'fail-request', requestId: r.id, reason: `unknown label${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}` });
    return;
  }
  const able = pass.input.topology.pools.filter((p) => r.labels.every((l) => p.labels.has(l)) && p.maxServers >= r.labels.length);
  if (!able.length) {
    const serving = pass.input.topology.pools.filter((p) => r.labels.every((l) => p.labels.has(l)));
    const reason = serving.length
      ? `request for ${r.labels.length} nodes is larger than max-servers of every pool that has its labels`
      : `no pool provides all of the labels ${[...new Set(r.labels)].join(', ')} (one request is served by one provider)`;
    pass.actions.push({ type: 'fail-request', requestId: r.id, reason });
    return;
  }
  // Providers that gave this request back are tried only when no other provider can take it now.
  const declined = pass.input.declined?.get(r.id);
  const fresh = declined ? able.filter((p) => !declined.has(p.provider)) : able;
  const stale = declined ? able.filter((p) => declined.has(p.provider)) : [];
  let { best, full } = preferred(pass, r, fresh, stale);
  const served = pass.input.served;
  const chosen = best?.pool ?? full;
  if (served && chosen && !served.has(chosen.provider)) {
    // The pool every launcher should pick is another launcher's. Views of the other providers
    // (their health, room and pauses as their launchers last published them) can lag, and a
    // request each launcher leaves to another would wait forever: once it has waited
    // UNCLAIMED_MS, this launcher takes it in the best of its own pools.
    const due = r.stateTime + UNCLAIMED_MS;
    if (pass.input.now < due) pass.wakeAt(due);
    else {
      const own = (pools: PoolView[]) => pools.filter((p) => served.has(p.provider));
      const mine = preferred(pass, r, own(fresh), own(stale));
      if (mine.best || mine.full) ({ best, full } = mine);
    }
  }
  if (!best) {
    // Every able pool is busy: the request waits. Where the pool is full, make room, and keep what
    // room it has for this request: a younger request may not take it (a large request is not
    // starved by a stream of small ones; a pool serves its waiting requests in order, as
    // Nodepool's paused pool does).
    if (full) {
      makeRoom(pass, full, r);
      pass.cap.hold(full, r.labels);
    }
    return;
  }
  for (const id of best.allocate) pass.taken.add(id);
  pass.cap.reserve(best.pool.provider, best.pool.pool, best.launch, r.tenant);
  pass.actions.push({
    type: 'claim-request', requestId: r.id, provider: best.pool.provider, pool: best.pool.pool,
    allocate: best.allocate, launch: best.launch,
  });
}

/**
 * How long a request may stay unclaimed while its best pool is another launcher's before a
 * launcher serving other providers claims it in one of its own (./plan-input.ts `served`): the
 * interval at which launchers publish their providers' states, twice.
 */
export const UNCLAIMED_MS = 10_000;

/** The best pool for the request now (those that did not give it back first), or else the full one to wait on. */
function preferred(pass: PlanPass, r: RequestRecord, fresh: PoolView[], stale: PoolView[]): { best: Chosen | null; full: PoolView | null } {
  const first = choose(pass, r, fresh);
  if (first.best) return first;
  const second = choose(pass, r, stale);
  return { best: second.best, full: first.full ?? second.full };
}

type Chosen = { pool: PoolView; allocate: string[]; launch: string[]; score: number[] };

/** The best pool of `pools` for the request now, and the first full one (to make room in). */
function choose(pass: PlanPass, r: RequestRecord, pools: PoolView[]): { best: Chosen | null; full: PoolView | null } {
  let best: Chosen | null = null;
  let full: PoolView | null = null;
  for (const pool of pools) {
    const c = pass.cap.cond(pool.provider);
    if (c.health === 'unhealthy') continue;
    const { allocate, launch } = match(pass, pool, r.labels);
    const why = launch.length ? pass.cap.blocked(pool, launch, r.tenant) : null;
    if (why) {
      // The full pool to wait on: the operator's priority, then the one closest to having room.
      if (why === 'full' && (!full || pool.priority < full.priority || (pool.priority === full.priority && pass.cap.free(pool) > pass.cap.free(full)))) full = pool;
      continue;
    }
    const ready = allocate.filter((id) => pass.nodeState(id) === 'ready').length;
    // Prefer the pool that can hand out the most ready nodes now, then a healthy provider over a
    // degraded one, then the most nodes already booting, then the operator's priority, then room.
    const score = [-ready, c.health === 'degraded' ? 1 : 0, -allocate.length, pool.priority, -pass.cap.free(pool)];
    if (!best || lexLess(score, best.score)) best = { pool, allocate, launch, score };
  }
  return { best, full };
}

/**
 * A request waits on a full pool: delete the oldest unassigned ready nodes of other labels there
 * (as Nodepool does), never an in-use or held one, and no more than the room still missing once
 * the nodes already on their way out are gone.
 */
function makeRoom(pass: PlanPass, pool: PoolView, r: RequestRecord): void {
  const k = poolKey(pool.provider, pool.pool);
  const { launch } = match(pass, pool, r.labels);
  const leaving = pass.input.nodes.filter((n) => n.provider === pool.provider && n.pool === pool.pool &&
    (n.state === 'deleting' || n.state === 'used' || n.state === 'failed' || pass.taken.has(n.id))).length;
  // Nodes this pass registers for the request's labels come without making room (./plan-register.ts).
  const coming = [...(pass.registering.get(k) ?? [])];
  const registered = launch.filter((l) => { const i = coming.indexOf(l); if (i >= 0) coming.splice(i, 1); return i >= 0; }).length;
  let missing = launch.length - Math.max(0, pass.cap.free(pool)) - leaving - registered;
  if (missing <= 0) return;
  // A node on a reusable server makes room only if its server can serve the request once returned.
  const reusable = pass.input.topology.providers.get(pool.provider)?.reusableServers;
  const servers = pass.input.cloud.get(pool.provider)?.servers;
  const offers = (n: NodeRecord) => !reusable || r.labels.some((l) => servers?.get(n.serverId ?? '')?.host?.labels.includes(l));
  const victims = [...pass.spare.entries()]
    .filter(([key]) => key.startsWith(`${k}/`) && !r.labels.includes(key.slice(k.length + 1)))
    .flatMap(([, list]) => list)
    .filter((n) => n.state === 'ready' && !pass.taken.has(n.id) && offers(n))
    .sort((a, b) => a.stateTime - b.stateTime);
  for (const v of victims) {
    if (missing-- <= 0) break;
    pass.deleteNode(v, `making room in ${k} for request ${r.id}`);
  }
}

/** Unassigned nodes of the pool that can serve the labels (ready ones first, then booting ones). */
function match(pass: PlanPass, pool: PoolView, labels: string[]): { allocate: string[]; launch: string[] } {
  const allocate: string[] = [];
  const launch: string[] = [];
  const chosen = new Set<string>();
  for (const label of labels) {
    const candidates = pass.spare.get(`${poolKey(pool.provider, pool.pool)}/${label}`) ?? [];
    const usable = (n: NodeRecord) => !pass.taken.has(n.id) && !chosen.has(n.id);
    const pick = candidates.find((n) => n.state === 'ready' && usable(n)) ?? candidates.find(usable);
    if (pick) { allocate.push(pick.id); chosen.add(pick.id); } else launch.push(label);
  }
  return { allocate, launch };
}

function progress(pass: PlanPass, r: RequestRecord): void {
  if (pass.declining.has(r.id)) return;
  const live = (pass.nodesByRequest.get(r.id) ?? []).filter((n) => LIVE.has(n.state) && !pass.taken.has(n.id))
    .sort((a, b) => (a.state === 'ready' ? 0 : 1) - (b.state === 'ready' ? 0 : 1) || a.createdAt - b.createdAt);
  // Labels not covered by a live node (a node deleted by an operator, or lost): launch them again.
  const missing = [...r.labels];
  const mine: NodeRecord[] = [];
  for (const n of live) {
    const i = missing.indexOf(n.label);
    if (i >= 0) {
      missing.splice(i, 1);
      mine.push(n);
    } else {
      // More nodes than asked for (two launchers that both saw the request short launched for
      // it, seen under heavy load with 5 s leases): the extra goes back to the pool, or the
      // request would never be fulfilled.
      pass.taken.add(n.id);
      pass.actions.push({ type: 'unallocate-node', nodeId: n.id });
    }
  }
  const retrying = (pass.nodesByRequest.get(r.id) ?? []).some((n) => pass.taken.has(n.id));
  if (missing.length && !retrying && r.provider && r.pool) {
    const pool = pass.input.topology.pools.find((p) => p.provider === r.provider && p.pool === r.pool);
    if (!pool) {
      pass.actions.push({ type: 'fail-request', requestId: r.id, reason: `provider ${r.provider} pool ${r.pool} is no longer configured` });
    } else {
      // Spare nodes of the pool first, as a claim takes them: on reusable servers (a static
      // host) nothing can be launched, and a host that failed its check would otherwise leave the
      // request waiting beside a ready one.
      const { allocate, launch } = match(pass, pool, missing);
      if (!launch.length || !pass.cap.blocked(pool, launch, r.tenant)) {
        for (const id of allocate) pass.taken.add(id);
        pass.cap.reserve(pool.provider, pool.pool, launch, r.tenant);
        pass.actions.push({ type: 'launch-for-request', requestId: r.id, provider: pool.provider, pool: pool.pool, allocate, labels: launch });
      } else if (pass.cap.cond(pool.provider).health === 'unhealthy' && !pass.declining.has(r.id) && canMove(pass, r)) {
        pass.declining.add(r.id);
        pass.actions.push({ type: 'decline-request', requestId: r.id, provider: pool.provider, reason: `provider ${pool.provider} is unhealthy` });
      }
    }
    return;
  }
  if (!missing.length && mine.length === r.labels.length && mine.every((n) => n.state === 'ready')) {
    const order = orderByLabels(r.labels, mine);
    pass.actions.push({ type: 'fulfill-request', requestId: r.id, nodeIds: order });
  }
}
function orderByLabels(labels: string[], nodes: NodeRecord[]): string[] {
  const left = [...nodes];
  return labels.map((l) => {
    const i = left.findIndex((n) => n.label === l);
    return left.splice(i, 1)[0].id;
  });
}

function lexLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}
