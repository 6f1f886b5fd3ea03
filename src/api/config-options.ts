import type { Config } from '../config/types.ts';
import type { ApiOptions } from './app.ts';

/**
 * The API options a configuration decides: its tokens and whether reads are public, the
 * requestor lease, and the labels and providers the status paths list. Every process that
 * serves the API from a configuration builds its app with these, so none serves it unprotected.
 */
export function apiOptionsFromConfig(config: Config): Pick<ApiOptions, 'access' | 'requestLeaseTimeoutMs' | 'status' | 'maxNodesPerRequest' | 'gate'> {
  return {
    maxNodesPerRequest: config.api.maxNodesPerRequest,
    access: { tokens: config.api.tokens ?? [], readPublic: config.api.readPublic ?? true },
    requestLeaseTimeoutMs: config.api.requestLeaseTimeout * 1000,
    status: { config },
    ...(config.gate ? { gate: { config: config.gate } } : {}),
  };
}
