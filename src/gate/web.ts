import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { AutoholdInput, GateOrderInput, IdParams, type AutoholdView } from '../api/contract.ts';
import { NotFoundError, UnauthorizedError, ValidationError } from '../ops/errors.ts';
import { newId } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import type { GateConfig } from './config/types.ts';
import { parseEvent } from './gerrit/events.ts';
import type { Autohold, GateEventRecord } from './model.ts';
import { gateStatus } from './status.ts';

/**
 * The gate over HTTP, on the node-request API's server (any API process: everything here goes
 * through the store, which the gate's scheduler reads):
 *
 *   GET  /gate/status                    pipelines → queues → items → jobs (Zuul's status.json)
 *   POST /gate/webhook[?connection=c]    a Gerrit event, the same JSON as stream-events
 *   POST /api/v1/gate/enqueue|dequeue    {pipeline, change: "N[,P]", project?}: an operator's order
 *   GET  /api/v1/gate/events/{seq}       what came of an order or a webhook
 *   GET|POST /api/v1/gate/autoholds, DELETE /api/v1/gate/autoholds/{id}
 *
 * and, where the job logs are on this host (`nodepool run`, `nodepool gate`), GET /gate/logs/….
 */

/** The largest webhook body: one Gerrit event, its commit message included. */
const WEBHOOK_BODY_LIMIT = 256 * 1024;

function eventAnswer(e: GateEventRecord) {
  return { event: e.seq, outcome: e.outcome, processed: e.processedAt !== null };
}

function autoholdView(h: Autohold): AutoholdView {
  return { id: h.id, job: h.job, project: h.project, change: h.change, reason: h.reason, count: h.count, held: h.held, created_at: new Date(h.createdAt).toISOString() };
}

export function gateRoutes(app: FastifyInstance, o: { store: Store; config: GateConfig; now: () => number }): void {
  const { store, config, now } = o;

  app.get('/gate/status', async () => gateStatus(store, config, now()));

  // A Gerrit event with a long commit message: far below this.
  app.post<{ Querystring: { connection?: string } }>('/gate/webhook', { bodyLimit: WEBHOOK_BODY_LIMIT }, async (request, reply) => {
    const token = config.web.webhookToken;
    if (token && request.headers.authorization !== `Bearer ${token}`) throw new UnauthorizedError('the webhook needs Authorization: Bearer <gate.web.webhook-token>');
    const connection = request.query.connection ?? config.connections[0]!.name;
    if (!config.connections.some((c) => c.name === connection)) throw new ValidationError('connection', `connection: unknown connection "${connection}"`);
    const parsed = parseEvent(request.body);
    if (!parsed.ok) {
      const field = /^(?:[a-z-]+ event: )?([A-Za-z0-9_.]+):/.exec(parsed.error)?.[1] ?? 'body';
      throw new ValidationError(field, parsed.error);
    }
    const seq = await store.gate.appendEvent(`webhook:${connection}`, request.body, now());
    request.log.info({ event: seq, type: (request.body as { type: string }).type }, 'gerrit event received by webhook');
    return reply.code(202).send({ event: seq, outcome: parsed.event ? null : `ignored: ${(parsed as { ignored: string }).ignored}`, processed: false });
  });

  for (const type of ['enqueue', 'dequeue'] as const) {
    app.post<{ Body: GateOrderInput }>(`/api/v1/gate/${type}`, { schema: { body: GateOrderInput } }, async (request, reply) => {
      const body = request.body;
      if (!config.pipelines.some((p) => p.name === body.pipeline)) {
        throw new ValidationError('pipeline', `pipeline: unknown pipeline "${body.pipeline}" (pipelines: ${config.pipelines.map((p) => p.name).join(', ')})`);
      }
      if (body.project !== undefined && !config.projects.has(body.project)) {
        throw new ValidationError('project', `project: ${body.project} is not in the gate configuration`);
      }
      const seq = await store.gate.appendEvent('operator', { type, ...body }, now());
      request.log.info({ event: seq, order: type, pipeline: body.pipeline, change: body.change }, 'gate order queued');
      return reply.code(202).send({ event: seq, outcome: null, processed: false });
    });
  }

  app.get<{ Params: { seq: string } }>('/api/v1/gate/events/:seq', async (request) => {
    const seq = Number(request.params.seq);
    const e = Number.isInteger(seq) ? await store.gate.getEvent(seq) : null;
    if (!e) throw new ValidationError('seq', `seq: no gate event ${request.params.seq}`);
    return eventAnswer(e);
  });

  app.get('/api/v1/gate/autoholds', async () => ({ autoholds: (await store.gate.listAutoholds()).map(autoholdView) }));
  app.post<{ Body: AutoholdInput }>('/api/v1/gate/autoholds', { schema: { body: AutoholdInput } }, async (request, reply) => {
    const b = AutoholdInput.parse(request.body);
    if (!config.jobs.has(b.job)) throw new ValidationError('job', `job: unknown job "${b.job}"`);
    if (b.project !== undefined && !config.projects.has(b.project)) throw new ValidationError('project', `project: ${b.project} is not in the gate configuration`);
    const h: Autohold = {
      id: newId(now()), job: b.job, project: b.project ?? null, change: b.change ?? null, reason: b.reason, count: b.count, held: 0,
      nodeExpiration: null, createdAt: now(),
    };
    await store.gate.insertAutohold(h);
    request.log.info({ autohold: h.id, job: h.job, project: h.project }, 'autohold added');
    return reply.code(201).send(autoholdView(h));
  });
  app.delete<{ Params: IdParams }>('/api/v1/gate/autoholds/:id', { schema: { params: IdParams } }, async (request) => {
    if (!await store.gate.removeAutohold(request.params.id)) throw new NotFoundError('autohold', request.params.id);
    return { id: request.params.id, deleted: true };
  });
}

/** GET /gate/logs/<build>/<path>: a build's files as they are written (job-output.txt grows while it runs), a folder as a list. */
export function gateLogRoutes(app: FastifyInstance, logDir: string): void {
  app.get<{ Params: { '*': string } }>('/gate/logs/*', async (request, reply) => {
    const rel = path.normalize(decodeURIComponent(request.params['*'])).replace(/^(\.\.(\/|$))+/, '');
    const file = path.join(logDir, rel);
    if (!file.startsWith(path.resolve(logDir))) throw new NotFoundError('log', rel);
    const s = await stat(file).catch(() => null);
    if (!s) throw new NotFoundError('log', rel);
    if (s.isDirectory()) {
      const entries = await readdir(file, { withFileTypes: true });
      const base = request.url.split('?')[0]!.replace(/\/?$/, '/');
      const rows = entries.map((e) => `<li><a href="${base}${encodeURIComponent(e.name)}${e.isDirectory() ? '/' : ''}">${e.name}${e.isDirectory() ? '/' : ''}</a></li>`);
      return reply.type('text/html; charset=utf-8').send(`<!doctype html><title>${rel}</title><ul>${rows.join('')}</ul>\n`);
    }
    const type = /\.(json)$/.test(file) ? 'application/json' : /\.html?$/.test(file) ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8';
    return reply.type(type).header('cache-control', 'no-store').send(createReadStream(file));
  });
}
