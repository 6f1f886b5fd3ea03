import { hostname } from 'node:os';
import cron, { type ScheduledTask } from 'node-cron';
import type { ProviderAdapter } from '../../providers/provider.ts';
import type { Config, DiskImageConfig } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { NO_NODES, type Store } from '../store/store.ts';
import { ProviderBackoff } from './backoff.ts';
import { ImageLeakSweep } from './leaks.ts';
import { planBuilder, type BuilderAction, type BuilderPlan, type ImageUse } from './plan.ts';
import { BuildTasks } from './tasks.ts';
import { PassLoop } from '../pass-loop.ts';

export interface BuilderOptions {
  config: Config;
  store: Store;
  /** One adapter per configured provider, by provider name. */
  adapters: Map<string, ProviderAdapter>;
  logger: Logger;
  /** Written in leases and as the builder of its builds. Default `<hostname>-builder`. */
  name?: string;
  now?: () => number;
  /** Waits between status checks of a cloud; tests pass a quicker one. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** When to look at every image's age again (node-cron). Default every minute. */
  checkSchedule?: string;
  /** When to sweep the providers for leaked uploads (node-cron). Default every 5 minutes. */
  leakSchedule?: string;
  /** Lease on builds and uploads in progress, renewed every third of it. Default 60 s. */
  leaseMs?: number;
  /** Wait after a failed build before the next try (doubled per failure). Default 5 min. */
  buildRetryMs?: number;
  /** First wait after a failed upload to a provider (doubled per failure, up to 30 min). Default 30 s. */
  uploadBackoffMs?: number;
  /** Builds run at once. Default 1 (diskimage-builder uses a whole machine). */
  buildWorkers?: number;
}

export const abortableSleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve, reject) => {
  if (signal.aborted) return reject(signal.reason);
  const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
  const onAbort = () => { clearTimeout(t); reject(signal.reason); };
  signal.addEventListener('abort', onAbort, { once: true });
});

/**
 * The builder (DESIGN §10): builds every diskimage a provider uses when it is missing, requested
 * or older than its rebuild-age, uploads each new build to every provider that uses it, validates
 * uploads when the image asks for it, keeps the two newest ready builds and deletes the rest,
 * and sweeps the providers for leaked uploads.
 *
 * Like the launcher it runs `runOnce(now)` when something changed (a store event, a finished
 * task) rather than on a polling period; node-cron ticks it every minute for the ages and
 * for changes made by other processes, and sweeps for leaks every five.
 */
export class Builder {
  readonly name: string;
  private readonly now: () => number;
  private readonly tasks: BuildTasks;
  private readonly backoff: ProviderBackoff;
  private readonly sweeper: ImageLeakSweep;
  private readonly abort = new AbortController();
  private readonly crons: ScheduledTask[] = [];
  private unsubscribe: (() => void) | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  private readonly loop: PassLoop;
  lastPlan: BuilderPlan | null = null;

  constructor(private readonly opts: BuilderOptions) {
    this.name = opts.name ?? `${hostname()}-builder`;
    this.now = opts.now ?? Date.now;
    this.loop = new PassLoop(async () => { await this.runOnce(this.now()); }, {
      pace: false, now: this.now, onError: (err) => opts.logger.error({ err, builder: this.name }, 'builder pass failed'),
    });
    this.backoff = new ProviderBackoff(opts.uploadBackoffMs ?? 30_000, 30 * 60_000);
    this.sweeper = new ImageLeakSweep(opts.store, opts.logger);
    this.tasks = new BuildTasks({
      config: opts.config, store: opts.store, adapters: opts.adapters, logger: opts.logger, builder: this.name, now: this.now,
      sleep: opts.sleep ?? abortableSleep, signal: this.abort.signal, leaseMs: opts.leaseMs ?? 60_000,
      backoff: this.backoff, wake: () => this.wake(),
    });
  }

  /** Takes back what a previous run of this builder left half done, then starts planning. */
  async start(): Promise<void> {
    this.stopped = false;
    this.loop.start();
    await this.tasks.recover();
    this.unsubscribe = this.opts.store.subscribe((e) => { if (e.kind === 'build' || e.kind === 'upload' || e.kind === 'image') this.wake(); }, NO_NODES);
    const logger = cronLogger(this.opts.logger);
    this.crons.push(cron.schedule(this.opts.checkSchedule ?? '* * * * *', () => this.wake(), { name: `${this.name}-check`, noOverlap: true, logger }));
    this.crons.push(cron.schedule(this.opts.leakSchedule ?? '*/5 * * * *', () => this.sweepLeaks(), { name: `${this.name}-leaks`, noOverlap: true, logger }));
    const leaseMs = this.opts.leaseMs ?? 60_000;
    this.leaseTimer = setInterval(() => { void this.tasks.renewLeases(); }, Math.max(1000, leaseMs / 3));
    this.opts.logger.info({ builder: this.name, images: this.opts.config.diskimages?.map((d) => d.name) ?? [] }, 'builder started');
    this.wake();
  }

  /** Deletes leaked uploads (images tagged ours that no record accounts for, seen on two sweeps). */
  async sweepLeaks(): Promise<string[]> {
    return this.sweeper.sweep(this.opts.adapters);
  }

  wake(): void {
    this.loop.wake();
  }

  /** One pass: snapshot, plan, start the actions' tasks. */
  async runOnce(now: number): Promise<BuilderPlan> {
    const { store, config } = this.opts;
    const [builds, uploads, flags] = await Promise.all([store.listBuilds(), store.listUploads(), store.listImageFlags()]);
    const images = config.diskimages ?? [];
    const result = planBuilder({
      now, builder: this.name, images, uses: imageUses(config, images), builds, uploads,
      flags: new Map(flags.map((f) => [f.image, f])), inflight: this.tasks.inflight, uploadNotBefore: this.backoff.view(),
      buildRetryMs: this.opts.buildRetryMs ?? 5 * 60_000, keepBuilds: 2, keepFailed: config.builder?.buildLogRetention ?? 7,
    });
    this.lastPlan = result;
    for (const a of result.actions) this.apply(a, now);
    if (!this.stopped && result.nextWakeAt !== null && result.nextWakeAt - now < 60_000) {
      // Sooner than the next cron tick: an upload backoff running out.
      this.loop.wakeAt(result.nextWakeAt);
    }
    return result;
  }

  private apply(a: BuilderAction, now: number): void {
    const running = this.tasks.running();
    switch (a.type) {
      case 'build':
        if (running.builds < (this.opts.buildWorkers ?? 1)) this.tasks.spawn(`build:${a.image}`, () => this.tasks.build(a.image));
        return;
      case 'upload':
        // One upload at a time per provider; every provider in parallel.
        if (!running.uploadProviders.has(a.provider)) this.tasks.spawn(`upload:${a.buildId}/${a.provider}`, () => this.tasks.upload(a.buildId, a.provider));
        return;
      case 'validate':
        this.tasks.spawn(`validate:${a.uploadId}`, () => this.tasks.validate(a.uploadId));
        return;
      case 'delete-upload':
        if (this.tasks.heldOff(`delete:${a.uploadId}`, now)) return;
        this.tasks.spawn(`delete:${a.uploadId}`, () => this.tasks.deleteUpload(a.uploadId, a.reason));
        return;
      case 'remove-build':
        this.tasks.spawn(`remove:${a.buildId}`, () => this.tasks.removeBuild(a.buildId));
        return;
      case 'retire-build':
        this.tasks.spawn(`retire:${a.buildId}`, () => this.tasks.retireBuild(a.buildId, a.reason));
        return;
      case 'fail-stale-build':
        this.tasks.spawn(`stale:${a.buildId}`, () => this.tasks.failStaleBuild(a.buildId));
        return;
      case 'fail-stale-upload':
        this.tasks.spawn(`stale:${a.uploadId}`, () => this.tasks.failStaleUpload(a.uploadId));
        return;
      case 'revalidate':
        this.tasks.spawn(`revalidate:${a.uploadId}`, () => this.tasks.revalidate(a.uploadId));
        return;
    }
  }

  /** Stops planning and every task (a build is killed, an upload aborted and cleaned up). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const c of this.crons) await c.destroy();
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.abort.abort(new Error('the builder is stopping'));
    await this.loop.stop();
    await this.tasks.drain();
  }
}

/** Which providers use each image: those listing it in their `diskimages`. */
export function imageUses(config: Config, images: DiskImageConfig[]): Map<string, ImageUse[]> {
  const uses = new Map<string, ImageUse[]>(images.map((i) => [i.name, []]));
  for (const p of config.providers) {
    for (const d of p.diskimages ?? []) uses.get(d.name)?.push({ provider: p.name, paused: d.pause });
  }
  return uses;
}

function cronLogger(logger: Logger) {
  return {
    info: (m: string) => logger.debug({ component: 'cron' }, m),
    warn: (m: string) => logger.warn({ component: 'cron' }, m),
    error: (m: string | Error) => logger.error({ component: 'cron', err: m }, 'cron task failed'),
    debug: (m: string | Error) => logger.debug({ component: 'cron' }, String(m)),
  };
}
