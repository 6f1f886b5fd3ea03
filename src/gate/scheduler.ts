import { randomUUID } from 'node:crypto';
import { PassLoop } from '../pass-loop.ts';
import type { Logger } from '../log.ts';
import { newId } from '../store/records.ts';
import { NO_NODES, type Store } from '../store/store.ts';
import { runBuild, type BuildRunnerDeps } from './builds.ts';
import type { GateConfig, PipelineConfig } from './config/types.ts';
import type { GerritRest } from './gerrit/rest.ts';
import { eventChange, handleEvent, type IntakeHost } from './intake.ts';
import type { JobConfig } from './config/types.ts';
import { changeKey, type Build, type Buildset, type ChangeRef, type Item, type ItemResult } from './model.ts';
import type { NodeBroker } from './nodes.ts';
import { planPipeline, type Action } from './planner.ts';
import { SubmitError, sendReport } from './report.ts';
import type { Workspace } from './workspace.ts';
import { workspacePlan, buildEnv, buildFiles, mergedBy, type AheadState } from './speculative.ts';

export interface SchedulerDeps extends BuildRunnerDeps {
  config: GateConfig;
  store: Store;
  logger: Logger;
  now: () => number;
  workspace: Workspace;
  nodes: NodeBroker;
  rest(connection: string): GerritRest;
  logUrl(buildId: string): string;
}

/** A failed workspace preparation or report is tried again after this long (ms). */
const RETRY_MS = 5_000;
/** How often events queued by other processes are looked for, besides the store's wake-ups (ms). */
const EVENT_POLL_MS = 1_000;

/**
 * The gate's scheduler: it holds the active items (mirrored in the store), takes the events
 * queued in the store in order, asks the planner what to do for each pipeline, and carries the
 * actions out: prepare a buildset's workspace, run builds (at most `max-builds` at once), report.
 * Each change to an item is written to the store before anything depends on it, so a gate killed
 * at any point resumes from the store: interrupted buildsets are prepared and run again, their
 * node requests given back, and reports are never sent twice.
 */
export class Scheduler implements IntakeHost {
  private readonly items = new Map<string, Item>();
  private readonly mergedItems = new Set<string>();
  private readonly mergedChanges = new Set<number>();
  private readonly running = new Map<string, AbortController>();
  private readonly busy = new Set<string>();
  private readonly retryAt = new Map<string, number>();
  private readonly saving = new Map<string, Promise<void>>();
  /** Items whose report this process started and has not seen fail: no need to look for it on the change first. */
  private readonly firstAttempt = new Set<string>();
  /** Buildsets being prepared: resolved when ready, rejected on a conflict or a new base. */
  private readonly preparing = new Map<string, { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void }>();
  private readonly loop: PassLoop;
  private seq = 0;
  private stopped = false;
  private unsubscribe: (() => void) | null = null;
  private poll: NodeJS.Timeout | null = null;
  readonly config: GateConfig;
  readonly logger: Logger;

  constructor(private readonly d: SchedulerDeps) {
    this.config = d.config;
    this.logger = d.logger;
    this.loop = new PassLoop(() => this.pass(), { pace: true, now: d.now, onError: (err) => d.logger.error({ err }, 'gate pass failed') });
  }

  rest(connection: string): GerritRest { return this.d.rest(connection); }

  /** Changes read from Gerrit for the batch of events being handled: read at once, in parallel. */
  private changeCache = new Map<string, ReturnType<GerritRest['changeRef']>>();

  change(connection: string, id: number | string): ReturnType<GerritRest['changeRef']> {
    const key = `${connection}/${id}`;
    let p = this.changeCache.get(key);
    if (!p) {
      p = this.d.rest(connection).changeRef(id);
      p.catch(() => {});
      this.changeCache.set(key, p);
    }
    return p;
  }

  /** Loads the queues from the store, gives back what a previous run left in flight, and starts. */
  async start(): Promise<void> {
    const { store, logger } = this.d;
    const all = await store.gate.listItems({ states: ['active', 'reporting'] });
    const recent = await store.gate.listItems({ states: ['done'], updatedSince: this.d.now() - 86400_000 });
    for (const i of recent) if (i.result === 'SUCCESS' && this.pipeline(i.pipeline)?.manager === 'dependent') { this.mergedItems.add(i.id); this.mergedChanges.add(i.change.number); }
    this.seq = Math.max(0, ...[...all, ...recent].map((i) => i.seq));
    for (const item of all) {
      const bs = item.buildset;
      const interrupted = bs?.builds.filter((b) => b.state === 'nodes' || b.state === 'running') ?? [];
      for (const b of interrupted) if (b.requestId) await this.d.nodes.giveBack(b.requestId);
      if (bs && item.state === 'active' && (bs.state === 'merging' || interrupted.length)) {
        logger.info({ item: item.id, change: changeKey(item.change), pipeline: item.pipeline, builds: interrupted.map((b) => b.job) }, 'resuming an interrupted item: its buildset starts over');
        await this.d.workspace.remove(bs.id);
        item.buildset = null;
        await this.save(item);
      }
      this.items.set(item.id, item);
    }
    const swept = await this.d.workspace.sweep(new Set(all.flatMap((i) => (i.buildset ? [i.buildset.id] : []))));
    if (swept) logger.info({ buildsets: swept }, 'removed the working folders a previous run left');
    this.unsubscribe = store.subscribe((e) => { if (e.kind === 'gate-event' && e.state === 'pending') this.loop.wake(); }, NO_NODES);
    // Events another process queued reach this one by LISTEN/NOTIFY on PostgreSQL; on SQLite (and
    // after a lost LISTEN connection) only by reading again.
    this.poll = setInterval(() => this.loop.wake(), EVENT_POLL_MS);
    this.poll.unref();
    this.loop.start();
    this.loop.wake();
    logger.info({ items: this.items.size }, 'gate scheduler started');
  }

  wake(): void { this.loop.wake(); }

  /** Stops taking events and planning, cancels running builds (their nodes are given back) and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.poll) clearInterval(this.poll);
    await this.loop.stop();
    for (const c of this.running.values()) c.abort();
    const deadline = Date.now() + 30_000;
    while ((this.running.size || this.busy.size) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await Promise.all(this.saving.values());
  }

  /** Active and reporting items, in enqueue order (for status). */
  activeItems(): Item[] {
    return [...this.items.values()].sort((a, b) => a.seq - b.seq);
  }

  private pipeline(name: string): PipelineConfig | undefined {
    return this.config.pipelines.find((p) => p.name === name);
  }

  // ---- one pass: events, then a plan per pipeline ----

  private async pass(): Promise<void> {
    if (this.stopped) return;
    // Every event not handled yet, oldest first, with no cursor: PostgreSQL numbers an event when
    // its INSERT starts, so a lower number can commit after a higher one was handled.
    const events = await this.d.store.gate.listEvents({ pending: true, limit: 500 });
    // Handled in order, but the changes they name are read from Gerrit all at once first.
    this.changeCache = new Map();
    for (const e of events) {
      const c = eventChange(e);
      if (c && this.config.connections.some((x) => x.name === c.connection) && this.config.projects.size) void this.change(c.connection, c.number);
    }
    for (const e of events) {
      let outcome: string;
      try {
        outcome = await handleEvent(this, e);
      } catch (err) {
        outcome = `error: ${(err as Error).message}`;
      }
      (outcome.startsWith('error') ? this.d.logger.warn : this.d.logger.info).call(this.d.logger, { event: e.seq, source: e.source, outcome }, 'gate event');
      await this.d.store.gate.finishEvent(e.seq, outcome, this.d.now());
    }
    this.changeCache = new Map();
    if (events.length === 500) this.loop.wake();

    let free = this.config.executor.maxBuilds - this.running.size;
    const now = this.d.now();
    let retry = Infinity;
    // Reports not sent yet: left by a previous run (they may have gone out: the marker tells), or refused by Gerrit.
    for (const item of this.activeItems()) {
      if (item.state !== 'reporting' || this.busy.has(item.id)) continue;
      const at = this.retryAt.get(item.id) ?? 0;
      if (at > now) { retry = Math.min(retry, at); continue; }
      const p = this.pipeline(item.pipeline);
      if (p) void this.sendReport(p, item);
    }
    for (const p of this.config.pipelines) {
      const items = this.activeItems().filter((i) => i.pipeline === p.name);
      if (!items.length) continue;
      const plan = planPipeline({ manager: p.manager, items, mergedItems: this.mergedItems, mergedChanges: this.mergedChanges, freeSlots: free });
      free = plan.freeSlots;
      for (const a of plan.actions) {
        const at = this.retryAt.get(a.itemId) ?? 0;
        if (at > now && a.type !== 'start') { retry = Math.min(retry, at); continue; }
        if (this.busy.has(a.itemId) && a.type !== 'prepare') continue;
        await this.apply(p, a);
      }
    }
    if (retry < Infinity) this.loop.wakeAt(retry);
  }

  private async apply(p: PipelineConfig, a: Action): Promise<void> {
    const item = this.items.get(a.itemId);
    if (!item) return;
    switch (a.type) {
      case 'prepare': return this.prepare(p, item, a.base);
      case 'start': return this.start1(p, item, a.buildId);
      // Reports run on their own (Gerrit round trips); the item is `reporting` before this returns.
      case 'report': void this.report(p, item, a.result, a.reason); return;
    }
  }

  // ---- enqueue and remove (IntakeHost) ----

  isQueued(pipeline: string, change: number, patchset: number): boolean {
    return [...this.items.values()].some((i) => i.pipeline === pipeline && i.change.number === change && i.change.patchset === patchset && i.state === 'active');
  }

  async enqueue(p: PipelineConfig, change: ChangeRef, needs: ChangeRef[]): Promise<void> {
    const project = this.config.projects.get(change.project);
    const now = this.d.now();
    const id = newId(now);
    const item: Item = {
      id, pipeline: p.name, queue: p.manager === 'dependent' ? project?.queue ?? change.project : `${change.project}#${change.number}`,
      seq: ++this.seq, state: 'active', change, needs, enqueuedAt: now, buildset: null, result: null, reason: null, reportedAt: null, updatedAt: now,
    };
    this.items.set(id, item);
    await this.save(item);
    this.d.logger.info({ item: id, change: changeKey(change), project: change.project, pipeline: p.name, queue: item.queue, needs: needs.map(changeKey) }, 'item enqueued');
  }

  async remove(change: number, o: { pipeline?: string; patchset?: number; olderThan?: number; result: 'DEQUEUED' | 'SUPERSEDED'; reason: string }): Promise<number> {
    const gone = [...this.items.values()].filter((i) => i.state === 'active' && i.change.number === change
      && (o.pipeline === undefined || i.pipeline === o.pipeline) && (o.patchset === undefined || i.change.patchset === o.patchset)
      && (o.olderThan === undefined || i.change.patchset < o.olderThan));
    for (const item of gone) {
      this.cancelBuilds(item);
      await this.finish(item, o.result, o.reason);
      this.d.logger.info({ item: item.id, change: changeKey(item.change), pipeline: item.pipeline, result: o.result, why: o.reason }, 'item removed');
    }
    return gone.length;
  }

  noteMerged(change: number): void {
    this.mergedChanges.add(change);
  }

  // ---- prepare a buildset ----

  private async prepare(p: PipelineConfig, item: Item, base: string[]): Promise<void> {
    const old = item.buildset;
    this.cancelBuilds(item);
    if (old) {
      this.preparing.get(old.id)?.reject(new Error('re-based'));
      void this.d.workspace.remove(old.id);
    }
    // Jobs without a files matcher are known now: their nodes are asked for while git merges.
    const jobs = this.jobsOf(p, item);
    const bs: Buildset = {
      id: randomUUID().replace(/-/g, '').slice(0, 12), base, state: 'merging', commits: {}, files: [], conflict: null,
      builds: jobs.filter((j) => !hasMatcher(j.job)).map((j) => newBuild(j.job.name, j.voting)), createdAt: this.d.now(),
    };
    const ready = deferred();
    this.preparing.set(bs.id, ready);
    item.buildset = bs;
    await this.save(item);
    // Its builds can start now (their nodes are asked for while git merges): plan again at once.
    this.loop.wake();
    this.d.logger.info({ item: item.id, change: changeKey(item.change), pipeline: p.name, buildset: bs.id, base }, old ? 'item re-based' : 'preparing the workspace');
    const ahead = base.map((id) => this.items.get(id)).filter((i): i is Item => !!i);
    const listFiles = jobs.some((j) => hasMatcher(j.job));
    let merged: number[] = [];
    void (async () => {
      // The changes are fetched at once (with those of the other items: one fetch for many);
      // the merges go on top of the nearest item ahead's prepared state when there is one (one
      // merge instead of one per change ahead), from the branch when it cannot be had.
      const fetched = this.d.workspace.prefetch(workspacePlan(this.config, p, item, ahead));
      const from = await this.aheadState(ahead.at(-1));
      await fetched;
      if (from) {
        const plan = workspacePlan(this.config, p, item, ahead, from);
        merged = mergedBy(plan, from);
        try {
          return await this.d.workspace.prepare(bs.id, plan, item.change.revision, listFiles);
        } catch (err) {
          this.d.logger.info({ item: item.id, err: (err as Error).message }, 'could not build on the item ahead; preparing from the branch');
        }
      }
      const plan = workspacePlan(this.config, p, item, ahead);
      merged = mergedBy(plan);
      return this.d.workspace.prepare(bs.id, plan, item.change.revision, listFiles);
    })().then(async (r) => {
      if (item.buildset?.id !== bs.id || this.stopped) return;
      this.preparing.delete(bs.id);
      if (r.ok) {
        const later = jobs.filter((j) => hasMatcher(j.job) && relevant(j.job, r.files)).map((j) => newBuild(j.job.name, j.voting));
        item.buildset = { ...bs, state: 'ready', commits: r.commits, files: r.files, merged, builds: [...bs.builds, ...later] };
        ready.resolve();
      } else {
        item.buildset = { ...bs, state: 'conflict', conflict: r.conflict };
        ready.reject(new Error('merge conflict'));
      }
      await this.save(item);
      this.loop.wake();
    }, async (err) => {
      if (item.buildset?.id !== bs.id) return;
      this.preparing.delete(bs.id);
      ready.reject(err as Error);
      this.d.logger.warn({ item: item.id, err: (err as Error).message }, 'workspace preparation failed; trying again');
      this.cancelBuilds(item);
      item.buildset = old;
      this.retryAt.set(item.id, this.d.now() + RETRY_MS);
      await this.save(item);
      this.loop.wakeAt(this.d.now() + RETRY_MS);
    });
  }

  /** The projects of a prepared buildset, with the connection and branch each was prepared on. */
  private checkoutPlan(item: Item, bs: Buildset): { connection: string; project: string; branch: string; commit: string }[] {
    return Object.entries(bs.commits).map(([project, commit]) => {
      const proj = this.config.projects.get(project);
      const branch = project === item.change.project ? item.change.branch : proj?.defaultBranch ?? item.change.branch;
      return { connection: proj?.connection ?? item.change.connection, project, branch, commit };
    });
  }

  /** The prepared state of the item ahead once it is ready, or null (none, a conflict, replaced meanwhile). */
  private async aheadState(ahead: Item | undefined): Promise<AheadState | null> {
    const bs = ahead?.buildset;
    if (!ahead || !bs || bs.state === 'conflict') return null;
    await this.preparing.get(bs.id)?.promise.catch(() => {});
    const now = ahead.buildset;
    if (!now || now.id !== bs.id || now.state !== 'ready' || !now.merged) return null;
    return { commits: now.commits, merged: now.merged };
  }

  /** The item's jobs in this pipeline, with a project's voting override. */
  private jobsOf(p: PipelineConfig, item: Item): { job: JobConfig; voting: boolean }[] {
    const refs = this.config.projects.get(item.change.project)?.pipelines.get(p.name) ?? [];
    return refs.flatMap((ref) => {
      const job = this.config.jobs.get(ref.name);
      return job ? [{ job, voting: ref.voting ?? job.voting }] : [];
    });
  }

  // ---- run a build ----

  private async start1(p: PipelineConfig, item: Item, buildId: string): Promise<void> {
    const bs = item.buildset;
    const build = bs?.builds.find((b) => b.id === buildId);
    const job = build && this.config.jobs.get(build.job);
    if (!bs || !build || !job) return;
    const control = new AbortController();
    this.running.set(build.id, control);
    build.state = 'nodes';
    build.startedAt = this.d.now();
    build.logUrl = this.d.logUrl(build.id);
    await this.save(item);
    const ahead = bs.base.map((id) => this.items.get(id)).filter((i): i is Item => !!i);
    const workspace = async () => {
      await this.preparing.get(bs.id)?.promise;
      const now = item.buildset;
      if (!now || now.id !== bs.id || now.state !== 'ready') throw new Error('the buildset will not run');
      const workspaceDir = await this.d.workspace.checkout(now.id, this.checkoutPlan(item, now));
      return { workspaceDir, projects: Object.keys(now.commits), env: buildEnv(item, build, job, now), files: buildFiles(item, now, ahead) };
    };
    void runBuild(this.d, { item, build, job, priority: p.priority, workspace, signal: control.signal, save: () => this.save(item) }).then(async (outcome) => {
      this.running.delete(build.id);
      // A build of a buildset since replaced, or of an item gone, changes nothing.
      if (item.buildset?.id !== bs.id || control.signal.aborted) { this.loop.wake(); return; }
      build.state = 'done';
      build.result = outcome.result;
      build.error = outcome.error;
      build.endedAt = this.d.now();
      await this.save(item);
      this.loop.wake();
    });
  }

  private cancelBuilds(item: Item): void {
    for (const b of item.buildset?.builds ?? []) {
      this.running.get(b.id)?.abort();
      this.running.delete(b.id);
      if (b.state !== 'done') {
        b.state = 'done';
        b.result = 'CANCELED';
        b.endedAt = this.d.now();
      }
    }
  }

  // ---- report ----

  private async report(p: PipelineConfig, item: Item, result: Exclude<ItemResult, 'DEQUEUED' | 'SUPERSEDED'>, reason: string | null): Promise<void> {
    this.cancelBuilds(item);
    item.state = 'reporting';
    item.result = result;
    item.reason = reason;
    this.busy.add(item.id);
    this.firstAttempt.add(item.id);
    await this.save(item);
    await this.sendReport(p, item);
  }

  /** Sends (or, after a restart, finishes sending) an item's report; on success the item is done. */
  private async sendReport(p: PipelineConfig, item: Item): Promise<void> {
    this.busy.add(item.id);
    try {
      const maybeSent = !this.firstAttempt.delete(item.id);
      const r = await sendReport(item, p, (c) => this.d.rest(c), { maybeSent });
      if (item.result === 'SUCCESS' && p.manager === 'dependent' && r.submitted) {
        this.mergedItems.add(item.id);
        this.mergedChanges.add(item.change.number);
      }
      this.d.logger.info({ item: item.id, change: changeKey(item.change), pipeline: p.name, result: item.result, reason: item.reason, sent: r.sent, submitted: r.submitted }, 'item reported');
      await this.finish(item, item.result!, item.reason);
    } catch (err) {
      if (err instanceof SubmitError) {
        this.d.logger.warn({ item: item.id, change: changeKey(item.change), err: err.message }, 'Gerrit refused the merge');
        item.state = 'active';
        item.result = null;
        // It leaves the queue as a failure: those behind are re-based without it.
        await this.report(p, item, 'FAILURE', `the change could not be merged: ${err.message}`);
        return;
      }
      this.d.logger.warn({ item: item.id, err: (err as Error).message }, 'report failed; trying again');
      this.retryAt.set(item.id, this.d.now() + RETRY_MS);
      this.loop.wakeAt(this.d.now() + RETRY_MS);
    } finally {
      this.busy.delete(item.id);
    }
  }

  private async finish(item: Item, result: ItemResult, reason: string | null): Promise<void> {
    item.state = 'done';
    item.result = result;
    item.reason = reason;
    item.reportedAt = result === 'DEQUEUED' || result === 'SUPERSEDED' ? null : this.d.now();
    this.items.delete(item.id);
    this.retryAt.delete(item.id);
    await this.save(item);
    if (item.buildset) void this.d.workspace.remove(item.buildset.id);
    this.loop.wake();
  }

  /** Writes an item; writes of one item never overtake each other. */
  private save(item: Item): Promise<void> {
    const prev = this.saving.get(item.id) ?? Promise.resolve();
    const next = prev.then(() => {
      item.updatedAt = this.d.now();
      return this.d.store.gate.saveItem(structuredClone(item));
    });
    const tail = next.catch((err) => this.d.logger.error({ item: item.id, err }, 'could not write the item'));
    this.saving.set(item.id, tail);
    void tail.then(() => { if (this.saving.get(item.id) === tail) this.saving.delete(item.id); });
    return next;
  }
}

function hasMatcher(job: JobConfig): boolean {
  return job.files.length > 0 || job.irrelevantFiles.length > 0;
}

/** Zuul's files and irrelevant-files: run when a file matches; skip when every file is irrelevant. */
function relevant(job: JobConfig, files: string[]): boolean {
  return (!job.files.length || files.some((f) => job.files.some((r) => r.test(f))))
    && (!job.irrelevantFiles.length || !files.length || files.some((f) => !job.irrelevantFiles.some((r) => r.test(f))));
}

function newBuild(job: string, voting: boolean): Build {
  return {
    id: randomUUID().replace(/-/g, ''), job, voting, state: 'waiting', result: null, requestId: null,
    nodes: [], startedAt: null, endedAt: null, logUrl: null, error: null, held: false,
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  // A buildset replaced before any build waited on it: nobody needs to hear of it.
  promise.catch(() => {});
  return { promise, resolve, reject };
}
