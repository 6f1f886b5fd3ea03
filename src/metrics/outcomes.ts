import type { Store, StoreEvent } from '../store/store.ts';
import type { Metrics } from './metrics.ts';

/**
 * Launch results and request outcomes, read from the store's change events (no hook in the
 * launcher): a node reaches `ready` or `failed` only at the end of a launch, and a building node
 * whose record is removed had its create call refused. A request that is fulfilled, failed or
 * canceled has ended; its wait is measured from its creation.
 *
 * Each event costs one read of its row: a few reads per node launched, next to the dozens of
 * writes a launch makes. A node is known as building from the read that follows its insert; one
 * removed before that read (sooner than a create call's round trip to the cloud) is not counted.
 */
export class OutcomeWatcher {
  private readonly building = new Map<string, { provider: string; label: string }>();
  private failures = 0;
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly store: Store, private readonly metrics: Metrics | null) {}

  /** Starts watching; returns the function that stops. */
  start(): () => void {
    return this.store.subscribe((e) => {
      // One at a time, in event order: a node's ready must not be read before its insert.
      this.pending = this.pending.then(() => this.on(e)).catch(() => {});
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

  private async on(e: StoreEvent): Promise<void> {
    if (e.kind === 'node') return this.onNode(e);
    if (e.kind === 'request' && (e.state === 'fulfilled' || e.state === 'failed' || e.state === 'canceled')) {
      const r = await this.store.getRequest(e.id);
      if (!r || r.state !== e.state) return;
      this.metrics?.requestsDone.inc({ state: r.state });
      if (r.state !== 'canceled') this.metrics?.requestWait.observe({ state: r.state }, Math.max(0, ((r.fulfilledAt ?? r.stateTime) - r.createdAt) / 1000));
    }
  }

  private async onNode(e: StoreEvent): Promise<void> {
    if (e.state === 'building') {
      const n = await this.store.getNode(e.id);
      if (n?.state === 'building') this.building.set(n.id, { provider: n.provider, label: n.label });
      return;
    }
    if (e.state === 'ready' || e.state === 'failed') {
      this.building.delete(e.id);
      const n = await this.store.getNode(e.id);
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
