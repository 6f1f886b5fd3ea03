/**
 * Nova (compute v2.1) as one service: its routes, microversion step, headers and faults.
 */
import { decorateNova, novaError, readMicroversion } from './common.ts';
import { otherRoutes } from './other.ts';
import { serverItemRoutes } from './server-items.ts';
import { serverRoutes } from './servers.ts';
import { SimError, middlewareUnauthorized, type ServiceDef } from '../service.ts';

export const nova: ServiceDef = {
  name: 'nova',
  statsRoots: ['/compute/v2.1', '/compute'],
  routes: [...otherRoutes, ...serverRoutes, ...serverItemRoutes],
  before(req) {
    // The unversioned root document has no microversion; everything under /v2.1 does.
    if (req.path.startsWith('/compute/v2.1')) req.microversion = readMicroversion(req);
  },
  decorate: decorateNova,
  error: novaError,
  unauthorized: middlewareUnauthorized,
  quotaError(req) {
    const { cloud } = req;
    const used = cloud.usage().instances;
    return new SimError(403, `Quota exceeded for instances: Requested 1, but already used ${used} of ${cloud.quota.instances} instances`);
  },
};
