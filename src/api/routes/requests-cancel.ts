import type { FastifyInstance } from 'fastify';
import { cancelRequest } from '../../ops/requests.ts';
import { queryRequestView } from '../../status/query.ts';
import type { RouteDeps } from '../deps.ts';
import { IdParams } from '../contract.ts';

/** DELETE /api/v1/requests/{id}: cancel; a fulfilled request is released with its nodes used. */
export function cancelRequestRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.delete<{ Params: IdParams }>('/api/v1/requests/:id', { schema: { params: IdParams } }, async (request) => {
    const req = await cancelRequest(deps.store, request.params.id, deps.ctx());
    request.log.info({ request: req.id, state: req.state }, 'request canceled');
    return queryRequestView(deps.store, req);
  });
}
