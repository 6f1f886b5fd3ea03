import type { DriverCapabilities } from '../../providers/provider.ts';
import type { Config, PoolLabelConfig, ProviderConfig, TenantLimits } from '../config/types.ts';
import type { Cost } from './quota.ts';

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
  /** The pool's own limits (max-servers, max-cores, max-ram); Infinity where unset. */
  limit: Cost;
}

export interface ProviderLimits {
  bootTimeoutMs: number;
  launchTimeoutMs: number;
  launchRetries: number;
  /** Most launches in flight at once; Infinity = no limit. */
  maxConcurrency: number;
  /**
   * The driver's servers exist already and outlive their nodes (DriverCapabilities): nodes are
   * registered on free servers, never launched, and a node deleted returns its server.
   */
  reusableServers: boolean;
}

/** The parts of the configuration the planner reads, indexed once per configuration load. */
export interface Topology {
  labels: Map<string, { minReady: number; maxReadyAgeMs: number }>;
  pools: PoolView[];
  providers: Map<string, ProviderLimits & { config: ProviderConfig }>;
  tenants: Map<string, Cost>;
}

export function buildTopology(config: Config, capabilities: (provider: string) => DriverCapabilities | undefined = () => undefined): Topology {
  const labels = new Map(config.labels.map((l) => [l.name, { minReady: l.minReady, maxReadyAgeMs: l.maxReadyAge * 1000 }]));
  const pools: PoolView[] = [];
  const providers = new Map<string, ProviderLimits & { config: ProviderConfig }>();
  for (const p of config.providers) {
    providers.set(p.name, {
      bootTimeoutMs: p.bootTimeout * 1000, launchTimeoutMs: p.launchTimeout * 1000,
      launchRetries: p.launchRetries, maxConcurrency: p.maxConcurrency > 0 ? p.maxConcurrency : Infinity, config: p,
      reusableServers: capabilities(p.name)?.reusableServers === true,
    });
    for (const pool of p.pools) {
      const pl = new Map<string, PoolLabel>();
      for (const l of pool.labels) {
        pl.set(l.name, { label: l.name, connectionPort: l.connectionPort, username: l.username, hostKeyChecking: l.hostKeyChecking, config: l });
      }
      pools.push({
        provider: p.name, pool: pool.name, maxServers: pool.maxServers, priority: pool.priority, labels: pl,
        limit: { instances: pool.maxServers, cores: pool.maxCores ?? Infinity, ram: pool.maxRam ?? Infinity },
      });
    }
  }
  const tenants = new Map((config.tenantResourceLimits ?? []).map((t: TenantLimits) => [t.tenantName, {
    instances: t.maxServers ?? Infinity, cores: t.maxCores ?? Infinity, ram: t.maxRam ?? Infinity,
  }]));
  return { labels, pools, providers, tenants };
}

export function poolKey(provider: string, pool: string): string {
  return `${provider}/${pool}`;
}
