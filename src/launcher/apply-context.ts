import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { ProviderRuntime } from './provider-runtime.ts';
import type { Topology } from './topology.ts';

/** What the parts of the applier (./apply.ts, ./apply-launch.ts, ./apply-delete.ts) work with. */
export interface ApplierContext {
  store: Store;
  logger: Logger;
  launcher: string;
  now: () => number;
  leaseMs: number;
  requestLeaseMs: number;
  /** How long a pool stops launching after the cloud refused for quota; the limits are read again meanwhile. */
  quotaPauseMs: number;
  config: Config;
  topology: Topology;
  providers: Map<string, ProviderRuntime>;
  wake: () => void;
}

/**
 * Cloud calls and SSH scans run as background tasks keyed in `inflight`, so the planner does not
 * issue them twice; each task wakes the launcher when it is done.
 */
export class Tasks {
  readonly inflight = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  /** Server creates and deletes running, by provider (against the driver's `callsAtOnce`). */
  private readonly calls = new Map<string, number>();
  /** Set by stop(): waits that could last minutes (a host-key scan until launch-timeout) end early; the store keeps where each node was, for the next start. */
  stopping = false;

  constructor(private readonly logger: Logger, private readonly wake: () => void) {}

  /** Runs `fn` as task `key` unless it runs already; `callIn`: the provider whose create or delete call it makes. */
  spawn(key: string, fn: () => Promise<void>, callIn?: string): void {
    if (this.inflight.has(key)) return;
    this.inflight.add(key);
    if (callIn !== undefined) this.calls.set(callIn, (this.calls.get(callIn) ?? 0) + 1);
    const task = fn()
      .catch((err) => this.logger.error({ err, task: key }, 'task failed'))
      .finally(() => {
        this.inflight.delete(key);
        this.running.delete(task);
        if (callIn !== undefined) this.calls.set(callIn, this.calls.get(callIn)! - 1);
        this.wake();
      });
    this.running.add(task);
  }

  /** Server creates and deletes running in `provider`. */
  callsIn(provider: string): number {
    return this.calls.get(provider) ?? 0;
  }

  /** Ends the long waits of running tasks and waits for them (shutdown). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.drain();
  }

  /** Waits for every running task (used at shutdown and by tests). */
  async drain(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
}

/** The store-writing habits every part of the applier shares: leases, conditions, unassigning. */
export abstract class ApplyPart {
  constructor(protected readonly ctx: ApplierContext, protected readonly tasks: Tasks) {}

  protected get log(): Logger { return this.ctx.logger; }
  protected get by(): string { return this.ctx.launcher; }
  protected lease(): { leaseOwner: string; leaseExpires: number } {
    return { leaseOwner: this.ctx.launcher, leaseExpires: this.ctx.now() + this.ctx.leaseMs };
  }
  /** The condition "no lease, an expired one, or ours". */
  protected mine() { return { owner: this.ctx.launcher, now: this.ctx.now() }; }

  /** Create and delete calls that may still start in `provider` now (its driver's `callsAtOnce` less those running); undefined: no limit. */
  callsLeft(provider: string): number | undefined {
    const atOnce = this.ctx.providers.get(provider)?.adapter.callsAtOnce;
    return atOnce === undefined ? undefined : atOnce - this.tasks.callsIn(provider);
  }

  /**
   * Whether another create or delete call may start in `provider` now. When not, the node waits
   * in the store (pending, or deleting without a call) and a later plan, woken as a call ends,
   * starts it.
   */
  protected callRoom(provider: string): boolean {
    const left = this.callsLeft(provider);
    return left === undefined || left > 0;
  }

  /** Gives back every building or ready node assigned to a request (it failed or moved). */
  protected async unallocateAll(requestId: string): Promise<void> {
    for (const other of await this.ctx.store.listNodes({ allocatedTo: requestId })) {
      await this.ctx.store.updateNode(other.id, { allocatedTo: null }, this.by, { states: ['building', 'ready'], allocatedTo: requestId });
    }
  }
}
