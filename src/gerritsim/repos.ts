import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { git, gitLine } from '../git/exec.ts';

/**
 * The simulator's git side: one bare repository per project under `root` (`<root>/<project>.git`,
 * so `openstack/nova` lives in `openstack/nova.git`), the same layout Gerrit keeps. Commits are
 * written with `git fast-import` (no working tree), submits merge with `git merge-tree`; both
 * are real git, so what a client fetches is what git itself made.
 */

export interface Person {
  name: string;
  email: string;
}

export interface CommitSpec {
  ref: string;
  /** The parent commit; none for a branch's first commit. */
  parent: string | null;
  message: string;
  author: Person;
  /** Seconds since the epoch. */
  time: number;
  /** Files written (path → content); `null` deletes the path. Others come from the parent. */
  files: Record<string, string | null>;
}

export type MergeOutcome = { ok: true; commit: string; fastForward: boolean } | { ok: false; conflict: string };

export class Repos {
  constructor(readonly root: string) {}

  dir(project: string): string {
    return path.join(this.root, `${project}.git`);
  }

  async create(project: string, branch: string): Promise<void> {
    await mkdir(this.dir(project), { recursive: true });
    await git(['init', '-q', '--bare', '-b', branch, '.'], { cwd: this.dir(project) });
    // Served over HTTP by git http-backend.
    await git(['config', 'http.uploadpack', 'true'], { cwd: this.dir(project) });
  }

  /** Writes one commit at `spec.ref` (which must not move backwards); returns its sha. */
  async commit(project: string, spec: CommitSpec): Promise<string> {
    const who = `${spec.author.name} <${spec.author.email}> ${spec.time} +0000`;
    const parts: string[] = [`commit ${spec.ref}`, `author ${who}`, `committer ${who}`, data(spec.message)];
    if (spec.parent) parts.push(`from ${spec.parent}`);
    for (const [file, content] of Object.entries(spec.files)) {
      if (content === null) parts.push(`D ${quotePath(file)}`);
      else parts.push(`M 100644 inline ${quotePath(file)}`, data(content));
    }
    await git(['fast-import', '--quiet', '--done'], { cwd: this.dir(project), input: `${parts.join('\n')}\ndone\n` });
    return this.resolve(project, spec.ref);
  }

  async resolve(project: string, ref: string): Promise<string> {
    return gitLine(['rev-parse', '--verify', `${ref}^{commit}`], { cwd: this.dir(project) });
  }

  async exists(project: string, ref: string): Promise<boolean> {
    const r = await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: this.dir(project), allowFailure: true });
    return r.code === 0;
  }

  async isAncestor(project: string, ancestor: string, of: string): Promise<boolean> {
    const r = await git(['merge-base', '--is-ancestor', ancestor, of], { cwd: this.dir(project), allowFailure: true });
    return r.code === 0;
  }

  /**
   * Gerrit's "merge if necessary": fast-forward the branch to the change when it is based on the
   * tip, else a merge commit of the tip and the change; a conflict moves nothing.
   */
  async submit(project: string, branch: string, change: string, message: string, who: Person, time: number): Promise<MergeOutcome> {
    const cwd = this.dir(project);
    const ref = `refs/heads/${branch}`;
    const tip = await this.resolve(project, ref);
    if (await this.isAncestor(project, change, tip)) return { ok: true, commit: tip, fastForward: true };
    if (await this.isAncestor(project, tip, change)) {
      await git(['update-ref', ref, change, tip], { cwd });
      return { ok: true, commit: change, fastForward: true };
    }
    const merged = await git(['merge-tree', '--write-tree', '--name-only', '--no-messages', tip, change], { cwd, allowFailure: true });
    if (merged.code !== 0) {
      const files = merged.stdout.split('\n').slice(1).filter(Boolean);
      return { ok: false, conflict: files.length ? files.join(', ') : merged.stderr.trim() || 'conflict' };
    }
    const tree = merged.stdout.split('\n')[0]!.trim();
    const env = {
      GIT_AUTHOR_NAME: who.name, GIT_AUTHOR_EMAIL: who.email, GIT_AUTHOR_DATE: `${time} +0000`,
      GIT_COMMITTER_NAME: who.name, GIT_COMMITTER_EMAIL: who.email, GIT_COMMITTER_DATE: `${time} +0000`,
    };
    const commit = await gitLine(['commit-tree', tree, '-p', tip, '-p', change, '-F', '-'], { cwd, input: message, env });
    await git(['update-ref', ref, commit, tip], { cwd });
    return { ok: true, commit, fastForward: false };
  }

  /** The first-parent history of a branch, newest first: sha and subject. */
  async log(project: string, branch: string): Promise<{ sha: string; subject: string; parents: string[] }[]> {
    const out = await gitLine(['log', '--first-parent', '--format=%H%x09%P%x09%s', `refs/heads/${branch}`], { cwd: this.dir(project) });
    return out.split('\n').filter(Boolean).map((l) => {
      const [sha, parents, subject] = l.split('\t');
      return { sha: sha!, parents: parents ? parents.split(' ') : [], subject: subject ?? '' };
    });
  }
}

/** fast-import's `data` command: exact byte count, then the bytes. */
function data(text: string): string {
  return `data ${Buffer.byteLength(text)}\n${text}`;
}

/** fast-import quotes a path with C-style escapes when it has spaces or specials. */
function quotePath(p: string): string {
  if (/^[A-Za-z0-9._\/-]+$/.test(p)) return p;
  return JSON.stringify(p);
}
