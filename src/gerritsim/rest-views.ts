import { currentPatchSet, gerritTime, LABELS, type Account, type Change } from './model.ts';

/**
 * Gerrit's REST entities (ChangeInfo, RevisionInfo, LabelInfo, ChangeMessageInfo, AccountInfo) as
 * `GET /changes/` returns them, with the parts asked for by `o=` options: CURRENT_REVISION,
 * ALL_REVISIONS, CURRENT_COMMIT, LABELS, DETAILED_LABELS, MESSAGES, DETAILED_ACCOUNTS.
 */

export function accountInfo(a: Account, detailed = true) {
  return detailed ? { _account_id: a.id, name: a.name, email: a.email, username: a.username } : { _account_id: a.id };
}

export interface ViewContext {
  account(id: number): Account;
  gitUrl(project: string): string;
}

export function changeInfo(ctx: ViewContext, c: Change, options: ReadonlySet<string>) {
  const detailed = options.has('DETAILED_ACCOUNTS');
  const current = currentPatchSet(c);
  const info: Record<string, unknown> = {
    id: `${encodeURIComponent(c.project)}~${c.number}`,
    triplet_id: `${encodeURIComponent(c.project)}~${c.branch}~${c.changeId}`,
    project: c.project, branch: c.branch, change_id: c.changeId, subject: c.subject, status: c.status,
    created: gerritTime(c.created), updated: gerritTime(c.updated), ...(c.status === 'MERGED' ? { submitted: gerritTime(c.updated) } : {}),
    insertions: 0, deletions: 0, _number: c.number, owner: accountInfo(ctx.account(c.owner), detailed),
    current_revision_number: current.number,
  };
  if (options.has('LABELS') || options.has('DETAILED_LABELS')) info.labels = labels(ctx, c, options.has('DETAILED_LABELS'));
  const revs = options.has('ALL_REVISIONS') ? c.patchSets : options.has('CURRENT_REVISION') ? [current] : [];
  if (revs.length) {
    info.current_revision = current.revision;
    info.revisions = Object.fromEntries(revs.map((ps) => [ps.revision, {
      kind: 'REWORK', _number: ps.number, created: gerritTime(ps.created), uploader: accountInfo(ctx.account(ps.uploader), detailed), ref: ps.ref,
      fetch: { 'anonymous http': { url: ctx.gitUrl(c.project), ref: ps.ref } },
      ...(options.has('CURRENT_COMMIT') || options.has('ALL_COMMITS') ? {
        commit: {
          parents: [{ commit: ps.parent }], subject: ps.commitMessage.split('\n')[0], message: ps.commitMessage,
          author: person(ctx.account(c.owner), ps.created), committer: person(ctx.account(ps.uploader), ps.created),
        },
      } : {}),
    }]));
  }
  if (options.has('MESSAGES')) {
    info.messages = c.messages.map((m) => ({
      id: m.id, author: accountInfo(ctx.account(m.author), detailed), date: gerritTime(m.date), message: m.message,
      ...(m.tag ? { tag: m.tag } : {}), _revision_number: m.patchSet,
    }));
  }
  return info;
}

function person(a: Account, ms: number) {
  return { name: a.name, email: a.email, date: gerritTime(ms), tz: 0 };
}

function labels(ctx: ViewContext, c: Change, detailed: boolean) {
  const out: Record<string, unknown> = {};
  for (const [label, range] of Object.entries(LABELS)) {
    const votes = [...(c.votes.get(label)?.values() ?? [])];
    const entry: Record<string, unknown> = {};
    const max = votes.find((v) => v.value === range.max);
    const min = votes.find((v) => v.value === range.min);
    if (min) entry.rejected = accountInfo(ctx.account(min.account), false);
    else if (max) entry.approved = accountInfo(ctx.account(max.account), false);
    if (detailed) {
      entry.all = votes.map((v) => ({ ...accountInfo(ctx.account(v.account)), value: v.value, date: gerritTime(v.granted) }));
      entry.values = Object.fromEntries(Array.from({ length: range.max - range.min + 1 }, (_, i) => {
        const v = range.min + i;
        return [v > 0 ? `+${v}` : v === 0 ? ' 0' : String(v), label];
      }));
      entry.default_value = 0;
    }
    out[label] = entry;
  }
  return out;
}
