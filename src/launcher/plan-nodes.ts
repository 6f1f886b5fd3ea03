import type { NodeRecord } from '../model.ts';
import type { ServerView } from '../../providers/provider.ts';
import { createAnsweredBy, missingAfterCreate, serverGone } from './evidence.ts';
import type { PlanInput, ProviderCloudView } from './plan-input.ts';
import { canMove, fail, launchFailure } from './plan-failures.ts';
import type { PlanPass } from './plan-pass.ts';

/**
 * The node side of a plan: the launch and delete state machines, ready nodes' ages and vanished
 * servers, the requestors' leases on in-use nodes, holds.
 */

/** How long after a delete call we ask again if the server is still there. */
export const DELETE_RETRY_MS = 30_000;
/**
 * How long an in-use node of a request still open is left alone: the request's fulfilment is under
 * way in another launcher. Past it, the launcher that fulfilled it died between the two writes,
 * and the node is returned as used (the request gets fresh nodes).
 */
export const FULFIL_GRACE_MS = 30_000;
/**
 * How long a node on a reusable server that failed (its host did not answer, or presented another
 * host key than the one pinned) stays failed, out of service and visible with its reason, before
 * its server is returned and checked again.
 */
export const OUT_OF_SERVICE_MS = 60_000;

/**
 * How long after a create call was sent a complete list not showing its server is taken to mean,
 * for a request waiting on it, that the call (whose answer was lost with its process) made none.
 * Nova lists a server (its build request) while it handles POST /servers, which a real Nova
 * answered after 3-8.5 s under a burst; the certainty of CREATE_CALL_LIMIT_MS comes 20 s later.
 */
export const ORPHAN_GRACE_MS = 10_000;

/** Why a request's node whose create call was made by a process that stopped is replaced. */
export const ORPHANED_CREATE = 'the process that sent its create call stopped before the answer, and no server of that name was listed: replaced; deleted once its server is found or known never made';

/**
 * A request's node whose create call's answer was lost with the process that sent it: in step
 * `creating`, under a lease this launcher holds or one run out, with no call of this process
 * running for it, and not sent by this process (whose task ended with the answer, which the rows
 * read may not show yet). Shared by the plan and the list schedule (./list-schedule.ts).
 */
export function answerLost(n: NodeRecord, o: Pick<PlanInput, 'launcher' | 'now' | 'inflight' | 'startedAt'>): boolean {
  if (n.state !== 'building' || n.step !== 'creating' || !n.allocatedTo || o.inflight.has(`create:${n.id}`)) return false;
  const owned = n.leaseOwner === null || n.leaseOwner === o.launcher || (n.leaseExpires ?? 0) < o.now;
  const sentHere = o.startedAt !== undefined && n.leaseOwner === o.launcher && (n.launchStartedAt ?? n.createdAt) >= o.startedAt;
  return owned && !sentHere;
}

function unseenAfterGrace(view: ProviderCloudView | undefined, n: NodeRecord): boolean {
  return !!view?.fullRefreshedAt && view.fullRefreshedAt > (n.launchStartedAt ?? n.createdAt) + ORPHAN_GRACE_MS;
}

export function nodeLifecycles(pass: PlanPass): void {
  const { now, inflight } = pass.input;
  for (const n of pass.input.nodes) {
    const limits = pass.input.topology.providers.get(n.provider);
    const view = pass.input.cloud.get(n.provider);
    switch (n.state) {
      case 'building': {
        if (!pass.owned(n) || !limits) break;
        if (inflight.has(`create:${n.id}`) || inflight.has(`scan:${n.id}`)) {
          if (n.launchStartedAt !== null) pass.wakeAt(n.launchStartedAt + limits.launchTimeoutMs);
          if (n.launchStartedAt !== null && now - n.launchStartedAt > limits.launchTimeoutMs && n.step === 'scanning') {
            fail(pass, n, `launch timeout: not reachable over SSH after ${limits.launchTimeoutMs / 1000} s`);
          }
          break;
        }
        if (unconfigured(pass, n)) break;
        building(pass, n, limits, view);
        break;
      }
      case 'ready': {
        if (n.allocatedTo && !pass.isOpen(n.allocatedTo)) {
          pass.actions.push({ type: 'unallocate-node', nodeId: n.id });
          break;
        }
        if (limits && unconfigured(pass, n)) break;
        const age = pass.input.topology.labels.get(n.label)?.maxReadyAgeMs ?? 0;
        if (!n.allocatedTo && age > 0) {
          if (now - n.stateTime >= age) pass.deleteNode(n, `ready for more than max-ready-age (${age / 1000} s)`);
          else pass.wakeAt(n.stateTime + age);
        }
        if (!n.allocatedTo && !pass.taken.has(n.id) && n.serverId && serverGone(view, n.serverId, n.stateTime)) {
          pass.actions.push({ type: 'remove-node', nodeId: n.id, reason: 'server vanished from the cloud' });
          pass.taken.add(n.id);
        }
        break;
      }
      case 'in-use': {
        const req = n.allocatedTo ? pass.requestsById.get(n.allocatedTo) : undefined;
        if (req && (req.state === 'requested' || req.state === 'pending') && now - n.stateTime < FULFIL_GRACE_MS) {
          // Another launcher is fulfilling it: it marks the nodes in-use, then the request, and
          // this snapshot fell between the two writes (seen with three launchers on PostgreSQL).
          pass.wakeAt(n.stateTime + FULFIL_GRACE_MS);
        } else if (!req || req.state !== 'fulfilled' || req.holderExpires === null) {
          pass.actions.push({ type: 'return-used', nodeId: n.id, reason: 'released by its requestor' });
        } else if (req.holderExpires <= now) {
          pass.actions.push({ type: 'return-used', nodeId: n.id, reason: `lease of request ${req.id} expired` });
        } else {
          pass.wakeAt(req.holderExpires);
        }
        break;
      }
      case 'used':
        if (pass.owned(n)) pass.deleteNode(n, 'used');
        break;
      case 'hold':
        if (n.holdExpires !== null) {
          if (n.holdExpires <= now) pass.deleteNode(n, 'hold expired');
          else pass.wakeAt(n.holdExpires);
        }
        break;
      case 'failed':
        if (!pass.owned(n)) break;
        if (limits?.reusableServers && now - n.stateTime < OUT_OF_SERVICE_MS) pass.wakeAt(n.stateTime + OUT_OF_SERVICE_MS);
        else pass.deleteNode(n, n.comment ?? 'launch failed');
        break;
      case 'deleting':
        if (pass.owned(n)) deleting(pass, n, view, limits?.reusableServers === true);
        break;
    }
  }
}

/**
 * A configuration reload removed the node's label from its pool, its pool, or its provider (which
 * then drains, ./reconfigure.ts): an unassigned node is deleted rather than kept for nobody. A node
 * of an open request is left to it (the request fails if its pool is gone, ./plan-claims.ts).
 */
function unconfigured(pass: PlanPass, n: NodeRecord): boolean {
  if (n.allocatedTo && pass.isOpen(n.allocatedTo)) return false;
  const pool = pass.input.topology.pools.find((p) => p.provider === n.provider && p.pool === n.pool);
  if (pool?.labels.has(n.label) && pass.input.topology.labels.has(n.label)) return false;
  pass.deleteNode(n, pool ? `label ${n.label} is no longer served by pool ${n.pool}` : `pool ${n.pool} of provider ${n.provider} is no longer configured`);
  return true;
}

function building(pass: PlanPass, n: NodeRecord, limits: { bootTimeoutMs: number; launchTimeoutMs: number }, view: ProviderCloudView | undefined): void {
  const { now } = pass.input;
  const started = n.launchStartedAt ?? n.createdAt;
  const failure = pass.input.launchFailures?.get(n.id);
  if (failure) {
    launchFailure(pass, n, failure);
    return;
  }
  if (pass.cap.cond(n.provider).health === 'unhealthy') {
    // An unhealthy provider (offline, or failing again and again) gets no new server, and a
    // request does not wait for the boot-timeout of the servers it has there: its nodes move with
    // it to another provider that has its labels. A node for min-ready not yet created is dropped.
    const req = n.allocatedTo && pass.isOpen(n.allocatedTo) ? pass.requestsById.get(n.allocatedTo)! : null;
    if (req ? canMove(pass, req) : n.step === 'pending') {
      fail(pass, n, `provider ${n.provider} is unhealthy`, 'capacity');
      return;
    }
    if (n.step === 'pending') return;
  }
  switch (n.step) {
    case 'pending': {
      // A launch retried after a failure waits out the provider and label's backoff, a pool
      // paused after a quota refusal, and room for its server.
      const until = pass.cap.cond(n.provider).backoffUntil.get(n.label);
      if (until !== undefined && until > now) { pass.wakeAt(until); return; }
      const paused = pass.cap.cond(n.provider).pausedUntil.get(n.pool);
      if (paused !== undefined && paused > now) { pass.wakeAt(paused); return; }
      if (!pass.cap.roomToCreate(n)) return;
      pass.actions.push({ type: 'create-server', nodeId: n.id });
      return;
    }
    case 'creating': {
      // The create call's answer was lost (the process died): find the server by its name.
      const found = view ? findByName(view, n.hostname) : undefined;
      if (found) pass.actions.push({ type: 'adopt-server', nodeId: n.id, serverId: found.id });
      else if (missingAfterCreate(view, n)) pass.actions.push({ type: 'retry-create', nodeId: n.id });
      else if (n.allocatedTo && pass.isOpen(n.allocatedTo) && answerLost(n, pass.input) && unseenAfterGrace(view, n)) {
        // That a call made no server is known only once a complete list sent after it could have
        // ended lacks it (30 s, then up to a refresh-interval). A request does not wait for that:
        // a new node takes this one's slot, without using an attempt, and this one is deleted,
        // its server (should it still appear) found by name by the delete flow.
        pass.taken.add(n.id);
        pass.actions.push({ type: 'launch-failed', nodeId: n.id, reason: ORPHANED_CREATE, retry: true, kind: 'orphaned' });
      } else {
        pass.wakeAt(createAnsweredBy(n));
        if (n.allocatedTo) pass.wakeAt((n.launchStartedAt ?? n.createdAt) + ORPHAN_GRACE_MS + 1);
      }
      return;
    }
    case 'booting': {
      const server = n.serverId ? view?.servers.get(n.serverId) : undefined;
      if (server?.state === 'active') {
        if (server.publicIpv4 ?? server.privateIpv4 ?? server.publicIpv6) pass.actions.push({ type: 'server-active', nodeId: n.id, server });
        else fail(pass, n, 'server is ACTIVE but has no address');
      } else if (server?.state === 'error') {
        const f = server.fault;
        fail(pass, n, `server went to ERROR${f ? `: ${f.code} ${f.message.trim()}` : ''}`, f?.kind);
      } else if (!server && missingAfterCreate(view, n)) {
        fail(pass, n, 'server vanished while booting', 'transient');
      } else if (now - started > limits.bootTimeoutMs) {
        fail(pass, n, `boot timeout: not ACTIVE after ${limits.bootTimeoutMs / 1000} s`, 'transient');
      } else {
        pass.wakeAt(started + limits.bootTimeoutMs + 1);
      }
      return;
    }
    case 'scanning':
      if (now - started > limits.launchTimeoutMs) fail(pass, n, `launch timeout after ${limits.launchTimeoutMs / 1000} s`);
      else pass.actions.push({ type: 'scan-node', nodeId: n.id });
      return;
    default:
      pass.actions.push({ type: 'create-server', nodeId: n.id });
  }
}

function deleting(pass: PlanPass, n: NodeRecord, view: ProviderCloudView | undefined, reusable: boolean): void {
  const { now, inflight, deleteCalledAt } = pass.input;
  if (inflight.has(`delete:${n.id}`) || inflight.has(`create:${n.id}`)) return;
  if (reusable && n.serverId) {
    // The server outlives the node: once the driver took it back, the node is gone and the server
    // is free for a new node (./plan-register.ts).
    const called = deleteCalledAt.get(n.id);
    if (pass.input.deleteAnsweredAt.has(n.id)) pass.actions.push({ type: 'remove-node', nodeId: n.id, reason: 'server returned to its driver' });
    else if (called === undefined || now - called >= DELETE_RETRY_MS) { if (pass.cap.takeCall(n.provider)) pass.actions.push({ type: 'delete-server', nodeId: n.id }); }
    else pass.wakeAt(called + DELETE_RETRY_MS);
    return;
  }
  if (!n.serverId) {
    if (n.step === 'pending' || n.step === null) {
      pass.actions.push({ type: 'remove-node', nodeId: n.id, reason: 'no server was created' });
      return;
    }
    const found = view ? findByName(view, n.hostname) : undefined;
    if (found) pass.actions.push({ type: 'adopt-server', nodeId: n.id, serverId: found.id });
    else if (missingAfterCreate(view, n)) pass.actions.push({ type: 'remove-node', nodeId: n.id, reason: 'the server was never created' });
    else pass.wakeAt(createAnsweredBy(n));
    return;
  }
  // The node (and its quota) stays until the cloud shows the server gone (./evidence.ts).
  const called = deleteCalledAt.get(n.id);
  if (serverGone(view, n.serverId, pass.input.deleteAnsweredAt.get(n.id))) {
    pass.actions.push({ type: 'remove-node', nodeId: n.id, reason: 'server deleted' });
  } else if (called === undefined || now - called >= DELETE_RETRY_MS) {
    // Without room for another call now, the end of a running one wakes the plan that sends it.
    if (pass.cap.takeCall(n.provider)) pass.actions.push({ type: 'delete-server', nodeId: n.id });
  } else {
    pass.wakeAt(called + DELETE_RETRY_MS);
  }
}
function findByName(view: ProviderCloudView, name: string): ServerView | undefined {
  for (const s of view.servers.values()) if (s.name === name && s.state !== 'deleted') return s;
  return undefined;
}
