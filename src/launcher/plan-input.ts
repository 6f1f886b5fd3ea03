import type { NodeRecord, RequestRecord } from '../model.ts';
import type { ServerView } from '../../providers/provider.ts';
import type { Topology } from './topology.ts';
import type { Cost } from './quota.ts';
import type { HealthState } from './health.ts';
import type { Action, LaunchFailure } from './actions.ts';

/** What a plan is made from (./planner.ts): a snapshot of the store and the clouds, facts learned, and now. */

/** What the launcher knows of one provider's servers (one cached list, promise 8). */
export interface ProviderCloudView {
  /** Servers believed to exist now, by id. */
  servers: Map<string, ServerView>;
  /**
   * Servers an incremental list showed DELETED (gone for good): id → start of that list. An
   * incremental list that does not name a server says nothing of it; only these and complete
   * lists show a server gone.
   */
  gone: Map<string, number>;
  /** Start time of the newest list that the map reflects; null before the first. */
  refreshedAt: number | null;
  /** Start time of the newest complete (not incremental) list. */
  fullRefreshedAt: number | null;
  /** Counts complete lists, for "seen on two passes". */
  fullRefreshSeq: number;
}

/** What the launcher has learned of a provider: health, quota facts, pauses and backoffs. */
export interface ProviderConditions {
  health: HealthState;
  /** Cost of one node of each pool label (`<pool>/<label>`), from the cloud's flavors; unknown = 1 instance. */
  labelCost: ReadonlyMap<string, Cost>;
  /** Room the cloud's absolute limits leave for our nodes (servers we do not manage taken out); null = not read yet. */
  cloudRoom: Cost | null;
  /** Pools paused after the cloud refused for quota: pool name → until. */
  pausedUntil: ReadonlyMap<string, number>;
  /** Labels in launch backoff in this provider: label → until. */
  backoffUntil: ReadonlyMap<string, number>;
  /** Server creates and deletes that may still start now (the driver's `callsAtOnce` less those running); absent: no limit. */
  callRoom?: number;
}

export interface PlanInput {
  now: number;
  launcher: string;
  topology: Topology;
  nodes: NodeRecord[];
  /** Open requests plus fulfilled ones whose nodes are in use. */
  requests: RequestRecord[];
  cloud: Map<string, ProviderCloudView>;
  /** Task keys running in this process (`create:<node>`, `scan:<node>`, `delete:<node>`, `leak:<provider>:<server>`). */
  inflight: ReadonlySet<string>;
  /**
   * When this launcher process started: a call sent since under its name was sent by this process,
   * so its answer is not lost (the rows may lag the task's end by a pass).
   */
  startedAt?: number;
  /** When this process last asked the cloud to delete a node's server. */
  deleteCalledAt: ReadonlyMap<string, number>;
  /** When that delete call answered (204, or 404 for a server already gone); absent while it runs or after it failed. */
  deleteAnsweredAt: ReadonlyMap<string, number>;
  /** Leaked servers already seen: key `<provider>/<server>` → full-refresh sequence number of the first sighting. */
  leakSightings: ReadonlyMap<string, number>;
  /** Per provider; a provider absent here is healthy with nothing known of its quota. */
  conditions?: ReadonlyMap<string, ProviderConditions>;
  /** Providers that gave a request back after failing it (request id → providers): tried last. */
  declined?: ReadonlyMap<string, ReadonlySet<string>>;
  /** Launch tasks that failed since the last plan, by node. */
  launchFailures?: ReadonlyMap<string, LaunchFailure>;
  /** Pool labels (`<provider>/<pool>/<label>`) whose diskimage has no usable upload there yet: not launched, requests wait. */
  imageless?: ReadonlySet<string>;
  /**
   * The providers whose actions this launcher carries out (`--providers`, ./serving.ts); absent or
   * null: every one. A request another launcher should claim and has left unclaimed for
   * UNCLAIMED_MS is claimed in one of these (./plan-claims.ts).
   */
  served?: ReadonlySet<string> | null;
}

export const NO_CONDITIONS: ProviderConditions = { health: 'healthy', labelCost: new Map(), cloudRoom: null, pausedUntil: new Map(), backoffUntil: new Map() };

export interface Plan {
  actions: Action[];
  /** When a time-based condition next comes due (a timeout, a lease, an age); null = no such thing. */
  nextWakeAt: number | null;
}
