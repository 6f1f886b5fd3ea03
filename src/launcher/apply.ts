import type { NodeRecord } from '../model.ts';
import type { Action, LaunchFailure } from './actions.ts';
import { ApplyPart, Tasks, type ApplierContext } from './apply-context.ts';
import { Deletes } from './apply-delete.ts';
import { Launches, type FloatingIps } from './apply-launch.ts';
import { APPLY_AT_ONCE, applySideBySide, CLAIMS_PER_PASS, thisPass } from './apply-order.ts';
import type { PlanInput } from './plan-input.ts';

export type { ApplierContext } from './apply-context.ts';

/**
 * Carries out a plan, and decides nothing: what follows a failure is the next plan's call. Store
 * writes are conditional (they fail harmlessly when another process or an operator changed the row
 * since the snapshot); cloud calls and SSH scans run as background tasks (./apply-context.ts), and
 * what they learn (a failed launch, a delete call's answer) is kept here for the next plan.
 */
export class Applier extends ApplyPart {
  /** Providers that gave a request back (request → providers), tried last when it is claimed again. */
  readonly declined = new Map<string, Set<string>>();
  private readonly launches: Launches;
  private readonly deletes: Deletes;

  constructor(ctx: ApplierContext) {
    super(ctx, new Tasks(ctx.logger, ctx.wake));
    const floatingIps: FloatingIps = new Map();
    this.launches = new Launches(ctx, this.tasks, floatingIps);
    this.deletes = new Deletes(ctx, this.tasks, floatingIps);
  }

  // What the planner reads besides the store and the clouds.
  get inflight(): ReadonlySet<string> { return this.tasks.inflight; }
  get launchFailures(): ReadonlyMap<string, LaunchFailure> { return this.launches.failures; }
  get deleteCalledAt(): ReadonlyMap<string, number> { return this.deletes.deleteCalledAt; }
  get deleteAnsweredAt(): ReadonlyMap<string, number> { return this.deletes.deleteAnsweredAt; }
  get leakSightings(): ReadonlyMap<string, number> { return this.deletes.leakSightings; }
  get leaksDeleted(): number { return this.deletes.leaksDeleted; }
  /** Leaked servers deleted, by provider (metrics: nodepool_provider_leaked_total). */
  get leaksDeletedBy(): ReadonlyMap<string, number> { return this.deletes.leaksDeletedBy; }

  async apply(actions: Action[], input: PlanInput): Promise<void> {
    const nodes = new Map(input.nodes.map((n) => [n.id, n]));
    const noted = new Set<string>();
    const now = thisPass(actions, CLAIMS_PER_PASS);
    const deferred = actions.length - now.length;
    await applySideBySide(now, APPLY_AT_ONCE, async (a) => {
      try {
        await this.one(a, nodes, noted, input);
      } catch (err) {
        this.log.error({ err, action: a.type, ...actionIds(a) }, 'action failed');
      }
    });
    if (deferred) {
      this.log.debug({ launcher: this.by, deferred }, 'claims and launches left to the next pass');
      this.ctx.wake();
    }
    this.deletes.forgetLeaksExcept(noted);
    // A failure of a node that left `building` meanwhile (an operator deleted it) is moot.
    for (const id of this.launches.failures.keys()) {
      const n = nodes.get(id);
      if (n && n.state !== 'building') this.launches.failures.delete(id);
    }
  }

  private async one(a: Action, nodes: Map<string, NodeRecord>, noted: Set<string>, input: PlanInput): Promise<void> {
    const { store, now } = this.ctx;
    switch (a.type) {
      case 'fail-request': {
        if (await store.updateRequest(a.requestId, { state: 'failed', reason: a.reason, stateTime: now(), leaseOwner: null, leaseExpires: null }, this.by, { states: ['requested', 'pending'], leaseFreeOr: this.mine() })) {
          this.log.warn({ request: a.requestId, reason: a.reason }, 'request failed');
          await this.unallocateAll(a.requestId);
        }
        return;
      }
      case 'claim-request': {
        const claimed = await store.updateRequest(a.requestId, { state: 'pending', provider: a.provider, pool: a.pool, stateTime: now(), ...this.lease() },
          this.by, { states: ['requested'], leaseFreeOr: this.mine() });
        if (!claimed) return;
        this.log.info({ request: a.requestId, provider: a.provider, pool: a.pool, reused: a.allocate.length, launching: a.launch.length }, 'request claimed');
        await this.allocateThenLaunch(a.requestId, a.provider, a.pool, a.allocate, a.launch, nodes);
        return;
      }
      case 'launch-for-request':
        if (a.allocate.length) this.log.info({ request: a.requestId, provider: a.provider, pool: a.pool, reused: a.allocate.length, launching: a.labels.length }, 'request given spare nodes');
        await this.allocateThenLaunch(a.requestId, a.provider, a.pool, a.allocate, a.labels, nodes);
        return;
      case 'launch':
        await this.launches.launchNodes(a.provider, a.pool, [a.label], null);
        return;
      case 'register-node':
        await this.launches.registerNode(a);
        return;
      case 'fulfill-request':
        await this.fulfill(a.requestId, a.nodeIds, input);
        return;
      case 'unallocate-node':
        await store.updateNode(a.nodeId, { allocatedTo: null }, this.by, { states: ['building', 'ready'], allocatedTo: nodes.get(a.nodeId)?.allocatedTo ?? '' });
        return;
      case 'return-used': {
        const n = nodes.get(a.nodeId)!;
        if (await store.updateNode(a.nodeId, { state: 'used', stateTime: now() }, this.by, { states: ['in-use'] }, a.reason)) {
          this.log.info({ node: a.nodeId, request: n.allocatedTo, reason: a.reason }, 'node returned as used');
        }
        if (n.allocatedTo) await store.updateRequest(n.allocatedTo, { holderExpires: null }, this.by, { states: ['fulfilled'] });
        return;
      }
      case 'create-server':
        this.launches.startCreate(nodes.get(a.nodeId)!);
        return;
      case 'adopt-server': {
        const n = nodes.get(a.nodeId)!;
        const patch = n.state === 'building' ? { serverId: a.serverId, step: 'booting' as const } : { serverId: a.serverId };
        if (await store.updateNode(a.nodeId, { ...patch, ...this.lease() }, this.by, { leaseFreeOr: this.mine() })) {
          this.log.info({ node: a.nodeId, provider: n.provider, server: a.serverId }, 'server found by name and adopted');
          this.ctx.wake();
        }
        return;
      }
      case 'retry-create':
        await store.updateNode(a.nodeId, { step: 'pending', ...this.lease() }, this.by, { states: ['building'], leaseFreeOr: this.mine() });
        return;
      case 'server-active':
        await this.launches.serverActive(nodes.get(a.nodeId)!, a.server);
        return;
      case 'scan-node':
        this.tasks.spawn(`scan:${a.nodeId}`, () => this.launches.scan(a.nodeId));
        return;
      case 'launch-failed': {
        const n = nodes.get(a.nodeId)!;
        this.launches.failures.delete(a.nodeId);
        this.launches.noteFailure(n, a.kind, a.reason, a.retryAfterMs, a.since ?? n.launchStartedAt ?? undefined);
        await this.launches.launchFailed(n, a);
        return;
      }
      case 'create-later': {
        const n = nodes.get(a.nodeId)!;
        this.launches.failures.delete(a.nodeId);
        if (a.kind === 'rate-limit') this.launches.noteFailure(n, a.kind, a.reason, a.retryAfterMs, a.since);
        await store.updateNode(a.nodeId, { step: 'pending', launchStartedAt: null, createAnsweredAt: null }, this.by, { states: ['building'] });
        return;
      }
      case 'pause-pool':
        this.launches.pausePool(a.provider, a.pool, a.reason);
        return;
      case 'decline-request': {
        if (await store.updateRequest(a.requestId, { state: 'requested', provider: null, pool: null, leaseOwner: null, leaseExpires: null, stateTime: now() },
          this.by, { states: ['pending'], leaseFreeOr: this.mine() }, `declined by ${a.provider}: ${a.reason}`)) {
          const set = this.declined.get(a.requestId) ?? new Set<string>();
          set.add(a.provider);
          this.declined.set(a.requestId, set);
          await this.unallocateAll(a.requestId);
          this.log.warn({ request: a.requestId, provider: a.provider, reason: a.reason }, 'request declined by provider; another provider will take it');
        }
        return;
      }
      case 'delete-node': {
        const n = nodes.get(a.nodeId)!;
        // A ready (or building) node deleted for its age, to make room or because its pool no longer
        // has its label must still be unassigned: another
        // launcher may have given it to a request since our snapshot.
        const cond = { states: [n.state], leaseFreeOr: this.mine(), ...((n.state === 'ready' || n.state === 'building') && !n.allocatedTo ? { unallocated: true } : {}) };
        if (await store.updateNode(a.nodeId, { state: 'deleting', stateTime: now(), comment: n.comment ?? a.reason, ...this.lease() }, this.by, cond, a.reason)) {
          this.log.info({ node: a.nodeId, provider: n.provider, server: n.serverId, reason: a.reason }, 'deleting node');
          if (n.serverId) this.deletes.deleteNodeServer(n);
        }
        return;
      }
      case 'delete-server': {
        this.deletes.deleteNodeServer(nodes.get(a.nodeId)!);
        return;
      }
      case 'remove-node': {
        const n = nodes.get(a.nodeId)!;
        if (await store.removeNode(a.nodeId, this.by, { states: [n.state] })) {
          this.deletes.removed(n);
          this.launches.failures.delete(a.nodeId);
          this.log.info({ node: a.nodeId, provider: n.provider, server: n.serverId, reason: a.reason }, 'node gone');
        }
        return;
      }
      case 'note-leak':
        noted.add(`${a.provider}/${a.serverId}`);
        this.deletes.noteLeak(a.provider, a.serverId);
        return;
      case 'delete-leak':
        noted.add(`${a.provider}/${a.serverId}`);
        this.deletes.deleteLeak(a.provider, a.serverId, a.name);
        return;
    }
  }

  // ---- requests ----

  /**
   * Gives the request the spare nodes the plan chose (each only if still unassigned: another
   * launcher may have taken it since) and launches the rest, with a node for each one taken.
   */
  private async allocateThenLaunch(requestId: string, provider: string, pool: string, allocate: string[], labels: string[], nodes: Map<string, NodeRecord>): Promise<void> {
    const launch = [...labels];
    for (const id of allocate) {
      const ok = await this.ctx.store.updateNode(id, { allocatedTo: requestId }, this.by, { states: ['building', 'ready'], unallocated: true });
      if (!ok) launch.push(nodes.get(id)!.label);
    }
    await this.launches.launchNodes(provider, pool, launch, requestId);
    if (!launch.length) this.ctx.wake();
  }

  /** The request's nodes go in-use and the request fulfilled in one transaction, or nothing changes. */
  private async fulfill(requestId: string, nodeIds: string[], input: PlanInput): Promise<void> {
    const { store, now } = this.ctx;
    const t = now();
    const ok = await store.writeAll([
      ...nodeIds.map((id) => ({ table: 'nodes' as const, id, patch: { state: 'in-use' as const, stateTime: t }, cond: { states: ['ready' as const], allocatedTo: requestId } })),
      {
        table: 'requests', id: requestId,
        patch: { state: 'fulfilled', nodes: nodeIds, fulfilledAt: t, stateTime: t, holderExpires: t + this.ctx.requestLeaseMs, leaseOwner: null, leaseExpires: null },
        cond: { states: ['pending'], leaseFreeOr: this.mine() },
      },
    ], this.by);
    if (!ok) {
      this.log.warn({ request: requestId, nodes: nodeIds }, 'request or its nodes changed before it was fulfilled; will plan again');
      return;
    }
    const req = input.requests.find((r) => r.id === requestId);
    this.log.info({ request: requestId, nodes: nodeIds, provider: req?.provider, ms: t - (req?.createdAt ?? t) }, 'request fulfilled');
  }

  /** Ends the long waits of running tasks and waits for them (shutdown). */
  stop(): Promise<void> {
    return this.tasks.stop();
  }

  /** Waits for every running task (used at shutdown and by tests). */
  drain(): Promise<void> {
    return this.tasks.drain();
  }
}

function actionIds(a: Action): Record<string, unknown> {
  const r = a as Record<string, unknown>;
  return { node: r.nodeId, request: r.requestId, provider: r.provider };
}
