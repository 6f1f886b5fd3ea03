import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../ops/errors.ts';
import { eraseProvider } from '../../ops/providers.ts';
import { queryProviderInfo } from '../../status/sources.ts';
import type { RouteDeps } from '../deps.ts';
import { NameParams } from '../contract.ts';

/** GET /api/v1/providers/{name}: its status row, nodes and image uploads (`nodepool info`). */
export function getProviderRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.get<{ Params: NameParams }>('/api/v1/providers/:name', { schema: { params: NameParams } }, async (request) => {
    const info = await queryProviderInfo(deps.store, deps.status, request.params.name, deps.now());
    if (!info) throw new NotFoundError('provider', request.params.name);
    return info;
  });
}

/** POST /api/v1/providers/{name}/erase: forget the provider's records (`nodepool erase`); admin only. */
export function eraseProviderRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.post<{ Params: NameParams }>('/api/v1/providers/:name/erase', { schema: { params: NameParams } }, async (request) => {
    const result = await eraseProvider(deps.store, request.params.name, deps.ctx());
    request.log.warn({ provider: result.provider, nodes: result.nodes }, 'provider records erased');
    return result;
  });
}
