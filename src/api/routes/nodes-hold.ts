import type { FastifyInstance } from 'fastify';
import { holdNode } from '../../ops/nodes.ts';
import { nodeRow } from '../../status/rows.ts';
import type { RouteDeps } from '../deps.ts';
import { HoldNodeBody, IdParams } from '../contract.ts';

/** POST /api/v1/nodes/{id}/hold {"reason"?, "expires"?}: keep a node for debugging. */
export function holdNodeRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.post<{ Params: IdParams; Body: HoldNodeBody }>(
    '/api/v1/nodes/:id/hold', { schema: { params: IdParams, body: HoldNodeBody } },
    async (request) => {
      const ctx = deps.ctx();
      const { reason, expires } = request.body;
      const expiresAt = expires === undefined ? undefined : ctx.now + Math.round(expires * 1000);
      const node = await holdNode(deps.store, request.params.id, { reason, expiresAt }, ctx);
      request.log.info({ node: node.id, reason: node.holdReason }, 'node held');
      return nodeRow(node, deps.now());
    },
  );
}
