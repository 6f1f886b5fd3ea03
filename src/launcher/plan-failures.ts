import type { NodeRecord, RequestRecord } from '../model.ts';
import type { FailureEvidence, LaunchFailure } from './actions.ts';
import type { PlanPass } from './plan-pass.ts';

/**
 * The one place that decides what follows a failed launch: made again by the same node, retried
 * as a new node in its slot, moved with its request to another provider, or failed, with the
 * request. The applier only reports failures (as `LaunchFailure` facts) and records the outcome.
 */

/**
 * A launch task failed. A create call the cloud refused for quota (Nova checks quota before it
 * answers 202, so nothing was made) or throttled with a 429 is made again by the same node,
 * without using an attempt: after a pause of the pool (its limits are read again meanwhile), or
 * after the label's backoff (at least the Retry-After). Anything else is a failed launch.
 */
export function launchFailure(pass: PlanPass, n: NodeRecord, f: LaunchFailure): void {
  const evidence = { ...(f.nothingMade ? { nothingMade: true } : {}), ...(f.retryAfterMs !== undefined ? { retryAfterMs: f.retryAfterMs } : {}), ...(f.since !== undefined ? { since: f.since } : {}) };
  if (f.stage === 'create' && f.kind === 'quota') {
    pass.actions.push({ type: 'pause-pool', provider: n.provider, pool: n.pool, reason: f.reason });
    pass.actions.push({ type: 'create-later', nodeId: n.id, reason: f.reason, kind: 'quota' });
    return;
  }
  if (f.stage === 'create' && f.throttled) {
    pass.actions.push({ type: 'create-later', nodeId: n.id, reason: f.reason, kind: 'rate-limit', ...evidence });
    return;
  }
  fail(pass, n, f.stage === 'create' ? `create failed: ${f.reason}` : f.reason, f.kind, evidence);
}

/**
 * A launch failed. A quota refusal (the cloud knew a limit we did not) is not the node's fault:
 * the pool pauses, the request waits and its node is launched again when there is room, without
 * using an attempt. The provider's fault (no room, or failing again and again) moves the request
 * with all its nodes to another provider that has its labels (promise 3), if there is one.
 * Otherwise a request's node is retried up to launch-retries, and the request fails after the
 * last; nodes for min-ready are not retried here (min-ready launches a fresh one). The retry
 * takes the failed node's slot in the pool (the attempts are the request slot's, counted across
 * retries), so it needs no room of its own.
 */
export function fail(pass: PlanPass, n: NodeRecord, reason: string, kind?: string, evidence: FailureEvidence = {}): void {
  const limits = pass.input.topology.providers.get(n.provider);
  if (limits?.reusableServers) {
    // A reusable server that failed its check is taken out of service (./plan-nodes.ts); its
    // request, if any, waits for another server of the pool (none is launched for it).
    pass.taken.add(n.id);
    pass.actions.push({ type: 'launch-failed', nodeId: n.id, reason, retry: false, ...(kind ? { kind } : {}), ...evidence });
    return;
  }
  const retries = limits?.launchRetries ?? 1;
  const req = n.allocatedTo !== null && pass.isOpen(n.allocatedTo) ? pass.requestsById.get(n.allocatedTo)! : null;
  pass.taken.add(n.id);
  const providersFault = kind === 'capacity' || (kind === 'transient' && n.attempt >= 2);
  if (req && providersFault && !pass.declining.has(req.id) && canMove(pass, req)) {
    pass.declining.add(req.id);
    pass.actions.push({ type: 'launch-failed', nodeId: n.id, reason, retry: false, kind, moved: true, ...evidence });
    pass.actions.push({ type: 'decline-request', requestId: req.id, provider: n.provider, reason });
    return;
  }
  const retry = req !== null && (kind === 'quota' || n.attempt < retries);
  const failRequest = req !== null && !retry
    ? `launch of ${n.label} in ${n.provider} failed after ${n.attempt} attempt${n.attempt > 1 ? 's' : ''}: ${reason}`
    : undefined;
  pass.actions.push({ type: 'launch-failed', nodeId: n.id, reason, retry, ...(kind ? { kind } : {}), ...(failRequest ? { failRequest } : {}), ...evidence });
  if (kind === 'quota') pass.actions.push({ type: 'pause-pool', provider: n.provider, pool: n.pool, reason });
}

/** Whether another provider, not yet declined, has a pool with every label of the request. */
export function canMove(pass: PlanPass, r: RequestRecord): boolean {
  const declined = pass.input.declined?.get(r.id);
  return pass.input.topology.pools.some((p) => p.provider !== r.provider && !declined?.has(p.provider) &&
    r.labels.every((l) => p.labels.has(l)) && p.maxServers >= r.labels.length);
}