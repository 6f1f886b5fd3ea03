import { CloudError, isCloudError } from '../../providers/errors.ts';
import type { ServerView } from '../../providers/provider.ts';
import type { NodeRecord } from '../model.ts';
import { newNodeRecord } from '../store/records.ts';
import type { Action, LaunchFailure } from './actions.ts';
import { ApplyPart, type ApplierContext, type Tasks } from './apply-context.ts';
import { createHash } from 'node:crypto';
import { algorithmsFor } from './kex-scan.ts';
import { scanUntil } from './keyscan.ts';
import { ewma } from './provider-runtime.ts';

/** Floating IPs this process attached, by node, released when the node is deleted. */
export type FloatingIps = Map<string, { provider: string; id: string }>;

/**
 * How long after a node was written in step `creating` its create call may go out with that write
 * standing for the call's start (`launchStartedAt`, the time the evidence about its server is judged
 * from: orphan grace, launch timeout). Later (a rate gate held it) the start is written again.
 */
const CALL_AS_WRITTEN_MS = 1000;

/**
 * The launch side of the applier: node records written before any cloud call (promise 1), create
 * calls, floating IPs, host-key scans, ready nodes, and the record of a failed launch as the plan
 * decided it. A task that fails reports a `LaunchFailure` and stops there: what follows is the
 * next plan's decision (./plan-failures.ts).
 */
export class Launches extends ApplyPart {
  /** Launch tasks that failed, by node, until a plan acts on them. */
  readonly failures = new Map<string, LaunchFailure>();

  /** Nodes being scanned, by id: `left` once the store said the node left `building` (deleted, failed). */
  private readonly scanning = new Map<string, { left: boolean }>();
  private unwatchScans: (() => void) | null = null;

  constructor(ctx: ApplierContext, tasks: Tasks, private readonly floatingIps: FloatingIps) {
    super(ctx, tasks);
  }

  /**
   * Follows a node while it is scanned, through one store subscription for every scan (held while
   * any runs): a change costs a map lookup, not a call to each of hundreds of scans' listeners.
   */
  private followScan(nodeId: string): { left: boolean; end: () => void } {
    const entry = { left: false };
    this.scanning.set(nodeId, entry);
    this.unwatchScans ??= this.ctx.store.subscribe((e) => {
      if (e.kind !== 'node' || !e.state || e.state === 'building') return;
      const s = this.scanning.get(e.id);
      if (s) s.left = true;
    }, { providers: this.ctx.providers.keys() });
    const end = () => {
      if (this.scanning.get(nodeId) === entry) this.scanning.delete(nodeId);
      if (this.scanning.size === 0 && this.unwatchScans) {
        this.unwatchScans();
        this.unwatchScans = null;
      }
    };
    return Object.assign(entry, { end });
  }

  /**
   * A fresh record for a launch of `label` in a pool (not yet in the store). `sending`: its create
   * call starts as soon as it is written, so it is written in step `creating` (`createServer`).
   */
  private nodeRecord(provider: string, pool: string, label: string, requestId: string | null, attempt: number, sending = false): NodeRecord {
    const pl = this.ctx.topology.pools.find((p) => p.provider === provider && p.pool === pool)!.labels.get(label)!;
    const node = newNodeRecord({
      label, provider, pool, connectionPort: pl.connectionPort, username: pl.username, now: this.ctx.now(),
      allocatedTo: requestId, attempt, ...this.lease(),
    });
    return sending ? { ...node, step: 'creating', launchStartedAt: node.createdAt } : node;
  }

  async launchNodes(provider: string, pool: string, labels: string[], requestId: string | null): Promise<void> {
    const poolView = this.ctx.topology.pools.find((p) => p.provider === provider && p.pool === pool)!;
    const attempt = 1;
    for (const label of labels) {
      // With room for its create call, the node is written as that call's start: one write fewer.
      const node = this.nodeRecord(provider, pool, label, requestId, attempt, this.callRoom(provider));
      // Promise 1: the record exists before the cloud is asked for anything. The store counts the
      // pool again as it inserts: another launcher may have taken the room since our snapshot.
      if (!await this.ctx.store.insertNode(node, this.by, { maxServers: poolView.maxServers })) {
        this.log.info({ label, provider, pool, request: requestId }, 'pool full in the store (another launcher took the room): launch waits');
        continue;
      }
      this.log.info({ node: node.id, label, provider, pool, request: requestId, attempt }, 'launching node');
      this.startCreate(node);
    }
  }

  /**
   * A node on a free reusable server (a static host's slot): written with the server's address
   * and login, in step `scanning`, only while no other node holds the server (the store checks it
   * with the insert), then scanned like a booted server.
   */
  async registerNode(a: Extract<Action, { type: 'register-node' }>): Promise<void> {
    const s = this.ctx.providers.get(a.provider)?.cache.view.servers.get(a.serverId);
    const poolView = this.ctx.topology.pools.find((p) => p.provider === a.provider && p.pool === a.pool);
    if (!s?.host || !poolView) return;
    const t = this.ctx.now();
    const node: NodeRecord = {
      ...newNodeRecord({ label: a.label, provider: a.provider, pool: a.pool, connectionPort: s.host.port, username: s.host.username, now: t, ...this.lease() }),
      step: 'scanning', serverId: a.serverId, hostname: s.host.address, interfaceIp: s.host.address,
      publicIpv4: s.publicIpv4, privateIpv4: s.privateIpv4, publicIpv6: s.publicIpv6, launchStartedAt: t, createAnsweredAt: t, pythonPath: s.host.pythonPath,
    };
    if (!await this.ctx.store.insertNode(node, this.by, { maxServers: poolView.maxServers, exclusiveServer: true })) {
      this.log.info({ provider: a.provider, pool: a.pool, server: a.serverId }, 'server already held by a node (another launcher registered it): not registered');
      return;
    }
    this.log.info({ node: node.id, label: a.label, provider: a.provider, pool: a.pool, server: a.serverId, host: s.host.address, port: s.host.port }, 'node registered on a reusable server');
    this.tasks.spawn(`scan:${node.id}`, () => this.scan(node.id, node));
  }

  /**
   * Starts the create call of a pending node, if the provider has room for another call (else a
   * later plan does). `node` is the record as inserted or planned from: only the fields a node
   * never changes are used; whether it is still building is checked by the conditional write
   * before the call, not by reading it again (a store round trip per node).
   */
  startCreate(node: NodeRecord): void {
    if (this.callRoom(node.provider)) {
      this.tasks.spawn(`create:${node.id}`, () => this.createServer(node), node.provider);
    } else if (node.step === 'creating') {
      // Written as about to call, but the room went to another call meanwhile: it waits as pending.
      this.tasks.spawn(`unsend:${node.id}`, async () => {
        await this.ctx.store.updateNode(node.id, { step: 'pending', launchStartedAt: null }, this.by, { states: ['building'], leaseFreeOr: this.mine() });
      });
    }
  }

  private async createServer(node: NodeRecord): Promise<void> {
    const { store, now } = this.ctx;
    const nodeId = node.id;
    const rt = this.ctx.providers.get(node.provider)!;
    const providerCfg = this.ctx.topology.providers.get(node.provider)!.config;
    const poolCfg = providerCfg.pools.find((p) => p.name === node.pool)!;
    const pl = this.ctx.topology.pools.find((p) => p.provider === node.provider && p.pool === node.pool)!.labels.get(node.label)!;
    const started = now();
    let sent: number | null = null;
    // Inserted in step `creating` (`launchNodes`): that write stands for the call's start if the call
    // goes out soon after it; after a wait (the rate gate) the start is written again.
    const written = node.step === 'creating' && node.launchStartedAt !== null ? node.launchStartedAt : null;
    try {
      const spec = await rt.specs.resolve(poolCfg, pl.config);
      await rt.gate.turn();
      // The call is timed from here, after the rate gate (with `rate: 1`, the 8th of a burst
      // waits 7 s there): boot-timeout, and how late a server whose answer was lost may appear.
      sent = now();
      if (written === null || sent - written > CALL_AS_WRITTEN_MS) {
        if (!await store.updateNode(nodeId, { step: 'creating', launchStartedAt: sent, createAnsweredAt: null, ...this.lease() }, this.by, { states: ['building'], leaseFreeOr: this.mine() })) return;
      }
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
      this.failures.set(nodeId, {
        stage: 'create', reason, kind: isCloudError(err) ? err.kind : 'transient', since: started,
        // Not sent at all (its image or flavor could not be resolved): nothing to look for either.
        ...(sent === null || (isCloudError(err) && err.status !== undefined && err.status < 500) ? { nothingMade: true } : {}),
        ...(isCloudError(err, 'rate-limit') && err.status === 429 ? { throttled: true } : {}),
        ...(isCloudError(err) && err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
      });
    }
  }

  async serverActive(n: NodeRecord, s: ServerView): Promise<void> {
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
      this.tasks.spawn(`scan:${n.id}`, () => this.scan(n.id, { ...n, ...addresses, step: 'scanning' }));
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
    const { catalog, floatingIps } = rt.adapter;
    if (!catalog || !floatingIps) throw new CloudError({ kind: 'config', message: `provider ${n.provider}: its driver has no floating IPs (auto-floating-ip)` });
    const net = await catalog.findNetwork(pool.floatingIpNetwork);
    if (!net) throw new Error(`no network ${pool.floatingIpNetwork} for floating IPs in ${n.provider}`);
    const fip = await floatingIps.create(net.id, { nodepool_provider_name: n.provider, nodepool_node_id: n.id });
    this.floatingIps.set(n.id, { provider: n.provider, id: fip.id });
    await floatingIps.attach(fip.id, n.serverId!);
    const patch = { publicIpv4: fip.address, interfaceIp: fip.address };
    await this.ctx.store.updateNode(n.id, patch, this.by, { states: ['building'] });
    this.log.info({ node: n.id, provider: n.provider, floatingIp: fip.address }, 'floating IP attached');
    return { ...n, ...patch };
  }

  /** `written`: the record as this launcher just wrote it, when it has it (else it is read). */
  async scan(nodeId: string, written?: NodeRecord): Promise<void> {
    const { store, now } = this.ctx;
    let n = written ?? await store.getNode(nodeId);
    if (!n || n.state !== 'building' || !n.interfaceIp) return;
    const limits = this.ctx.topology.providers.get(n.provider)!;
    const deadline = (n.launchStartedAt ?? now()) + limits.launchTimeoutMs;
    const followed = this.followScan(nodeId);
    try {
      if (this.needsFloatingIp(n)) n = await this.attachFloatingIp(n);
      const pl = this.ctx.topology.pools.find((p) => p.provider === n!.provider && p.pool === n!.pool)?.labels.get(n.label);
      // A reusable server says itself whether it is scanned and which host keys it must present.
      const host = n.serverId ? this.ctx.providers.get(n.provider)?.cache.view.servers.get(n.serverId)?.host : undefined;
      if (host ? !host.hostKeyChecking : pl && !pl.hostKeyChecking) {
        await this.markReady(n, { hostKeys: [] });
        return;
      }
      const pinned = host?.hostKeys ?? [];
      const algorithms = pinned.length ? [...new Set(pinned.flatMap((k) => algorithmsFor(k.split(' ')[0])))] : undefined;
      const key = await scanUntil(n.interfaceIp!, n.connectionPort, deadline, now, () => followed.left || this.tasks.stopping, algorithms);
      if (pinned.length && !pinned.includes(key)) {
        const reason = `host key mismatch: ${n.interfaceIp}:${n.connectionPort} presented ${fingerprint(key)}, not the pinned host-key (${pinned.map(fingerprint).join(', ')})`;
        this.log.error({ node: nodeId, provider: n.provider, server: n.serverId, presented: fingerprint(key), pinned: pinned.map(fingerprint) }, 'host key mismatch: taken out of service');
        this.failures.set(nodeId, { stage: 'scan', reason, kind: 'config' });
        return;
      }
      await this.markReady(n, { hostKeys: [key] });
    } catch (err) {
      if (this.tasks.stopping) return;
      this.failures.set(nodeId, { stage: 'scan', reason: `launch timeout: ${(err as Error).message}` });
    } finally {
      followed.end();
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
  async launchFailed(n: NodeRecord, a: Extract<Action, { type: 'launch-failed' }>): Promise<void> {
    const { store, now } = this.ctx;
    const { reason, retry, kind } = a;
    // Refused before anything was made: the record is all there is (step null: no server to look for).
    const noServer = n.serverId === null && (a.nothingMade === true || n.step === 'pending');
    const failed = { state: 'failed' as const, stateTime: now(), comment: reason, allocatedTo: null, ...(noServer ? { step: null } : {}), ...this.lease() };
    const building = { states: ['building' as const] };
    // A quota refusal, or a create whose answer was lost with its process, is not the node's failure.
    const attempt = kind === 'quota' || kind === 'orphaned' ? n.attempt : n.attempt + 1;
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
  noteFailure(n: NodeRecord, kind: string | undefined, reason: string, retryAfterMs?: number, startedAt?: number): void {
    if (kind === 'quota' || kind === 'orphaned') return;
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
  pausePool(provider: string, pool: string, reason: string): void {
    const rt = this.ctx.providers.get(provider);
    if (!rt) return;
    rt.pausedUntil.set(pool, this.ctx.now() + this.ctx.quotaPauseMs);
    rt.limitsReadAt = null;
    this.log.warn({ provider, pool, reason, pauseMs: this.ctx.quotaPauseMs }, 'pool paused: the cloud refused for quota');
  }
}

/** A host key as OpenSSH shows it: `<type> SHA256:<base64 of the key's SHA-256, unpadded>`. */
function fingerprint(key: string): string {
  const [type, blob] = key.split(' ');
  return `${type} SHA256:${createHash('sha256').update(Buffer.from(blob ?? '', 'base64')).digest('base64').replace(/=+$/, '')}`;
}
