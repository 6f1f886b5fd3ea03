/**
 * The one HTTP listener for every simulated cloud: `/<cloud>/identity`, `/<cloud>/compute`,
 * `/<cloud>/image`, `/<cloud>/network`. Each call goes: offline check (connection reset),
 * injected failure, token check, service step (Nova's microversion), handler; then the
 * service's headers, stats and a debug log line.
 */
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from '../log.ts';
import { failureMessage } from './faults.ts';
import { glance } from './glance.ts';
import { keystone } from './keystone.ts';
import { neutron } from './neutron.ts';
import { nova } from './nova.ts';
import { SimError, type RouteDef, type ServiceDef, type SimReply, type SimRequest } from './service.ts';
import type { CloudState } from './state.ts';
import { requestId } from './util.ts';

const SERVICES: ServiceDef[] = [keystone, nova, glance, neutron];
const SERVICE_BY_PREFIX: Record<string, ServiceDef> = { identity: keystone, compute: nova, image: glance, network: neutron };

/** `nova GET /servers/{id}`: the route below the service's endpoint, ids as placeholders. */
function routeName(svc: ServiceDef, path: string): string {
  const root = svc.statsRoots.find((r) => path === r || path.startsWith(`${r}/`)) ?? '';
  const rest = path.slice(root.length).replace(/:(\w+)/g, '{$1}').replace(/\/$/, '');
  return rest === '' ? '/' : rest;
}

function splitUrl(url: string): { pathname: string; query: URLSearchParams } {
  const i = url.indexOf('?');
  return { pathname: i < 0 ? url : url.slice(0, i), query: new URLSearchParams(i < 0 ? '' : url.slice(i + 1)) };
}

function send(reply: FastifyReply, res: SimReply): FastifyReply {
  reply.code(res.status);
  for (const [k, v] of Object.entries(res.headers ?? {})) reply.header(k, v);
  const hasBody = res.body !== undefined && res.body !== null;
  const type = res.contentType ?? (hasBody ? 'application/json' : '');
  if (type) reply.header('Content-Type', type);
  if (!hasBody) return reply.send();
  // A Buffer keeps Fastify from appending "; charset=utf-8" to the services' exact content types.
  return reply.send(Buffer.from(typeof res.body === 'string' ? res.body : JSON.stringify(res.body)));
}

async function answer(svc: ServiceDef, route: RouteDef, req: SimRequest, logger: Logger): Promise<SimReply> {
  const { cloud } = req;
  let res: SimReply;
  try {
    const fault = cloud.faults.takeCall(svc.name, req.method, req.path);
    if (fault) {
      const headers = fault.status === 429 ? { 'Retry-After': String(fault.retryAfterSeconds ?? 1) } : undefined;
      throw new SimError(fault.status, failureMessage(svc.name, fault.status), undefined, headers);
    }
    if (route.auth) {
      const header = req.headers['x-auth-token'];
      const token = cloud.validToken(typeof header === 'string' ? header : undefined);
      // Services other than Keystone need a project-scoped token.
      if (!token || (svc.name !== 'keystone' && !token.projectId)) {
        res = svc.unauthorized(req);
        svc.decorate(req, res);
        return res;
      }
      req.token = token;
    }
    svc.before?.(req);
    res = await route.handler(req);
  } catch (err) {
    if (err instanceof SimError) res = svc.error(req, err);
    else {
      logger.error({ cloud: cloud.name, service: svc.name, err: (err as Error).message }, 'simulator handler failed');
      res = svc.error(req, new SimError(500, failureMessage(svc.name, 500)));
    }
  }
  svc.decorate(req, res);
  return res;
}

export function createHttpApp(clouds: Map<string, CloudState>, logger: Logger): FastifyInstance {
  const app = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 }, forceCloseConnections: true });

  // Bodies reach the services as text (each reports bad JSON in its own words), or as a stream
  // for uploads, so an image is never held in memory.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    if ((request.routeOptions.config as { stream?: boolean }).stream) return done(null, payload);
    const chunks: Buffer[] = [];
    payload.on('data', (c: Buffer) => chunks.push(c));
    payload.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
    payload.on('error', (err: Error) => done(err, undefined));
  });

  // An offline cloud answers nothing: the connection is reset, like a dead load balancer.
  app.addHook('onRequest', (request, reply, done) => {
    const name = /^\/([^/?]+)/.exec(request.url)?.[1];
    if (name && clouds.get(name)?.offline) {
      reply.hijack();
      request.raw.socket.resetAndDestroy();
      return;
    }
    done();
  });

  for (const svc of SERVICES) {
    for (const route of svc.routes) {
      const stats = routeName(svc, route.path);
      const name = `${svc.name} ${route.method} ${stats}`;
      app.route({
        method: route.method,
        url: `/:cloud${route.path}`,
        config: { stream: route.stream ?? false },
        handler: async (request, reply) => {
          const params = request.params as Record<string, string>;
          const cloud = clouds.get(params.cloud);
          if (!cloud) return reply.code(404).header('Content-Type', 'text/plain; charset=UTF-8').send('404 Not Found\n');
          const { pathname, query } = splitUrl(request.url);
          const req: SimRequest = {
            cloud, method: route.method, path: pathname.slice(params.cloud.length + 1), query, params,
            headers: request.headers, requestId: requestId(),
            body: typeof request.body === 'string' ? request.body : undefined,
            stream: route.stream ? (request.body as Readable | undefined) : undefined,
          };
          cloud.countCall(name);
          const res = await answer(svc, route, req, logger);
          logger.debug({ cloud: cloud.name, service: svc.name, method: route.method, route: stats, status: res.status }, 'api call');
          return send(reply, res);
        },
      });
    }
  }

  // Unknown paths get the 404 of the service they fall under.
  app.setNotFoundHandler((request, reply) => {
    const [, cloudName, prefix] = /^\/([^/?]+)\/([^/?]+)/.exec(request.url) ?? [];
    const cloud = cloudName ? clouds.get(cloudName) : undefined;
    const svc = prefix ? SERVICE_BY_PREFIX[prefix] : undefined;
    if (!cloud || !svc) return reply.code(404).header('Content-Type', 'text/plain; charset=UTF-8').send('404 Not Found\n');
    const { pathname, query } = splitUrl(request.url);
    const req: SimRequest = {
      cloud, method: request.method, path: pathname.slice(cloudName.length + 1), query, params: {}, headers: request.headers,
      requestId: requestId(), body: undefined,
    };
    cloud.countCall(`${svc.name} ${request.method} (unknown)`);
    const res = svc.error(req, new SimError(404, 'The resource could not be found.'));
    svc.decorate(req, res);
    logger.debug({ cloud: cloud.name, service: svc.name, method: request.method, route: '(unknown)', status: 404 }, 'api call');
    return send(reply, res);
  });

  return app;
}
