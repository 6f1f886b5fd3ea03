import path from 'node:path';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { GateConfig, JobConfig } from './config/types.ts';
import type { Executor, BuildOutcome } from './executor.ts';
import type { Build, Item } from './model.ts';
import { NodeFailure, type NodeBroker } from './nodes.ts';

/**
 * One build from start to result: its node request, its lease kept alive, the executor's run,
 * and its nodes given back (held when it failed and an autohold asks for it). The scheduler owns
 * the item; this only changes the build and tells the scheduler through `save`.
 */

export interface BuildRunnerDeps {
  config: GateConfig;
  store: Store;
  nodes: NodeBroker;
  executor: Executor;
  logger: Logger;
  now: () => number;
  logDir(buildId: string): string;
}

/** What the executor needs from the buildset's workspace, once it is prepared. */
export interface PreparedWorkspace {
  workspaceDir: string;
  projects: string[];
  env: Record<string, string>;
  files: Record<string, string>;
}

export interface BuildContext {
  item: Item;
  build: Build;
  job: JobConfig;
  priority: number;
  /**
   * Resolves when the workspace is prepared. The nodes are asked for first, so the merges and
   * the node request (a boot, when no node is ready) overlap; rejects when the buildset will not
   * run (a merge conflict, a new base).
   */
  workspace(): Promise<PreparedWorkspace>;
  signal: AbortSignal;
  /** Writes the item (the build changed). */
  save(): Promise<void>;
}

export async function runBuild(d: BuildRunnerDeps, c: BuildContext): Promise<BuildOutcome> {
  const { build, job, item } = c;
  const log = d.logger.child({ build: build.id, job: job.name, change: `${item.change.number},${item.change.patchset}`, pipeline: item.pipeline });
  let requestId: string | null = null;
  let stopLease: (() => void) | null = null;
  const lost = new AbortController();
  let outcome: BuildOutcome;
  try {
    if (!job.nodeset.nodes.length) throw new NodeFailure(`job ${job.name} has no nodeset`);
    const view = await d.nodes.acquire(job.nodeset.nodes.map((n) => n.label), c.priority, c.signal, async (id) => {
      requestId = id;
      build.requestId = id;
      await c.save();
      log.info({ request: id, labels: job.nodeset.nodes.map((n) => n.label) }, 'nodes requested');
    });
    stopLease = d.nodes.keep(view.id, (err) => { log.warn({ request: view.id, err: err.message }, 'lease on the nodes lost'); lost.abort(); });
    let ws: PreparedWorkspace;
    try {
      ws = await c.workspace();
    } catch {
      throw new Canceled();
    }
    build.state = 'running';
    build.nodes = view.nodes.map((n, i) => ({ name: job.nodeset.nodes[i]!.name, id: n.id, label: n.label, provider: n.provider, ip: n.interface_ip }));
    await c.save();
    log.info({ request: view.id, provider: view.provider, nodes: build.nodes.map((n) => n.id) }, 'build running');
    outcome = await d.executor.run({
      buildId: build.id, job, env: ws.env, files: ws.files, workspaceDir: ws.workspaceDir, projects: ws.projects, nodes: view,
      logDir: d.logDir(build.id), signal: AbortSignal.any([c.signal, lost.signal]),
    });
    if (lost.signal.aborted && !c.signal.aborted) outcome = { result: 'NODE_FAILURE', error: 'the lease on the nodes was lost' };
  } catch (err) {
    outcome = c.signal.aborted || err instanceof Canceled ? { result: 'CANCELED', error: null }
      : err instanceof NodeFailure ? { result: 'NODE_FAILURE', error: err.message }
      : { result: 'ERROR', error: (err as Error).message };
  } finally {
    stopLease?.();
  }
  if (requestId) {
    const hold = outcome!.result !== 'SUCCESS' && outcome!.result !== 'CANCELED' ? await autohold(d, item, job.name) : null;
    if (hold) build.held = true;
    await d.nodes.release(requestId, hold);
    log.info({ request: requestId, held: !!hold }, hold ? 'nodes held for an autohold' : 'nodes released');
  }
  log.info({ result: outcome!.result, error: outcome!.error }, 'build finished');
  return outcome!;
}

/** The buildset will not run: its workspace was not prepared (a merge conflict, a new base). */
class Canceled extends Error {}

/** The first autohold matching a failed build that still has holds left, counted; its reason, or null. */
async function autohold(d: BuildRunnerDeps, item: Item, job: string): Promise<string | null> {
  for (const h of await d.store.gate.listAutoholds()) {
    if (h.job !== job || (h.project !== null && h.project !== item.change.project) || (h.change !== null && h.change !== item.change.number)) continue;
    if (await d.store.gate.useAutohold(h.id)) return `autohold ${h.id}: ${h.reason} (${job}, change ${item.change.number},${item.change.patchset})`;
  }
  return null;
}

/** The log folder of a build under the configured log dir. */
export function buildLogDir(config: GateConfig, buildId: string): string {
  return path.join(config.executor.logDir, buildId);
}
