import type { Config, PoolLabelConfig, ProviderConfig } from '../config/types.ts';

/** One label as one pool serves it, with what a launch and a scan need to know. */
export interface PoolLabel {
  label: string;
  connectionPort: number;
  username: string;
  hostKeyChecking: boolean;
  config: PoolLabelConfig;
}

/** A provider's pool, flattened for the planner. */
export interface PoolView {
  provider: string;
  pool: string;
  maxServers: number;
  priority: number;
  labels: Map<string, PoolLabel>;
}

export interface ProviderLimits {
  bootTimeoutMs: number;
  launchTimeoutMs: number;
  launchRetries: number;
}

/** The parts of the configuration the planner reads, indexed once per configuration load. */
export interface Topology {
  labels: Map<string, { minReady: number; maxReadyAgeMs: number }>;
  pools: PoolView[];
  providers: Map<string, ProviderLimits & { config: ProviderConfig }>;
}

export function buildTopology(config: Config): Topology {
  const labels = new Map(config.labels.map((l) => [l.name, { minReady: l.minReady, maxReadyAgeMs: l.maxReadyAge * 1000 }]));
  const pools: PoolView[] = [];
  const providers = new Map<string, ProviderLimits & { config: ProviderConfig }>();
  for (const p of config.providers) {
    providers.set(p.name, {
      bootTimeoutMs: p.bootTimeout * 1000, launchTimeoutMs: p.launchTimeout * 1000,
      launchRetries: p.launchRetries, config: p,
    });
    for (const pool of p.pools) {
      const pl = new Map<string, PoolLabel>();
      for (const l of pool.labels) {
        pl.set(l.name, { label: l.name, connectionPort: l.connectionPort, username: l.username, hostKeyChecking: l.hostKeyChecking, config: l });
      }
      pools.push({ provider: p.name, pool: pool.name, maxServers: pool.maxServers, priority: pool.priority, labels: pl });
    }
  }
  return { labels, pools, providers };
}

export function poolKey(provider: string, pool: string): string {
  return `${provider}/${pool}`;
}
