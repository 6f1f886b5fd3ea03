/**
 * The OpenStack driver: Keystone v3, Nova v2.1 at an explicit microversion, Glance v2 and
 * Neutron v2.0 over their REST APIs.
 */
import type { CloudCredentials } from './clouds-yaml/credentials.ts';
import { type Logger, silentLogger } from '../../src/log.ts';
import { OpenStackProvider } from './adapter.ts';
import type { CloudCall } from '../provider.ts';

export type { CloudCall } from '../provider.ts';

export { classifyServerFault, classifyAnswer, classifyNetworkError, parseRetryAfter } from './classify.ts';
export { identityV3Url, authRequestBody } from './keystone.ts';
export { toServerView, pickAddresses, isPrivateIpv4 } from './servers.ts';
export { OpenStackProvider } from './adapter.ts';

export interface CreateOpenStackProviderOptions {
  /** The provider's name in nodepool.yaml. */
  name: string;
  /** The resolved clouds.yaml entry. */
  credentials: CloudCredentials;
  /** Compute microversion sent on every Nova call. Default '2.79'. */
  computeMicroversion?: string;
  logger?: Logger;
  /** Per HTTP call, in ms. Default 30000. */
  timeoutMs?: number;
  /** Clock (ms since the epoch) for token lifetimes and Retry-After dates. Default Date.now. */
  now?: () => number;
  /** Told of every HTTP call when it ends (metrics). */
  onCall?: (call: CloudCall) => void;
}

export function createOpenStackProvider(opts: CreateOpenStackProviderOptions): OpenStackProvider {
  return new OpenStackProvider({ ...opts, logger: opts.logger ?? silentLogger() });
}
