import type { NodeRecord } from '../model.ts';
import { poolKey, type PoolView } from './topology.ts';
import { add, fits, UNLIMITED, ZERO, type Cost } from './quota.ts';
import { NO_CONDITIONS, type PlanInput, type ProviderConditions } from './plan-input.ts';

/** Why a pool cannot take a launch now; null when it can. `full` alone can be helped by making room. */
export type Blocked = null | 'unhealthy' | 'paused' | 'backoff' | 'concurrency' | 'full' | 'tenant' | 'no-image';

/**
 * The quota arithmetic of one plan (promise 4: quota is respected before the cloud says no): what
 * each pool, provider and tenant holds or is about to hold, and whether a launch fits. Every node
 * record counts (each is or was a server); launches planned in the pass are reserved as they are
 * planned, so two launches never both take the last slot.
 */
export class Capacity {
  private readonly poolUsed = new Map<string, Cost>();
  private readonly providerUsed = new Map<string, Cost>();
  private readonly tenantUsed = new Map<string, Cost>();
  /** Launches in flight per provider, for max-concurrency. */
  private readonly inFlight = new Map<string, number>();
  /**
   * What each pool and provider holds in servers that exist or are being created: not the nodes
   * waiting to create theirs (a retry waiting for the failed server whose slot it took).
   */
  private readonly serversInPool = new Map<string, Cost>();
  private readonly serversInProvider = new Map<string, Cost>();
  /** Create and delete calls planned in this pass, by provider (against `callRoom`). */
  private readonly callsPlanned = new Map<string, number>();

  constructor(private readonly input: PlanInput, private readonly wakeAt: (t: number) => void) {}

  /** Counts a node of the snapshot (`tenant`: the tenant of the request it is allocated to). */
  count(n: NodeRecord, tenant: string | null): void {
    this.charge(n.provider, n.pool, [n.label], tenant);
    if (this.mayHoldServer(n)) this.holdServer(n);
    if (n.state === 'building') this.inFlight.set(n.provider, (this.inFlight.get(n.provider) ?? 0) + 1);
  }

  cond(provider: string): ProviderConditions {
    return this.input.conditions?.get(provider) ?? NO_CONDITIONS;
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
    if (n.serverId !== null || this.input.inflight.has(`create:${n.id}`)) return true;
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
  roomToCreate(n: NodeRecord): boolean {
    const pool = this.input.topology.pools.find((p) => p.provider === n.provider && p.pool === n.pool);
    if (!pool) return false;
    const c = this.cost(n.provider, n.pool, [n.label]);
    if (!fits(this.serversInPool.get(poolKey(n.provider, n.pool)) ?? ZERO, c, pool.limit)) return false;
    if (!fits(this.serversInProvider.get(n.provider) ?? ZERO, c, this.cond(n.provider).cloudRoom ?? UNLIMITED)) return false;
    if (!this.takeCall(n.provider)) return false;
    this.holdServer(n);
    return true;
  }

  /**
   * Books one create or delete call in `provider` if its driver can carry another now; when it
   * cannot, the node waits where it is and the plan that follows the end of a call starts it.
   */
  takeCall(provider: string): boolean {
    const room = this.cond(provider).callRoom;
    const planned = this.callsPlanned.get(provider) ?? 0;
    if (room !== undefined && planned >= room) return false;
    this.callsPlanned.set(provider, planned + 1);
    return true;
  }

  /** Reserves launches planned in this pass, so two launches never both take the last slot. */
  reserve(provider: string, pool: string, labels: string[], tenant: string | null): void {
    this.charge(provider, pool, labels, tenant);
    this.inFlight.set(provider, (this.inFlight.get(provider) ?? 0) + labels.length);
  }

  /** Count `labels` against the pool alone (not its provider or tenant) for the rest of the pass. */
  hold(pool: PoolView, labels: string[]): void {
    const k = poolKey(pool.provider, pool.pool);
    this.poolUsed.set(k, add(this.poolUsed.get(k) ?? ZERO, this.cost(pool.provider, pool.pool, labels)));
  }

  /** Instances left in the pool (for preferring the emptiest). */
  free(pool: PoolView): number {
    return pool.maxServers - (this.poolUsed.get(poolKey(pool.provider, pool.pool))?.instances ?? 0);
  }

  /** Whether `labels` can be launched in `pool` now (promise 4: quota is respected before the cloud says no). */
  blocked(pool: PoolView, labels: string[], tenant: string | null): Blocked {
    const { now } = this.input;
    const c = this.cond(pool.provider);
    if (c.health === 'unhealthy') return 'unhealthy';
    const paused = c.pausedUntil.get(pool.pool);
    if (paused !== undefined && paused > now) { this.wakeAt(paused); return 'paused'; }
    for (const l of labels) {
      if (this.input.imageless?.has(`${poolKey(pool.provider, pool.pool)}/${l}`)) return 'no-image';
      const until = c.backoffUntil.get(l);
      if (until !== undefined && until > now) { this.wakeAt(until); return 'backoff'; }
    }
    const limits = this.input.topology.providers.get(pool.provider);
    // Nodes of reusable servers are registered on free servers (./plan-register.ts), never
    // launched: a request waits for one as it waits for room in a full pool.
    if (limits?.reusableServers) return 'full';
    if ((this.inFlight.get(pool.provider) ?? 0) + labels.length > (limits?.maxConcurrency ?? Infinity)) return 'concurrency';
    const extra = this.cost(pool.provider, pool.pool, labels);
    if (!fits(this.poolUsed.get(poolKey(pool.provider, pool.pool)) ?? ZERO, extra, pool.limit)) return 'full';
    if (!fits(this.providerUsed.get(pool.provider) ?? ZERO, extra, c.cloudRoom ?? UNLIMITED)) return 'full';
    const tenantLimit = tenant ? this.input.topology.tenants.get(tenant) : undefined;
    if (tenantLimit && !fits(this.tenantUsed.get(tenant!) ?? ZERO, extra, tenantLimit)) return 'tenant';
    return null;
  }
}
