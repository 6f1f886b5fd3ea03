import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ProviderAdapter } from '../../providers/provider.ts';
import { isCloudError } from '../../providers/errors.ts';
import type { BuilderConfig, Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { BuildRecord, ImageFile } from '../model.ts';
import { newId } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import type { ProviderBackoff } from './backoff.ts';
import { checksumOutput } from './checksum.ts';
import { BuildFailed, runBuildCommand } from './dib.ts';
import { buildLogPath, outputBase } from './paths.ts';
import { uploadBuild } from './uploader.ts';
import { validateUpload } from './validate.ts';

export interface TaskContext {
  config: Config;
  store: Store;
  adapters: Map<string, ProviderAdapter>;
  logger: Logger;
  builder: string;
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  signal: AbortSignal;
  leaseMs: number;
  backoff: ProviderBackoff;
  wake: () => void;
}

/** How long a failed delete waits before it is tried again. */
const DELETE_RETRY_MS = 30_000;

/**
 * The builder's actions, each a task keyed by what it works on so a pass never starts the same
 * work twice. Each task makes its claim with a conditional store write first; losing the race
 * to another process ends it quietly.
 */
export class BuildTasks {
  readonly inflight = new Map<string, Promise<void>>();
  private readonly holdOff = new Map<string, number>();
  /** Records this process works on, whose leases it renews. */
  private readonly leased = { builds: new Set<string>(), uploads: new Set<string>() };

  constructor(private readonly ctx: TaskContext) {}

  private get cfg(): BuilderConfig {
    const b = this.ctx.config.builder;
    if (!b) throw new Error('the configuration has no builder settings');
    return b;
  }

  spawn(key: string, fn: () => Promise<void>): void {
    if (this.inflight.has(key)) return;
    const p = fn()
      .catch((err) => this.ctx.logger.error({ err, task: key }, 'builder task failed'))
      .finally(() => { this.inflight.delete(key); this.ctx.wake(); });
    this.inflight.set(key, p);
  }

  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight.values()]);
  }

  running(): { builds: number; uploadProviders: Set<string> } {
    const keys = [...this.inflight.keys()];
    return {
      builds: keys.filter((k) => k.startsWith('build:')).length,
      uploadProviders: new Set(keys.filter((k) => k.startsWith('upload:')).map((k) => k.slice(k.lastIndexOf('/') + 1))),
    };
  }

  /** True while a failed attempt at `key` waits for its retry time. */
  heldOff(key: string, now: number): boolean {
    const until = this.holdOff.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.holdOff.delete(key);
    return false;
  }

  /** What a previous run of this builder left half done: builds are failed, uploads failed and deleted, checks redone. */
  async recover(): Promise<void> {
    const { store, builder } = this.ctx;
    for (const b of await store.listBuilds({ builder, states: ['building'] })) {
      await store.updateBuild(b.id, { state: 'failed', reason: 'the builder restarted during the build', leaseOwner: null, leaseExpires: null, stateTime: this.ctx.now() },
        builder, { states: ['building'] });
      await removeOutputs(b);
    }
    for (const u of await store.listUploads({ states: ['uploading', 'ready'] })) {
      if (u.leaseOwner !== builder) continue;
      if (u.state === 'uploading') await this.failStaleUpload(u.id, 'the builder restarted during the upload');
      else await store.updateUpload(u.id, { validation: 'pending', validationNode: null, leaseOwner: null, leaseExpires: null }, builder);
    }
  }

  async renewLeases(): Promise<void> {
    const until = this.ctx.now() + this.ctx.leaseMs;
    for (const id of this.leased.builds) await this.ctx.store.updateBuild(id, { leaseExpires: until }, this.ctx.builder).catch(() => false);
    for (const id of this.leased.uploads) await this.ctx.store.updateUpload(id, { leaseExpires: until }, this.ctx.builder).catch(() => false);
  }

  // ---- build ----

  async build(imageName: string): Promise<void> {
    const { store, builder, now, logger } = this.ctx;
    const image = this.ctx.config.diskimages?.find((d) => d.name === imageName);
    if (!image) return;
    const started = now();
    const id = newId(started);
    const rec: BuildRecord = {
      id, image: image.name, builder, state: 'building', formats: image.formats, files: [], logPath: buildLogPath(this.cfg, image.name, id),
      reason: null, leaseOwner: builder, leaseExpires: started + this.ctx.leaseMs, createdAt: started, stateTime: started,
    };
    await store.insertBuild(rec, builder);
    this.leased.builds.add(id);
    // An operator's build request is met by this build: cleared now, so that deleting this build
    // later (a rollback) does not make the request look unmet and start another build.
    const flags = (await store.listImageFlags()).find((f) => f.image === image.name);
    if (flags?.buildRequestedAt != null && flags.buildRequestedAt <= started) await store.setImageFlags(image.name, { buildRequestedAt: null }, builder);
    const log = logger.child({ image: image.name, build: id });
    log.info({ cmd: image.dibCmd, elements: image.elements, log: rec.logPath }, 'build started');
    try {
      const outputs = await runBuildCommand({
        dibCmd: image.dibCmd, elements: image.elements, formats: image.formats, envVars: image.envVars, release: image.release,
        elementsDir: this.cfg.elementsDir, outputBase: outputBase(this.cfg, image.name, id), logPath: rec.logPath!,
        timeoutMs: image.buildTimeout * 1000, signal: this.ctx.signal,
      });
      const files: ImageFile[] = [];
      for (const o of outputs) files.push({ ...o, ...(await checksumOutput(o.path)) });
      const ok = await store.updateBuild(id, { state: 'ready', files, leaseOwner: null, leaseExpires: null, stateTime: now() }, builder, { states: ['building'] });
      log.info({ ms: now() - started, files: files.map((f) => ({ format: f.format, bytes: f.size, sha256: f.sha256 })), recorded: ok }, 'build ready');
    } catch (err) {
      const reason = err instanceof BuildFailed ? err.message : `build failed: ${(err as Error).message}`;
      log.warn({ reason, ms: now() - started }, 'build failed');
      await store.updateBuild(id, { state: 'failed', reason, leaseOwner: null, leaseExpires: null, stateTime: now() }, builder, { states: ['building'] });
      await removeOutputs(rec, this.cfg);
    } finally {
      this.leased.builds.delete(id);
      await pruneLogs(this.cfg, image.name, await store.listBuilds({ image: image.name }));
    }
  }

  // ---- upload ----

  async upload(buildId: string, provider: string): Promise<void> {
    const { store, builder, now } = this.ctx;
    const build = await store.getBuild(buildId);
    const adapter = this.ctx.adapters.get(provider);
    const pcfg = this.ctx.config.providers.find((p) => p.name === provider);
    const image = this.ctx.config.diskimages?.find((d) => d.name === build?.image);
    if (!build || build.state !== 'ready' || !adapter || !pcfg || !image) return;
    const pimg = pcfg.diskimages?.find((d) => d.name === image.name);
    try {
      await uploadBuild({
        store, adapter, logger: this.ctx.logger, builder, now, leaseMs: this.ctx.leaseMs, timeoutMs: (pcfg.imageUploadTimeout ?? 3600) * 1000,
        sleep: this.ctx.sleep, signal: this.ctx.signal, meta: pimg?.meta ?? {}, validate: image.validation !== undefined,
      }, build, provider);
      this.ctx.backoff.succeeded(provider);
    } catch (err) {
      if (this.ctx.signal.aborted) return;
      const at = this.ctx.backoff.failed(provider, now(), isCloudError(err) ? err.retryAfterMs : undefined);
      this.ctx.logger.warn({ provider, build: buildId, failures: this.ctx.backoff.failureCount(provider), retry_in_ms: at - now() },
        'upload to this provider backs off; other providers go on');
    }
  }

  // ---- validation ----

  async validate(uploadId: string): Promise<void> {
    const { store, builder, now } = this.ctx;
    const u = await store.getUpload(uploadId);
    if (!u || u.state !== 'ready' || u.validation !== 'pending') return;
    const image = this.ctx.config.diskimages?.find((d) => d.name === u.image);
    const provider = this.ctx.config.providers.find((p) => p.name === u.provider);
    const adapter = this.ctx.adapters.get(u.provider);
    if (!image || !provider || !adapter) return;
    const claimed = await store.updateUpload(uploadId, { validation: 'running', leaseOwner: builder, leaseExpires: now() + this.ctx.leaseMs },
      builder, { states: ['ready'], leaseFreeOr: { owner: builder, now: now() } });
    if (!claimed) return;
    this.leased.uploads.add(uploadId);
    try {
      const verdict = await validateUpload({ store, adapter, logger: this.ctx.logger, builder, now, sleep: this.ctx.sleep, signal: this.ctx.signal }, u, image, provider);
      if (this.ctx.signal.aborted) return;
      await store.updateUpload(uploadId, {
        validation: verdict.passed ? 'passed' : 'failed', reason: verdict.passed ? null : `validation failed: ${verdict.reason}`,
        validationNode: null, leaseOwner: null, leaseExpires: null,
      }, builder);
    } finally {
      this.leased.uploads.delete(uploadId);
    }
  }

  async revalidate(uploadId: string): Promise<void> {
    await this.ctx.store.updateUpload(uploadId, { validation: 'pending', validationNode: null, leaseOwner: null, leaseExpires: null },
      this.ctx.builder, { states: ['ready'], leaseFreeOr: { owner: this.ctx.builder, now: this.ctx.now() } });
  }

  // ---- deletes ----

  /** Deletes an upload in its cloud (an image already gone is fine), then its record. */
  async deleteUpload(uploadId: string, reason: string): Promise<void> {
    const { store, builder } = this.ctx;
    const u = await store.getUpload(uploadId);
    if (!u || u.state === 'uploading') return;
    if (u.state !== 'deleting') await store.updateUpload(uploadId, { state: 'deleting', reason, stateTime: this.ctx.now() }, builder, { states: [u.state] }, reason);
    const adapter = this.ctx.adapters.get(u.provider);
    try {
      if (u.externalId) {
        if (!adapter) throw new Error(`provider ${u.provider} is not configured any more`);
        // A driver without image uploads holds no image to delete.
        await adapter.images?.delete(u.externalId);
      }
      await store.removeUpload(uploadId, builder, { states: ['deleting'] });
      this.ctx.logger.info({ provider: u.provider, upload: u.id, image_id: u.externalId, reason }, 'upload deleted');
    } catch (err) {
      this.holdOff.set(`delete:${uploadId}`, this.ctx.now() + DELETE_RETRY_MS);
      this.ctx.logger.warn({ provider: u.provider, upload: u.id, err: (err as Error).message }, 'upload delete failed; will try again');
    }
  }

  async retireBuild(buildId: string, reason: string): Promise<void> {
    await this.ctx.store.updateBuild(buildId, { state: 'deleting', reason, stateTime: this.ctx.now() }, this.ctx.builder, { states: ['ready', 'failed'] }, reason);
  }

  /** The last step of a build's delete: its files (the log stays, within build-log-retention), then its record. */
  async removeBuild(buildId: string): Promise<void> {
    const b = await this.ctx.store.getBuild(buildId);
    if (!b || b.state !== 'deleting') return;
    if ((await this.ctx.store.listUploads({ buildId })).length > 0) return;
    await removeOutputs(b, this.ctx.config.builder);
    await this.ctx.store.removeBuild(buildId, this.ctx.builder, { states: ['deleting'] });
    this.ctx.logger.info({ image: b.image, build: b.id, reason: b.reason }, 'build deleted');
  }

  async failStaleBuild(buildId: string): Promise<void> {
    const b = await this.ctx.store.getBuild(buildId);
    const ok = await this.ctx.store.updateBuild(buildId, {
      state: 'failed', reason: `builder ${b?.builder ?? '?'} stopped during the build (its lease ran out)`, leaseOwner: null, leaseExpires: null, stateTime: this.ctx.now(),
    }, this.ctx.builder, { states: ['building'], leaseFreeOr: { owner: this.ctx.builder, now: this.ctx.now() } });
    if (ok && b?.builder === this.ctx.builder) await removeOutputs(b, this.ctx.config.builder);
  }

  /** An upload whose uploader is gone: its image (if Glance named one) is deleted, the record failed. */
  async failStaleUpload(uploadId: string, reason = 'the uploading builder stopped (its lease ran out)'): Promise<void> {
    const { store, builder, now } = this.ctx;
    const u = await store.getUpload(uploadId);
    if (!u) return;
    const ok = await store.updateUpload(uploadId, { state: 'failed', reason, leaseOwner: null, leaseExpires: null, stateTime: now() },
      builder, { states: ['uploading'], leaseFreeOr: { owner: builder, now: now() } });
    if (!ok || !u.externalId) return;
    try {
      await this.ctx.adapters.get(u.provider)?.images?.delete(u.externalId);
      await store.updateUpload(uploadId, { externalId: null }, builder);
    } catch (err) {
      this.ctx.logger.warn({ provider: u.provider, upload: u.id, err: (err as Error).message }, 'could not delete a stale upload; the leak sweep will');
    }
  }
}

/** A build's output files and their checksum files (the log is kept). */
async function removeOutputs(b: BuildRecord, cfg?: BuilderConfig): Promise<void> {
  const base = cfg ? outputBase(cfg, b.image, b.id) : b.files[0]?.path.replace(/\.[^./]+$/, '');
  if (!base) return;
  const dir = dirname(base);
  const prefix = `${basename(base)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(prefix) && !n.endsWith('.log')).map((n) => rm(join(dir, n), { recursive: true, force: true })));
}

/** Keeps the newest `build-log-retention` logs of an image, and always those of builds still recorded. */
async function pruneLogs(cfg: BuilderConfig, image: string, builds: BuildRecord[]): Promise<void> {
  const keep = new Set(builds.map((b) => b.logPath));
  const names = (await readdir(cfg.buildLogDir).catch(() => [] as string[])).filter((n) => n.startsWith(`${image}-`) && n.endsWith('.log'));
  const files = await Promise.all(names.map(async (n) => ({ path: join(cfg.buildLogDir, n), mtime: (await stat(join(cfg.buildLogDir, n))).mtimeMs })));
  files.sort((a, b) => b.mtime - a.mtime);
  await Promise.all(files.slice(cfg.buildLogRetention).filter((f) => !keep.has(f.path)).map((f) => rm(f.path, { force: true })));
}
