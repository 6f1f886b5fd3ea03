import type { FastifyInstance } from 'fastify';
import { releaseRequest, type ReleaseArgs } from '../../ops/requests.ts';
import { queryRequestView } from '../../status/query.ts';
import type { RouteDeps } from '../deps.ts';
import { IdParams, ReleaseInput } from '../contract.ts';

/** POST /api/v1/requests/{id}/release {"state": "used"|"hold", "reason"?}: the job is done with the nodes. */
export function releaseRequestRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.post<{ Params: IdParams; Body: ReleaseArgs }>(
    '/api/v1/requests/:id/release', { schema: { params: IdParams, body: ReleaseInput } },
    async (request) => {
      const req = await releaseRequest(deps.store, request.params.id, request.body, deps.ctx());
      request.log.info({ request: req.id, as: request.body.state }, 'request released');
      return queryRequestView(deps.store, req);
    },
  );
}
