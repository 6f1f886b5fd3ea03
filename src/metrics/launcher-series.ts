import { Counter, Gauge, type Registry } from 'prom-client';
import type { LiveSource } from '../status/launcher-live.ts';
import { isStale } from '../status/provider-state-merge.ts';

/**
 * Series of every launcher, from the provider states each one publishes (or, for a launcher in
 * this process, from its memory): so an API process serves the cloud calls, leaks and provider
 * health of launchers that run elsewhere and serve no /metrics. Labelled by launcher and
 * provider; `sum without (launcher)` gives the system's totals. The counters are each launcher's
 * totals since it started: a restarted launcher starts again from zero, which Prometheus's
 * rate() reads as a counter reset.
 */
export function registerLauncherSeries(registry: Registry, live: LiveSource): void {
  const registers = [registry];
  // The calls' count and their seconds, from the same published totals.
  const callCounter = (name: string, help: string, pick: (c: { count: number; seconds: number }) => number) => new Counter({
    name, help, labelNames: ['launcher', 'provider', 'service', 'method', 'status'], registers,
    async collect() {
      this.reset();
      for (const r of await live.rows()) {
        for (const c of r.calls) this.inc({ launcher: r.launcher, provider: r.provider, service: c.service, method: c.method, status: c.status }, pick(c));
      }
    },
  });
  callCounter('nodepool_launcher_task_total', 'Cloud API calls each launcher made, by provider, service, method and HTTP status ("none": no answer), as it last published them.', (c) => c.count);
  callCounter('nodepool_launcher_task_seconds_total', 'Seconds spent in those cloud API calls, by the same labels.', (c) => c.seconds);
  new Counter({
    name: 'nodepool_launcher_leaked_total', help: 'Leaked resources each launcher deleted, by provider and resource.',
    labelNames: ['launcher', 'provider', 'resource'], registers,
    async collect() {
      this.reset();
      for (const r of await live.rows()) {
        for (const [resource, n] of Object.entries(r.leaked)) this.inc({ launcher: r.launcher, provider: r.provider, resource }, n);
      }
    },
  });
  new Gauge({
    name: 'nodepool_launcher_provider_healthy', help: 'Provider health as each launcher judges it: 1 for its current state (healthy, degraded, unhealthy; unknown when the launcher has not published for 3 publish intervals).',
    labelNames: ['launcher', 'provider', 'state'], registers,
    async collect() {
      this.reset();
      const now = live.now();
      for (const r of await live.rows()) {
        this.set({ launcher: r.launcher, provider: r.provider, state: isStale(r, now, live.staleAfterMs) ? 'unknown' : r.health }, 1);
      }
    },
  });
  new Gauge({
    name: 'nodepool_launcher_published_age_seconds', help: 'Seconds since each launcher last published its state of the provider (status.publish-interval).',
    labelNames: ['launcher', 'provider'], registers,
    async collect() {
      this.reset();
      const now = live.now();
      for (const r of await live.rows()) this.set({ launcher: r.launcher, provider: r.provider }, Math.max(0, now - r.updatedAt) / 1000);
    },
  });
}
