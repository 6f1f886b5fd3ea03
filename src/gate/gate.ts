import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { NodepoolClient } from '../client/client.ts';
import { generateEd25519Key as generateHostKey } from '../ssh-keys.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { buildLogDir } from './builds.ts';
import { catchUp } from './catchup.ts';
import type { GateConfig } from './config/types.ts';
import { parseEventLine } from './gerrit/events.ts';
import { GerritRest } from './gerrit/rest.ts';
import { StreamReader } from './gerrit/stream.ts';
import { Executor } from './executor.ts';
import { NodeBroker } from './nodes.ts';
import { Scheduler } from './scheduler.ts';
import { Workspace } from './workspace.ts';

export interface GateOptions {
  config: GateConfig;
  store: Store;
  logger: Logger;
  /** The node-request API (gate.nodepool.url wins when set). */
  apiUrl: string;
  /** Base URL of the job logs (gate.web.log-url wins): `<base>/<build id>/`. */
  logBaseUrl: string;
  /** Written in the scheduler lease; a restarted gate with the same name takes its lease back at once. Default `<gate name>@<hostname>`. */
  owner?: string;
  now?: () => number;
  /** The scheduler lease (ms), renewed every third of it. Default 30 s. */
  leaseMs?: number;
  /** First reconnect delay of stream-events (ms). Default 1 s. */
  reconnectMs?: number;
  /** The API asks for tokens (api.tokens is set). */
  apiNeedsToken?: boolean;
}

export interface Gate {
  scheduler: Scheduler | null;
  /** Lines of stream-events that could not be read (logged and skipped). */
  malformedLines: number;
  stop(): Promise<void>;
}

/** A private key from a file, or a fresh one (the simulator's nodes and Gerrit accept any key). */
function keyFrom(file: string | null): string {
  return file ? readFileSync(file, 'utf8') : generateHostKey().privateKey;
}

/**
 * The gating core as one running part: the scheduler lease (one acting gate per name), the
 * scheduler, a stream-events reader per connection (each reconnect catches up through the REST
 * query API), and the clean-up of old records. It reaches nodes only through the node-request API.
 */
export async function startGate(o: GateOptions): Promise<Gate> {
  const { config, store, logger } = o;
  const now = o.now ?? Date.now;
  const owner = o.owner ?? `${config.name}@${hostname()}`;
  const leaseMs = o.leaseMs ?? 30_000;
  const client = new NodepoolClient({ url: config.nodepool.url ?? o.apiUrl, token: config.nodepool.token ?? undefined });
  if (o.apiNeedsToken && !config.nodepool.token) {
    logger.warn({ requestor: config.nodepool.requestor }, 'api.tokens is set but gate.nodepool.token is not: the gate\'s node requests will be refused (give it a requestor token named like gate.nodepool.requestor)');
  }
  const rests = new Map(config.connections.map((c) => [c.name, new GerritRest(c)]));
  const rest = (name: string) => {
    const r = rests.get(name);
    if (!r) throw new Error(`no connection named ${name}`);
    return r;
  };
  const logBase = (config.web.logUrl ?? o.logBaseUrl).replace(/\/+$/, '');
  const nodes = new NodeBroker({
    client, requestor: config.nodepool.requestor, heartbeatMs: config.nodepool.heartbeatIntervalMs, timeoutMs: config.nodepool.nodeTimeoutMs,
    holdExpirationSeconds: config.executor.holdExpirationSeconds, logger: logger.child({ component: 'gate-nodes' }),
  });
  const workspace = new Workspace(config.executor.workspaceDir, new Map(config.connections.map((c) => [c.name, c.gitUrl])), logger.child({ component: 'gate-workspace' }));
  const executor = new Executor({ privateKey: keyFrom(config.executor.sshKeyFile), logger: logger.child({ component: 'gate-executor' }), stageDir: workspace.stageDir(), now });
  const newScheduler = () => new Scheduler({
    config, store, logger, now, nodes, rest, workspace, executor, logUrl: (id) => `${logBase}/${id}/`, logDir: (id) => buildLogDir(config, id),
  });

  const gate: Gate = { scheduler: null, malformedLines: 0, stop };
  let readers: StreamReader[] = [];
  let renew: NodeJS.Timeout | null = null;
  let prune: NodeJS.Timeout | null = null;
  let stopped = false;

  const startActing = async () => {
    const scheduler = newScheduler();
    await scheduler.start();
    gate.scheduler = scheduler;
    const newest = (await store.gate.listItems({ limit: 1 }))[0];
    const startedAt = now();
    for (const c of config.connections.filter((x) => x.stream)) {
      // Catch up from shortly before the last thing this gate saw (or its start): what happened
      // while it was down, or before its stream was open.
      let seenAt = newest?.updatedAt ?? startedAt;
      const privateKey = keyFrom(c.sshKeyFile);
      const reader = new StreamReader({
        connection: c, privateKey, logger: logger.child({ component: 'gate-stream' }), minDelayMs: o.reconnectMs,
        onLine: (line) => {
          seenAt = now();
          const parsed = parseEventLine(line);
          if (!parsed.ok) {
            gate.malformedLines++;
            logger.warn({ connection: c.name, error: parsed.error }, 'unreadable stream-events line skipped');
            return;
          }
          if (!parsed.event) return;
          void store.gate.appendEvent(`stream:${c.name}`, JSON.parse(line), now()).catch((err) => logger.error({ err }, 'could not queue a gerrit event'));
        },
        onConnected: () => {
          const since = seenAt - 60_000;
          void catchUp({ config, connection: c, rest: rest(c.name), store, since, now: now(), logger })
            .catch((err) => logger.warn({ connection: c.name, err: (err as Error).message }, 'catch-up failed'));
        },
      });
      reader.start();
      readers.push(reader);
    }
    if (prune) clearInterval(prune);
    prune = setInterval(() => {
      void store.gate.pruneEvents(now() - 86400_000).catch(() => {});
      void store.gate.pruneItems(now() - 7 * 86400_000).catch(() => {});
    }, 3600_000);
    prune.unref();
  };

  // One acting gate per name: the others wait for its lease to lapse.
  const claim = async (): Promise<boolean> => store.gate.claimLease(config.name, owner, now() + leaseMs, now());
  let acting = await claim();
  if (acting) await startActing();
  else logger.info({ gate: config.name, owner }, 'another gate holds the lease; waiting');
  renew = setInterval(async () => {
    try {
      const ok = await claim();
      if (ok && !acting && !stopped) { acting = true; logger.info({ gate: config.name, owner }, 'took the gate lease'); await startActing(); }
      if (!ok && acting) {
        logger.error({ gate: config.name, owner }, 'lost the gate lease to another gate: stopping until it is free again');
        acting = false;
        await stopActing();
      }
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'gate lease renewal failed');
    }
  }, Math.max(100, Math.floor(leaseMs / 3)));
  renew.unref();
  logger.info({ gate: config.name, owner, acting, api: client.url, logs: logBase }, 'gate started');
  return gate;

  async function stopActing(): Promise<void> {
    for (const r of readers) r.stop();
    readers = [];
    await gate.scheduler?.stop();
    gate.scheduler = null;
  }

  async function stop(): Promise<void> {
    stopped = true;
    if (renew) clearInterval(renew);
    if (prune) clearInterval(prune);
    const wasActing = acting;
    await stopActing();
    if (wasActing) await store.gate.releaseLease(config.name, owner).catch(() => {});
  }
}

export { buildLogDir };
export const gateLogRoot = (config: GateConfig) => path.resolve(config.executor.logDir);
