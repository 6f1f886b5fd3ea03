import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { scheduleLists } from '../../src/launcher/list-schedule.ts';
import { ORPHAN_GRACE_MS } from '../../src/launcher/plan-nodes.ts';
import { newNodeRecord } from '../../src/store/records.ts';
import type { ProviderRuntime } from '../../src/launcher/provider-runtime.ts';
import type { Topology } from '../../src/launcher/topology.ts';
import type { NodeRecord } from '../../src/model.ts';

const T = 1_700_000_000_000;

/** One provider's runtime as the schedule reads it: its last lists, no list running. */
function runtime(fullRefreshedAt: number): ProviderRuntime {
  return {
    cache: { view: { servers: new Map(), gone: new Map(), refreshedAt: fullRefreshedAt, fullRefreshedAt, fullRefreshSeq: 1 }, lastDurationMs: 5, failures: 0 },
    timer: null, timerAt: null,
  } as unknown as ProviderRuntime;
}

const topology = { providers: new Map([['east', { config: { refreshInterval: 10, listInterval: 1 } }]]) } as unknown as Topology;

function creating(sent: number): NodeRecord {
  return { ...newNodeRecord({ label: 'jammy', provider: 'east', pool: 'main', connectionPort: 22, username: 'zuul', now: sent, allocatedTo: 'r1' }), step: 'creating', launchStartedAt: sent };
}

/** The list the schedule asks for, and when. */
async function scheduled(n: NodeRecord, rt: ProviderRuntime, inflight: string[] = []): Promise<{ at: number | null; full: boolean }> {
  const at = { value: null as number | null };
  const full = await new Promise<boolean>((resolve) => {
    scheduleLists({ providers: new Map([['east', rt]]), topology, deleteCalledAt: new Map(), inflight: new Set(inflight), launcher: 'me', now: () => T }, [n], (_, f) => resolve(f));
    at.value = rt.timerAt;
  });
  return { at: at.value, full };
}

test("a complete list is asked for as soon as it can tell whether a lost create call made its request's node a server", async () => {
  // The call was sent 20 s ago by a process that is gone; the last complete list was sent 5 s after it.
  const sent = T - 20_000;
  const lost = await scheduled(creating(sent), runtime(sent + 5_000));
  assert.deepEqual(lost, { at: sent + ORPHAN_GRACE_MS + 1, full: true });
  // This process's own call, still running: the usual complete list every refresh-interval.
  const n = creating(sent);
  const running = await scheduled(n, runtime(sent + 5_000), [`create:${n.id}`]);
  assert.deepEqual(running, { at: sent + 5_000 + 10_000, full: false });
  // Another launcher's call, under a lease that still runs: its own business.
  const theirs = await scheduled({ ...creating(sent), leaseOwner: 'other', leaseExpires: T + 2_000 }, runtime(sent + 5_000));
  assert.deepEqual(theirs, { at: sent + 5_000 + 10_000, full: false });
  // Once that lease ran out (the launcher died), it is this launcher's to find out.
  const lapsed = await scheduled({ ...creating(sent), leaseOwner: 'other', leaseExpires: T - 1 }, runtime(sent + 5_000));
  assert.deepEqual(lapsed, { at: sent + ORPHAN_GRACE_MS + 1, full: true });
});

test('lists that fail back off from the last failure, not from the last list that answered: an offline cloud is not asked again at once', () => {
  // When the schedule asks for the next list (the timer is not left to run).
  const nextAt = (rt: ProviderRuntime, n: NodeRecord): number | null => {
    scheduleLists({ providers: new Map([['east', rt]]), topology, deleteCalledAt: new Map(), inflight: new Set(), launcher: 'me', now: () => T }, [n], () => {});
    if (rt.timer) clearTimeout(rt.timer);
    return rt.timerAt;
  };
  const idle = { ...creating(T - 70_000), state: 'ready' as const, step: null };
  // The last answer came a minute ago, so the complete list every refresh-interval (10 s) is long
  // due; since then three lists in a row failed, the last one 100 ms ago.
  const failing = runtime(T - 60_000);
  Object.assign(failing.cache, { failures: 3, attemptedAt: T - 100 });
  // list-interval 1 s, doubled for each failure: 8 s after the last attempt.
  assert.equal(nextAt(failing, idle), T - 100 + 8_000);
  // Doubling no further than one list a refresh-interval (10 s).
  failing.timerAt = null;
  Object.assign(failing.cache, { failures: 6 });
  assert.equal(nextAt(failing, idle), T - 100 + 10_000);
  // Nothing failed: the list that is due is asked for at once.
  const answered = runtime(T - 60_000);
  Object.assign(answered.cache, { failures: 0, attemptedAt: T - 60_000 });
  assert.equal(nextAt(answered, idle), T - 60_000 + 10_000);
});

/** The next list the schedule asks for at T: when, and whether complete (its timer run at once, on mocked timers). */
function nextList(rt: ProviderRuntime, nodes: NodeRecord[], o: { deleteCalledAt?: Map<string, number>; leakSightings?: Map<string, number> } = {}): { at: number | null; full: boolean | null } {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let full: boolean | null = null;
    scheduleLists({ providers: new Map([['east', rt]]), topology, deleteCalledAt: o.deleteCalledAt ?? new Map(), inflight: new Set(), launcher: 'me', now: () => T, leakSightings: o.leakSightings }, nodes, (_, f) => { full = f; });
    const at = rt.timerAt;
    mock.timers.runAll();
    return { at, full };
  } finally {
    mock.timers.reset();
  }
}

test('between complete lists a list every refresh-interval asks for changes; a complete one is asked for where only it can tell', () => {
  const ready = { ...creating(T - 70_000), state: 'ready' as const, step: null, serverId: 's1' };
  // The last complete list 30 s ago, a list of changes 2 s ago: the next is due 10 s after the
  // latter, and the server cache decides whether it is complete (full-refresh-interval).
  const since = (complete: number, last: number) => { const rt = runtime(complete); rt.cache.view.refreshedAt = last; return rt; };
  assert.deepEqual(nextList(since(T - 30_000, T - 2_000), [ready]), { at: T + 8_000, full: false });
  // A server seen unknown since the last complete list: the next list is a complete one, to see
  // whether it is still there (a leak) or was a launch's after all. One seen before it: no need.
  assert.deepEqual(nextList(since(T - 30_000, T - 2_000), [ready], { leakSightings: new Map([['east/s9', 1]]) }), { at: T + 8_000, full: true });
  assert.deepEqual(nextList(since(T - 30_000, T - 2_000), [ready], { leakSightings: new Map([['east/s9', 0]]) }), { at: T + 8_000, full: false });
  // A delete that answered and was never seen DELETED (a cloud may forget deleted servers at
  // once): lists of changes every list-interval at first; from a refresh-interval after the call
  // complete ones, since only a server's absence from one can then show it gone.
  const deleting = { ...ready, state: 'deleting' as const };
  assert.deepEqual(nextList(since(T - 30_000, T - 500), [deleting], { deleteCalledAt: new Map([[deleting.id, T - 5_000]]) }), { at: T + 500, full: false });
  assert.deepEqual(nextList(since(T - 30_000, T - 500), [deleting], { deleteCalledAt: new Map([[deleting.id, T - 15_000]]) }), { at: T + 500, full: true });
  // Seen DELETED: no complete list is needed for it.
  const gone = since(T - 30_000, T - 500);
  gone.cache.view.gone.set('s1', T - 400);
  assert.deepEqual(nextList(gone, [deleting], { deleteCalledAt: new Map([[deleting.id, T - 15_000]]) }), { at: T + 500, full: false });
});
