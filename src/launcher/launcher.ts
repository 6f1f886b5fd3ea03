import { hostname } from 'node:os';
import type { ProviderAdapter } from '../../providers/provider.ts';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { readNodes } from '../store/node-reads.ts';
import { StoreMirror } from './mirror.ts';
import { plan, type Plan, type PlanInput, type ProviderConditions } from './planner.ts';
import { ProviderHealth } from './health.ts';
import { scheduleLists } from './list-schedule.ts';
import { add, cloudRoom, flavorCost, ZERO, type Cost } from './quota.ts';
import type { NodeRecord } from '../model.ts';
import { buildTopology, poolKey, type Topology } from './topology.ts';
import { pickFlavor, type UploadedImages } from '../launch-spec.ts';
import { Applier, type ApplierContext } from './apply.ts';
import type { ProviderRuntime } from './provider-runtime.ts';
import { PassLoop } from '../pass-loop.ts';
import { servedActions } from './serving.ts';
import { providerRuntime, reconfigure, retireDrained, type RuntimeDeps } from './reconfigure.ts';
import { WakeGate } from './wake-gate.ts';
import { PeerConditions } from './peer-conditions.ts';

export interface LauncherOptions {
  config: Config;
  store: Store;
  /** One adapter per configured provider, by provider name. */
  adapters: Map<string, ProviderAdapter>;
  logger: Logger;
  /** This launcher's name: the owner written in leases. Default `<hostname>-launcher`. */
  name?: string;
  now?: () => number;
  /** Lease length for requests and nodes this launcher works on. Default 30 s, renewed every third of it. */
  leaseMs?: number;
  /** Re-read every row from the store at least this often (ms); changed rows are re-read every pass. Default 10 s. */
  mirrorFullIntervalMs?: number;
  /** Seconds a requestor's lease on fulfilled nodes lasts without a heartbeat. Default from config. */
  requestLeaseMs?: number;
  /** How long a pool stops launching after the cloud refused for quota (the limits are read again meanwhile). Default 10 s. */
  quotaPauseMs?: number;
  /** The uploads `diskimage` labels boot from; without it such labels never launch. */
  images?: UploadedImages & { refresh(): Promise<void> };
  /** Providers this launcher serves (./serving.ts); default every configured one. */
  providers?: string[];
}

/** How often the cloud's absolute limits are read again, at most (also at once after a quota refusal). */
const LIMITS_EVERY_MS = 60_000;

/**
 * The launcher: runs `runOnce(now)` whenever something changed (a store event, a refreshed server
 * list, a finished task) or a time-based condition comes due, never on a fixed polling period.
 * Passes never overlap; changes that arrive during one make another run right after it.
 */
export class Launcher {
  readonly name: string;
  /** The configuration in effect and its topology: replaced between passes by `reconfigure`. */
  config: Config;
  topology: Topology;
  readonly providers = new Map<string, ProviderRuntime>();
  readonly applier: Applier;
  private readonly now: () => number;
  private readonly leaseMs: number;
  private stopped = true;
  private leaseTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly loop: PassLoop;
  private readonly mirror: StoreMirror;
  private readonly served: ReadonlySet<string> | null;
  private readonly startedAt: number;
  /**
   * Until when the leases this launcher holds are known to run: the start of the last renewal that
   * succeeded plus the lease length. Past it another launcher may own the work, so no pass runs
   * (no cloud call, no write) until a renewal succeeds again (a partition from the store).
   */
  private leasesValidUntil = 0;
  private takeoverTimer: NodeJS.Timeout | null = null;
  private takeoverTimerAt = 0;
  private takeoverReadAt = 0;
  private readonly healthListeners = new Set<(provider: string) => void>();
  private readonly ctx: ApplierContext;
  private readonly deps: RuntimeDeps;
  /** A configuration waiting for the end of the pass under way (`reconfigure`). */
  private pending: { config: Config; adapters: Map<string, ProviderAdapter>; done: () => void; failed: (err: unknown) => void } | null = null;
  /** Which store changes wake a pass (./wake-gate.ts). */
  private readonly gate: WakeGate;
  /** With `providers`: the other providers as their launchers publish them (./peer-conditions.ts). */
  private readonly peers: PeerConditions | null;
  lastPlan: Plan | null = null;
  passes = 0;

  constructor(private readonly opts: LauncherOptions) {
    this.name = opts.name ?? `${hostname()}-launcher`;
    this.now = opts.now ?? Date.now;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.config = opts.config;
    this.topology = buildTopology(opts.config, (name) => opts.adapters.get(name)?.capabilities);
    this.deps = { now: this.now, logger: opts.logger, images: opts.images };
    // A pass that fails (the store unreachable) is logged; the next wake runs another, and once the
    // leases lapse passes do nothing until a renewal succeeds.
    this.loop = new PassLoop(async () => { this.applyPending(); await this.runOnce(this.now()); }, {
      pace: true, now: this.now, onError: (err) => opts.logger.error({ err, launcher: this.name }, 'launcher pass failed'),
    });
    this.mirror = new StoreMirror(opts.store, { now: this.now, fullIntervalMs: opts.mirrorFullIntervalMs ?? 10_000 });
    this.startedAt = this.now();
    const unknown = (opts.providers ?? []).filter((name) => !opts.config.providers.some((p) => p.name === name));
    if (unknown.length) throw new Error(`no such provider${unknown.length > 1 ? 's' : ''} in the configuration: ${unknown.join(', ')}`);
    this.served = opts.providers ? new Set(opts.providers) : null;
    this.peers = this.served ? new PeerConditions({ store: opts.store, launcher: this.name, logger: opts.logger, now: this.now, served: this.served }) : null;
    for (const p of opts.config.providers) {
      if (this.served && !this.served.has(p.name)) continue;
      const adapter = opts.adapters.get(p.name);
      if (!adapter) throw new Error(`no driver for provider ${p.name}`);
      this.providers.set(p.name, providerRuntime(p, adapter, this.watchedHealth(p.name), this.deps));
    }
    this.ctx = {
      store: opts.store, logger: opts.logger, launcher: this.name, now: this.now, leaseMs: this.leaseMs,
      requestLeaseMs: opts.requestLeaseMs ?? opts.config.api.requestLeaseTimeout * 1000,
      quotaPauseMs: opts.quotaPauseMs ?? 10_000,
      config: opts.config, topology: this.topology, providers: this.providers, wake: () => this.wake(),
    };
    this.applier = new Applier(this.ctx);
    this.gate = new WakeGate({ launcher: this.name, served: this.served, now: this.now, wake: () => this.wake() }, opts.config, this.topology);
  }

  /**
   * Puts a new configuration in place between two passes (./reconfigure.ts); resolves once it is.
   * `adapters`: one for each served provider that is new or whose adapter changed (src/config/diff.ts).
   */
  reconfigure(config: Config, adapters: Map<string, ProviderAdapter>): Promise<void> {
    return new Promise<void>((done, failed) => {
      this.pending?.failed(new Error('replaced by a newer configuration'));
      this.pending = { config, adapters, done, failed };
      if (this.stopped) this.applyPending();
      else this.wake();
    });
  }

  private applyPending(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    try {
      const r = reconfigure({
        config: p.config, adapters: p.adapters, providers: this.providers, topology: this.topology, served: this.served,
        health: (name) => this.watchedHealth(name), deps: this.deps,
      });
      this.config = this.ctx.config = p.config;
      this.topology = this.ctx.topology = r.topology;
      this.gate.configure(p.config, r.topology);
      // Providers added to the configuration: planned with what their launchers publish.
      if (!this.stopped) void this.peers?.read(p.config).then((changed) => { if (changed) this.wake(); });
      // A call of a replaced adapter still running fails like a call to a cloud that went away.
      for (const a of r.replaced) void a.close();
      if (!this.stopped) for (const name of r.relist) void this.refreshList(name, true).then(() => this.wake());
      p.done();
    } catch (err) {
      p.failed(err);
    }
  }

  private watchedHealth(provider: string): ProviderHealth {
    const health = new ProviderHealth(this.now());
    health.onChange = () => { for (const l of this.healthListeners) l(provider); };
    return health;
  }

  /** Calls `listener` with a provider's name each time its health changes; returns the unsubscribe function. */
  onHealthChange(listener: (provider: string) => void): () => void {
    this.healthListeners.add(listener);
    return () => this.healthListeners.delete(listener);
  }

  /** Registers the launcher, lists every provider's servers once, and starts reconciling. */
  async start(): Promise<void> {
    this.stopped = false;
    this.loop.start();
    await this.heartbeat();
    this.leaseTimer = setInterval(() => { void this.heartbeat(); }, Math.max(1000, this.leaseMs / 3));
    // Every change is noted, so the next pass reads its row again; only some wake a pass. Of the
    // providers it does not serve, a launcher hears only what may change where a request goes.
    this.unsubscribe = this.opts.store.subscribe((e) => { this.mirror.note(e); this.gate.onEvent(e); }, this.served ? { providers: this.served } : undefined);
    await Promise.all([...this.providers.keys()].map((name) => this.refreshList(name, true)));
    await Promise.all([...this.providers.keys()].map((name) => this.readFacts(name, [])));
    await this.peers?.read(this.config);
    this.opts.logger.info({ launcher: this.name, providers: [...this.providers.keys()] }, 'launcher started');
    this.wake();
  }

  /** True once every provider's servers have been listed at least once. */
  isReady(): boolean {
    return [...this.providers.values()].every((p) => p.cache.view.fullRefreshedAt !== null);
  }

  private async heartbeat(): Promise<void> {
    const now = this.now();
    try {
      await this.opts.store.upsertLauncher({
        name: this.name, host: hostname(), pid: process.pid, version: '0.1.0',
        providers: [...this.providers.keys()], startedAt: this.startedAt, heartbeatAt: now,
      });
      await this.opts.store.renewLeases(this.name, now + this.leaseMs);
      const lapsed = this.leasesValidUntil !== 0 && this.leasesValidUntil <= this.now();
      this.opts.logger.debug({ launcher: this.name, passes: this.passes, wakes: this.gate.counts.woken, wakesSkipped: this.gate.counts.skipped }, 'launcher activity');
      this.leasesValidUntil = now + this.leaseMs;
      if (lapsed) {
        // Changes announced while we could not hear them are missed: read everything again.
        this.opts.logger.warn({ launcher: this.name }, 'leases renewed again: acting again');
        this.mirror.invalidate();
        this.wake();
      }
    } catch (err) {
      this.opts.logger.error({ err, launcher: this.name }, 'lease renewal failed');
    }
  }

  /** Whether the leases this launcher holds still run (see `leasesValidUntil`). */
  holdsLeases(): boolean {
    return this.now() < this.leasesValidUntil;
  }

  /** Asks for a reconcile pass as soon as possible. */
  wake(): void {
    this.loop.wake();
  }

  /** One reconcile pass: snapshot, plan, apply, then schedule the next wake and server lists. */
  async runOnce(now: number): Promise<Plan> {
    if (!this.holdsLeases()) {
      this.opts.logger.warn({ launcher: this.name }, 'leases not renewed in time: not acting until the store answers');
      return { actions: [], nextWakeAt: null };
    }
    const { nodes, requests } = await this.mirror.read();
    retireDrained({ config: this.config, providers: this.providers, topology: this.topology, served: this.served, nodes, logger: this.opts.logger });
    const cloud = new Map([...this.providers].map(([name, p]) => [name, p.cache.view]));
    const input: PlanInput = {
      now, launcher: this.name, topology: this.topology, nodes, requests, cloud,
      inflight: this.applier.inflight, startedAt: this.startedAt, deleteCalledAt: this.applier.deleteCalledAt, deleteAnsweredAt: this.applier.deleteAnsweredAt, leakSightings: this.applier.leakSightings,
      launchFailures: this.applier.launchFailures,
      conditions: this.conditions(), declined: this.applier.declined, imageless: await this.imageless(), served: this.served,
    };
    if (this.peers?.due(this.config)) void this.peers.read(this.config).then((changed) => { if (changed) this.wake(); });
    for (const name of this.providers.keys()) {
      const rt = this.providers.get(name)!;
      // One GET /limits per refresh-interval (10 s by default, at most a minute) keeps the room we
      // see close to the cloud's: usage by others and limits changed by the cloud's operators.
      const every = Math.min(LIMITS_EVERY_MS, this.topology.providers.get(name)!.config.refreshInterval * 1000);
      if (rt.limitsReadAt === null || now - rt.limitsReadAt >= every) void this.readFacts(name, nodes).then(() => this.wake());
    }
    const result = plan(input);
    this.passes++;
    this.lastPlan = result;
    await this.applier.apply(this.served ? servedActions(result.actions, this.served, nodes, requests) : result.actions, input);
    if (!this.stopped) {
      this.scheduleWake(result.nextWakeAt);
      this.scheduleTakeover(nodes, requests, now);
      scheduleLists({ providers: this.providers, topology: this.topology, deleteCalledAt: this.applier.deleteCalledAt, inflight: this.applier.inflight, launcher: this.name, startedAt: this.startedAt, now: this.now, leakSightings: this.applier.leakSightings },
        nodes, (name, full) => { void this.refreshList(name, full || undefined).then(() => this.wake()); });
    }
    return result;
  }

  /** Pool labels booting a diskimage that has no usable upload in their provider (yet). */
  private async imageless(): Promise<Set<string>> {
    await this.opts.images?.refresh();
    const out = new Set<string>();
    for (const pool of this.topology.pools) {
      for (const [label, pl] of pool.labels) {
        const image = pl.config.diskimage;
        if (image && !this.opts.images?.imageId(pool.provider, image)) out.add(`${poolKey(pool.provider, pool.pool)}/${label}`);
      }
    }
    return out;
  }

  private conditions(): Map<string, ProviderConditions> {
    const out = new Map<string, ProviderConditions>([...this.providers].map(([name, rt]) => [name, {
      health: rt.health.state, labelCost: rt.labelCost, cloudRoom: rt.cloudRoom, pausedUntil: rt.pausedUntil, backoffUntil: rt.backoff.until,
      callRoom: this.applier.callsLeft(name),
    }]));
    if (this.peers) {
      for (const p of this.config.providers) {
        const c = out.has(p.name) ? undefined : this.peers.get(p.name);
        if (c) out.set(p.name, c);
      }
    }
    return out;
  }

  /** Lists a provider's servers; the answer (or its absence) is also the provider's health probe. */
  private async refreshList(name: string, full?: boolean): Promise<void> {
    const rt = this.providers.get(name)!;
    const started = this.now();
    await rt.cache.refresh(full);
    const now = this.now();
    const changed = rt.cache.lastError
      ? rt.health.failure(now, `server list failed: ${errorText(rt.cache.lastError)}`, started)
      : rt.health.probe(now);
    if (changed) this.opts.logger.warn({ provider: name, health: rt.health.state, reason: rt.health.reason }, 'provider health changed');
    if (!rt.cache.lastError && rt.cache.view.fullRefreshSeq !== rt.sweptSeq && !this.stopped) {
      rt.sweptSeq = rt.cache.view.fullRefreshSeq;
      void this.sweep(name);
    }
  }

  /** After a complete server list: the floating IPs, ports and volumes the store does not account for. */
  private async sweep(name: string): Promise<void> {
    const rt = this.providers.get(name)!;
    try {
      const known = new Set((await readNodes(this.opts.store, { provider: name })).map((n) => n.id));
      await rt.sweeper.sweep(known, new Set(rt.cache.view.servers.keys()));
    } catch (err) {
      this.opts.logger.warn({ provider: name, err }, 'resource sweep failed');
    }
  }

  /**
   * Reads what quota arithmetic needs from a provider: its flavors (the cost of each pool label)
   * and its absolute limits, with the usage of servers we do not manage taken from them.
   */
  async readFacts(name: string, nodes: NodeRecord[]): Promise<void> {
    const rt = this.providers.get(name)!;
    const cfg = this.topology.providers.get(name)!.config;
    rt.limitsReadAt = this.now();
    try {
      const flavors = await rt.specs.flavors();
      for (const pool of cfg.pools) {
        for (const l of pool.labels) {
          const f = pickFlavor(flavors, l);
          if (f) rt.labelCost.set(`${pool.name}/${l.name}`, flavorCost(f));
        }
      }
      let ours = ZERO;
      for (const n of nodes) {
        if (n.provider === name && n.serverId) ours = add(ours, rt.labelCost.get(`${n.pool}/${n.label}`) ?? { instances: 1, cores: 0, ram: 0 });
      }
      const limits = await rt.adapter.getLimits();
      rt.cloudRoom = cloudRoom(limits, ours);
      this.opts.logger.info({ provider: name, limits, room: rt.cloudRoom }, 'cloud limits read');
    } catch (err) {
      // Tried again after the usual interval: an unreachable cloud is not asked on every pass.
      this.opts.logger.warn({ provider: name, err }, 'reading flavors and limits failed');
    }
  }

  /** Each provider's health, quota room and pauses, for operators (provider list, status JSON). */
  providerStatus(): { name: string; health: string; reason: string | null; since: number; cloudRoom: Cost | null; paused: Record<string, number>; backoff: Record<string, number> }[] {
    return [...this.providers].map(([name, rt]) => ({
      name, health: rt.health.state, reason: rt.health.reason, since: rt.health.since, cloudRoom: rt.cloudRoom,
      paused: Object.fromEntries(rt.pausedUntil), backoff: Object.fromEntries(rt.backoff.until),
    }));
  }

  /**
   * Takeover after a crash: the earliest lease another launcher holds on open work is looked at
   * again when it runs out, with every row read afresh (renewals announce nothing, so only a fresh
   * read tells a renewed lease from a dead launcher's). Without it a dead launcher's work waits for
   * an unrelated change or the next complete read (10 s). At most one such read a second.
   */
  private scheduleTakeover(nodes: NodeRecord[], requests: { state: string; leaseOwner: string | null; leaseExpires: number | null }[], now: number): void {
    let at = Infinity;
    const foreign = (r: { leaseOwner: string | null; leaseExpires: number | null }) => r.leaseOwner !== null && r.leaseOwner !== this.name && r.leaseExpires !== null;
    for (const r of requests) if ((r.state === 'requested' || r.state === 'pending') && foreign(r)) at = Math.min(at, r.leaseExpires!);
    for (const n of nodes) if (foreign(n) && this.providers.has(n.provider)) at = Math.min(at, n.leaseExpires!);
    if (at === Infinity) return;
    at = Math.max(at + 1, this.takeoverReadAt + 1000);
    if (this.takeoverTimer && this.takeoverTimerAt <= at) return;
    if (this.takeoverTimer) clearTimeout(this.takeoverTimer);
    this.takeoverTimerAt = at;
    this.takeoverTimer = setTimeout(() => {
      this.takeoverTimer = null;
      this.takeoverReadAt = this.now();
      this.mirror.invalidate();
      this.wake();
    }, Math.max(0, at - now));
  }

  private scheduleWake(at: number | null): void {
    if (at !== null) this.loop.wakeAt(at);
  }

  /** Stops reconciling; in-flight cloud calls finish on their own and leave their results in the store. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    if (this.takeoverTimer) clearTimeout(this.takeoverTimer);
    this.gate.close();
    for (const rt of this.providers.values()) if (rt.timer) clearTimeout(rt.timer);
    await this.loop.stop();
    await this.applier.stop();
    const c = this.gate.counts;
    this.opts.logger.info({ launcher: this.name, passes: this.passes, wakes: c.woken, wakesSkipped: this.gate.skipped(), skippedWhy: c.skipped }, 'launcher stopped');
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
