import type { FastifyInstance } from 'fastify';
import { heartbeat } from '../../ops/requests.ts';
import type { RouteDeps } from '../deps.ts';
import { IdParams } from '../contract.ts';

/** POST /api/v1/requests/{id}/heartbeat: renews the lease on the nodes; answers the new expiry. */
export function heartbeatRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.post<{ Params: IdParams }>('/api/v1/requests/:id/heartbeat', { schema: { params: IdParams } }, async (request) => {
    const expires = await heartbeat(deps.store, request.params.id, deps.ctx());
    return { id: request.params.id, lease_expires_at: new Date(expires).toISOString() };
  });
}
