import type { FastifyInstance } from 'fastify';
import { queryRequestViews } from '../../status/query.ts';
import type { RouteDeps } from '../deps.ts';
import { RequestListQuery } from '../contract.ts';

/** GET /api/v1/requests[?state=a,b][&limit=N]: request views, oldest first (newest first with a limit). */
export function listRequestsRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.get<{ Querystring: RequestListQuery }>('/api/v1/requests', { schema: { querystring: RequestListQuery } }, async (request) => {
    const { state, limit } = request.query;
    const reqs = await deps.store.listRequests({ states: state, limit });
    return { requests: await queryRequestViews(deps.store, reqs) };
  });
}
