import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { seriesView } from '../../status/series.ts';
import type { RouteDeps } from '../deps.ts';

const Query = z.object({
  /** How far back, in hours. */
  hours: z.coerce.number().positive().max(24 * 31).default(6),
});

/** GET /api/v1/series[?hours=6]: the status page's plots (requests waiting, wait p50/p95, nodes by state, launch failures). */
export function statusSeriesRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.get<{ Querystring: z.output<typeof Query> }>('/api/v1/series', { schema: { querystring: Query } }, async (request) => {
    const to = deps.now();
    const from = to - request.query.hours * 3600_000;
    return seriesView(await deps.store.listSamples(from), from, to);
  });
}
