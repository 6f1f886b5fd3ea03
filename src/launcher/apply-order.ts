import type { Action } from './actions.ts';

/**
 * Actions of one plan applied side by side, at most `limit` at once, each started in plan order
 * (oldest and most urgent request first) and each after the earlier actions that touch one of
 * its records (`touched`): a request's claim before its fulfilment, a node's allocation before
 * its delete. Records no two actions share are independent: their writes are conditional, and the
 * store's own guards (a pool's max-servers, a reusable server held once) decide a race for room.
 * `run` must not reject (the applier logs a failed action and goes on).
 *
 * One after the other, every action waited for its store round trips: with PostgreSQL under a
 * burst of 125 requests the claims alone took 1.4 s, and servers already booted waited for the
 * end of the pass to be seen (`npm run bench:multi`).
 */
export async function applySideBySide(actions: Action[], limit: number, run: (a: Action) => Promise<void>): Promise<void> {
  const last = new Map<string, Promise<void>>();
  const all: Promise<void>[] = [];
  let free = limit;
  let slotFreed: (() => void) | null = null;
  for (const a of actions) {
    if (free === 0) await new Promise<void>((resolve) => { slotFreed = resolve; });
    free--;
    const keys = touched(a);
    const before: Promise<void>[] = [];
    for (const k of keys) {
      const p = last.get(k);
      if (p) before.push(p);
    }
    const p: Promise<void> = (before.length ? Promise.all(before).then(() => run(a)) : run(a)).then(() => {
      free++;
      for (const k of keys) if (last.get(k) === p) last.delete(k);
      const wake = slotFreed;
      slotFreed = null;
      wake?.();
    });
    for (const k of keys) last.set(k, p);
    all.push(p);
  }
  await Promise.all(all);
}

/** The records an action reads or writes: requests, nodes, a pool's state, a cloud's server. */
export function touched(a: Action): string[] {
  switch (a.type) {
    case 'claim-request': return [`request:${a.requestId}`, ...a.allocate.map((id) => `node:${id}`)];
    case 'fulfill-request': return [`request:${a.requestId}`, ...a.nodeIds.map((id) => `node:${id}`)];
    case 'launch-for-request': return [`request:${a.requestId}`, ...a.allocate.map((id) => `node:${id}`)];
    case 'fail-request':
    case 'decline-request': return [`request:${a.requestId}`];
    case 'launch-failed': return a.failRequest ? [`node:${a.nodeId}`, `request:${a.failRequest}`] : [`node:${a.nodeId}`];
    case 'launch': return [];
    case 'pause-pool': return [`pool:${a.provider}/${a.pool}`];
    case 'register-node':
    case 'note-leak':
    case 'delete-leak': return [`server:${a.provider}/${a.serverId}`];
    default: return [`node:${a.nodeId}`];
  }
}

/** Actions of a pass applied at once, at most: a little more than a PostgreSQL store's default pool (10 connections), which queues the rest. */
export const APPLY_AT_ONCE = 16;

/**
 * A pass starts at most this many claims and launches; the rest are left to the next pass, which
 * plans them again with what changed meanwhile. Without a bound, with PostgreSQL, a pass that
 * claimed 450 requests of a burst ran for 3 s, and 115 nodes that were ready 1.4 s into the burst
 * waited for its end to be handed out (`npm run bench:multi`). A count, not a time: a bound in
 * time could leave a pass whose first writes wait on a slow store with nothing claimed, pass after
 * pass; a count always moves the oldest requests on.
 */
export const CLAIMS_PER_PASS = 64;

const DEFERRABLE: ReadonlySet<Action['type']> = new Set(['claim-request', 'launch']);

/** The actions this pass applies: all but the claims and launches after the first `claims`. */
export function thisPass(actions: Action[], claims: number): Action[] {
  let n = 0;
  return actions.filter((a) => !DEFERRABLE.has(a.type) || ++n <= claims);
}
