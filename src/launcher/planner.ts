import type { NodeRecord, RequestRecord } from '../model.ts';
import type { ServerView } from '../../providers/provider.ts';
import { poolKey, type PoolView, type Topology } from './topology.ts';
import { add, fits, UNLIMITED, ZERO, type Cost } from './quota.ts';
import type { HealthState } from './health.ts';
import { createAnsweredBy, goneAfterDelete, missingAfterCreate } from './evidence.ts';

/**
 * The reconcile planner (DESIGN promise 7): a pure function of (store snapshot, cloud view,
 * configuration, now) that returns the actions to take and when to look again. It never
 * performs I/O; ./apply.ts carries the actions out with conditional store writes, so a plan made
 * on a stale snapshot can only fail to apply, never do harm.
 */

export type Action =
  | { type: 'fail-request'; requestId: string; reason: string }
  | { type: 'claim-request'; requestId: string; provider: string; pool: string; allocate: string[]; launch: string[] }
  | { type: 'launch-for-request'; requestId: string; provider: string; pool: string; labels: string[] }
  | { type: 'fulfill-request'; requestId: string; nodeIds: string[] }
  | { type: 'decline-request'; requestId: string; provider: string; reason: string }
  | { type: 'unallocate-node'; nodeId: string }
  | { type: 'return-used'; nodeId: string; reason: string }
  | { type: 'launch'; label: string; provider: string; pool: string }
  | { type: 'create-server'; nodeId: string }
  | { type: 'adopt-server'; nodeId: string; serverId: string }
  | { type: 'retry-create'; nodeId: string }
  | { type: 'server-active'; nodeId: string; server: ServerView }
  | { type: 'scan-node'; nodeId: string }
  | { type: 'create-later'; nodeId: string; reason: string; kind: 'quota' | 'rate-limit'; retryAfterMs?: number; since?: number }
  | { type: 'pause-pool'; provider: string; pool: string; reason: string }
  | ({ type: 'launch-failed'; nodeId: string; reason: string; retry: boolean; kind?: string; moved?: boolean; failRequest?: string } & FailureEvidence)
  | { type: 'delete-node'; nodeId: string; reason: string }
  | { type: 'delete-server'; nodeId: string }
  | { type: 'remove-node'; nodeId: string; reason: string }
  | { type: 'note-leak'; provider: string; serverId: string }
  | { type: 'delete-leak'; provider: string; serverId: string; name: string };

/** What a failed launch task saw, carried to the action that records the failure. */
export interface FailureEvidence {
  /** The cloud refused the create call: no server was made, so there is none to look for. */
  nothingMade?: boolean;
  /** The cloud's Retry-After, for the label's backoff. */
  retryAfterMs?: number;
  /** When the failed attempt started (before the rate gate), for the provider's health. */
  since?: number;
}

/**
 * A launch task's failure, reported by ./apply.ts as a fact and not yet acted on: the next plan
 * decides whether the node is created again, retried as a new node, moved with its request to
 * another provider, or failed.
 */
export interface LaunchFailure extends FailureEvidence {
  /** `create`: the create call failed; `scan`: the node never answered over SSH (or its floating IP failed). */
  stage: 'create' | 'scan';
  reason: string;
  /** The error's class (providers/errors.ts); absent when unknown. */
  kind?: string;
  /** A 429: the cloud asked us to slow down and made nothing. */
  throttled?: boolean;
}

/** What the launcher knows of one provider's servers (one cached list, promise 8). */
export interface ProviderCloudView {
  /** Servers believed to exist now, by id. */
  servers: Map<string, ServerView>;
  /**
   * Servers an incremental list showed DELETED (gone for good): id → start of that list. An
   * incremental list that does not name a server says nothing of it; only these and complete
   * lists show a server gone.
   */
  gone: Map<string, number>;
  /** Start time of the newest list that the map reflects; null before the first. */
  refreshedAt: number | null;
  /** Start time of the newest complete (not incremental) list. */
  fullRefreshedAt: number | null;
  /** Counts complete lists, for "seen on two passes". */
  fullRefreshSeq: number;
}

/** What the launcher has learned of a provider: health, quota facts, pauses and backoffs. */
export interface ProviderConditions {
  health: HealthState;
  /** Cost of one node of each pool label (`<pool>/<label>`), from the cloud's flavors; unknown = 1 instance. */
  labelCost: ReadonlyMap<string, Cost>;
  /** Room the cloud's absolute limits leave for our nodes (servers we do not manage taken out); null = not read yet. */
  cloudRoom: Cost | null;
  /** Pools paused after the cloud refused for quota: pool name → until. */
  pausedUntil: ReadonlyMap<string, number>;
  /** Labels in launch backoff in this provider: label → until. */
  backoffUntil: ReadonlyMap<string, number>;
}

export interface PlanInput {
  now: number;
  launcher: string;
  topology: Topology;
  nodes: NodeRecord[];
  /** Open requests plus fulfilled ones whose nodes are in use. */
  requests: RequestRecord[];
  cloud: Map<string, ProviderCloudView>;
  /** Task keys running in this process (`create:<node>`, `scan:<node>`, `delete:<node>`, `leak:<provider>:<server>`). */
  inflight: ReadonlySet<string>;
  /** When this process last asked the cloud to delete a node's server. */
  deleteCalledAt: ReadonlyMap<string, number>;
  /** When that delete call answered (204, or 404 for a server already gone); absent while it runs or after it failed. */
  deleteAnsweredAt: ReadonlyMap<string, number>;
  /** Leaked servers already seen: key `<provider>/<server>` → full-refresh sequence number of the first sighting. */
  leakSightings: ReadonlyMap<string, number>;
  /** Per provider; a provider absent here is healthy with nothing known of its quota. */
  conditions?: ReadonlyMap<string, ProviderConditions>;
  /** Providers that gave a request back after failing it (request id → providers): tried last. */
  declined?: ReadonlyMap<string, ReadonlySet<string>>;
  /** Launch tasks that failed since the last plan, by node. */
  launchFailures?: ReadonlyMap<string, LaunchFailure>;
  /** Pool labels (`<provider>/<pool>/<label>`) whose diskimage has no usable upload there yet: not launched, requests wait. */
  imageless?: ReadonlySet<string>;
}

const NO_CONDITIONS: ProviderConditions = { health: 'healthy', labelCost: new Map(), cloudRoom: null, pausedUntil: new Map(), backoffUntil: new Map() };

/** Why a pool cannot take a launch now; null when it can. `full` alone can be helped by making room. */
type Blocked = null | 'unhealthy' | 'paused' | 'backoff' | 'concurrency' | 'full' | 'tenant' | 'no-image';

export interface Plan {
  actions: Action[];
  /** When a time-based condition next comes due (a timeout, a lease, an age); null = no such thing. */
  nextWakeAt: number | null;
}

/** How long after a delete call we ask again if the server is still there. */
export const DELETE_RETRY_MS = 30_000;
/**
 * How long an in-use node of a request still open is left alone: the request's fulfilment is under
 * way in another launcher. Past it, the launcher that fulfilled it died between the two writes,
 * and the node is returned as used (the request gets fresh nodes).
 */
export const FULFIL_GRACE_MS = 30_000;

const LIVE: ReadonlySet<string> = new Set(['building', 'ready']);

export function plan(input: PlanInput): Plan {
  const p = new Planner(input);
  p.run();
  return { actions: p.actions, nextWakeAt: p.nextWakeAt };
}

class Planner {
  readonly actions: Action[] = [];
  nextWakeAt: number | null = null;
  /** What each pool, provider and tenant holds or is about to hold (every node record counts: each is or was a server). */
  private readonly poolUsed = new Map<string, Cost>();
  private readonly providerUsed = new Map<string, Cost>();
  private readonly tenantUsed = new Map<string, Cost>();
  /** Launches in flight per provider, for max-concurrency. */
  private readonly inFlight = new Map<string, number>();
  private readonly taken = new Set<string>();
  /** Requests given back to be claimed elsewhere in this pass. */
  private readonly declining = new Set<string>();
  private readonly requestsById: Map<string, RequestRecord>;
  private readonly nodesByRequest = new Map<string, NodeRecord[]>();
  private readonly nodesById = new Map<string, NodeRecord>();
  /** Unassigned building/ready nodes by `<provider>/<pool>/<label>`, oldest first. */
  private readonly spare = new Map<string, NodeRecord[]>();
  /** Nodes of each label per pool (`<provider>/<pool>/<label>`), any state, for spreading min-ready. */
  private readonly perPoolLabel = new Map<string, number>();
  /**
   * What each pool and provider holds in servers that exist or are being created: not the nodes
   * waiting to create theirs (a retry waiting for the failed server whose slot it took).
   */
  private readonly serversInPool = new Map<string, Cost>();
  private readonly serversInProvider = new Map<string, Cost>();

  constructor(private readonly in_: PlanInput) {
    this.requestsById = new Map(in_.requests.map((r) => [r.id, r]));
    for (const n of in_.nodes) {
      this.nodesById.set(n.id, n);
      const k = poolKey(n.provider, n.pool);
      const tenant = n.allocatedTo ? this.requestsById.get(n.allocatedTo)?.tenant ?? null : null;
      this.charge(n.provider, n.pool, [n.label], tenant);
      if (this.mayHoldServer(n)) this.holdServer(n);
      if (n.state === 'building') this.inFlight.set(n.provider, (this.inFlight.get(n.provider) ?? 0) + 1);
      const lk = `${k}/${n.label}`;
      this.perPoolLabel.set(lk, (this.perPoolLabel.get(lk) ?? 0) + 1);
      if (n.allocatedTo === null && LIVE.has(n.state)) {
        const list = this.spare.get(lk) ?? [];
        list.push(n);
        this.spare.set(lk, list);
      }
      if (n.allocatedTo) {
        const list = this.nodesByRequest.get(n.allocatedTo) ?? [];
        list.push(n);
        this.nodesByRequest.set(n.allocatedTo, list);
      }
    }
  }

  run(): void {
    this.nodeLifecycles();
    this.requestsInOrder();
    this.minReady();
    this.leaks();
  }

  private wakeAt(t: number): void {
    if (this.nextWakeAt === null || t < this.nextWakeAt) this.nextWakeAt = t;
  }

  private owned(n: { leaseOwner: string | null; leaseExpires: number | null }): boolean {
    return n.leaseOwner === null || n.leaseOwner === this.in_.launcher || (n.leaseExpires ?? 0) < this.in_.now;
  }

  private cond(provider: string): ProviderConditions {
    return this.in_.conditions?.get(provider) ?? NO_CONDITIONS;
  }

  private cost(provider: string, pool: string, labels: string[]): Cost {
    const costs = this.cond(provider).labelCost;
    let c = ZERO;
    for (const l of labels) c = add(c, costs.get(`${pool}/${l}`) ?? { instances: 1, cores: 0, ram: 0 });
    return c;
  }

  /** Books nodes against their pool, provider and tenant. */
  private charge(provider: string, pool: string, labels: string[], tenant: string | null): void {
    const c = this.cost(provider, pool, labels);
    const k = poolKey(provider, pool);
    this.poolUsed.set(k, add(this.poolUsed.get(k) ?? ZERO, c));
    this.providerUsed.set(provider, add(this.providerUsed.get(provider) ?? ZERO, c));
    if (tenant) this.tenantUsed.set(tenant, add(this.tenantUsed.get(tenant) ?? ZERO, c));
  }

  /**
   * Whether a node has a server or may have one: a server id, a create call running here, or one
   * made that lost its answer. Not a node waiting to create its server, nor one that failed before.
   */
  private mayHoldServer(n: NodeRecord): boolean {
    if (n.serverId !== null || this.in_.inflight.has(`create:${n.id}`)) return true;
    return n.step === 'creating' || n.step === 'booting' || n.step === 'scanning';
  }

  private holdServer(n: NodeRecord): void {
    const c = this.cost(n.provider, n.pool, [n.label]);
    const k = poolKey(n.provider, n.pool);
    this.serversInPool.set(k, add(this.serversInPool.get(k) ?? ZERO, c));
    this.serversInProvider.set(n.provider, add(this.serversInProvider.get(n.provider) ?? ZERO, c));
  }

  /**
   * Whether a node waiting to create its server may do so now: its server must fit the pool's
   * limits and the cloud's room beside the servers that exist or are being created. A retry that
   * took a failed node's slot in a full pool waits here until the failed server is gone.
   */
  private roomToCreate(n: NodeRecord): boolean {
    const pool = this.in_.topology.pools.find((p) => p.provider === n.provider && p.pool === n.pool);
    if (!pool) return false;
    const c = this.cost(n.provider, n.pool, [n.label]);
    if (!fits(this.serversInPool.get(poolKey(n.provider, n.pool)) ?? ZERO, c, pool.limit)) return false;
    if (!fits(this.serversInProvider.get(n.provider) ?? ZERO, c, this.cond(n.provider).cloudRoom ?? UNLIMITED)) return false;
    this.holdServer(n);
    return true;
  }

  /** Reserves launches planned in this pass, so two launches never both take the last slot. */
  private reserve(provider: string, pool: string, labels: string[], tenant: string | null): void {
    this.charge(provider, pool, labels, tenant);
    this.inFlight.set(provider, (this.inFlight.get(provider) ?? 0) + labels.length);
  }

  /** Count `labels` against the pool alone (not its provider or tenant) for the rest of the pass. */
  private hold(pool: PoolView, labels: string[]): void {
    const k = poolKey(pool.provider, pool.pool);
    this.poolUsed.set(k, add(this.poolUsed.get(k) ?? ZERO, this.cost(pool.provider, pool.pool, labels)));
  }

  /** Instances left in the pool (for preferring the emptiest). */
  private free(pool: PoolView): number {
    return pool.maxServers - (this.poolUsed.get(poolKey(pool.provider, pool.pool))?.instances ?? 0);
  }

  /** Whether `labels` can be launched in `pool` now (promise 4: quota is respected before the cloud says no). */
  private blocked(pool: PoolView, labels: string[], tenant: string | null): Blocked {
    const { now } = this.in_;
    const c = this.cond(pool.provider);
    if (c.health === 'unhealthy') return 'unhealthy';
    const paused = c.pausedUntil.get(pool.pool);
    if (paused !== undefined && paused > now) { this.wakeAt(paused); return 'paused'; }
    for (const l of labels) {
      if (this.in_.imageless?.has(`${poolKey(pool.provider, pool.pool)}/${l}`)) return 'no-image';
      const until = c.backoffUntil.get(l);
      if (until !== undefined && until > now) { this.wakeAt(until); return 'backoff'; }
    }
    const limits = this.in_.topology.providers.get(pool.provider);
    if ((this.inFlight.get(pool.provider) ?? 0) + labels.length > (limits?.maxConcurrency ?? Infinity)) return 'concurrency';
    const extra = this.cost(pool.provider, pool.pool, labels);
    if (!fits(this.poolUsed.get(poolKey(pool.provider, pool.pool)) ?? ZERO, extra, pool.limit)) return 'full';
    if (!fits(this.providerUsed.get(pool.provider) ?? ZERO, extra, c.cloudRoom ?? UNLIMITED)) return 'full';
    const tenantLimit = tenant ? this.in_.topology.tenants.get(tenant) : undefined;
    if (tenantLimit && !fits(this.tenantUsed.get(tenant!) ?? ZERO, extra, tenantLimit)) return 'tenant';
    return null;
  }

  // ---- nodes: the launch and delete state machines, holds, ages, leases of requestors ----

  private nodeLifecycles(): void {
    const { now, inflight } = this.in_;
    for (const n of this.in_.nodes) {
      const limits = this.in_.topology.providers.get(n.provider);
      const view = this.in_.cloud.get(n.provider);
      switch (n.state) {
        case 'building': {
          if (!this.owned(n) || !limits) break;
          if (inflight.has(`create:${n.id}`) || inflight.has(`scan:${n.id}`)) {
            if (n.launchStartedAt !== null) this.wakeAt(n.launchStartedAt + limits.launchTimeoutMs);
            if (n.launchStartedAt !== null && now - n.launchStartedAt > limits.launchTimeoutMs && n.step === 'scanning') {
              this.fail(n, `launch timeout: not reachable over SSH after ${limits.launchTimeoutMs / 1000} s`);
            }
            break;
          }
          this.building(n, limits, view);
          break;
        }
        case 'ready': {
          if (n.allocatedTo && !this.isOpen(n.allocatedTo)) {
            this.actions.push({ type: 'unallocate-node', nodeId: n.id });
            break;
          }
          const age = this.in_.topology.labels.get(n.label)?.maxReadyAgeMs ?? 0;
          if (!n.allocatedTo && age > 0) {
            if (now - n.stateTime >= age) this.deleteNode(n, `ready for more than max-ready-age (${age / 1000} s)`);
            else this.wakeAt(n.stateTime + age);
          }
          if (!n.allocatedTo && !this.taken.has(n.id) && n.serverId && view?.fullRefreshedAt && view.fullRefreshedAt > n.stateTime && !view.servers.has(n.serverId)) {
            this.actions.push({ type: 'remove-node', nodeId: n.id, reason: 'server vanished from the cloud' });
            this.taken.add(n.id);
          }
          break;
        }
        case 'in-use': {
          const req = n.allocatedTo ? this.requestsById.get(n.allocatedTo) : undefined;
          if (req && (req.state === 'requested' || req.state === 'pending') && now - n.stateTime < FULFIL_GRACE_MS) {
            // Another launcher is fulfilling it: it marks the nodes in-use, then the request, and
            // this snapshot fell between the two writes (seen with three launchers on PostgreSQL).
            this.wakeAt(n.stateTime + FULFIL_GRACE_MS);
          } else if (!req || req.state !== 'fulfilled' || req.holderExpires === null) {
            this.actions.push({ type: 'return-used', nodeId: n.id, reason: 'released by its requestor' });
          } else if (req.holderExpires <= now) {
            this.actions.push({ type: 'return-used', nodeId: n.id, reason: `lease of request ${req.id} expired` });
          } else {
            this.wakeAt(req.holderExpires);
          }
          break;
        }
        case 'used':
          if (this.owned(n)) this.deleteNode(n, 'used');
          break;
        case 'hold':
          if (n.holdExpires !== null) {
            if (n.holdExpires <= now) this.deleteNode(n, 'hold expired');
            else this.wakeAt(n.holdExpires);
          }
          break;
        case 'failed':
          if (this.owned(n)) this.deleteNode(n, n.comment ?? 'launch failed');
          break;
        case 'deleting':
          if (this.owned(n)) this.deleting(n, view);
          break;
      }
    }
  }

  private building(n: NodeRecord, limits: { bootTimeoutMs: number; launchTimeoutMs: number }, view: ProviderCloudView | undefined): void {
    const { now } = this.in_;
    const started = n.launchStartedAt ?? n.createdAt;
    const failure = this.in_.launchFailures?.get(n.id);
    if (failure) {
      this.launchFailure(n, failure);
      return;
    }
    if (this.cond(n.provider).health === 'unhealthy') {
      // An unhealthy provider (offline, or failing again and again) gets no new server, and a
      // request does not wait for the boot-timeout of the servers it has there: its nodes move with
      // it to another provider that has its labels. A node for min-ready not yet created is dropped.
      const req = n.allocatedTo && this.isOpen(n.allocatedTo) ? this.requestsById.get(n.allocatedTo)! : null;
      if (req ? this.canMove(req) : n.step === 'pending') {
        this.fail(n, `provider ${n.provider} is unhealthy`, 'capacity');
        return;
      }
      if (n.step === 'pending') return;
    }
    switch (n.step) {
      case 'pending': {
        // A launch retried after a failure waits out the provider and label's backoff, a pool
        // paused after a quota refusal, and room for its server.
        const until = this.cond(n.provider).backoffUntil.get(n.label);
        if (until !== undefined && until > now) { this.wakeAt(until); return; }
        const paused = this.cond(n.provider).pausedUntil.get(n.pool);
        if (paused !== undefined && paused > now) { this.wakeAt(paused); return; }
        if (!this.roomToCreate(n)) return;
        this.actions.push({ type: 'create-server', nodeId: n.id });
        return;
      }
      case 'creating': {
        // The create call's answer was lost (the process died): find the server by its name.
        const found = view ? findByName(view, n.hostname) : undefined;
        if (found) this.actions.push({ type: 'adopt-server', nodeId: n.id, serverId: found.id });
        else if (missingAfterCreate(view, n)) this.actions.push({ type: 'retry-create', nodeId: n.id });
        else this.wakeAt(createAnsweredBy(n));
        return;
      }
      case 'booting': {
        const server = n.serverId ? view?.servers.get(n.serverId) : undefined;
        if (server?.state === 'active') {
          if (server.publicIpv4 ?? server.privateIpv4 ?? server.publicIpv6) this.actions.push({ type: 'server-active', nodeId: n.id, server });
          else this.fail(n, 'server is ACTIVE but has no address');
        } else if (server?.state === 'error') {
          const f = server.fault;
          this.fail(n, `server went to ERROR${f ? `: ${f.code} ${f.message.trim()}` : ''}`, f?.kind);
        } else if (!server && missingAfterCreate(view, n)) {
          this.fail(n, 'server vanished while booting', 'transient');
        } else if (now - started > limits.bootTimeoutMs) {
          this.fail(n, `boot timeout: not ACTIVE after ${limits.bootTimeoutMs / 1000} s`, 'transient');
        } else {
          this.wakeAt(started + limits.bootTimeoutMs + 1);
        }
        return;
      }
      case 'scanning':
        if (now - started > limits.launchTimeoutMs) this.fail(n, `launch timeout after ${limits.launchTimeoutMs / 1000} s`);
        else this.actions.push({ type: 'scan-node', nodeId: n.id });
        return;
      default:
        this.actions.push({ type: 'create-server', nodeId: n.id });
    }
  }

  /**
   * A launch task failed. A create call the cloud refused for quota (Nova checks quota before it
   * answers 202, so nothing was made) or throttled with a 429 is made again by the same node,
   * without using an attempt: after a pause of the pool (its limits are read again meanwhile), or
   * after the label's backoff (at least the Retry-After). Anything else is a failed launch.
   */
  private launchFailure(n: NodeRecord, f: LaunchFailure): void {
    const evidence = { ...(f.nothingMade ? { nothingMade: true } : {}), ...(f.retryAfterMs !== undefined ? { retryAfterMs: f.retryAfterMs } : {}), ...(f.since !== undefined ? { since: f.since } : {}) };
    if (f.stage === 'create' && f.kind === 'quota') {
      this.actions.push({ type: 'pause-pool', provider: n.provider, pool: n.pool, reason: f.reason });
      this.actions.push({ type: 'create-later', nodeId: n.id, reason: f.reason, kind: 'quota' });
      return;
    }
    if (f.stage === 'create' && f.throttled) {
      this.actions.push({ type: 'create-later', nodeId: n.id, reason: f.reason, kind: 'rate-limit', ...evidence });
      return;
    }
    this.fail(n, f.stage === 'create' ? `create failed: ${f.reason}` : f.reason, f.kind, evidence);
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
  private fail(n: NodeRecord, reason: string, kind?: string, evidence: FailureEvidence = {}): void {
    const retries = this.in_.topology.providers.get(n.provider)?.launchRetries ?? 1;
    const req = n.allocatedTo !== null && this.isOpen(n.allocatedTo) ? this.requestsById.get(n.allocatedTo)! : null;
    this.taken.add(n.id);
    const providersFault = kind === 'capacity' || (kind === 'transient' && n.attempt >= 2);
    if (req && providersFault && !this.declining.has(req.id) && this.canMove(req)) {
      this.declining.add(req.id);
      this.actions.push({ type: 'launch-failed', nodeId: n.id, reason, retry: false, kind, moved: true, ...evidence });
      this.actions.push({ type: 'decline-request', requestId: req.id, provider: n.provider, reason });
      return;
    }
    const retry = req !== null && (kind === 'quota' || n.attempt < retries);
    const failRequest = req !== null && !retry
      ? `launch of ${n.label} in ${n.provider} failed after ${n.attempt} attempt${n.attempt > 1 ? 's' : ''}: ${reason}`
      : undefined;
    this.actions.push({ type: 'launch-failed', nodeId: n.id, reason, retry, ...(kind ? { kind } : {}), ...(failRequest ? { failRequest } : {}), ...evidence });
    if (kind === 'quota') this.actions.push({ type: 'pause-pool', provider: n.provider, pool: n.pool, reason });
  }

  private deleteNode(n: NodeRecord, reason: string): void {
    if (this.taken.has(n.id)) return;
    this.taken.add(n.id);
    this.actions.push({ type: 'delete-node', nodeId: n.id, reason });
  }

  private deleting(n: NodeRecord, view: ProviderCloudView | undefined): void {
    const { now, inflight, deleteCalledAt } = this.in_;
    if (inflight.has(`delete:${n.id}`) || inflight.has(`create:${n.id}`)) return;
    if (!n.serverId) {
      if (n.step === 'pending' || n.step === null) {
        this.actions.push({ type: 'remove-node', nodeId: n.id, reason: 'no server was created' });
        return;
      }
      const found = view ? findByName(view, n.hostname) : undefined;
      if (found) this.actions.push({ type: 'adopt-server', nodeId: n.id, serverId: found.id });
      else if (missingAfterCreate(view, n)) this.actions.push({ type: 'remove-node', nodeId: n.id, reason: 'the server was never created' });
      else this.wakeAt(createAnsweredBy(n));
      return;
    }
    // The node (and its quota) stays until the cloud shows the server gone (./evidence.ts).
    const called = deleteCalledAt.get(n.id);
    if (goneAfterDelete(view, n.serverId, this.in_.deleteAnsweredAt.get(n.id))) {
      this.actions.push({ type: 'remove-node', nodeId: n.id, reason: 'server deleted' });
    } else if (called === undefined || now - called >= DELETE_RETRY_MS) {
      this.actions.push({ type: 'delete-server', nodeId: n.id });
    } else {
      this.wakeAt(called + DELETE_RETRY_MS);
    }
  }

  // ---- requests: fail, claim, top up, fulfil ----

  private isOpen(requestId: string): boolean {
    const r = this.requestsById.get(requestId);
    return !!r && (r.state === 'requested' || r.state === 'pending');
  }

  private requestsInOrder(): void {
    const open = this.in_.requests
      .filter((r) => r.state === 'requested' || r.state === 'pending')
      .sort((a, b) => a.priority - b.priority || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    for (const r of open) {
      if (!this.owned(r)) continue;
      if (r.state === 'requested') this.claim(r);
      else this.progress(r);
    }
  }

  private claim(r: RequestRecord): void {
    const unknown = [...new Set(r.labels.filter((l) => !this.in_.topology.labels.has(l)))];
    if (unknown.length) {
      this.actions.push({ type: 'fail-request', requestId: r.id, reason: `unknown label${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}` });
      return;
    }
    const able = this.in_.topology.pools.filter((p) => r.labels.every((l) => p.labels.has(l)) && p.maxServers >= r.labels.length);
    if (!able.length) {
      const serving = this.in_.topology.pools.filter((p) => r.labels.every((l) => p.labels.has(l)));
      const reason = serving.length
        ? `request for ${r.labels.length} nodes is larger than max-servers of every pool that has its labels`
        : `no pool provides all of the labels ${[...new Set(r.labels)].join(', ')} (one request is served by one provider)`;
      this.actions.push({ type: 'fail-request', requestId: r.id, reason });
      return;
    }
    // Providers that gave this request back are tried only when no other provider can take it now.
    const declined = this.in_.declined?.get(r.id);
    const fresh = declined ? able.filter((p) => !declined.has(p.provider)) : able;
    const stale = declined ? able.filter((p) => declined.has(p.provider)) : [];
    const first = this.choose(r, fresh);
    const best = first.best ?? this.choose(r, stale).best;
    if (!best) {
      // Every able pool is busy: the request waits. Where the pool is full, make room, and keep what
      // room it has for this request: a younger request may not take it (a large request is not
      // starved by a stream of small ones; a pool serves its waiting requests in order, as
      // Nodepool's paused pool does).
      const full = first.full ?? this.choose(r, stale).full;
      if (full) {
        this.makeRoom(full, r);
        this.hold(full, r.labels);
      }
      return;
    }
    for (const id of best.allocate) this.taken.add(id);
    this.reserve(best.pool.provider, best.pool.pool, best.launch, r.tenant);
    this.actions.push({
      type: 'claim-request', requestId: r.id, provider: best.pool.provider, pool: best.pool.pool,
      allocate: best.allocate, launch: best.launch,
    });
  }

  /** The best pool of `pools` for the request now, and the first full one (to make room in). */
  private choose(r: RequestRecord, pools: PoolView[]): { best: { pool: PoolView; allocate: string[]; launch: string[]; score: number[] } | null; full: PoolView | null } {
    let best: { pool: PoolView; allocate: string[]; launch: string[]; score: number[] } | null = null;
    let full: PoolView | null = null;
    for (const pool of pools) {
      const c = this.cond(pool.provider);
      if (c.health === 'unhealthy') continue;
      const { allocate, launch } = this.match(pool, r.labels);
      const why = launch.length ? this.blocked(pool, launch, r.tenant) : null;
      if (why) {
        // The full pool to wait on: the operator's priority, then the one closest to having room.
        if (why === 'full' && (!full || pool.priority < full.priority || (pool.priority === full.priority && this.free(pool) > this.free(full)))) full = pool;
        continue;
      }
      const ready = allocate.filter((id) => this.nodeState(id) === 'ready').length;
      // Prefer the pool that can hand out the most ready nodes now, then a healthy provider over a
      // degraded one, then the most nodes already booting, then the operator's priority, then room.
      const score = [-ready, c.health === 'degraded' ? 1 : 0, -allocate.length, pool.priority, -this.free(pool)];
      if (!best || lexLess(score, best.score)) best = { pool, allocate, launch, score };
    }
    return { best, full };
  }

  /**
   * A request waits on a full pool: delete the oldest unassigned ready nodes of other labels there
   * (as Nodepool does), never an in-use or held one, and no more than the room still missing once
   * the nodes already on their way out are gone.
   */
  private makeRoom(pool: PoolView, r: RequestRecord): void {
    const k = poolKey(pool.provider, pool.pool);
    const { launch } = this.match(pool, r.labels);
    const leaving = this.in_.nodes.filter((n) => n.provider === pool.provider && n.pool === pool.pool &&
      (n.state === 'deleting' || n.state === 'used' || n.state === 'failed' || this.taken.has(n.id))).length;
    let missing = launch.length - Math.max(0, this.free(pool)) - leaving;
    if (missing <= 0) return;
    const victims = [...this.spare.entries()]
      .filter(([key]) => key.startsWith(`${k}/`) && !r.labels.includes(key.slice(k.length + 1)))
      .flatMap(([, list]) => list)
      .filter((n) => n.state === 'ready' && !this.taken.has(n.id))
      .sort((a, b) => a.stateTime - b.stateTime);
    for (const v of victims) {
      if (missing-- <= 0) break;
      this.deleteNode(v, `making room in ${k} for request ${r.id}`);
    }
  }

  private nodeState(id: string): string | undefined {
    return this.nodesById.get(id)?.state;
  }

  /** Unassigned nodes of the pool that can serve the labels (ready ones first, then booting ones). */
  private match(pool: PoolView, labels: string[]): { allocate: string[]; launch: string[] } {
    const allocate: string[] = [];
    const launch: string[] = [];
    const chosen = new Set<string>();
    for (const label of labels) {
      const candidates = this.spare.get(`${poolKey(pool.provider, pool.pool)}/${label}`) ?? [];
      const usable = (n: NodeRecord) => !this.taken.has(n.id) && !chosen.has(n.id);
      const pick = candidates.find((n) => n.state === 'ready' && usable(n)) ?? candidates.find(usable);
      if (pick) { allocate.push(pick.id); chosen.add(pick.id); } else launch.push(label);
    }
    return { allocate, launch };
  }

  private progress(r: RequestRecord): void {
    if (this.declining.has(r.id)) return;
    const live = (this.nodesByRequest.get(r.id) ?? []).filter((n) => LIVE.has(n.state) && !this.taken.has(n.id))
      .sort((a, b) => (a.state === 'ready' ? 0 : 1) - (b.state === 'ready' ? 0 : 1) || a.createdAt - b.createdAt);
    // Labels not covered by a live node (a node deleted by an operator, or lost): launch them again.
    const missing = [...r.labels];
    const mine: NodeRecord[] = [];
    for (const n of live) {
      const i = missing.indexOf(n.label);
      if (i >= 0) {
        missing.splice(i, 1);
        mine.push(n);
      } else {
        // More nodes than asked for (two launchers that both saw the request short launched for
        // it, seen under heavy load with 5 s leases): the extra goes back to the pool, or the
        // request would never be fulfilled.
        this.taken.add(n.id);
        this.actions.push({ type: 'unallocate-node', nodeId: n.id });
      }
    }
    const retrying = (this.nodesByRequest.get(r.id) ?? []).some((n) => this.taken.has(n.id));
    if (missing.length && !retrying && r.provider && r.pool) {
      const pool = this.in_.topology.pools.find((p) => p.provider === r.provider && p.pool === r.pool);
      if (!pool) {
        this.actions.push({ type: 'fail-request', requestId: r.id, reason: `provider ${r.provider} pool ${r.pool} is no longer configured` });
      } else if (!this.blocked(pool, missing, r.tenant)) {
        this.reserve(pool.provider, pool.pool, missing, r.tenant);
        this.actions.push({ type: 'launch-for-request', requestId: r.id, provider: pool.provider, pool: pool.pool, labels: missing });
      } else if (this.cond(pool.provider).health === 'unhealthy' && !this.declining.has(r.id) && this.canMove(r)) {
        this.declining.add(r.id);
        this.actions.push({ type: 'decline-request', requestId: r.id, provider: pool.provider, reason: `provider ${pool.provider} is unhealthy` });
      }
      return;
    }
    if (!missing.length && mine.length === r.labels.length && mine.every((n) => n.state === 'ready')) {
      const order = orderByLabels(r.labels, mine);
      this.actions.push({ type: 'fulfill-request', requestId: r.id, nodeIds: order });
    }
  }

  /** Whether another provider, not yet declined, has a pool with every label of the request. */
  canMove(r: RequestRecord): boolean {
    const declined = this.in_.declined?.get(r.id);
    return this.in_.topology.pools.some((p) => p.provider !== r.provider && !declined?.has(p.provider) &&
      r.labels.every((l) => p.labels.has(l)) && p.maxServers >= r.labels.length);
  }

  // ---- min-ready ----

  private minReady(): void {
    for (const [label, cfg] of this.in_.topology.labels) {
      if (cfg.minReady <= 0) continue;
      let spare = 0;
      for (const pool of this.in_.topology.pools) {
        for (const n of this.spare.get(`${poolKey(pool.provider, pool.pool)}/${label}`) ?? []) if (!this.taken.has(n.id)) spare++;
      }
      let deficit = cfg.minReady - spare;
      while (deficit > 0) {
        const pools = this.in_.topology.pools.filter((p) => p.labels.has(label) && !this.blocked(p, [label], null));
        if (!pools.length) break;
        // Spread a label over the providers that have it: the pool with the fewest of the label first.
        const count = (p: PoolView) => this.perPoolLabel.get(`${poolKey(p.provider, p.pool)}/${label}`) ?? 0;
        const degraded = (p: PoolView) => (this.cond(p.provider).health === 'degraded' ? 1 : 0);
        pools.sort((a, b) => degraded(a) - degraded(b) || count(a) - count(b) || a.priority - b.priority || this.free(b) - this.free(a));
        const pool = pools[0];
        this.reserve(pool.provider, pool.pool, [label], null);
        const lk = `${poolKey(pool.provider, pool.pool)}/${label}`;
        this.perPoolLabel.set(lk, (this.perPoolLabel.get(lk) ?? 0) + 1);
        this.actions.push({ type: 'launch', label, provider: pool.provider, pool: pool.pool });
        deficit--;
      }
    }
  }

  // ---- leaks (promise 1) ----

  private leaks(): void {
    const byId = this.nodesById;
    for (const [provider, view] of this.in_.cloud) {
      if (!view.fullRefreshedAt) continue;
      for (const s of view.servers.values()) {
        if (s.metadata.nodepool_provider_name !== provider || s.state === 'deleted') continue;
        const node = byId.get(s.metadata.nodepool_node_id ?? '');
        // A node still creating may adopt this server; a node that has another server id owns that one.
        const known = node && (node.serverId === s.id || (node.serverId === null && node.hostname === s.name));
        if (known) continue;
        const key = `${provider}/${s.id}`;
        if (this.in_.inflight.has(`leak:${key}`)) continue;
        const first = this.in_.leakSightings.get(key);
        if (first === undefined) this.actions.push({ type: 'note-leak', provider, serverId: s.id });
        else if (first < view.fullRefreshSeq) this.actions.push({ type: 'delete-leak', provider, serverId: s.id, name: s.name });
      }
    }
  }
}

function findByName(view: ProviderCloudView, name: string): ServerView | undefined {
  for (const s of view.servers.values()) if (s.name === name && s.state !== 'deleted') return s;
  return undefined;
}

function orderByLabels(labels: string[], nodes: NodeRecord[]): string[] {
  const left = [...nodes];
  return labels.map((l) => {
    const i = left.findIndex((n) => n.label === l);
    return left.splice(i, 1)[0].id;
  });
}

function lexLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}
