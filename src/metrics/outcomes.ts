import type { NodeRecord, RequestRecord } from '../model.ts';
import type { Store, StoreEvent } from '../store/store.ts';
import type { Metrics } from './metrics.ts';

const ENDED = new Set(['fulfilled', 'failed', 'canceled']);
/** The node states `onNode` acts on: a launch's start and end, and a launch ended otherwise. */
const NODE_STATES = new Set(['building', 'ready', 'failed', 'gone', 'deleting', 'hold']);

/**
 * Launch results and request outcomes, read from the store's change events (no hook in the
 * launcher): a node reaches `ready` or `failed` only at the end of a launch, and a building node
 * whose record is removed had its create call refused. A request that is fulfilled, failed or
 * canceled has ended; its wait is measured from its creation.
 *
 * The events that arrive in one turn of the event loop are counted together, after one read of
 * their nodes and one of their requests: in a burst, a few reads in all, not one per event. A node
 * is known as building from the read that follows its insert; one removed before that read (sooner
 * than a create call's round trip to the cloud) is not counted.
 */
export class OutcomeWatcher {
  private readonly building = new Map<string, { provider: string; label: string }>();
  private failures = 0;
  private queued: StoreEvent[] = [];
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly store: Store, private readonly metrics: Metrics | null) {}

  /** Starts watching; returns the function that stops. */
  start(): () => void {
    return this.store.subscribe((e) => {
      if (!(e.kind === 'node' ? NODE_STATES : e.kind === 'request' ? ENDED : null)?.has(e.state)) return;
      // One batch at a time, in event order: a node's ready must not be counted before its insert.
      if (this.queued.push(e) === 1) this.pending = this.pending.then(() => new Promise<void>((r) => setImmediate(r))).then(() => this.flush()).catch(() => {});
    });
  }

  /** Launch failures seen since the previous call (the sampler's `launch.failures` points). */
  takeLaunchFailures(): number {
    const n = this.failures;
    this.failures = 0;
    return n;
  }

  /** Resolves when every event received so far has been counted. */
  settled(): Promise<void> {
    return this.pending;
  }

  private async flush(): Promise<void> {
    const events = this.queued;
    this.queued = [];
    const nodeIds = new Set<string>();
    const requestIds = new Set<string>();
    for (const e of events) {
      if (e.kind === 'request') requestIds.add(e.id);
      else if (e.state === 'building' || e.state === 'ready' || e.state === 'failed') nodeIds.add(e.id);
    }
    const [nodes, requests] = await Promise.all([
      nodeIds.size ? this.store.listNodes({ ids: [...nodeIds] }) : [],
      requestIds.size ? this.store.listRequests({ ids: [...requestIds] }) : [],
    ]);
    const nodeById = new Map(nodes.map((n) => [n.id, n]));
    const requestById = new Map(requests.map((r) => [r.id, r]));
    for (const e of events) {
      if (e.kind === 'node') this.onNode(e, nodeById.get(e.id));
      else this.onRequest(e, requestById.get(e.id));
    }
  }

  private onRequest(e: StoreEvent, r: RequestRecord | undefined): void {
    if (!r || r.state !== e.state) return;
    this.metrics?.requestsDone.inc({ state: r.state });
    if (r.state !== 'canceled') this.metrics?.requestWait.observe({ state: r.state }, Math.max(0, ((r.fulfilledAt ?? r.stateTime) - r.createdAt) / 1000));
  }

  /** `n`: the node's row as read after the event (absent when gone by then). */
  private onNode(e: StoreEvent, n: NodeRecord | undefined): void {
    if (e.state === 'building') {
      if (n?.state === 'building') this.building.set(n.id, { provider: n.provider, label: n.label });
      return;
    }
    if (e.state === 'ready' || e.state === 'failed') {
      this.building.delete(e.id);
      if (!n) return;
      const result = e.state;
      if (result === 'failed') this.failures++;
      this.metrics?.launches.inc({ provider: n.provider, label: n.label, az: n.az ?? '', result });
      this.metrics?.launchSeconds.observe({ provider: n.provider, label: n.label, result }, Math.max(0, (n.stateTime - (n.launchStartedAt ?? n.createdAt)) / 1000));
      return;
    }
    if (e.state === 'gone') {
      const was = this.building.get(e.id);
      this.building.delete(e.id);
      if (!was) return;
      this.failures++;
      this.metrics?.launches.inc({ provider: was.provider, label: was.label, az: '', result: 'failed' });
      return;
    }
    // Deleted by an operator (or replaced) while building: not a launch result.
    if (e.state === 'deleting' || e.state === 'hold') this.building.delete(e.id);
  }
}
