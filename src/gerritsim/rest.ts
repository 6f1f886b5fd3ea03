import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import type { Gerrit } from './gerrit.ts';
import { GerritError, type Account } from './model.ts';
import { parseQuery } from './query.ts';
import { changeInfo, accountInfo, type ViewContext } from './rest-views.ts';

/**
 * Gerrit's REST API as a CI system uses it: change queries, one change, its messages, the
 * review endpoint (message and votes), submit and abandon. Authenticated calls live under `/a/`
 * with HTTP basic auth (the account's HTTP password); every JSON answer starts with Gerrit's
 * `)]}'` line against cross-site script inclusion, and errors are plain text, as Gerrit sends them.
 */

export const XSSI_PREFIX = ")]}'\n";

const ReviewInput = z.object({
  message: z.string().max(100_000).optional(),
  labels: z.record(z.string(), z.number()).optional(),
  tag: z.string().max(255).optional(),
  notify: z.string().optional(),
  // Gerrit accepts more (comments, reviewers, drafts…); the simulator ignores them.
}).loose();

function json(reply: FastifyReply, body: unknown, code = 200) {
  return reply.code(code).type('application/json; charset=utf-8').send(XSSI_PREFIX + JSON.stringify(body));
}

/** The `o=` options, given once or repeated. */
function options(q: unknown): Set<string> {
  const o = (q as { o?: string | string[] }).o;
  return new Set(o === undefined ? [] : Array.isArray(o) ? o : [o]);
}

export function restRoutes(app: FastifyInstance, gerrit: Gerrit, logger: Logger, views: ViewContext): void {
  const caller = (request: FastifyRequest): Account => {
    const header = request.headers.authorization ?? '';
    const m = /^Basic\s+(.+)$/i.exec(header);
    if (m) {
      const [user, ...rest] = Buffer.from(m[1]!, 'base64').toString('utf8').split(':');
      const a = gerrit.findAccount(user ?? '');
      if (a && a.password === rest.join(':')) return a;
    }
    throw new GerritError(401, 'Unauthorized');
  };
  const authed = (request: FastifyRequest) => request.url.startsWith('/a/');

  app.setErrorHandler((err: Error, request, reply) => {
    if (err instanceof GerritError) {
      logger.info({ method: request.method, url: request.url.split('?')[0], status: err.status, err: err.message }, 'gerrit refused');
      if (err.status === 401) reply.header('www-authenticate', 'Basic realm="Gerrit Code Review"');
      return reply.code(err.status).type('text/plain; charset=utf-8').send(`${err.message}\n`);
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status < 500) return reply.code(status).type('text/plain; charset=utf-8').send(`${err.message}\n`);
    logger.error({ err, url: request.url }, 'gerrit simulator failed');
    return reply.code(500).type('text/plain; charset=utf-8').send('Internal server error\n');
  });

  for (const prefix of ['', '/a']) {
    app.get(`${prefix}/changes/`, async (request, reply) => {
      if (authed(request)) caller(request);
      const query = request.query as { q?: string; n?: string; S?: string };
      const parsed = parseQuery(query.q ?? 'status:open');
      const owner = (id: number) => gerrit.account(id).username;
      const all = gerrit.listChanges().filter((c) => parsed.test(c, owner)).sort((a, b) => b.updated - a.updated || b.number - a.number);
      const start = Number(query.S ?? 0) || 0;
      const limit = Number(query.n ?? parsed.limit ?? 500) || 500;
      const page = all.slice(start, start + limit);
      const out = page.map((c) => changeInfo(views, c, options(request.query)));
      if (start + limit < all.length && out.length) out[out.length - 1]!._more_changes = true;
      return json(reply, out);
    });

    app.get<{ Params: { id: string } }>(`${prefix}/changes/:id`, async (request, reply) => {
      if (authed(request)) caller(request);
      return json(reply, changeInfo(views, gerrit.resolveChange(request.params.id), options(request.query)));
    });

    app.get<{ Params: { id: string } }>(`${prefix}/changes/:id/messages`, async (request, reply) => {
      if (authed(request)) caller(request);
      const c = gerrit.resolveChange(request.params.id);
      const info = changeInfo(views, c, new Set(['MESSAGES', 'DETAILED_ACCOUNTS']));
      return json(reply, info.messages);
    });
  }

  app.post<{ Params: { id: string; rev: string } }>('/a/changes/:id/revisions/:rev/review', async (request, reply) => {
    const who = caller(request);
    const body = ReviewInput.safeParse(request.body ?? {});
    if (!body.success) throw new GerritError(400, `Invalid review input: ${body.error.issues[0]?.path.join('.')}: ${body.error.issues[0]?.message}`);
    const change = gerrit.resolveChange(request.params.id);
    const labels = gerrit.review(change, request.params.rev, who, body.data);
    return json(reply, { labels });
  });

  app.post<{ Params: { id: string } }>('/a/changes/:id/submit', async (request, reply) => {
    const who = caller(request);
    const change = await gerrit.submit(gerrit.resolveChange(request.params.id), who);
    return json(reply, changeInfo(views, change, new Set()));
  });

  app.post<{ Params: { id: string } }>('/a/changes/:id/abandon', async (request, reply) => {
    const who = caller(request);
    return json(reply, changeInfo(views, gerrit.abandon(gerrit.resolveChange(request.params.id), who), new Set()));
  });

  app.get('/a/accounts/self', async (request, reply) => json(reply, accountInfo(caller(request))));
  app.get('/config/server/version', async (_request, reply) => json(reply, '3.9.1-sim'));
}
