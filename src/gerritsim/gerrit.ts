import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import * as ev from './events.ts';
import {
  changeRef, currentPatchSet, GerritError, LABELS, type Account, type Change, type ChangeMessage, type PatchSet, type Vote,
} from './model.ts';
import type { Repos } from './repos.ts';

export interface UploadChange {
  project: string;
  branch?: string;
  subject: string;
  /** Commit message body after the subject (e.g. `Depends-On:` footers); the Change-Id footer is added. */
  body?: string;
  files: Record<string, string | null>;
  /** Uploader and owner (username); default the first account. */
  owner?: string;
  /** Base the commit on this change's current patch set instead of the branch tip (a stack). */
  parentChange?: number;
}

export interface ReviewInput {
  message?: string;
  labels?: Record<string, number>;
  tag?: string;
}

/**
 * The simulator's Gerrit: projects, changes, votes and submits over real git repositories, and
 * the stream events each of them causes. Writes to one project are serialised (git's refs are
 * updated one at a time, as Gerrit's receive and submit paths do).
 */
export class Gerrit implements ev.EventContext {
  private readonly accounts = new Map<number, Account>();
  private readonly changes = new Map<number, Change>();
  private readonly projects = new Map<string, { branches: Set<string> }>();
  private readonly listeners = new Set<(e: ev.StreamEvent) => void>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private nextChange = 1;
  private nextAccount = 1000000;
  private nextMessage = 1;

  constructor(
    private readonly repos: Repos,
    private readonly o: { now: () => number; logger: Logger; webUrl: () => string },
  ) {}

  // ---- accounts ----

  addAccount(a: Omit<Account, 'id'>): Account {
    if (this.findAccount(a.username)) throw new GerritError(409, `account '${a.username}' already exists`);
    const account = { ...a, id: this.nextAccount++ };
    this.accounts.set(account.id, account);
    return account;
  }

  account(id: number): Account {
    const a = this.accounts.get(id);
    if (!a) throw new GerritError(404, `Account '${id}' not found`);
    return a;
  }

  findAccount(username: string): Account | undefined {
    return [...this.accounts.values()].find((a) => a.username === username);
  }

  mustFindAccount(username: string): Account {
    const a = this.findAccount(username);
    if (!a) throw new GerritError(422, `Account '${username}' not found`);
    return a;
  }

  listAccounts(): Account[] {
    return [...this.accounts.values()];
  }

  // ---- events ----

  subscribe(fn: (e: ev.StreamEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: ev.StreamEvent): void {
    this.o.logger.info({ event: e.type, project: e.project ?? (e.refUpdate as { project?: string } | undefined)?.project }, 'gerrit event');
    for (const l of this.listeners) l(e);
  }

  changeUrl(c: Change): string {
    return `${this.o.webUrl()}/c/${c.project}/+/${c.number}`;
  }

  // ---- projects ----

  hasProject(name: string): boolean {
    return this.projects.has(name);
  }

  projectNames(): string[] {
    return [...this.projects.keys()].sort();
  }

  async createProject(name: string, o: { branch?: string; files?: Record<string, string>; owner?: string } = {}): Promise<string> {
    if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(name) || name.split('/').some((p) => p === '.' || p === '..' || p.endsWith('.git'))) {
      throw new GerritError(400, `invalid project name: ${name}`);
    }
    if (this.projects.has(name)) throw new GerritError(409, `Project already exists`);
    const branch = o.branch ?? 'master';
    this.projects.set(name, { branches: new Set([branch]) });
    const owner = this.accountFor(o.owner);
    return this.serial(name, async () => {
      await this.repos.create(name, branch);
      return this.repos.commit(name, {
        ref: `refs/heads/${branch}`, parent: null, message: 'Initial empty repository\n', author: owner, time: this.secs(),
        files: o.files ?? { README: `${name}\n` },
      });
    });
  }

  private mustProject(name: string, branch?: string): void {
    const p = this.projects.get(name);
    if (!p) throw new GerritError(404, `Project not found: ${name}`);
    if (branch && !p.branches.has(branch)) throw new GerritError(400, `branch ${branch} not found in ${name}`);
  }

  // ---- changes ----

  getChange(n: number): Change {
    const c = this.changes.get(n);
    if (!c) throw new GerritError(404, `Not found: ${n}`);
    return c;
  }

  listChanges(): Change[] {
    return [...this.changes.values()];
  }

  /** A change by any of Gerrit's identifiers: number, Change-Id, `project~number`, `project~branch~Change-Id`. */
  resolveChange(id: string): Change {
    const parts = decodeURIComponent(id).split('~');
    const last = parts[parts.length - 1]!;
    const found = /^\d+$/.test(last)
      ? this.changes.get(Number(last))
      : [...this.changes.values()].find((c) => c.changeId === last && (parts.length < 2 || c.project === parts[0]) && (parts.length < 3 || c.branch === parts[1]));
    if (!found || (parts.length >= 2 && found.project !== parts[0])) throw new GerritError(404, `Not found: ${id}`);
    return found;
  }

  async uploadChange(u: UploadChange): Promise<Change> {
    const branch = u.branch ?? 'master';
    this.mustProject(u.project, branch);
    const owner = u.owner ? this.mustFindAccount(u.owner) : this.firstAccount();
    const number = this.nextChange++;
    const changeId = `I${randomBytes(20).toString('hex')}`;
    const now = this.o.now();
    const change: Change = {
      number, changeId, project: u.project, branch, subject: u.subject, owner: owner.id, status: 'NEW', created: now, updated: now,
      patchSets: [], votes: new Map(), messages: [], mergedAs: null, submitter: null,
    };
    const parent = u.parentChange === undefined ? null : this.getChange(u.parentChange);
    if (parent && (parent.project !== u.project || parent.branch !== branch)) throw new GerritError(400, 'parentChange must be on the same project and branch');
    await this.serial(u.project, async () => {
      const base = parent ? currentPatchSet(parent).revision : await this.repos.resolve(u.project, `refs/heads/${branch}`);
      change.patchSets.push(await this.writePatchSet(change, 1, base, commitMessage(u.subject, u.body, changeId), u.files, owner));
    });
    this.changes.set(number, change);
    this.addMessage(change, owner.id, 'Uploaded patch set 1.', 'autogenerated:gerrit:newPatchSet');
    this.emit(ev.patchSetCreated(this, change, currentPatchSet(change), now));
    return change;
  }

  /** A new patch set: the files changed on top of the previous one's parent (or on the branch tip with `rebase`). */
  async uploadPatchSet(number: number, o: { files: Record<string, string | null>; uploader?: string; subject?: string; body?: string; rebase?: boolean }): Promise<Change> {
    const change = this.getChange(number);
    if (change.status !== 'NEW') throw new GerritError(409, `change ${number} is closed`);
    const uploader = o.uploader ? this.mustFindAccount(o.uploader) : this.account(change.owner);
    const prev = currentPatchSet(change);
    const n = prev.number + 1;
    await this.serial(change.project, async () => {
      const base = o.rebase ? await this.repos.resolve(change.project, `refs/heads/${change.branch}`) : prev.parent;
      const previousFiles = Object.fromEntries(prev.files.map((f) => [f, null]));
      const files = o.files && Object.keys(o.files).length ? { ...previousFiles, ...o.files } : await this.filesOf(change.project, prev);
      if (o.subject) change.subject = o.subject;
      change.patchSets.push(await this.writePatchSet(change, n, base, commitMessage(change.subject, o.body, change.changeId), files, uploader));
    });
    change.votes.clear();
    change.updated = this.o.now();
    this.addMessage(change, uploader.id, `Uploaded patch set ${n}.`, 'autogenerated:gerrit:newPatchSet');
    this.emit(ev.patchSetCreated(this, change, currentPatchSet(change), this.o.now()));
    return change;
  }

  private async writePatchSet(change: Change, n: number, base: string, message: string, files: Record<string, string | null>, who: Account): Promise<PatchSet> {
    const ref = changeRef(change.number, n);
    const revision = await this.repos.commit(change.project, { ref, parent: base, message, author: who, time: this.secs(), files });
    return {
      number: n, revision, parent: base, ref, uploader: who.id, created: this.o.now(), commitMessage: message,
      files: Object.keys(files).filter((f) => files[f] !== null),
    };
  }

  /** A patch set's content again (for a rebase that keeps the files). */
  private async filesOf(project: string, ps: PatchSet): Promise<Record<string, string | null>> {
    const { git } = await import('../git/exec.ts');
    const out: Record<string, string | null> = {};
    for (const f of ps.files) out[f] = (await git(['show', `${ps.revision}:${f}`], { cwd: this.repos.dir(project) })).stdout;
    return out;
  }

  // ---- reviews and submits ----

  /** POST …/revisions/{rev}/review: a message and votes by `by` on a patch set. */
  review(change: Change, revision: string, by: Account, input: ReviewInput): Record<string, number> {
    const ps = this.patchSetOf(change, revision);
    const labels = input.labels ?? {};
    for (const [label, value] of Object.entries(labels)) {
      const range = LABELS[label];
      if (!range) throw new GerritError(400, `label "${label}" is not a configured label`);
      if (!Number.isInteger(value) || value < range.min || value > range.max) throw new GerritError(400, `label "${label}": ${value} is not a valid value`);
    }
    if (Object.keys(labels).length) {
      if (change.status !== 'NEW') throw new GerritError(409, `change is ${change.status.toLowerCase()}`);
      if (ps !== currentPatchSet(change)) throw new GerritError(409, `cannot post votes on outdated patch set ${ps.number}`);
    }
    const now = this.o.now();
    const approvals: ev.ApprovalAttr[] = [];
    for (const label of Object.keys(LABELS)) {
      const votes = change.votes.get(label) ?? new Map<number, Vote>();
      const old = votes.get(by.id)?.value ?? 0;
      const asked = labels[label];
      if (asked !== undefined) {
        if (asked === 0) votes.delete(by.id);
        else votes.set(by.id, { label, value: asked, account: by.id, granted: now });
        change.votes.set(label, votes);
      }
      const value = asked ?? old;
      if (asked !== undefined || old !== 0) {
        approvals.push({ type: label, description: label, value: String(value), ...(asked !== undefined && asked !== old ? { oldValue: String(old) } : {}) });
      }
    }
    const votesText = Object.entries(labels).map(([l, v]) => `${l}${v > 0 ? '+' : ''}${v}`).join(' ');
    const text = `Patch Set ${ps.number}:${votesText ? ` ${votesText}` : ''}${input.message ? `\n\n${input.message}` : ''}`;
    this.addMessage(change, by.id, text, input.tag ?? null, ps.number);
    change.updated = now;
    this.emit(ev.commentAdded(this, change, ps, by.id, text, approvals, now));
    return Object.fromEntries(Object.entries(labels));
  }

  patchSetOf(change: Change, revision: string): PatchSet {
    if (revision === 'current') return currentPatchSet(change);
    const ps = /^\d+$/.test(revision)
      ? change.patchSets.find((p) => p.number === Number(revision))
      : change.patchSets.find((p) => p.revision.startsWith(revision) && revision.length >= 4);
    if (!ps) throw new GerritError(404, `Not found: ${revision}`);
    return ps;
  }

  /** Why the change cannot be submitted now, or null: Code-Review +2, Workflow +1, Verified positive, no blocking vote. */
  submitProblem(change: Change): string | null {
    if (change.status !== 'NEW') return `change is ${change.status.toLowerCase()}`;
    const values = (label: string) => [...(change.votes.get(label)?.values() ?? [])].map((v) => v.value);
    const needs: string[] = [];
    if (!values('Code-Review').includes(2) || values('Code-Review').includes(-2)) needs.push('Code-Review');
    if (!values('Workflow').includes(1) || values('Workflow').includes(-1)) needs.push('Workflow');
    if (!values('Verified').some((v) => v > 0) || values('Verified').some((v) => v < 0)) needs.push('Verified');
    return needs.length ? `submit requirement not satisfied: needs ${needs.join(', ')}` : null;
  }

  async submit(change: Change, by: Account): Promise<Change> {
    const problem = this.submitProblem(change);
    if (problem) throw new GerritError(409, problem);
    const ps = currentPatchSet(change);
    const parentChange = [...this.changes.values()].find((c) => c.status === 'NEW' && c.patchSets.some((p) => p.revision === ps.parent));
    if (parentChange) throw new GerritError(409, `Failed to submit 1 change due to the following problems:\nChange ${change.number}: depends on change that was not submitted: ${parentChange.number}`);
    const ref = `refs/heads/${change.branch}`;
    const outcome = await this.serial(change.project, async () => {
      const old = await this.repos.resolve(change.project, ref);
      const message = `Merge "${change.subject}"\n`;
      const r = await this.repos.submit(change.project, change.branch, ps.revision, message, by, this.secs());
      return { old, r };
    });
    if (!outcome.r.ok) {
      throw new GerritError(409, `Failed to submit 1 change due to the following problems:\nChange ${change.number}: Change could not be merged due to a path conflict. Please rebase the change locally and upload the rebased commit for review. (${outcome.r.conflict})`);
    }
    const now = this.o.now();
    change.status = 'MERGED';
    change.mergedAs = outcome.r.commit;
    change.submitter = by.id;
    change.updated = now;
    this.addMessage(change, by.id, `Change has been successfully merged by ${by.name}`, 'autogenerated:gerrit:merged', ps.number);
    this.emit(ev.changeMerged(this, change, by.id, outcome.r.commit, now));
    this.emit(ev.refUpdated(this, change.project, change.branch, outcome.old, outcome.r.commit, by.id, now));
    return change;
  }

  abandon(change: Change, by: Account): Change {
    if (change.status !== 'NEW') throw new GerritError(409, `change is ${change.status.toLowerCase()}`);
    change.status = 'ABANDONED';
    change.updated = this.o.now();
    this.addMessage(change, by.id, 'Abandoned', 'autogenerated:gerrit:abandon');
    this.emit(ev.changeAbandoned(this, change, by.id, this.o.now()));
    return change;
  }

  /** A line written to every stream-events reader as it is (a test's malformed event). */
  emitRaw(line: string): void {
    for (const l of this.listeners) l({ type: '__raw__', eventCreatedOn: 0, line });
  }

  private addMessage(change: Change, author: number, message: string, tag: string | null, patchSet?: number): ChangeMessage {
    const m = { id: `m${this.nextMessage++}`, author, date: this.o.now(), message, tag, patchSet: patchSet ?? currentPatchSet(change)?.number ?? 1 };
    change.messages.push(m);
    return m;
  }

  private firstAccount(): Account {
    const a = this.accounts.values().next().value;
    if (!a) throw new GerritError(500, 'no accounts');
    return a;
  }

  private accountFor(username?: string): Account {
    return username ? this.mustFindAccount(username) : this.firstAccount();
  }

  private secs(): number {
    return Math.floor(this.o.now() / 1000);
  }

  /** Runs `fn` after every earlier write to the same project. */
  private serial<T>(project: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(project) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.queues.set(project, next.catch(() => undefined));
    return next;
  }
}

/** Subject, body, and the Change-Id joined to the footers (`Depends-On: …`) when the body ends with some. */
function commitMessage(subject: string, body: string | undefined, changeId: string): string {
  const text = body?.trim() ?? '';
  if (!text) return `${subject}\n\nChange-Id: ${changeId}\n`;
  const last = text.split(/\n\s*\n/).pop()!;
  const footers = last.split('\n').every((l) => /^[A-Za-z][A-Za-z0-9-]*: \S/.test(l));
  return `${subject}\n\n${text}\n${footers ? '' : '\n'}Change-Id: ${changeId}\n`;
}
