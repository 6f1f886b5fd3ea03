import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { installAuth } from '../api/auth.ts';
import { installErrorHandler, installZodValidation } from '../api/errors.ts';
import { installBodyLimits } from '../api/limits.ts';
import { urlFromListen } from '../cli/context.ts';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/store.ts';
import { gateLogRoot, startGate, type Gate } from './gate.ts';
import { gateLogRoutes, gateRoutes } from './web.ts';

/**
 * `nodepool gate`: the gating core as a process of its own, beside the API and the launchers
 * (any machines, a shared store). It reaches nodes through the node-request API at
 * `gate.nodepool.url` (default: the configuration's `api` address) and serves its job logs,
 * status and webhook on `gate.web` (port 8023 by default), protected by the same API tokens.
 */

export interface GateRole {
  gate: Gate;
  web: FastifyInstance;
  url: string;
  store: Store;
  stop(): Promise<void>;
}

export async function startGateRole(o: { config: Config; logger: Logger; name?: string; port?: number; leaseMs?: number }): Promise<GateRole> {
  const gc = o.config.gate;
  if (!gc) throw new Error(`${o.config.path ?? 'the configuration'} has no gate section`);
  const store = await openStore(o.config.store, { listen: true, applicationName: o.name ?? `gate-${process.pid}` });
  const web = Fastify({ loggerInstance: o.logger.child({ component: 'gate-web' }) as FastifyBaseLogger, forceCloseConnections: true });
  installZodValidation(web);
  installErrorHandler(web);
  installBodyLimits(web);
  installAuth(web, { tokens: o.config.api.tokens ?? [], readPublic: o.config.api.readPublic ?? true, store, logger: o.logger });
  gateRoutes(web, { store, config: gc, now: Date.now });
  gateLogRoutes(web, gateLogRoot(gc));
  let gate: Gate | null = null;
  try {
    const url = await web.listen({ host: gc.web.listen, port: o.port ?? gc.web.port });
    gate = await startGate({
      config: gc, store, logger: o.logger.child({ component: 'gate' }), owner: o.name, leaseMs: o.leaseMs, apiNeedsToken: (o.config.api.tokens ?? []).length > 0,
      apiUrl: urlFromListen(o.config.api.listen, o.config.api.port), logBaseUrl: `${url}/gate/logs`,
    });
    const started = gate;
    return {
      gate: started, web, url, store,
      stop: async () => { await started.stop(); await web.close(); await store.close(); },
    };
  } catch (err) {
    await gate?.stop();
    await web.close();
    await store.close();
    throw err;
  }
}
