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
      // A client that hangs up stops the wait (and its subscription) at once.
      const gone = new AbortController();
      const onClose = () => gone.abort();
      const socket = request.raw.socket;
      socket?.once('close', onClose);
      let req;
      try {
        req = await waitWhileOpen(deps.store, id, {
          waitMs, pollMs: deps.pollIntervalMs, signal: AbortSignal.any([gone.signal, deps.closing]),
        });
      } finally {
        socket?.off('close', onClose);
      }
      if (!req) throw new NotFoundError('request', id);
      return queryRequestView(deps.store, req);
    },
  );
}
