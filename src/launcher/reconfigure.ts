import type { ProviderAdapter } from '../../providers/provider.ts';
import type { Config, ProviderConfig } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { LaunchSpecResolver, type UploadedImages } from '../launch-spec.ts';
import type { NodeRecord } from '../model.ts';
import { Backoff, type ProviderHealth } from './health.ts';
import type { ProviderRuntime } from './provider-runtime.ts';
import { RateGate } from './rate-gate.ts';
import { ResourceSweeper } from './resource-sweep.ts';
import { ServerCache } from './server-cache.ts';
import { buildTopology, type Topology } from './topology.ts';

/**
 * A new configuration put in place between two passes of a running launcher (the pass loop runs
 * them one at a time, so a pass sees one configuration from start to end):
 * - labels (min-ready, max-ready-age), pools (max-servers, labels), tenants, timeouts: the
 *   topology is built again and the next pass plans with it;
 * - a provider added gets a runtime with the adapter built for it, listed at once;
 * - a provider whose adapter changed (cloud, region, static hosts...) keeps its health and
 *   learned times but gets the new adapter and an empty server list, listed at once: a static
 *   host added is registered on that list, a host removed vanishes from it;
 * - a provider removed (or no longer served) drains: it keeps its runtime and limits but has no
 *   pool, so nothing is launched or registered there, its unassigned nodes are deleted, its nodes
 *   in use are deleted once released, and its leaked servers are still found; once no node of it
 *   is left in the store its adapter is closed and it is forgotten (./launcher.ts `runOnce`).
 */

export interface RuntimeDeps {
  now: () => number;
  logger: Logger;
  images?: UploadedImages;
}

/** A provider's runtime, new. */
export function providerRuntime(p: ProviderConfig, adapter: ProviderAdapter, health: ProviderHealth, d: RuntimeDeps): ProviderRuntime {
  return {
    adapter, health,
    cache: new ServerCache(adapter, { now: d.now, logger: d.logger, fullIntervalMs: p.fullRefreshInterval * 1000 }),
    specs: new LaunchSpecResolver(adapter, p, d.images),
    gate: new RateGate(p.rate * 1000, d.now),
    bootEstimateMs: null, deleteEstimateMs: null, timer: null, timerAt: null,
    backoff: new Backoff(), pausedUntil: new Map(), labelCost: new Map(),
    cloudRoom: null, limitsReadAt: null, sweptSeq: 0,
    sweeper: new ResourceSweeper(adapter, { provider: p.name, cleanFloatingIps: p.cleanFloatingIps, logger: d.logger }),
  };
}

/**
 * A provider's runtime fitted to its changed configuration, in place (background tasks hold it):
 * health, backoff and learned times stay; with a new adapter the server list starts empty.
 */
function refit(rt: ProviderRuntime, p: ProviderConfig, adapter: ProviderAdapter | undefined, d: RuntimeDeps): void {
  if (adapter) {
    rt.adapter = adapter;
    rt.cache = new ServerCache(adapter, { now: d.now, logger: d.logger, fullIntervalMs: p.fullRefreshInterval * 1000 });
    rt.sweptSeq = 0;
    rt.cloudRoom = null;
  } else {
    rt.cache.setFullInterval(p.fullRefreshInterval * 1000);
  }
  if (rt.timer) clearTimeout(rt.timer);
  rt.timer = null;
  rt.timerAt = null;
  rt.specs = new LaunchSpecResolver(rt.adapter, p, d.images);
  rt.gate = new RateGate(p.rate * 1000, d.now);
  rt.sweeper = new ResourceSweeper(rt.adapter, { provider: p.name, cleanFloatingIps: p.cleanFloatingIps, logger: d.logger });
  rt.labelCost.clear();
  // Flavors and limits read again on the next pass: pools may have new labels.
  rt.limitsReadAt = null;
}

export interface Reconfigured {
  topology: Topology;
  /** Providers whose server list starts empty (added, or with a new adapter): to list at once. */
  relist: string[];
  /** Adapters replaced: closed by the caller once no call of theirs is running. */
  replaced: ProviderAdapter[];
}

/**
 * Puts `config` in place in `providers` (changed in place) and returns the new topology.
 * `adapters` holds an adapter for each served provider that is new or whose adapter changed.
 */
export function reconfigure(o: {
  config: Config;
  adapters: ReadonlyMap<string, ProviderAdapter>;
  providers: Map<string, ProviderRuntime>;
  topology: Topology;
  served: ReadonlySet<string> | null;
  health: (provider: string) => ProviderHealth;
  deps: RuntimeDeps;
}): Reconfigured {
  const { providers, deps } = o;
  const relist: string[] = [];
  const replaced: ProviderAdapter[] = [];
  const configured = new Set<string>();
  for (const p of o.config.providers) {
    if (o.served && !o.served.has(p.name)) continue;
    configured.add(p.name);
    const adapter = o.adapters.get(p.name);
    const rt = providers.get(p.name);
    if (!rt) {
      if (!adapter) throw new Error(`no driver for provider ${p.name}`);
      providers.set(p.name, providerRuntime(p, adapter, o.health(p.name), deps));
      relist.push(p.name);
      continue;
    }
    if (adapter && adapter !== rt.adapter) {
      replaced.push(rt.adapter);
      relist.push(p.name);
    }
    if (!isSame(o.topology.providers.get(p.name)?.config, p) || adapter) refit(rt, p, adapter !== rt.adapter ? adapter : undefined, deps);
  }
  const topology = buildTopology(o.config, (name) => providers.get(name)?.adapter.capabilities);
  // Draining providers keep their limits (timeouts, list intervals) but no pool.
  for (const name of providers.keys()) {
    if (configured.has(name)) continue;
    const limits = o.topology.providers.get(name);
    if (limits) topology.providers.set(name, limits);
  }
  return { topology, relist, replaced };
}

/** Providers removed from the configuration that no node of the store holds any more: closed and forgotten. */
export function retireDrained(o: {
  config: Config; providers: Map<string, ProviderRuntime>; topology: Topology; served: ReadonlySet<string> | null; nodes: NodeRecord[]; logger: Logger;
}): void {
  for (const [name, rt] of o.providers) {
    if (o.config.providers.some((p) => p.name === name && (!o.served || o.served.has(name)))) continue;
    if (o.nodes.some((n) => n.provider === name)) continue;
    if (rt.timer) clearTimeout(rt.timer);
    o.providers.delete(name);
    o.topology.providers.delete(name);
    void rt.adapter.close();
    o.logger.info({ provider: name }, 'provider removed from the configuration has no node left: its driver is closed');
  }
}

function isSame(a: ProviderConfig | undefined, b: ProviderConfig): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
