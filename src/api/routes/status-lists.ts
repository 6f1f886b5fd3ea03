import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NODE_COLUMNS, REQUEST_COLUMNS, type Cell, type Column } from '../../status/rows.ts';
import { renderRows, type OutputFormat } from '../../status/format.ts';
import { queryNodeRows, queryRequestRows } from '../../status/query.ts';
import { DIB_IMAGE_COLUMNS, IMAGE_COLUMNS } from '../../status/images.ts';
import { IMAGE_STATUS_COLUMNS, queryImageStatus } from '../../status/image-rows.ts';
import { LABEL_COLUMNS } from '../../status/labels.ts';
import { PROVIDER_COLUMNS } from '../../status/providers.ts';
import { queryLabelRows, queryProviderRows } from '../../status/sources.ts';
import type { RouteDeps } from '../deps.ts';
import { sendBody } from '../compress.ts';
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

function send(
  request: FastifyRequest, reply: FastifyReply, rows: readonly Record<string, Cell>[], columns: readonly Column[],
  q: { format?: string; fields?: string; detail?: string },
): Promise<FastifyReply> {
  const format = outputFormat(request, q.format);
  const fields = q.fields?.split(',').map((f) => f.trim()).filter(Boolean);
  const body = renderRows(rows, columns, format, { fields, detail: q.detail === '' || q.detail === '1' || q.detail === 'true' });
  return sendBody(request, reply, body, format === 'json' ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8');
}

export function statusListRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get<{ Querystring: StatusQuery }>('/node-list', { schema: { querystring: StatusQuery } }, async (request, reply) => {
    const q = request.query;
    let rows = await queryNodeRows(deps.store, { states: q.state, label: q.label, provider: q.provider }, deps.now());
    if (q.node_id) rows = rows.filter((r) => r.id === q.node_id);
    return send(request, reply, rows, NODE_COLUMNS, q);
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
