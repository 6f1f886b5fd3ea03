import type { NodeRecord } from '../model.ts';
import type { ProviderRuntime } from './provider-runtime.ts';
import type { Topology } from './topology.ts';
import { answerLost, ORPHAN_GRACE_MS } from './plan-nodes.ts';
import { createAnsweredBy } from './evidence.ts';
import type { ProviderCloudView } from './plan-input.ts';

/**
 * The first list after a create (or delete) is asked for at this fraction of the boot (or delete)
 * time learned from the provider's recent servers, then every list-interval: a little early, so a
 * boot that is quicker than usual is not noticed late.
 */
const EARLY = 0.85;

/**
 * Plans each provider's next server list: soon after the moment the oldest waiting boot or
 * delete is expected to finish (learned from this provider's recent boots, counted from the
 * create call's answer: no list can show a server before it), then every `list-interval` while
 * something still waits; otherwise one every refresh-interval. Lists ask only for what changed
 * (`changes-since`) but for a complete one every full-refresh-interval (the server cache decides),
 * and at once where only a complete list can tell: whether a create call whose answer was lost
 * made a server, whether a server seen unknown is still there (a leak), whether a server whose
 * delete answered a refresh-interval ago and was never seen DELETED is gone. `refresh` lists one.
 */
export function scheduleLists(
  o: {
    providers: Map<string, ProviderRuntime>; topology: Topology; deleteCalledAt: ReadonlyMap<string, number>;
    inflight: ReadonlySet<string>; launcher: string; startedAt?: number; now: () => number;
    /** Servers seen unknown (`provider/serverId`), with the complete list they were first seen after. */
    leakSightings?: ReadonlyMap<string, number>;
  },
  nodes: NodeRecord[],
  refresh: (provider: string, full: boolean) => void,
): void {
  const now = o.now();
  const waiting = new Map<string, number>();
  // A request's node whose create call's answer was lost is replaced once a complete list sent
  // ORPHAN_GRACE_MS after the call lacks its server (./plan-nodes.ts): that list is asked for
  // then, not at the next refresh-interval.
  const orphanChecks = new Map<string, number>();
  // Complete lists wanted from a given time on, for evidence only they give (see above).
  const completeAt = new Map<string, number>();
  for (const [key, seq] of o.leakSightings ?? []) {
    const provider = key.slice(0, key.indexOf('/'));
    const rt = o.providers.get(provider);
    // Seen since the last complete list: the next list is a complete one, to see it again or not.
    if (rt && seq === rt.cache.view.fullRefreshSeq) completeAt.set(provider, 0);
  }
  for (const n of nodes) {
    const rt = o.providers.get(n.provider);
    if (!rt) continue;
    if (answerLost(n, { launcher: o.launcher, now, inflight: o.inflight, startedAt: o.startedAt })) {
      const at = (n.launchStartedAt ?? n.createdAt) + ORPHAN_GRACE_MS + 1;
      if ((rt.cache.view.fullRefreshedAt ?? 0) < at) orphanChecks.set(n.provider, Math.min(orphanChecks.get(n.provider) ?? Infinity, at));
    }
    let expected: number | null = null;
    if (n.state === 'building' && n.step === 'booting') {
      expected = (n.createAnsweredAt ?? n.launchStartedAt ?? now) + EARLY * (rt.bootEstimateMs ?? 0);
    } else if (n.state === 'deleting') {
      const called = o.deleteCalledAt.get(n.id);
      if (called !== undefined) expected = called + EARLY * (rt.deleteEstimateMs ?? 0);
    }
    const complete = completeWanted(n, rt.cache.view, o.topology.providers.get(n.provider)!.config.refreshInterval * 1000, o.deleteCalledAt);
    if (complete !== null) completeAt.set(n.provider, Math.min(completeAt.get(n.provider) ?? Infinity, complete));
    if (expected !== null) waiting.set(n.provider, Math.min(waiting.get(n.provider) ?? Infinity, expected));
  }
  for (const [name, rt] of o.providers) {
    const view = rt.cache.view;
    const cfg = o.topology.providers.get(name)!.config;
    let at = (view.refreshedAt ?? now) + cfg.refreshInterval * 1000;
    // Never closer than list-interval, nor than four times what the last list took: a long
    // list (many servers changing at once) is not repeated back to back.
    const listEvery = Math.max(cfg.listInterval * 1000, 4 * rt.cache.lastDurationMs);
    // Counted from the last list asked for, answered or not: after failures it backs off from the
    // last failure (counted from the last list that answered, a cloud gone offline was asked again
    // at once after each failure, hundreds of times a second), doubling, to one a refresh-interval.
    const backoff = rt.cache.failures ? Math.min(listEvery * 2 ** Math.min(rt.cache.failures, 6), Math.max(listEvery, cfg.refreshInterval * 1000)) : listEvery;
    const earliest = (rt.cache.attemptedAt ?? view.refreshedAt ?? 0) + backoff;
    const expected = waiting.get(name);
    if (expected !== undefined) at = Math.min(at, expected);
    at = Math.max(at, earliest);
    let full = false;
    const check = orphanChecks.get(name);
    if (check !== undefined && Math.max(check, earliest) <= at) {
      at = Math.max(check, earliest);
      full = true;
    }
    const complete = completeAt.get(name);
    if (complete !== undefined && complete <= at) full = true;
    if (rt.timerAt !== null && rt.timerAt <= at) continue;
    if (rt.timer) clearTimeout(rt.timer);
    rt.timerAt = at;
    rt.timer = setTimeout(() => {
      rt.timer = null;
      rt.timerAt = null;
      refresh(name, full);
    }, Math.max(0, at - now));
  }
}

/**
 * When a node needs a complete list, if it does (./evidence.ts): only one can show that a create
 * call made no server (its answer lost, or a booting server never listed) or that a server whose
 * delete answered is gone when the cloud never lists it DELETED (a cloud may forget deleted
 * servers at once). Lists of changes show a new or deleted server in the normal course, so a
 * complete list is wanted from a refresh-interval after the call, then every refresh-interval
 * until the node has its evidence: no later than complete lists every refresh-interval gave it.
 */
function completeWanted(n: NodeRecord, view: ProviderCloudView, every: number, deleteCalledAt: ReadonlyMap<string, number>): number | null {
  const lastComplete = view.fullRefreshedAt ?? 0;
  if (n.state === 'deleting' && n.serverId) {
    const called = deleteCalledAt.get(n.id);
    return called !== undefined && !view.gone.has(n.serverId) ? Math.max(called + every, lastComplete + every) : null;
  }
  const createdUnseen = n.state === 'building'
    ? n.step === 'creating' || (n.step === 'booting' && !!n.serverId && !view.servers.has(n.serverId))
    : n.state === 'deleting' && n.step !== 'pending' && n.step !== null;
  const by = createAnsweredBy(n);
  return createdUnseen && lastComplete <= by ? Math.max(by + every, lastComplete + every) : null;
}
