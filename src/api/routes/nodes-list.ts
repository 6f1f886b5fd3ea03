import type { FastifyInstance } from 'fastify';
import { queryNodeRows } from '../../status/query.ts';
import type { RouteDeps } from '../deps.ts';
import { NodeListQuery } from '../contract.ts';

/** GET /api/v1/nodes[?state=][&label=][&provider=]: node status rows (the `/node-list` JSON), oldest first. */
export function listNodesRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.get<{ Querystring: NodeListQuery }>('/api/v1/nodes', { schema: { querystring: NodeListQuery } }, async (request) => {
    const { state, label, provider } = request.query;
    return { nodes: await queryNodeRows(deps.store, { states: state, label, provider }, deps.now()) };
  });
}
