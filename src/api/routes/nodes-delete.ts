import type { FastifyInstance } from 'fastify';
import { deleteNode } from '../../ops/nodes.ts';
import { nodeRow } from '../../status/rows.ts';
import type { RouteDeps } from '../deps.ts';
import { IdParams } from '../contract.ts';

/** DELETE /api/v1/nodes/{id}: 202, the node is `deleting`; a launcher deletes its server. */
export function deleteNodeRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.delete<{ Params: IdParams }>('/api/v1/nodes/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const node = await deleteNode(deps.store, request.params.id, deps.ctx());
    request.log.info({ node: node.id }, 'node marked for deletion');
    return reply.code(202).send(nodeRow(node, deps.now()));
  });
}
