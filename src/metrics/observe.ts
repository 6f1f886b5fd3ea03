import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { LiveSource } from '../status/launcher-live.ts';
import type { Store } from '../store/store.ts';
import { Metrics } from './metrics.ts';
import { OutcomeWatcher } from './outcomes.ts';
import { Sampler } from './sampler.ts';

/** What a process serving the API watches: /metrics, launch and request outcomes, and the plots' points. */
export interface Observing {
  metrics: Metrics;
  watcher: OutcomeWatcher;
  sampler: Sampler;
  stop(): Promise<void>;
}

export function startObserving(o: {
  store: Store;
  config: Config;
  logger: Logger;
  live?: LiveSource;
  now?: () => number;
}): Observing {
  const metrics = new Metrics({ store: o.store, config: o.config, live: o.live, now: o.now });
  const watcher = new OutcomeWatcher(o.store, metrics);
  const unwatch = watcher.start();
  const sampler = new Sampler({
    store: o.store, logger: o.logger, now: o.now, launchFailures: () => watcher.takeLaunchFailures(),
    intervalMs: (o.config.status?.sampleInterval ?? 60) * 1000, retentionMs: (o.config.status?.retention ?? 86400) * 1000,
  });
  sampler.start();
  return {
    metrics, watcher, sampler,
    async stop() {
      unwatch();
      await sampler.stop();
      await watcher.settled();
    },
  };
}
