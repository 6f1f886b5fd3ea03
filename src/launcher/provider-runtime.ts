import type { ProviderAdapter } from '../../providers/provider.ts';
import type { LaunchSpecResolver } from '../launch-spec.ts';
import type { Backoff, ProviderHealth } from './health.ts';
import type { Cost } from './quota.ts';
import type { RateGate } from './rate-gate.ts';
import type { ResourceSweeper } from './resource-sweep.ts';
import type { ServerCache } from './server-cache.ts';

/** Per provider: its driver, its cached server list and its learned boot and delete times. */
export interface ProviderRuntime {
  adapter: ProviderAdapter;
  cache: ServerCache;
  specs: LaunchSpecResolver;
  /** Spaces create and delete calls by the provider's `rate`. */
  gate: RateGate;
  /** Moving averages of boot and delete durations seen here, to time the next list well. */
  bootEstimateMs: number | null;
  deleteEstimateMs: number | null;
  timer: NodeJS.Timeout | null;
  timerAt: number | null;
  health: ProviderHealth;
  /** Launch backoff per label. */
  backoff: Backoff;
  /** Pools paused after a quota refusal: pool → until. */
  pausedUntil: Map<string, number>;
  /** Cost of one node per `<pool>/<label>`, from the cloud's flavors. */
  labelCost: Map<string, Cost>;
  /** Room the cloud's limits leave for our nodes; null until read. */
  cloudRoom: Cost | null;
  limitsReadAt: number | null;
  /** Finds and deletes leaked floating IPs, ports and volumes after each complete server list. */
  sweeper: ResourceSweeper;
  sweptSeq: number;
}

/** Weight of the newest sample in the boot/delete time averages. */
const EWMA = 0.3;

/** The moving average of boot or delete durations after one more sample. */
export function ewma(prev: number | null, sample: number): number {
  return prev === null ? sample : prev + EWMA * (sample - prev);
}
