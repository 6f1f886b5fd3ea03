import { isCloudError } from '../../providers/errors.ts';
import type { ServerView } from '../../providers/provider.ts';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { NodeRecord } from '../model.ts';
import { newNodeRecord } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import { scanUntil } from './keyscan.ts';
import type { ProviderRuntime } from './launcher.ts';
import { DELETE_RETRY_MS, type Action, type LaunchFailure, type PlanInput } from './planner.ts';
import type { Topology } from './topology.ts';

export interface ApplierContext {
  store: Store;
  logger: Logger;
  launcher: string;
  now: () => number;
  leaseMs: number;
  requestLeaseMs: number;
  config: Config;
  topology: Topology;
  providers: Map<string, ProviderRuntime>;
  wake: () => void;
}

/** Weight of the newest sample in the boot/delete time averages. */
const EWMA = 0.3;
/** How long a pool stops launching after the cloud refused for quota; the limits are read again meanwhile. */
const PAUSE_MS = 10_000;

/**
 * Carries out a plan. Store writes are conditional (they fail harmlessly when another process or
 * an operator changed the row since the snapshot); cloud calls and SSH scans run as background
 * tasks keyed in `inflight`, so the planner does not issue them twice, and each task wakes the
 * launcher when it is done.
 */
export class Applier {
  readonly inflight = new Set<string>();
  readonly deleteCalledAt = new Map<string, number>();
  /** When the last delete call of each node's server answered: only lists sent after it show the server gone. */
  readonly deleteAnsweredAt = new Map<string, number>();
  readonly leakSightings = new Map<string, number>();
  /** Launch tasks that failed, by node, until a plan acts on them (the planner decides what follows). */
  readonly launchFailures = new Map<string, LaunchFailure>();
  /** Floating IPs this process attached, by node, released when the node is deleted. */
  private readonly floatingIps = new Map<string, { provider: string; id: string }>();
  /** Failed delete calls per node, for their backoff. */
  private readonly deleteFailures = new Map<string, number>();
  /** Providers that gave a request back (request → providers), tried last when it is claimed again. */
  readonly declined = new Map<string, Set<string>>();
  private readonly tasks = new Set<Promise<void>>();
  /** Set by stop(): waits that could last minutes (a host-key scan until launch-timeout) end early; the store keeps where each node was, for the next start. */
  private stopping = false;
  leaksDeleted = 0;
  /** Leaked servers deleted, by provider (metrics: nodepool_provider_leaked_total). */
  readonly leaksDeletedBy = new Map<string, number>();

  constructor(private readonly ctx: ApplierContext) {}

  private get log(): Logger { return this.ctx.logger; }
  private get by(): string { return this.ctx.launcher; }
  private lease(): { leaseOwner: string; leaseExpires: number } {
    return { leaseOwner: this.ctx.launcher, leaseExpires: this.ctx.now() + this.ctx.leaseMs };
  }
  private mine() { return { owner: this.ctx.launcher, now: this.ctx.now() }; }

  async apply(actions: Action[], input: PlanInput): Promise<void> {
    const nodes = new Map(input.nodes.map((n) => [n.id, n]));
    const noted = new Set<string>();
    for (const a of actions) {
      try {
        await this.one(a, nodes, noted);
      } catch (err) {
        this.log.error({ err, action: a.type, ...actionIds(a) }, 'action failed');
      }
    }
    // Forget sightings of servers that are no longer suspects (deleted, or claimed by a node).
    for (const key of this.leakSightings.keys()) if (!noted.has(key)) this.leakSightings.delete(key);
    // A failure of a node that left `building` meanwhile (an operator deleted it) is moot.
    for (const id of this.launchFailures.keys()) {
      const n = nodes.get(id);
      if (n && n.state !== 'building') this.launchFailures.delete(id);
    }
  }

  private async one(a: Action, nodes: Map<string, NodeRecord>, noted: Set<string>): Promise<void> {
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
        const launch = [...a.launch];
        for (const id of a.allocate) {
          const ok = await store.updateNode(id, { allocatedTo: a.requestId }, this.by, { states: ['building', 'ready'], unallocated: true });
          if (!ok) launch.push(nodes.get(id)!.label);
        }
        this.log.info({ request: a.requestId, provider: a.provider, pool: a.pool, reused: a.allocate.length, launching: launch.length }, 'request claimed');
        await this.launchNodes(a.provider, a.pool, launch, a.requestId);
        if (!launch.length) this.ctx.wake();
        return;
      }
      case 'launch-for-request':
        await this.launchNodes(a.provider, a.pool, a.labels, a.requestId);
        return;
      case 'launch':
        await this.launchNodes(a.provider, a.pool, [a.label], null);
        return;
      case 'fulfill-request':
        await this.fulfill(a.requestId, a.nodeIds);
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
        this.spawn(`create:${a.nodeId}`, () => this.createServer(a.nodeId));
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
        await this.serverActive(nodes.get(a.nodeId)!, a.server);
        return;
      case 'scan-node':
        this.spawn(`scan:${a.nodeId}`, () => this.scan(a.nodeId));
        return;
      case 'launch-failed': {
        const n = nodes.get(a.nodeId)!;
        this.launchFailures.delete(a.nodeId);
        this.noteFailure(n, a.kind, a.reason, a.retryAfterMs, a.since ?? n.launchStartedAt ?? undefined);
        await this.launchFailed(n, a);
        return;
      }
      case 'create-later': {
        const n = nodes.get(a.nodeId)!;
        this.launchFailures.delete(a.nodeId);
        if (a.kind === 'rate-limit') this.noteFailure(n, a.kind, a.reason, a.retryAfterMs, a.since);
        await store.updateNode(a.nodeId, { step: 'pending', launchStartedAt: null, createAnsweredAt: null }, this.by, { states: ['building'] });
        return;
      }
      case 'pause-pool':
        this.pausePool(a.provider, a.pool, a.reason);
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
        // A ready node deleted for its age or to make room must still be unassigned: another
        // launcher may have given it to a request since our snapshot.
        const cond = { states: [n.state], leaseFreeOr: this.mine(), ...(n.state === 'ready' && !n.allocatedTo ? { unallocated: true } : {}) };
        if (await store.updateNode(a.nodeId, { state: 'deleting', stateTime: now(), comment: n.comment ?? a.reason, ...this.lease() }, this.by, cond, a.reason)) {
          this.log.info({ node: a.nodeId, provider: n.provider, server: n.serverId, reason: a.reason }, 'deleting node');
          if (n.serverId) this.spawn(`delete:${a.nodeId}`, () => this.deleteServer(a.nodeId, n.provider, n.serverId!));
        }
        return;
      }
      case 'delete-server': {
        const n = nodes.get(a.nodeId)!;
        this.spawn(`delete:${a.nodeId}`, () => this.deleteServer(a.nodeId, n.provider, n.serverId!));
        return;
      }
      case 'remove-node': {
        const n = nodes.get(a.nodeId)!;
        if (await store.removeNode(a.nodeId, this.by, { states: [n.state] })) {
          const called = this.deleteCalledAt.get(a.nodeId);
          const rt = this.ctx.providers.get(n.provider);
          if (called !== undefined && rt) rt.deleteEstimateMs = ewma(rt.deleteEstimateMs, Math.max(0, (rt.cache.view.refreshedAt ?? now()) - called));
          this.deleteCalledAt.delete(a.nodeId);
          this.deleteAnsweredAt.delete(a.nodeId);
          this.deleteFailures.delete(a.nodeId);
          this.launchFailures.delete(a.nodeId);
          this.log.info({ node: a.nodeId, provider: n.provider, server: n.serverId, reason: a.reason }, 'node gone');
        }
        return;
      }
      case 'note-leak': {
        const key = `${a.provider}/${a.serverId}`;
        noted.add(key);
        this.leakSightings.set(key, this.ctx.providers.get(a.provider)!.cache.view.fullRefreshSeq);
        this.log.info({ provider: a.provider, server: a.serverId }, 'server with our tags unknown to the store: deleting it if it is still there on the next pass');
        return;
      }
      case 'delete-leak': {
        const key = `${a.provider}/${a.serverId}`;
        noted.add(key);
        const called = this.deleteCalledAt.get(`leak:${key}`);
        if (called !== undefined && now() - called < 30_000) return;
        this.spawn(`leak:${key}`, async () => {
          this.log.warn({ provider: a.provider, server: a.serverId, name: a.name }, 'deleting leaked server');
          const rt = this.ctx.providers.get(a.provider)!;
          await rt.gate.turn();
          this.deleteCalledAt.set(`leak:${key}`, now());
          await rt.adapter.deleteServer(a.serverId);
          this.leaksDeleted++;
          this.leaksDeletedBy.set(a.provider, (this.leaksDeletedBy.get(a.provider) ?? 0) + 1);
        });
        return;
      }
    }
  }

  // ---- launching ----

  /** A fresh record for a launch of `label` in a pool (not yet in the store). */
  private nodeRecord(provider: string, pool: string, label: string, requestId: string | null, attempt: number): NodeRecord {
    const pl = this.ctx.topology.pools.find((p) => p.provider === provider && p.pool === pool)!.labels.get(label)!;
    return newNodeRecord({
      label, provider, pool, connectionPort: pl.connectionPort, username: pl.username, now: this.ctx.now(),
      allocatedTo: requestId, attempt, ...this.lease(),
    });
  }

  private async launchNodes(provider: string, pool: string, labels: string[], requestId: string | null): Promise<void> {
    const poolView = this.ctx.topology.pools.find((p) => p.provider === provider && p.pool === pool)!;
    const attempt = 1;
    for (const label of labels) {
      const node = this.nodeRecord(provider, pool, label, requestId, attempt);
      // Promise 1: the record exists before the cloud is asked for anything. The store counts the
      // pool again as it inserts: another launcher may have taken the room since our snapshot.
      if (!await this.ctx.store.insertNode(node, this.by, { maxServers: poolView.maxServers })) {
        this.log.info({ label, provider, pool, request: requestId }, 'pool full in the store (another launcher took the room): launch waits');
        continue;
      }
      this.log.info({ node: node.id, label, provider, pool, request: requestId, attempt }, 'launching node');
      this.spawn(`create:${node.id}`, () => this.createServer(node.id));
    }
  }

  private async createServer(nodeId: string): Promise<void> {
    const { store, now } = this.ctx;
    const node = await store.getNode(nodeId);
    if (!node || node.state !== 'building') return;
    const rt = this.ctx.providers.get(node.provider)!;
    const providerCfg = this.ctx.topology.providers.get(node.provider)!.config;
    const poolCfg = providerCfg.pools.find((p) => p.name === node.pool)!;
    const pl = this.ctx.topology.pools.find((p) => p.provider === node.provider && p.pool === node.pool)!.labels.get(node.label)!;
    const started = now();
    let sent: number | null = null;
    try {
      const spec = await rt.specs.resolve(poolCfg, pl.config);
      await rt.gate.turn();
      // The call is timed from here, after the rate gate (with `rate: 1`, the 8th of a burst
      // waits 7 s there): boot-timeout, and how late a server whose answer was lost may appear.
      sent = now();
      if (!await store.updateNode(nodeId, { step: 'creating', launchStartedAt: sent, createAnsweredAt: null, ...this.lease() }, this.by, { states: ['building'], leaseFreeOr: this.mine() })) return;
      const az = poolCfg.availabilityZones.length ? poolCfg.availabilityZones[Math.floor(Math.random() * poolCfg.availabilityZones.length)] : undefined;
      const { id } = await rt.adapter.createServer({
        name: node.hostname, flavorId: spec.flavorId, imageId: spec.imageId, networkIds: spec.networkIds,
        keyName: pl.config.keyName, userdata: pl.config.userdata, availabilityZone: az,
        metadata: {
          ...pl.config.instanceProperties,
          nodepool_provider_name: node.provider, nodepool_pool_name: node.pool, nodepool_node_id: node.id,
          nodepool_node_label: node.label, nodepool_launcher: this.by,
        },
        tags: ['nodepool', `nodepool-provider-${node.provider}`],
      });
      const answered = now();
      // Written whatever the node's state now: an operator may have deleted the node meanwhile,
      // and then the delete flow needs the server id.
      await store.updateNode(nodeId, { serverId: id, step: 'booting', createAnsweredAt: answered }, this.by);
      rt.health.success(answered);
      this.log.info({ node: nodeId, provider: node.provider, server: id, ms: answered - sent, gateMs: sent - started }, 'server create accepted');
    } catch (err) {
      const answered = now();
      const reason = isCloudError(err) ? `${err.kind}: ${err.message}` : String(err);
      this.log.warn({ node: nodeId, provider: node.provider, err, ms: sent === null ? undefined : answered - sent }, 'server create failed');
      // Only a list sent after this answer may say whether a server was made after all.
      if (sent !== null) await store.updateNode(nodeId, { createAnsweredAt: answered }, this.by);
      // What follows (made again, retried, moved or failed) is the next plan's decision. A refusal
      // (4xx) means no server exists; after a timeout or a 5xx the server may exist all the same,
      // so the delete flow looks for it by name first.
      this.launchFailures.set(nodeId, {
        stage: 'create', reason, kind: isCloudError(err) ? err.kind : 'transient', since: started,
        ...(isCloudError(err) && err.status !== undefined && err.status < 500 ? { nothingMade: true } : {}),
        ...(isCloudError(err, 'rate-limit') && err.status === 429 ? { throttled: true } : {}),
        ...(isCloudError(err) && err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
      });
    }
  }

  private async serverActive(n: NodeRecord, s: ServerView): Promise<void> {
    const { store, now } = this.ctx;
    // The planner sends only servers with an address here.
    const ip = (s.publicIpv4 ?? s.privateIpv4 ?? s.publicIpv6)!;
    const rt = this.ctx.providers.get(n.provider)!;
    // The sample ends when the list that showed ACTIVE was asked for, not when it answered.
    const seenAt = rt.cache.view.refreshedAt ?? now();
    const from = n.createAnsweredAt ?? n.launchStartedAt;
    if (from !== null) rt.bootEstimateMs = ewma(rt.bootEstimateMs, Math.max(0, seenAt - from));
    const pl = this.ctx.topology.pools.find((p) => p.provider === n.provider && p.pool === n.pool)?.labels.get(n.label);
    const addresses = { interfaceIp: ip, publicIpv4: s.publicIpv4, privateIpv4: s.privateIpv4, publicIpv6: s.publicIpv6, az: s.az };
    if (pl && !pl.hostKeyChecking && !this.needsFloatingIp(n)) {
      await this.markReady(n, { ...addresses, hostKeys: [] });
      return;
    }
    if (await store.updateNode(n.id, { ...addresses, step: 'scanning' }, this.by, { states: ['building'], leaseFreeOr: this.mine() })) {
      this.spawn(`scan:${n.id}`, () => this.scan(n.id));
    }
  }

  /**
   * Whether the node's pool gives nodes a floating IP and we have not given this one yet. (A fixed
   * address outside the private ranges does not count: the pool asks for a floating IP.)
   */
  private needsFloatingIp(n: NodeRecord): boolean {
    const pool = this.ctx.topology.providers.get(n.provider)?.config.pools.find((p) => p.name === n.pool);
    return !!pool?.autoFloatingIp && !this.floatingIps.has(n.id);
  }

  /**
   * Allocates a floating IP with our tags (so a leaked one is found) and associates it with the
   * server; the node is then reached at that address. Its id is kept to release it at delete;
   * after a restart the cleanup sweep releases it once the node is gone.
   */
  private async attachFloatingIp(n: NodeRecord): Promise<NodeRecord> {
    const rt = this.ctx.providers.get(n.provider)!;
    const pool = this.ctx.topology.providers.get(n.provider)!.config.pools.find((p) => p.name === n.pool)!;
    const net = await rt.adapter.findNetwork(pool.floatingIpNetwork);
    if (!net) throw new Error(`no network ${pool.floatingIpNetwork} for floating IPs in ${n.provider}`);
    const fip = await rt.adapter.createFloatingIp(net.id, { nodepool_provider_name: n.provider, nodepool_node_id: n.id });
    this.floatingIps.set(n.id, { provider: n.provider, id: fip.id });
    await rt.adapter.attachFloatingIp(fip.id, n.serverId!);
    const patch = { publicIpv4: fip.address, interfaceIp: fip.address };
    await this.ctx.store.updateNode(n.id, patch, this.by, { states: ['building'] });
    this.log.info({ node: n.id, provider: n.provider, floatingIp: fip.address }, 'floating IP attached');
    return { ...n, ...patch };
  }

  private async scan(nodeId: string): Promise<void> {
    const { store, now } = this.ctx;
    let n = await store.getNode(nodeId);
    if (!n || n.state !== 'building' || !n.interfaceIp) return;
    const limits = this.ctx.topology.providers.get(n.provider)!;
    const deadline = (n.launchStartedAt ?? now()) + limits.launchTimeoutMs;
    let stillBuilding = true;
    const watch = store.subscribe((e) => { if (e.kind === 'node' && e.id === nodeId && e.state && e.state !== 'building') stillBuilding = false; });
    try {
      if (this.needsFloatingIp(n)) n = await this.attachFloatingIp(n);
      const pl = this.ctx.topology.pools.find((p) => p.provider === n!.provider && p.pool === n!.pool)?.labels.get(n.label);
      if (pl && !pl.hostKeyChecking) {
        await this.markReady(n, { hostKeys: [] });
        return;
      }
      const key = await scanUntil(n.interfaceIp!, n.connectionPort, deadline, now, () => !stillBuilding || this.stopping);
      await this.markReady(n, { hostKeys: [key] });
    } catch (err) {
      if (this.stopping) return;
      this.launchFailures.set(nodeId, { stage: 'scan', reason: `launch timeout: ${(err as Error).message}` });
    } finally {
      watch();
    }
  }

  private async markReady(n: NodeRecord, patch: Partial<NodeRecord>): Promise<void> {
    const { store, now } = this.ctx;
    if (await store.updateNode(n.id, { ...patch, state: 'ready', step: null, stateTime: now(), leaseOwner: null, leaseExpires: null }, this.by, { states: ['building'] })) {
      const rt = this.ctx.providers.get(n.provider);
      rt?.health.success(now());
      rt?.backoff.success(n.label);
      this.log.info({ node: n.id, provider: n.provider, label: n.label, request: n.allocatedTo, ms: now() - (n.launchStartedAt ?? n.createdAt) }, 'node ready');
    }
  }

  /**
   * Records a failed launch as the plan decided. Its retry (if any) takes the failed node's slot in
   * the pool in the same write that marks it failed, so the request never looks short of a node and
   * a full pool cannot refuse it: the attempts belong to the request's slot, not to a node row. A
   * quota refusal retries without using an attempt. The request fails (when the plan says so) only
   * if this write of the node succeeded.
   */
  private async launchFailed(n: NodeRecord, a: Extract<Action, { type: 'launch-failed' }>): Promise<void> {
    const { store, now } = this.ctx;
    const { reason, retry, kind } = a;
    // Refused before anything was made: the record is all there is (step null: no server to look for).
    const noServer = n.serverId === null && (a.nothingMade === true || n.step === 'pending');
    const failed = { state: 'failed' as const, stateTime: now(), comment: reason, allocatedTo: null, ...(noServer ? { step: null } : {}), ...this.lease() };
    const building = { states: ['building' as const] };
    const attempt = kind === 'quota' ? n.attempt : n.attempt + 1;
    let ok: boolean;
    let retryId: string | null = null;
    if (retry && n.allocatedTo) {
      const next = this.nodeRecord(n.provider, n.pool, n.label, n.allocatedTo, attempt);
      ok = await store.passSlot(n.id, failed, building, next, this.by, reason);
      retryId = next.id;
    } else {
      ok = noServer ? await store.removeNode(n.id, this.by, building) : await store.updateNode(n.id, failed, this.by, building, reason);
    }
    if (!ok) return;
    this.log.warn({ node: n.id, provider: n.provider, label: n.label, request: n.allocatedTo, attempt: n.attempt, reason, retry }, 'launch failed');
    if (retryId) this.log.info({ node: retryId, label: n.label, provider: n.provider, pool: n.pool, request: n.allocatedTo, attempt, replaces: n.id }, 'launching node');
    if (a.failRequest && n.allocatedTo) {
      if (await store.updateRequest(n.allocatedTo, { state: 'failed', reason: a.failRequest, stateTime: now(), leaseOwner: null, leaseExpires: null }, this.by, { states: ['requested', 'pending'] })) {
        this.log.warn({ request: n.allocatedTo, reason: a.failRequest }, 'request failed');
        await this.unallocateAll(n.allocatedTo);
      }
    }
  }

  /** Counts a failed launch against the provider's health and the label's backoff. */
  private noteFailure(n: NodeRecord, kind: string | undefined, reason: string, retryAfterMs?: number, startedAt?: number): void {
    if (kind === 'quota') return;
    const rt = this.ctx.providers.get(n.provider);
    if (!rt) return;
    const now = this.ctx.now();
    const delay = rt.backoff.failure(n.label, now, retryAfterMs);
    if (kind === 'transient' || kind === 'capacity' || kind === 'rate-limit') {
      if (rt.health.failure(now, reason, startedAt)) this.log.warn({ provider: n.provider, health: rt.health.state, reason: rt.health.reason }, 'provider health changed');
    }
    this.log.info({ provider: n.provider, label: n.label, kind, backoffMs: Math.round(delay) }, 'launch backoff');
  }

  /** Pauses new launches in a pool after a quota refusal and has the limits read again. */
  private pausePool(provider: string, pool: string, reason: string): void {
    const rt = this.ctx.providers.get(provider);
    if (!rt) return;
    rt.pausedUntil.set(pool, this.ctx.now() + PAUSE_MS);
    rt.limitsReadAt = null;
    this.log.warn({ provider, pool, reason, pauseMs: PAUSE_MS }, 'pool paused: the cloud refused for quota');
  }

  private async unallocateAll(requestId: string): Promise<void> {
    for (const other of await this.ctx.store.listNodes({ allocatedTo: requestId })) {
      await this.ctx.store.updateNode(other.id, { allocatedTo: null }, this.by, { states: ['building', 'ready'], allocatedTo: requestId });
    }
  }

  private async fulfill(requestId: string, nodeIds: string[]): Promise<void> {
    const { store, now } = this.ctx;
    const t = now();
    for (const id of nodeIds) {
      if (!await store.updateNode(id, { state: 'in-use', stateTime: t }, this.by, { states: ['ready'], allocatedTo: requestId })) {
        this.log.warn({ request: requestId, node: id }, 'node changed before the request was fulfilled; will plan again');
        return;
      }
    }
    if (await store.updateRequest(requestId, {
      state: 'fulfilled', nodes: nodeIds, fulfilledAt: t, stateTime: t, holderExpires: t + this.ctx.requestLeaseMs, leaseOwner: null, leaseExpires: null,
    }, this.by, { states: ['pending'], leaseFreeOr: this.mine() })) {
      const req = await store.getRequest(requestId);
      this.log.info({ request: requestId, nodes: nodeIds, provider: req?.provider, ms: t - (req?.createdAt ?? t) }, 'request fulfilled');
    }
  }

  // ---- deleting ----

  private async deleteServer(nodeId: string, provider: string, serverId: string): Promise<void> {
    const rt = this.ctx.providers.get(provider)!;
    const started = this.ctx.now();
    try {
      await rt.gate.turn();
      this.deleteCalledAt.set(nodeId, this.ctx.now());
      await rt.adapter.deleteServer(serverId);
      this.deleteAnsweredAt.set(nodeId, this.ctx.now());
      this.log.info({ node: nodeId, provider, server: serverId }, 'server delete accepted; the node stays until a server list shows the server gone');
      const fip = this.floatingIps.get(nodeId);
      if (fip) {
        await rt.adapter.deleteFloatingIp(fip.id).then(() => this.floatingIps.delete(nodeId),
          (err) => this.log.warn({ node: nodeId, provider, floatingIp: fip.id, err }, 'releasing floating IP failed; the cleanup sweep will'));
      }
    } catch (err) {
      // The planner asks again DELETE_RETRY_MS after the last call; a call that failed is asked
      // again sooner, 1 s, 2 s, 4 s ... (as if it had been made that much less than 30 s ago).
      const n = (this.deleteFailures.get(nodeId) ?? 0) + 1;
      this.deleteFailures.set(nodeId, n);
      this.deleteCalledAt.set(nodeId, this.ctx.now() - DELETE_RETRY_MS + Math.min(DELETE_RETRY_MS, 1000 * 2 ** (n - 1)));
      this.log.warn({ node: nodeId, provider, server: serverId, err }, 'server delete failed; will retry');
      if (isCloudError(err) && (err.kind === 'transient' || err.kind === 'rate-limit')) rt.health.failure(this.ctx.now(), `delete failed: ${err.message}`, started);
    }
  }

  // ---- tasks ----

  private spawn(key: string, fn: () => Promise<void>): void {
    if (this.inflight.has(key)) return;
    this.inflight.add(key);
    const task = fn()
      .catch((err) => this.log.error({ err, task: key }, 'task failed'))
      .finally(() => {
        this.inflight.delete(key);
        this.tasks.delete(task);
        this.ctx.wake();
      });
    this.tasks.add(task);
  }

  /** Ends the long waits of running tasks and waits for them (shutdown). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.drain();
  }

  /** Waits for every running task (used at shutdown and by tests). */
  async drain(): Promise<void> {
    while (this.tasks.size) await Promise.allSettled([...this.tasks]);
  }
}

function ewma(prev: number | null, sample: number): number {
  return prev === null ? sample : prev + EWMA * (sample - prev);
}

function actionIds(a: Action): Record<string, unknown> {
  const r = a as Record<string, unknown>;
  return { node: r.nodeId, request: r.requestId, provider: r.provider };
}
