import type { BuildRecord, ImageFlags, UploadRecord } from '../model.ts';
import type { DiskImageConfig } from '../config/types.ts';

/**
 * The builder's planner: a pure function of (config, store snapshot, what runs, now) that says
 * what to build, upload, validate and delete next and when to look again. ./builder.ts carries
 * the actions out; each action is guarded by a conditional store write, so a plan made on a
 * stale snapshot can only fail to apply.
 */

export type BuilderAction =
  | { type: 'build'; image: string }
  | { type: 'upload'; buildId: string; provider: string }
  | { type: 'validate'; uploadId: string }
  | { type: 'retire-build'; buildId: string; reason: string }
  | { type: 'delete-upload'; uploadId: string; reason: string }
  | { type: 'remove-build'; buildId: string }
  | { type: 'fail-stale-build'; buildId: string }
  | { type: 'fail-stale-upload'; uploadId: string }
  | { type: 'revalidate'; uploadId: string };

export interface ImageUse {
  provider: string;
  /** The provider's `pause` for this image: no new uploads there. */
  paused: boolean;
}

export interface BuilderPlanInput {
  now: number;
  builder: string;
  /** Buildable images (abstract ones left out). */
  images: DiskImageConfig[];
  /** The providers that list each image. */
  uses: Map<string, ImageUse[]>;
  /** Newest first. */
  builds: BuildRecord[];
  /** Newest first. */
  uploads: UploadRecord[];
  flags: Map<string, ImageFlags>;
  /** Task keys running in this process: `build:<image>`, `upload:<build>/<provider>`, `validate:<upload>`, `delete:<upload>`, `remove:<build>`. */
  inflight: { has(key: string): boolean };
  /** Per provider, the time before which no new upload is tried (backoff after failures). */
  uploadNotBefore: ReadonlyMap<string, number>;
  /** Wait after the first failed build of an image before the next try; doubled per further failure, capped at rebuild-age. */
  buildRetryMs: number;
  /** Ready builds kept per image; older ones are deleted with their uploads. */
  keepBuilds: number;
  /** Failed builds (and their logs) kept per image. */
  keepFailed: number;
}

export interface BuilderPlan {
  actions: BuilderAction[];
  nextWakeAt: number | null;
}

const leaseRuns = (r: { leaseOwner: string | null; leaseExpires: number | null }, now: number) =>
  r.leaseOwner !== null && (r.leaseExpires ?? 0) >= now;

export function planBuilder(input: BuilderPlanInput): BuilderPlan {
  const { now } = input;
  const actions: BuilderAction[] = [];
  let nextWakeAt: number | null = null;
  const wakeAt = (t: number) => { if (nextWakeAt === null || t < nextWakeAt) nextWakeAt = t; };
  const configured = new Map(input.images.map((i) => [i.name, i]));
  const uploadsOf = new Map<string, UploadRecord[]>();
  for (const u of input.uploads) uploadsOf.set(u.buildId, [...(uploadsOf.get(u.buildId) ?? []), u]);
  const mine = (b: BuildRecord) => b.builder === input.builder;

  // Work left behind by a builder that died: its lease ran out.
  for (const b of input.builds) {
    if (b.state === 'building' && !leaseRuns(b, now) && !input.inflight.has(`build:${b.image}`)) actions.push({ type: 'fail-stale-build', buildId: b.id });
  }
  for (const u of input.uploads) {
    if (u.state === 'uploading' && !leaseRuns(u, now) && !input.inflight.has(`upload:${u.buildId}/${u.provider}`)) {
      actions.push({ type: 'fail-stale-upload', uploadId: u.id });
    }
    if (u.state === 'ready' && u.validation === 'running' && !leaseRuns(u, now) && !input.inflight.has(`validate:${u.id}`)) {
      actions.push({ type: 'revalidate', uploadId: u.id });
    }
  }

  const byImage = new Map<string, BuildRecord[]>();
  for (const b of input.builds) byImage.set(b.image, [...(byImage.get(b.image) ?? []), b]);

  // Builds of images no longer configured go, uploads first.
  for (const [image, builds] of byImage) {
    if (configured.has(image)) continue;
    for (const b of builds) if (mine(b) && b.state !== 'building' && b.state !== 'deleting') actions.push({ type: 'retire-build', buildId: b.id, reason: 'image no longer configured' });
  }

  for (const image of input.images) {
    const builds = byImage.get(image.name) ?? [];
    const flags = input.flags.get(image.name);
    const uses = input.uses.get(image.name) ?? [];
    const ready = builds.filter((b) => b.state === 'ready');

    // ---- a new build ----
    const building = builds.some((b) => b.state === 'building') || input.inflight.has(`build:${image.name}`);
    const paused = image.pause || flags?.paused === true;
    if (!building && !paused && uses.length > 0) {
      const newest = builds.find((b) => b.state !== 'deleting');
      const requested = flags?.buildRequestedAt != null && (newest === undefined || newest.createdAt < flags.buildRequestedAt);
      const due = ready.length === 0 ? now : ready[0].createdAt + image.rebuildAge * 1000;
      let at = due;
      if (newest?.state === 'failed') {
        // Consecutive failures since the newest ready build space the next try out.
        const failures = builds.filter((b) => b.state === 'failed' && (ready[0] === undefined || b.createdAt > ready[0].createdAt)).length;
        const wait = Math.min(input.buildRetryMs * 2 ** Math.min(failures - 1, 20), image.rebuildAge * 1000);
        at = Math.max(due, newest.stateTime + wait);
      }
      if (requested || at <= now) actions.push({ type: 'build', image: image.name });
      else wakeAt(at);
    }

    // ---- uploads of the newest ready build, to every provider using the image ----
    const newestReady = ready[0];
    if (newestReady && mine(newestReady) && newestReady.files.length > 0) {
      const ups = uploadsOf.get(newestReady.id) ?? [];
      for (const use of uses) {
        if (use.paused) continue;
        if (input.inflight.has(`upload:${newestReady.id}/${use.provider}`)) continue;
        if (ups.some((u) => u.provider === use.provider && (u.state === 'uploading' || u.state === 'ready'))) continue;
        const notBefore = input.uploadNotBefore.get(use.provider) ?? 0;
        if (notBefore > now) wakeAt(notBefore);
        else actions.push({ type: 'upload', buildId: newestReady.id, provider: use.provider });
      }
    }

    // ---- validation of ready uploads made from this builder's builds ----
    for (const b of ready.filter(mine)) {
      for (const u of uploadsOf.get(b.id) ?? []) {
        if (u.state === 'ready' && u.validation === 'pending' && !input.inflight.has(`validate:${u.id}`)) actions.push({ type: 'validate', uploadId: u.id });
      }
    }

    // ---- retention: the newest `keepBuilds` usable builds, and anything newer than them ----
    // A build whose check failed does not count: two bad builds in a row must not retire the
    // last good one that launches still use. Bad ones are kept within the failed-build count.
    const kept = new Set<string>();
    let good = 0;
    let bad = 0;
    for (const b of ready) {
      const ups = uploadsOf.get(b.id) ?? [];
      const checkFailed = ups.some((u) => u.validation === 'failed');
      const usable = ups.some((u) => u.state === 'ready') && ups.every((u) => u.state !== 'ready' || u.validation === 'none' || u.validation === 'passed');
      if (good >= input.keepBuilds) {
        if (mine(b)) actions.push({ type: 'retire-build', buildId: b.id, reason: `older than the ${input.keepBuilds} newest usable builds` });
        continue;
      }
      if (checkFailed && ++bad > input.keepFailed) {
        if (mine(b)) actions.push({ type: 'retire-build', buildId: b.id, reason: `more than ${input.keepFailed} builds that failed their check` });
        continue;
      }
      if (usable) good++;
      kept.add(b.id);
    }
    const failed = builds.filter((b) => b.state === 'failed');
    for (const b of failed.slice(input.keepFailed)) {
      if (mine(b)) actions.push({ type: 'retire-build', buildId: b.id, reason: `more than ${input.keepFailed} failed builds` });
    }
    const usedBy = new Set(uses.map((u) => u.provider));
    for (const b of ready.filter((x) => kept.has(x.id))) {
      const ups = uploadsOf.get(b.id) ?? [];
      for (const u of ups) {
        if (input.inflight.has(`delete:${u.id}`)) continue;
        if (!usedBy.has(u.provider) && u.state !== 'uploading') {
          actions.push({ type: 'delete-upload', uploadId: u.id, reason: `provider ${u.provider} no longer uses ${image.name}` });
        } else if (u.state === 'failed' && ups.some((o) => o.provider === u.provider && o.state === 'ready')) {
          // The failure is history once an upload to the same provider worked.
          actions.push({ type: 'delete-upload', uploadId: u.id, reason: 'a later upload succeeded' });
        }
      }
    }
  }

  // ---- deleting builds: their uploads first, then the files and the record ----
  for (const b of input.builds) {
    if (b.state !== 'deleting' || !mine(b)) continue;
    const ups = uploadsOf.get(b.id) ?? [];
    for (const u of ups) {
      if (u.state === 'uploading' || input.inflight.has(`delete:${u.id}`)) continue;
      actions.push({ type: 'delete-upload', uploadId: u.id, reason: `build ${b.id} is deleted` });
    }
    if (ups.length === 0 && !input.inflight.has(`remove:${b.id}`)) actions.push({ type: 'remove-build', buildId: b.id });
  }
  // Uploads an operator deleted (`image delete`).
  for (const u of input.uploads) {
    if (u.state === 'deleting' && !input.inflight.has(`delete:${u.id}`) && !actions.some((a) => a.type === 'delete-upload' && a.uploadId === u.id)) {
      actions.push({ type: 'delete-upload', uploadId: u.id, reason: 'deleted by an operator' });
    }
  }
  return { actions, nextWakeAt };
}
