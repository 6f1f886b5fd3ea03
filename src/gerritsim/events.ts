import { currentPatchSet, type Account, type Change, type PatchSet } from './model.ts';

/**
 * The JSON objects `gerrit stream-events` prints, one per line (Gerrit's "JSON Data" page:
 * change, patchSet, account and approval attributes). Times are seconds since the epoch; approval
 * values are strings; `oldValue` is present only on a label this comment changed.
 */

export type StreamEvent = Record<string, unknown> & { type: string; eventCreatedOn: number };

export interface EventContext {
  account(id: number): Account;
  changeUrl(c: Change): string;
}

const secs = (ms: number) => Math.floor(ms / 1000);

export function accountAttr(a: Account) {
  return { name: a.name, email: a.email, username: a.username };
}

export function changeAttr(ctx: EventContext, c: Change) {
  return {
    project: c.project, branch: c.branch, id: c.changeId, number: c.number, subject: c.subject,
    owner: accountAttr(ctx.account(c.owner)), url: ctx.changeUrl(c), commitMessage: currentPatchSet(c).commitMessage,
    createdOn: secs(c.created), status: c.status,
  };
}

export function patchSetAttr(ctx: EventContext, ps: PatchSet, owner: number) {
  const uploader = accountAttr(ctx.account(ps.uploader));
  return {
    number: ps.number, revision: ps.revision, parents: [ps.parent], ref: ps.ref, uploader, createdOn: secs(ps.created),
    author: accountAttr(ctx.account(owner)), kind: 'REWORK', sizeInsertions: 0, sizeDeletions: 0,
  };
}

function changeEvent(ctx: EventContext, type: string, c: Change, ps: PatchSet, now: number) {
  return {
    type, change: changeAttr(ctx, c), patchSet: patchSetAttr(ctx, ps, c.owner), project: c.project,
    refName: `refs/heads/${c.branch}`, changeKey: { id: c.changeId }, eventCreatedOn: secs(now),
  };
}

export function patchSetCreated(ctx: EventContext, c: Change, ps: PatchSet, now: number): StreamEvent {
  return { ...changeEvent(ctx, 'patchset-created', c, ps, now), uploader: accountAttr(ctx.account(ps.uploader)) };
}

export interface ApprovalAttr {
  type: string;
  description: string;
  value: string;
  oldValue?: string;
}

export function commentAdded(ctx: EventContext, c: Change, ps: PatchSet, author: number, comment: string, approvals: ApprovalAttr[], now: number): StreamEvent {
  return { ...changeEvent(ctx, 'comment-added', c, ps, now), author: accountAttr(ctx.account(author)), approvals, comment };
}

export function changeMerged(ctx: EventContext, c: Change, submitter: number, newRev: string, now: number): StreamEvent {
  return { ...changeEvent(ctx, 'change-merged', c, currentPatchSet(c), now), submitter: accountAttr(ctx.account(submitter)), newRev };
}

export function refUpdated(ctx: EventContext, project: string, refName: string, oldRev: string, newRev: string, submitter: number, now: number): StreamEvent {
  return {
    type: 'ref-updated', submitter: accountAttr(ctx.account(submitter)),
    refUpdate: { oldRev, newRev, refName, project }, eventCreatedOn: secs(now),
  };
}

export function changeAbandoned(ctx: EventContext, c: Change, abandoner: number, now: number): StreamEvent {
  return { ...changeEvent(ctx, 'change-abandoned', c, currentPatchSet(c), now), abandoner: accountAttr(ctx.account(abandoner)), reason: '' };
}
