import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../ops/errors.ts';
import { queryRequestView } from '../../status/query.ts';
import type { RouteDeps } from '../deps.ts';
import { IdParams, WaitQuery } from '../contract.ts';
import { waitWhileOpen } from '../wait.ts';

/**
 * GET /api/v1/requests/{id}[?wait=SECONDS]: the request as its scheduler sees it. With `wait`,
 * the answer comes as soon as the request is fulfilled, failed or canceled, or with its current
 * view when the time runs out (200 either way: the state says which).
 */
export function getRequestRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.get<{ Params: IdParams; Querystring: WaitQuery }>(
    '/api/v1/requests/:id', { schema: { params: IdParams, querystring: WaitQuery } },
    async (request) => {
      const { id } = request.params;
      const waitMs = Math.round((request.query.wait ?? 0) * 1000);
      let req;
      if (waitMs <= 0) {
        req = await waitWhileOpen(deps.store, id, { waitMs: 0, pollMs: deps.pollIntervalMs });
      } else {
        // A client that hangs up, or the app closing, stops the wait (and its subscription) at
        // once. One controller both abort: AbortSignal.any would tie a signal per request to the
        // app's long-lived one.
        const stop = new AbortController();
        const onStop = () => stop.abort();
        const socket = request.raw.socket;
        socket?.once('close', onStop);
        deps.closing.addEventListener('abort', onStop, { once: true });
        if (deps.closing.aborted) stop.abort();
        try {
          req = await waitWhileOpen(deps.store, id, { waitMs, pollMs: deps.pollIntervalMs, signal: stop.signal });
        } finally {
          socket?.off('close', onStop);
          deps.closing.removeEventListener('abort', onStop);
        }
      }
      if (!req) throw new NotFoundError('request', id);
      return queryRequestView(deps.store, req);
    },
  );
}
