import { test } from 'node:test';
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
