import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CloudCall } from '../../providers/provider.ts';
import type { Config } from '../config/types.ts';
import { NODE_STATES, OPEN_REQUEST_STATES } from '../model.ts';
import { NO_LAUNCHERS, type LiveSource } from '../status/launcher-live.ts';
import { providerRows } from '../status/providers.ts';
import type { Store } from '../store/store.ts';
import { readNodes } from '../store/node-reads.ts';
import { registerLauncherSeries } from './launcher-series.ts';

/**
 * Prometheus metrics, named after Nodepool's statsd keys (README, "Metrics"): what Nodepool
 * splits into key segments (`nodepool.label.<label>.nodes.<state>`) is a label here
 * (`nodepool_nodes{label,state}`), so one metric answers every slicing of it.
 *
 * Gauges of the store's contents are read when scraped, so any process serving /metrics shows
 * the whole system; counters and histograms count what this process saw (its own cloud calls,
 * and the launches and requests its store reported as they changed). The `nodepool_launcher_*`
 * series are every launcher's, as each publishes its state to the store (./launcher-series.ts).
 */

export interface MetricsOptions {
  store: Store;
  /** Providers as configured (max-servers); null without a configuration. */
  config: Pick<Config, 'providers'> | null;
  /** What launchers know of each provider (health, quota room, leaks, cloud calls): this process's and the published. */
  live?: LiveSource;
  now?: () => number;
}

const LAUNCH_BUCKETS = [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800, 3600];
const WAIT_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class Metrics {
  readonly registry = new Registry();
  readonly launches: Counter<'provider' | 'label' | 'az' | 'result'>;
  readonly launchSeconds: Histogram<'provider' | 'label' | 'result'>;
  readonly requestsDone: Counter<'state'>;
  readonly requestWait: Histogram<'state'>;
  readonly tasks: Counter<'provider' | 'service' | 'method' | 'status'>;
  readonly taskSeconds: Histogram<'provider' | 'service' | 'method'>;
  readonly configReloads: Counter<'result'>;

  constructor(private readonly opts: MetricsOptions) {
    const registers = [this.registry];
    const now = opts.now ?? Date.now;
    const live = opts.live ?? NO_LAUNCHERS;
    collectDefaultMetrics({ register: this.registry, prefix: 'nodepool_' });

    new Gauge({
      name: 'nodepool_nodes', help: 'Nodes by provider, label and state (statsd nodepool.nodes.<state>, nodepool.label.<label>.nodes.<state>, nodepool.provider.<provider>.nodes.<state>).',
      labelNames: ['provider', 'label', 'state'], registers,
      async collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const n of await readNodes(opts.store)) {
          const key = `${n.provider}\u0000${n.label}\u0000${n.state}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        // Every state of every configured label of every provider, zeros included: a series that
        // vanishes when it reaches zero reads as "no data" on a dashboard, not as zero.
        for (const p of opts.config?.providers ?? []) {
          for (const label of new Set(p.pools.flatMap((pool) => pool.labels.map((l) => l.name)))) {
            for (const state of NODE_STATES) this.set({ provider: p.name, label, state }, 0);
          }
        }
        for (const [key, v] of counts) {
          const [provider, label, state] = key.split('\u0000') as [string, string, string];
          this.set({ provider, label, state }, v);
        }
      },
    });

    new Gauge({
      name: 'nodepool_provider_max_servers', help: "Sum of the provider's pools' max-servers (statsd nodepool.provider.<provider>.max_servers).",
      labelNames: ['provider'], registers,
      collect() {
        this.reset();
        for (const p of opts.config?.providers ?? []) this.set({ provider: p.name }, p.pools.reduce((s, pool) => s + pool.maxServers, 0));
      },
    });

    new Gauge({
      name: 'nodepool_requests', help: 'Node requests still open, by state (requested, pending).',
      labelNames: ['state'], registers,
      async collect() {
        this.reset();
        const open = await opts.store.listRequests({ states: OPEN_REQUEST_STATES });
        for (const s of OPEN_REQUEST_STATES) this.set({ state: s }, open.filter((r) => r.state === s).length);
      },
    });

    const quota = (name: string, help: string, pick: (row: ReturnType<typeof providerRows>[number], r: 'instances' | 'cores' | 'ram') => unknown) => new Gauge({
      name, help, labelNames: ['provider', 'resource'], registers,
      async collect() {
        this.reset();
        const [nodes, providers] = await Promise.all([readNodes(opts.store), live.providers()]);
        const rows = providerRows(opts.config, nodes, providers, now());
        for (const row of rows) {
          for (const r of ['instances', 'cores', 'ram'] as const) {
            const v = pick(row, r);
            if (typeof v === 'number') this.set({ provider: String(row.provider), resource: r }, v);
          }
        }
      },
    });
    quota('nodepool_provider_quota_used', 'Quota our nodes use in the provider, by resource (instances, cores, ram MiB).', (row, r) => row[`${r}_used`]);
    quota('nodepool_provider_quota_limit', "Quota the provider leaves our nodes, by resource: the cloud's absolute limits less what servers we do not manage use; absent when unlimited or not read yet.", (row, r) => row[`${r}_limit`]);

    new Gauge({
      name: 'nodepool_provider_healthy', help: 'Provider health as its launchers judge it (the worst of them): 1 for its current state (healthy, degraded, unhealthy; unknown when none published lately).',
      labelNames: ['provider', 'state'], registers,
      async collect() {
        this.reset();
        for (const [provider, l] of await live.providers()) this.set({ provider, state: l.health }, 1);
      },
    });

    new Counter({
      name: 'nodepool_provider_leaked_total', help: 'Leaked resources deleted, by provider and resource (statsd nodepool.provider.<provider>.leaked.<resource>).',
      labelNames: ['provider', 'resource'], registers,
      async collect() {
        this.reset();
        // Summed over the launchers serving the provider, each as it last published.
        for (const r of await live.rows()) {
          for (const [resource, n] of Object.entries(r.leaked)) this.inc({ provider: r.provider, resource }, n);
        }
      },
    });

    registerLauncherSeries(this.registry, live);

    this.launches = new Counter({
      name: 'nodepool_launch_total', help: 'Launches by provider, label, availability zone and result (ready, failed) (statsd nodepool.launch.<result>, nodepool.launch.provider.<provider>.<az>.<result>).',
      labelNames: ['provider', 'label', 'az', 'result'], registers,
    });
    this.launchSeconds = new Histogram({
      name: 'nodepool_launch_duration_seconds', help: 'Time from the create call to a ready (or failed) node (the timers of statsd nodepool.launch.*).',
      labelNames: ['provider', 'label', 'result'], buckets: LAUNCH_BUCKETS, registers,
    });
    this.requestsDone = new Counter({
      name: 'nodepool_requests_done_total', help: 'Node requests that ended, by final state (fulfilled, failed, canceled).',
      labelNames: ['state'], registers,
    });
    this.requestWait = new Histogram({
      name: 'nodepool_request_wait_seconds', help: 'Time from a request to its fulfilment or failure (Zuul statsd zuul.nodepool.requests.<state>).',
      labelNames: ['state'], buckets: WAIT_BUCKETS, registers,
    });
    this.tasks = new Counter({
      name: 'nodepool_task_total', help: 'Cloud API calls by provider, service, method and HTTP status ("none": no answer) (statsd nodepool.task.<provider>.<task>).',
      labelNames: ['provider', 'service', 'method', 'status'], registers,
    });
    this.taskSeconds = new Histogram({
      name: 'nodepool_task_duration_seconds', help: 'Duration of cloud API calls (the timer of statsd nodepool.task.<provider>.<task>).',
      labelNames: ['provider', 'service', 'method'], buckets: CALL_BUCKETS, registers,
    });
    this.configReloads = new Counter({
      name: 'nodepool_config_reloads_total', help: 'Changes of the configuration files this process saw, by result (applied; refused: invalid, the previous configuration kept).',
      labelNames: ['result'], registers,
    });
    // Both series exist from the start, so a dashboard's rate() sees the first reload.
    for (const result of ['applied', 'refused']) this.configReloads.inc({ result }, 0);
  }

  /** For the provider drivers' `onCall`. */
  readonly cloudCall = (c: CloudCall): void => {
    this.tasks.inc({ provider: c.provider, service: c.service, method: c.method, status: c.status === null ? 'none' : String(c.status) });
    this.taskSeconds.observe({ provider: c.provider, service: c.service, method: c.method }, c.seconds);
  };

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
