import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NODE_COLUMNS, REQUEST_COLUMNS, type Cell, type Column } from '../../status/rows.ts';
import { renderRows, type OutputFormat } from '../../status/format.ts';
import { queryRequestRows } from '../../status/query.ts';
import { DIB_IMAGE_COLUMNS, IMAGE_COLUMNS } from '../../status/images.ts';
import { IMAGE_STATUS_COLUMNS, queryImageStatus } from '../../status/image-rows.ts';
import { LABEL_COLUMNS } from '../../status/labels.ts';
import { PROVIDER_COLUMNS } from '../../status/providers.ts';
import { queryLabelRows, queryProviderRows } from '../../status/sources.ts';
import type { RouteDeps } from '../deps.ts';
import { chooseCoding, prepareBody, sendBody, sendPrepared } from '../compress.ts';
import { ListingCache } from '../listing-cache.ts';
import { readNodes } from '../../store/node-reads.ts';
import { nodeRows } from '../../status/rows.ts';
import { RequestStatusQuery, StatusQuery } from '../contract.ts';

/**
 * Nodepool's web status paths: a text table by default (what `curl` shows), JSON with
 * `Accept: application/json` or `?format=json`; `?fields=a,b` picks columns in both, and
 * `?detail=1` adds the detail columns to the table (JSON always has every field).
 * `/provider-list` is ours: Nodepool has no such path.
 */

export function outputFormat(request: FastifyRequest, format: string | undefined): OutputFormat {
  if (format) return format === 'json' ? 'json' : 'text';
  return /\bapplication\/json\b/.test(request.headers.accept ?? '') ? 'json' : 'text';
}

function render(
  request: FastifyRequest, rows: readonly Record<string, Cell>[], columns: readonly Column[],
  q: { format?: string; fields?: string; detail?: string },
): { body: string; contentType: string } {
  const format = outputFormat(request, q.format);
  const fields = q.fields?.split(',').map((f) => f.trim()).filter(Boolean);
  const body = renderRows(rows, columns, format, { fields, detail: q.detail === '' || q.detail === '1' || q.detail === 'true' });
  return { body, contentType: format === 'json' ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8' };
}

function send(
  request: FastifyRequest, reply: FastifyReply, rows: readonly Record<string, Cell>[], columns: readonly Column[],
  q: { format?: string; fields?: string; detail?: string },
): Promise<FastifyReply> {
  const { body, contentType } = render(request, rows, columns, q);
  return sendBody(request, reply, body, contentType);
}

export function statusListRoutes(app: FastifyInstance, deps: RouteDeps): void {
  // Dashboards poll this one; with 10,000 nodes its body is 5 MiB of JSON (./listing-cache.ts).
  const nodeLists = new ListingCache();
  app.get<{ Querystring: StatusQuery }>('/node-list', { schema: { querystring: StatusQuery } }, async (request, reply) => {
    const q = request.query;
    const now = deps.now();
    const key = JSON.stringify([outputFormat(request, q.format), q.fields, q.detail, q.state, q.label, q.provider, q.node_id, chooseCoding(request.headers['accept-encoding'])]);
    const token = deps.store.changeToken();
    const hit = nodeLists.get(key, token, now);
    if (hit) return sendPrepared(reply, hit);
    let nodes = await readNodes(deps.store, { states: q.state, label: q.label, provider: q.provider });
    if (q.node_id) nodes = nodes.filter((n) => n.id === q.node_id);
    const { body, contentType } = render(request, nodeRows(nodes, now), NODE_COLUMNS, q);
    const prepared = await prepareBody(request, body, contentType);
    nodeLists.set(key, token, now, nodes.map((n) => n.leaseExpires), prepared);
    return sendPrepared(reply, prepared);
  });

  app.get<{ Querystring: RequestStatusQuery }>('/request-list', { schema: { querystring: RequestStatusQuery } }, async (request, reply) => {
    const rows = await queryRequestRows(deps.store, { states: request.query.state }, deps.now());
    return send(request, reply, rows, REQUEST_COLUMNS, request.query);
  });

  app.get<{ Querystring: StatusQuery }>('/label-list', { schema: { querystring: StatusQuery } }, async (request, reply) =>
    send(request, reply, await queryLabelRows(deps.store, deps.status), LABEL_COLUMNS, request.query));

  app.get<{ Querystring: StatusQuery }>('/provider-list', { schema: { querystring: StatusQuery } }, async (request, reply) =>
    send(request, reply, await queryProviderRows(deps.store, deps.status, deps.now()), PROVIDER_COLUMNS, request.query));

  app.get<{ Querystring: StatusQuery }>('/image-list', { schema: { querystring: StatusQuery } }, async (request, reply) =>
    send(request, reply, await deps.status.images.imageRows(deps.now()), IMAGE_COLUMNS, request.query));

  app.get<{ Querystring: StatusQuery }>('/image-status', { schema: { querystring: StatusQuery } }, async (request, reply) =>
    send(request, reply, await queryImageStatus(deps.store, deps.status.config?.diskimages?.map((d) => d.name) ?? [], deps.now()), IMAGE_STATUS_COLUMNS, request.query));

  app.get<{ Querystring: StatusQuery }>('/dib-image-list', { schema: { querystring: StatusQuery } }, async (request, reply) =>
    send(request, reply, await deps.status.images.dibImageRows(deps.now()), DIB_IMAGE_COLUMNS, request.query));
}
