import type { FastifyInstance } from 'fastify';
import { createRequest, type CreateRequestArgs } from '../../ops/requests.ts';
import { queryRequestView } from '../../status/query.ts';
import type { RouteDeps } from '../deps.ts';
import { requestBodyLimit } from '../limits.ts';
import { createRequestBody } from '../contract.ts';

/**
 * POST /api/v1/requests: a scheduler asks for nodes; answers 201 with the request to wait on. At
 * most api.max-nodes-per-request nodes, in a body no larger than that many labels need.
 */
export function createRequestRoute(app: FastifyInstance, deps: RouteDeps): void {
  const options = { schema: { body: createRequestBody(deps.maxNodesPerRequest) }, bodyLimit: requestBodyLimit(deps.maxNodesPerRequest) };
  app.post<{ Body: CreateRequestArgs }>('/api/v1/requests', options, async (request, reply) => {
    const req = await createRequest(deps.store, request.body, deps.ctx());
    request.log.info({ request: req.id, labels: req.labels, requestor: req.requestor }, 'request created');
    return reply.code(201).header('location', `/api/v1/requests/${req.id}`).send(await queryRequestView(deps.store, req));
  });
}
