import type { NodeRecord } from '../model.ts';
import type { ProviderRuntime } from './provider-runtime.ts';
import type { Topology } from './topology.ts';
import { answerLost, ORPHAN_GRACE_MS } from './plan-nodes.ts';

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
 * something still waits; otherwise a complete list every refresh-interval, which also feeds leak
 * detection and finds the servers of create calls whose answer was lost. `refresh` lists one.
 */
export function scheduleLists(
  o: {
    providers: Map<string, ProviderRuntime>; topology: Topology; deleteCalledAt: ReadonlyMap<string, number>;
    inflight: ReadonlySet<string>; launcher: string; startedAt?: number; now: () => number;
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
    if (expected !== null) waiting.set(n.provider, Math.min(waiting.get(n.provider) ?? Infinity, expected));
  }
  for (const [name, rt] of o.providers) {
    const view = rt.cache.view;
    const cfg = o.topology.providers.get(name)!.config;
    let at = (view.fullRefreshedAt ?? now) + cfg.refreshInterval * 1000;
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
