import type { FastifyInstance } from 'fastify';

/**
 * Headers for dashboards: CORS on every answer (a dashboard on another origin reads the status
 * paths, and their errors), a short Cache-Control on the status paths so a wall of dashboards
 * polling every few seconds costs the store one read per path per max-age, and the preflight
 * answer for calls that carry an Authorization header.
 */

/** Paths whose answers may be cached for `max-age` seconds. */
export const CACHED_PATHS: ReadonlySet<string> = new Set([
  '/node-list', '/request-list', '/label-list', '/image-list', '/dib-image-list', '/image-status', '/provider-list',
  '/api/v1/status', '/api/v1/series',
]);

export interface HeaderOptions {
  /** Seconds status answers may be reused. */
  maxAgeSeconds: number;
  /** Whether status reads are public: shared caches may keep them only then. */
  readPublic: boolean;
}

export function installHttpHeaders(app: FastifyInstance, opts: HeaderOptions): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('access-control-allow-origin', '*');
    const path = request.routeOptions.url;
    if (request.method === 'GET' && reply.statusCode === 200 && path && CACHED_PATHS.has(path)) {
      reply.header('cache-control', `${opts.readPublic ? 'public' : 'private'}, max-age=${opts.maxAgeSeconds}`);
      // The same path answers a table or JSON by Accept, gzipped or not, and more or less by token.
      reply.header('vary', 'Accept, Accept-Encoding, Authorization');
    }
    done(null, payload);
  });
  app.options('*', async (_request, reply) => reply
    .code(204)
    .header('access-control-allow-methods', 'GET, POST, DELETE, OPTIONS')
    .header('access-control-allow-headers', 'authorization, content-type, accept')
    .header('access-control-max-age', '600')
    .send());
}
