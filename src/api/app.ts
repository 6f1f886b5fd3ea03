import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { RouteDeps } from './deps.ts';
import { installErrorHandler, installZodValidation } from './errors.ts';
import { createRequestRoute } from './routes/requests-create.ts';
import { getRequestRoute } from './routes/requests-get.ts';
import { listRequestsRoute } from './routes/requests-list.ts';
import { cancelRequestRoute } from './routes/requests-cancel.ts';
import { releaseRequestRoute } from './routes/requests-release.ts';
import { heartbeatRoute } from './routes/requests-heartbeat.ts';
import { listNodesRoute } from './routes/nodes-list.ts';
import { getNodeRoute } from './routes/nodes-get.ts';
import { holdNodeRoute } from './routes/nodes-hold.ts';
import { deleteNodeRoute } from './routes/nodes-delete.ts';
import { statusListRoutes } from './routes/status-lists.ts';
import { imageRoutes } from './routes/images.ts';
import { storeImages } from '../status/image-rows.ts';
import { healthRoutes } from './routes/health.ts';
import { statusSummaryRoute } from './routes/status-summary.ts';
import { statusSeriesRoute } from './routes/status-series.ts';
import { statusPageRoutes } from './routes/status-page.ts';
import { metricsRoute } from './routes/metrics.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { eraseProviderRoute, getProviderRoute } from './routes/providers.ts';
import { installAuth } from './auth.ts';
import { installHttpHeaders } from './http-headers.ts';
import { DEFAULT_MAX_NODES_PER_REQUEST, installBodyLimits } from './limits.ts';
import type { ApiTokenConfig } from '../config/types.ts';
import { statusSources, type StatusSources } from '../status/sources.ts';
import type { GateConfig } from '../gate/config/types.ts';
import { gateLogRoutes, gateRoutes } from '../gate/web.ts';

export interface ApiOptions {
  store: Store;
  logger: Logger;
  /** The clock (ms since epoch); tests pass their own. */
  now?: () => number;
  /** How long a requestor's lease on fulfilled nodes lasts without a heartbeat (ms). */
  requestLeaseTimeoutMs: number;
  /** Whether the whole system has started; `/ready` answers 503 until it has. Default: always ready. */
  isReady?: () => boolean;
  /** Labels served at `/label-list` (the configured ones); without it the path is not served. */
  labels?: () => string[];
  /** Long-poll re-read interval (ms), for writes made by other processes. Default 1000. */
  pollIntervalMs?: number;
  /** Name written to the audit log for changes made through the API. Default `api`. */
  actor?: string;
  /** API tokens and whether reads are public (`api.tokens`, `api.read-public`). Default: no tokens, all open. */
  access?: { tokens: readonly ApiTokenConfig[]; readPublic: boolean };
  /** Configuration, live provider state and images for the status paths and page. */
  status?: Partial<StatusSources>;
  /** Seconds dashboards may reuse a status answer (Cache-Control max-age). Default 5. */
  cacheSeconds?: number;
  /** Prometheus metrics served at /metrics; without them the path is not served. */
  metrics?: Metrics;
  /** Most nodes one request may ask for (api.max-nodes-per-request). Default 50. */
  maxNodesPerRequest?: number;
  /** The gating core's routes (/gate/status, the webhook, operators' orders); `logDir` when this host keeps its job logs. */
  gate?: { config: GateConfig; logDir?: string | null };
}

/**
 * One access line per request, as it is answered (method, path, status, ms, and the request id the
 * client got), instead of fastify's two (`incoming request`, then `request completed`); fastify's
 * other lines (a route not found, a failed serializer or stream) are its own.
 */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const fields = { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 };
    if (error) reply.log.error({ ...fields, err: error }, 'request errored');
    else reply.log.info(fields, 'request completed');
  }
}

/**
 * The HTTP app: the node-request API under /api/v1 and Nodepool's status paths. Built without
 * listening, so tests call `app.inject()` and the caller decides where to listen. Routes talk to
 * the store and the operations only, never to a cloud.
 */
export function buildApiApp(opts: ApiOptions): FastifyInstance {
  const app: FastifyInstance = Fastify({
    // Typed as fastify's logger interface: pino's own type makes the instance a different generic.
    loggerInstance: opts.logger as FastifyBaseLogger,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    logController: new AccessLog(),
  });
  const now = opts.now ?? Date.now;
  const closing = new AbortController();
  // Every long-poll listens for the app closing while it waits (and stops listening when it ends):
  // hundreds at once are normal, not a leak.
  setMaxListeners(0, closing.signal);
  app.addHook('preClose', async () => closing.abort());
  app.addHook('onSend', (request, reply, payload, done) => { reply.header('x-request-id', request.id); done(null, payload); });

  const deps: RouteDeps = {
    store: opts.store,
    now,
    ctx: () => ({ now: now(), by: opts.actor ?? 'api', leaseTimeoutMs: opts.requestLeaseTimeoutMs }),
    pollIntervalMs: opts.pollIntervalMs ?? 1000,
    closing: closing.signal,
    isReady: opts.isReady ?? (() => true),
    maxNodesPerRequest: opts.maxNodesPerRequest ?? DEFAULT_MAX_NODES_PER_REQUEST,
    labels: opts.labels,
    status: statusSources({ labelNames: opts.labels, images: storeImages(opts.store), ...opts.status }),
  };

  installBodyLimits(app);
  installZodValidation(app);
  installErrorHandler(app);
  const readPublic = opts.access?.readPublic ?? true;
  installAuth(app, { tokens: opts.access?.tokens ?? [], readPublic, store: opts.store, logger: opts.logger });
  installHttpHeaders(app, { maxAgeSeconds: opts.cacheSeconds ?? 5, readPublic });

  createRequestRoute(app, deps);
  listRequestsRoute(app, deps);
  getRequestRoute(app, deps);
  cancelRequestRoute(app, deps);
  releaseRequestRoute(app, deps);
  heartbeatRoute(app, deps);
  listNodesRoute(app, deps);
  getNodeRoute(app, deps);
  holdNodeRoute(app, deps);
  deleteNodeRoute(app, deps);
  statusListRoutes(app, deps);
  statusSummaryRoute(app, deps);
  statusSeriesRoute(app, deps);
  statusPageRoutes(app);
  if (opts.metrics) metricsRoute(app, opts.metrics);
  getProviderRoute(app, deps);
  eraseProviderRoute(app, deps);
  imageRoutes(app, deps);
  healthRoutes(app, deps);
  if (opts.gate) {
    gateRoutes(app, { store: opts.store, config: opts.gate.config, now });
    if (opts.gate.logDir) gateLogRoutes(app, opts.gate.logDir);
  }
  return app;
}
