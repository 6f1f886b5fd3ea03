import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { git, gitLine } from '../git/exec.ts';
import type { Logger } from '../log.ts';

/**
 * The speculative state, prepared with real git: for each project a buildset needs, the target
 * branch with every change ahead of the item in its queue (and the changes it depends on) merged
 * in order, then the item's own change. A change that does not merge is a merge conflict, which
 * the item reports as such; nothing is built on it.
 *
 * The merges are made in a bare cache per project (fetched from Gerrit) with `git merge-tree
 * --write-tree` and `git commit-tree`: no working tree, two git processes per change, so an item
 * builds on the commit prepared for the item ahead of it with one merge. Measured here: a clone
 * and a checkout per item cost 0.3–0.5 s more each, which twenty changes approved at once pay one
 * after the other. The working folders the executor copies to the nodes (a clone of the cache at
 * the prepared commit, `.git` included) are made when a build needs them, in parallel.
 */

export interface MergeStep {
  /** `change 12,3`, for messages. */
  label: string;
  change: number;
  ref: string;
  revision: string;
  /** The item's own change (its conflict is the item's), or one ahead of it / depended on. */
  own: boolean;
}

export interface ProjectPlan {
  connection: string;
  project: string;
  branch: string;
  steps: MergeStep[];
  /** Start from this commit (the nearest item ahead's speculative state) instead of the branch tip. */
  from?: string;
}

export type PrepareResult =
  | { ok: true; commits: Record<string, string>; files: string[] }
  | { ok: false; conflict: string };

interface CacheState { pending: Set<string>; next: Promise<void> | null; tail: Promise<void> }

export class Workspace {
  private readonly caches = new Map<string, CacheState>();
  private readonly checkouts = new Map<string, Promise<string>>();

  constructor(
    readonly root: string,
    /** `{project}` → where to fetch it, per connection. */
    private readonly gitUrls: Map<string, string>,
    private readonly logger: Logger,
  ) {}

  buildsetDir(buildsetId: string): string {
    return path.join(this.root, 'builds', buildsetId);
  }

  private cacheDir(connection: string, project: string): string {
    return path.join(this.root, 'cache', connection, `${project}.git`);
  }

  /**
   * Merges every project's steps; `ownRevision` is the item's change, whose files are listed
   * when `listFiles` (a job has a files matcher). Returns the commit prepared for each project.
   */
  async prepare(buildsetId: string, projects: ProjectPlan[], ownRevision: string, listFiles = true): Promise<PrepareResult> {
    const commits: Record<string, string> = {};
    let files: string[] = [];
    for (const p of projects) {
      const cache = await this.fetch(p);
      let head = p.from ?? await gitLine(['rev-parse', `refs/heads/${p.branch}`], { cwd: cache });
      for (const step of p.steps) {
        const merged = await git(['merge-tree', '--write-tree', '--name-only', '--no-messages', head, step.revision], { cwd: cache, allowFailure: true });
        if (merged.code !== 0) {
          const conflicted = merged.stdout.split('\n').slice(1).filter(Boolean);
          const what = conflicted.length ? `conflicting files: ${conflicted.join(', ')}` : merged.stderr.trim().split('\n')[0];
          const reason = step.own
            ? `${step.label} does not merge into ${p.project} ${p.branch}${p.steps.length > 1 || p.from ? ' with the changes ahead of it' : ''} (${what})`
            : `${p.project}: ${step.label}, which this change is tested with, does not merge (${what})`;
          this.logger.info({ buildset: buildsetId, project: p.project, change: step.label, why: what }, 'merge conflict');
          return { ok: false, conflict: reason };
        }
        const tree = merged.stdout.split('\n')[0]!.trim();
        head = await gitLine(['commit-tree', tree, '-p', head, '-p', step.revision, '-m', `Merge ${step.label}`], { cwd: cache });
        if (step.own && listFiles) {
          files = (await gitLine(['diff-tree', '--no-commit-id', '--name-only', '-r', '--root', ownRevision], { cwd: cache })).split('\n').filter(Boolean);
        }
      }
      commits[p.project] = head;
    }
    return { ok: true, commits, files };
  }

  /**
   * The buildset's working folders (`<dir>/<project>`, each a clone of the cache with its branch
   * at the prepared commit), made once however many builds ask; returns the folder.
   */
  checkout(buildsetId: string, projects: { connection: string; project: string; branch: string; commit: string }[]): Promise<string> {
    let made = this.checkouts.get(buildsetId);
    if (!made) {
      const dir = this.buildsetDir(buildsetId);
      made = (async () => {
        await rm(dir, { recursive: true, force: true });
        for (const p of projects) {
          const work = path.join(dir, p.project);
          await mkdir(path.dirname(work), { recursive: true });
          await git(['clone', '-q', '--no-checkout', this.cacheDir(p.connection, p.project), work], { cwd: this.root });
          await git(['checkout', '-q', '-B', p.branch, p.commit], { cwd: work });
        }
        return dir;
      })();
      made.catch(() => this.checkouts.delete(buildsetId));
      this.checkouts.set(buildsetId, made);
    }
    return made;
  }

  /**
   * Removes what a previous run left: working folders of buildsets no longer active, and files
   * staged for nodes. Called once at start, before anything is prepared.
   */
  async sweep(keep: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    const builds = path.join(this.root, 'builds');
    for (const id of await readdir(builds).catch(() => [] as string[])) {
      if (keep.has(id)) continue;
      await rm(path.join(builds, id), { recursive: true, force: true });
      removed++;
    }
    await rm(this.stageDir(), { recursive: true, force: true });
    return removed;
  }

  /** Where the executor writes each build's files for its nodes before sending them. */
  stageDir(): string {
    return path.join(this.root, 'stage');
  }

  /** Fetches what the plans need now (batched with every other fetch of the same project), before their merges can start. */
  async prefetch(projects: ProjectPlan[]): Promise<void> {
    await Promise.all(projects.map((p) => this.fetch({ ...p, from: undefined })));
  }

  /** Removes a buildset's working folders (its item is done, or it was replaced). */
  async remove(buildsetId: string): Promise<void> {
    const made = this.checkouts.get(buildsetId);
    this.checkouts.delete(buildsetId);
    await made?.catch(() => undefined);
    await rm(this.buildsetDir(buildsetId), { recursive: true, force: true });
  }

  private url(p: ProjectPlan): string {
    const template = this.gitUrls.get(p.connection);
    if (!template) throw new Error(`no git URL for connection ${p.connection}`);
    return template.replaceAll('{project}', p.project);
  }

  /**
   * Brings the project's cache up to date with its branch and the steps' change refs. One fetch
   * runs at a time per project; the refs asked for meanwhile are fetched together by the next one
   * (twenty changes approved at once cost two or three fetches, not twenty).
   */
  private async fetch(p: ProjectPlan): Promise<string> {
    const cache = this.cacheDir(p.connection, p.project);
    let st = this.caches.get(cache);
    if (!st) { st = { pending: new Set(), next: null, tail: Promise.resolve() }; this.caches.set(cache, st); }
    const refs = [`+refs/heads/${p.branch}:refs/heads/${p.branch}`, ...p.steps.map((s) => `+${s.ref}:${s.ref}`)];
    // A branch tip already fetched for a start from the item ahead's commit, and change refs
    // (which never move) already here, need no fetch.
    const missing = p.from && p.steps.every((s) => existsSync(path.join(cache, s.ref))) ? [] : refs;
    if (!missing.length) return cache;
    for (const r of missing) st.pending.add(r);
    if (!st.next) {
      const state = st;
      state.next = state.tail.then(async () => {
        state.next = null;
        const batch = [...state.pending];
        state.pending.clear();
        if (!existsSync(path.join(cache, 'HEAD'))) {
          await mkdir(cache, { recursive: true });
          await git(['init', '-q', '--bare'], { cwd: cache });
        }
        await git(['fetch', '-q', '--no-tags', this.url(p), ...batch], { cwd: cache });
      });
      state.tail = state.next.catch(() => undefined);
    }
    await st.next;
    return cache;
  }
}
