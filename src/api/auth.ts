import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiTokenConfig } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { ForbiddenError, UnauthorizedError } from '../ops/errors.ts';
import { ROLE_RANK, TokenBook, type Role, type TokenHolder } from '../secrets/tokens.ts';
import type { Store } from '../store/store.ts';

/**
 * Who may call what. Every write route is named here with the role it needs, so one table says
 * what a token of each role can do; a write route missing from it needs `admin`, so a route added
 * later is never open by mistake. Reads need `read` (any token) unless `api.read-public`; the
 * health paths and the status page's files are always public.
 *
 * A requestor token acts only on requests whose `requestor` is the token's name: it creates them
 * under that name and cancels, releases and heartbeats only those. Admin tokens do anything.
 */

export interface RouteAccess {
  role: Role | 'public';
  /** Where the request's requestor is read from, for the ownership check of requestor tokens. */
  owner?: 'body' | 'param';
}

export const WRITE_ROUTES: Readonly<Record<string, RouteAccess>> = {
  'POST /api/v1/requests': { role: 'requestor', owner: 'body' },
  'DELETE /api/v1/requests/:id': { role: 'requestor', owner: 'param' },
  'POST /api/v1/requests/:id/release': { role: 'requestor', owner: 'param' },
  'POST /api/v1/requests/:id/heartbeat': { role: 'requestor', owner: 'param' },
  'POST /api/v1/nodes/:id/hold': { role: 'admin' },
  'DELETE /api/v1/nodes/:id': { role: 'admin' },
  'POST /api/v1/providers/:name/erase': { role: 'admin' },
  'POST /api/v1/images/:name/build': { role: 'admin' },
  'POST /api/v1/images/:name/pause': { role: 'admin' },
  'POST /api/v1/images/:name/unpause': { role: 'admin' },
  'DELETE /api/v1/builds/:id': { role: 'admin' },
  'DELETE /api/v1/uploads/:id': { role: 'admin' },
  // Gerrit's webhook sender carries no API token; the gate's own webhook-token guards it.
  'POST /gate/webhook': { role: 'public' },
};

const PUBLIC_PATHS = new Set(['/healthz', '/ready', '/']);
const PUBLIC_PREFIX = '/status/';

export function accessFor(method: string, url: string): RouteAccess {
  if (method === 'OPTIONS') return { role: 'public' };
  if (method === 'GET' || method === 'HEAD') {
    return PUBLIC_PATHS.has(url) || url.startsWith(PUBLIC_PREFIX) ? { role: 'public' } : { role: 'read' };
  }
  return WRITE_ROUTES[`${method} ${url}`] ?? { role: 'admin' };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The holder of the token the call came with, once checked; null without one. */
    principal: TokenHolder | null;
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

export interface AuthOptions {
  tokens: readonly ApiTokenConfig[];
  /** Reads need no token. */
  readPublic: boolean;
  store: Store;
  logger: Logger;
}

function presented(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : '';
}

/** Must be installed before the routes: each route's access is set as it is added. */
export function installAuth(app: FastifyInstance, opts: AuthOptions): void {
  const book = new TokenBook(opts.tokens);
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    const method = [route.method].flat()[0]!;
    route.config = { ...route.config, access: accessFor(method, route.url ?? route.path) };
  });
  if (book.size === 0) {
    opts.logger.warn('api.tokens is empty: anyone who reaches the API may create requests and hold or delete nodes');
    return;
  }

  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config.access;
    if (!access || access.role === 'public' || (access.role === 'read' && opts.readPublic)) return;
    const token = presented(request);
    const holder = token ? book.find(token) : null;
    if (!holder) {
      reply.header('www-authenticate', 'Bearer realm="nodepool"');
      throw new UnauthorizedError(token === null
        ? `${request.method} ${request.routeOptions.url} needs a token with role ${access.role} (Authorization: Bearer <token>)`
        : 'the token given is not one of api.tokens');
    }
    if (ROLE_RANK[holder.role] < ROLE_RANK[access.role]) {
      throw new ForbiddenError(`token ${holder.name} has role ${holder.role}; ${request.method} ${request.routeOptions.url} needs ${access.role}`);
    }
    request.principal = holder;
  });

  app.addHook('preHandler', async (request) => {
    const holder = request.principal;
    const owner = request.routeOptions.config.access?.owner;
    if (!holder || holder.role !== 'requestor' || !owner) return;
    if (owner === 'body') {
      const requestor = (request.body as { requestor?: unknown } | null)?.requestor;
      if (requestor !== holder.name) {
        throw new ForbiddenError(`token ${holder.name} may only ask for nodes as requestor "${holder.name}"`);
      }
      return;
    }
    const id = (request.params as { id?: string }).id;
    const req = id ? await opts.store.getRequest(id) : null;
    // An unknown id is left to the route, which answers 404.
    if (req && req.requestor !== holder.name) {
      throw new ForbiddenError(`request ${req.id} belongs to requestor "${req.requestor}", not to token ${holder.name}`);
    }
  });
}
