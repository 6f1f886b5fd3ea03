import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { PROJECT_ROOT } from '../../project-root.ts';

/**
 * The status page: static files (no build step), read once when the app is built. The page
 * draws itself from /api/v1/status and /api/v1/series and refreshes every few seconds.
 */

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'gate.js': 'text/javascript; charset=utf-8',
  'plot.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

export function statusPageRoutes(app: FastifyInstance): void {
  const dir = new URL('src/status/web/', PROJECT_ROOT);
  const content = new Map(Object.keys(FILES).map((f) => [f, readFileSync(new URL(f, dir))]));
  const send = (file: string) => async (_request: unknown, reply: import('fastify').FastifyReply) =>
    // Short: a new release's page is picked up within a minute without a forced reload.
    reply.type(FILES[file]!).header('cache-control', 'public, max-age=60').send(content.get(file));
  app.get('/', send('index.html'));
  for (const file of Object.keys(FILES)) app.get(`/status/${file}`, send(file));
}
