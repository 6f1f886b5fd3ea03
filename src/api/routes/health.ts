import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.ts';

/** `/healthz`: the process answers. `/ready`: the system finished starting (load balancers wait for it). */
export function healthRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('OK'));
  app.get('/ready', async (_request, reply) => {
    const ready = deps.isReady();
    return reply.code(ready ? 200 : 503).type('text/plain; charset=utf-8').send(ready ? 'OK' : 'starting');
  });
}
