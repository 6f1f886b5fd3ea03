import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { querySummary } from '../../status/sources.ts';
import { renderSummary } from '../../status/summary.ts';
import type { RouteDeps } from '../deps.ts';

const Query = z.object({ format: z.enum(['json', 'text']).optional() });

/** GET /api/v1/status: the one-screen summary (`nodepool status`, the status page); `?format=text` for the screen itself. */
export function statusSummaryRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.get<{ Querystring: z.output<typeof Query> }>('/api/v1/status', { schema: { querystring: Query } }, async (request, reply) => {
    const summary = await querySummary(deps.store, deps.status, deps.now());
    if (request.query.format === 'text') return reply.type('text/plain; charset=utf-8').send(renderSummary(summary));
    return summary;
  });
}
