import type { Store } from '../store/store.ts';
import type { OpContext } from '../ops/context.ts';
import type { StatusSources } from '../status/sources.ts';

/** What every route is given: the store, the clock, and the context its operations run with. */
export interface RouteDeps {
  store: Store;
  now: () => number;
  /** Operation context at this moment; `by` names the API in the audit log. */
  ctx: () => OpContext;
  /** How often a long-poll re-reads the store besides waking on change events (ms). */
  pollIntervalMs: number;
  /** Aborted when the app closes, so no long-poll holds shutdown for minutes. */
  closing: AbortSignal;
  isReady: () => boolean;
  /** Most nodes one request may ask for (api.max-nodes-per-request). */
  maxNodesPerRequest: number;
  labels?: () => string[];
  /** Configuration, live provider state and images, for the status paths and page. */
  status: StatusSources;
}
