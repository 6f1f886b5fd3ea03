import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../log.ts';
import type { Gerrit } from './gerrit.ts';
import type { Repos } from './repos.ts';

/**
 * Git's smart HTTP protocol, served by git's own `git http-backend` as a CGI program: clones and
 * fetches of `http://host:port/<project>` (anonymous) and `/a/<project>` (authenticated), with
 * protocol v2 when the client asks for it. Pushes are not served: changes are uploaded through the
 * simulator's admin API.
 */

const GIT_PATH = /^(?:\/a)?\/(.+?)(?:\.git)?\/(info\/refs|git-upload-pack|HEAD|objects\/.+)$/;

let backend: string | null = null;
function httpBackend(): string {
  backend ??= `${execFileSync('git', ['--exec-path'], { encoding: 'utf8' }).trim()}/git-http-backend`;
  return backend;
}

export function gitHttpRoutes(app: FastifyInstance, gerrit: Gerrit, repos: Repos, logger: Logger): void {
  app.addContentTypeParser(['application/x-git-upload-pack-request', 'application/x-git-receive-pack-request'], (_req, payload, done) => done(null, payload));

  app.route({
    method: ['GET', 'POST'],
    url: '/*',
    handler: async (request, reply) => {
      const [pathname, query = ''] = request.url.split('?') as [string, string?];
      const m = GIT_PATH.exec(decodeURIComponent(pathname));
      if (!m || !gerrit.hasProject(m[1]!)) return reply.code(404).type('text/plain').send('Not found\n');
      if (m[2] === 'git-receive-pack' || /service=git-receive-pack/.test(query)) {
        return reply.code(403).type('text/plain').send('pushes are not served: upload changes through the simulator\'s admin API\n');
      }
      reply.hijack();
      const raw = reply.raw;
      const child = spawn(httpBackend(), [], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          GIT_PROJECT_ROOT: repos.root, GIT_HTTP_EXPORT_ALL: '1', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
          PATH_INFO: `/${m[1]}.git/${m[2]}`, QUERY_STRING: query, REQUEST_METHOD: request.method,
          CONTENT_TYPE: request.headers['content-type'] ?? '', REMOTE_ADDR: request.ip, REMOTE_USER: 'anonymous',
          ...(request.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(request.headers['content-encoding']) } : {}),
          ...(request.headers['git-protocol'] ? { GIT_PROTOCOL: String(request.headers['git-protocol']) } : {}),
        },
      });
      child.on('error', (err) => { logger.error({ err }, 'git http-backend failed'); raw.destroy(); });
      if (request.method === 'POST') (request.body as IncomingMessage).pipe(child.stdin);
      else child.stdin.end();
      child.stdin.on('error', () => {});
      child.stderr.on('data', (d: Buffer) => logger.debug({ stderr: d.toString() }, 'git http-backend'));
      // CGI: header lines, a blank line, then the body.
      let head = Buffer.alloc(0);
      let started = false;
      child.stdout.on('data', (chunk: Buffer) => {
        if (started) { raw.write(chunk); return; }
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        started = true;
        let status = 200;
        for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
          const i = line.indexOf(':');
          const name = line.slice(0, i).trim();
          const value = line.slice(i + 1).trim();
          if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]) || 200;
          else raw.setHeader(name, value);
        }
        raw.statusCode = status;
        raw.write(head.subarray(end + 4));
      });
      child.on('close', () => {
        if (!started) raw.statusCode = 500;
        raw.end();
      });
    },
  });
}
