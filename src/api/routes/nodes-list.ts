import type { FastifyInstance } from 'fastify';
import { queryNodeRows } from '../../status/query.ts';
import type { RouteDeps } from '../deps.ts';
import { NodeListQuery } from '../contract.ts';
import { ValidationError } from '../../ops/errors.ts';
import { sendJson } from '../compress.ts';

/**
 * GET /api/v1/nodes[?state=][&label=][&provider=][&limit=N&after=ID]: node status rows (the
 * `/node-list` JSON), oldest first. With `limit`, one page and `next`: the `after` of the next page
 * (null on the last one); an `after` that names no listed node is a 400, not an empty page.
 */
export function listNodesRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.get<{ Querystring: NodeListQuery }>('/api/v1/nodes', { schema: { querystring: NodeListQuery } }, async (request, reply) => {
    const { state, label, provider, limit, after } = request.query;
    const rows = await queryNodeRows(deps.store, { states: state, label, provider }, deps.now());
    if (limit === undefined && after === undefined) return sendJson(request, reply, { nodes: rows });
    let start = 0;
    if (after !== undefined) {
      const at = rows.findIndex((r) => r.id === after);
      if (at < 0) throw new ValidationError('after', `after: no node ${after} in this listing (it may have been deleted since: start again without after)`);
      start = at + 1;
    }
    const page = rows.slice(start, limit === undefined ? undefined : start + limit);
    const next = start + page.length < rows.length && page.length > 0 ? page[page.length - 1]!.id : null;
    return sendJson(request, reply, { nodes: page, next });
  });
}
