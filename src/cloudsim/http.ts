/**
 * The one HTTP listener for every simulated cloud: `/<cloud>/identity`, `/<cloud>/compute`,
 * `/<cloud>/image`, `/<cloud>/network`, `/<cloud>/volume`, and the simulator's own admin API
 * under `/<cloud>/sim` (admin.ts). Each call goes: offline check (connection reset, or no
 * answer), added latency, injected failure (counted, then by rate), token check, service step
 * (Nova's microversion), handler; then the service's headers, stats and a debug log line.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../log.ts';
import { registerAdmin } from './admin.ts';
import { cinder } from './cinder/service.ts';
import type { CallInfo } from './fault-plan.ts';
import { failureMessage } from './faults.ts';
import { glance } from './glance/service.ts';
import { keystone } from './keystone/service.ts';
import { neutron } from './neutron/service.ts';
import { nova } from './nova/service.ts';
import { SimError, type RouteDef, type ServiceDef, type SimReply, type SimRequest } from './service.ts';
import type { CloudState } from './state.ts';
import { requestId } from './util.ts';

const SERVICES: ServiceDef[] = [keystone, nova, glance, neutron, cinder];
const SERVICE_BY_PREFIX: Record<string, ServiceDef> = { identity: keystone, compute: nova, image: glance, network: neutron, volume: cinder };

/** A call the cloud does not answer: the connection is reset, or left hanging until the client gives up. */
interface Drop {
  drop: 'reset' | 'timeout';
}

/**
 * Leaves a request without an answer. A held connection is dropped when the cloud comes back
 * online (see Lifecycle.setOffline) or the simulator closes.
 */
function dropRequest(cloud: CloudState | undefined, request: FastifyRequest, reply: FastifyReply, how: Drop['drop']): void {
  reply.hijack();
  const socket: Socket = request.raw.socket;
  if (how === 'reset' || !cloud) {
    socket.resetAndDestroy();
    return;
  }
  cloud.heldSockets.add(socket);
  socket.once('close', () => cloud.heldSockets.delete(socket));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

/**
 * The injected failure of this call, if any: counted ones first, then the rates. A 5xx or 429
 * comes from in front of the service; a quota refusal from the service itself, so it is raised
 * after the token check and the service's own step (Nova's microversion headers).
 */
function injected(svc: ServiceDef, req: SimRequest, call: CallInfo): { error: SimError; byService: boolean } | Drop | undefined {
  const { cloud } = req;
  const counted = cloud.faults.takeCall(svc.name, req.method, req.path);
  const fault = counted ? { answer: counted.status, retryAfterSeconds: counted.retryAfterSeconds ?? 1 } : cloud.plan.callFault(call);
  if (!fault) return undefined;
  const { answer: a } = fault;
  if (a === 'reset' || a === 'timeout') return { drop: a };
  if (a === 'quota') return { error: svc.quotaError?.(req) ?? new SimError(500, failureMessage(svc.name, 500)), byService: true };
  const headers = a === 429 ? { 'Retry-After': String(fault.retryAfterSeconds) } : undefined;
  return { error: new SimError(a, failureMessage(svc.name, a), undefined, headers), byService: false };
}

async function answer(svc: ServiceDef, route: RouteDef, req: SimRequest, call: CallInfo, logger: Logger): Promise<SimReply | Drop> {
  const { cloud } = req;
  let res: SimReply;
  try {
    const wait = cloud.plan.latencyMs(call);
    if (wait > 0) await sleep(wait);
    const fault = injected(svc, req, call);
    if (fault && 'drop' in fault) return fault;
    if (fault && !fault.byService) throw fault.error;
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
    if (fault) throw fault.error;
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

  // An offline cloud answers nothing: the connection is reset, like a dead load balancer, or
  // left hanging, like a black-holed network. The simulator's own admin API still answers.
  app.addHook('onRequest', (request, reply, done) => {
    const [, name, prefix] = /^\/([^/?]+)(?:\/([^/?]+))?/.exec(request.url) ?? [];
    const cloud = name ? clouds.get(name) : undefined;
    if (cloud?.offline && prefix !== 'sim') {
      dropRequest(cloud, request, reply, cloud.offline);
      return;
    }
    done();
  });

  registerAdmin(app, clouds);

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
          const res = await answer(svc, route, req, { service: svc.name, method: route.method, route: stats, path: req.path }, logger);
          if ('drop' in res) {
            logger.debug({ cloud: cloud.name, service: svc.name, method: route.method, route: stats, dropped: res.drop }, 'api call');
            return dropRequest(cloud, request, reply, res.drop);
          }
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
