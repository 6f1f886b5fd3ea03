import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../ops/errors.ts';
import { nodeRow } from '../../status/rows.ts';
import type { RouteDeps } from '../deps.ts';
import { IdParams } from '../contract.ts';

/** GET /api/v1/nodes/{id}: one node's status row. */
export function getNodeRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.get<{ Params: IdParams }>('/api/v1/nodes/:id', { schema: { params: IdParams } }, async (request) => {
    const node = await deps.store.getNode(request.params.id);
    if (!node) throw new NotFoundError('node', request.params.id);
    return nodeRow(node, deps.now());
  });
}
