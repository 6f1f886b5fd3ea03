import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { ConnectionConfig, GateConfig } from './config/types.ts';
import { gerritTimeMs, votesOf, type ChangeInfo, type GerritRest } from './gerrit/rest.ts';
import { unmetRequirement } from './triggers.ts';

/**
 * Catching up after the stream was down (a restart, a dropped connection): Gerrit does not replay
 * events, so the open changes updated since shortly before the gap are read through the REST
 * query API, and for each pipeline the event that would have enqueued a change is queued again
 * when the change has no item for its current patch set there: a patchset-created for pipelines
 * triggered by new patch sets, a comment-added with the votes for pipelines triggered by
 * approvals whose requirements the change meets. The intake then treats them as any event
 * (duplicates of items already queued are dropped there). A comment that matches a pipeline's
 * comment trigger (`recheck`) left on the current patch set since then, by someone other than the
 * gate, is replayed as its comment-added unless the pipeline enqueued the patch set after it.
 */

function gerritTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export async function catchUp(o: {
  config: GateConfig; connection: ConnectionConfig; rest: GerritRest; store: Store; since: number; now: number; logger: Logger;
}): Promise<number> {
  const { config, connection: c } = o;
  const pipelines = config.pipelines.filter((p) => p.triggers.some((t) => t.connection === c.name));
  if (!pipelines.length) return 0;
  const changes = await o.rest.query(`status:open after:"${gerritTime(o.since)}"`, ['MESSAGES']);
  let queued = 0;
  for (const info of changes) {
    if (!config.projects.has(info.project) || !info.current_revision) continue;
    const rev = info.revisions?.[info.current_revision];
    if (!rev) continue;
    const items = await o.store.gate.listItems({ change: info._number });
    for (const p of pipelines) {
      const tested = items.some((i) => i.pipeline === p.name && i.change.patchset === rev._number && i.result !== 'SUPERSEDED');
      if (tested && !commentTriggered(p.triggers, c)) continue;
      const triggers = p.triggers.filter((t) => t.connection === c.name);
      const event = (tested ? null : synthesize(triggers, info, rev, c, (labels) => unmetRequirement(p, c.name, labels, true) === null))
        ?? missedComment(triggers, info, rev, c, o.since, (at) => items.some((i) => i.pipeline === p.name && i.change.patchset === rev._number && i.enqueuedAt >= at));
      if (!event) continue;
      await o.store.gate.appendEvent(`catch-up:${c.name}`, event, o.now);
      queued++;
    }
  }
  if (queued) o.logger.info({ connection: c.name, since: new Date(o.since).toISOString(), changes: changes.length, queued }, 'caught up on missed events');
  return queued;
}

type Trigger = GateConfig['pipelines'][number]['triggers'][number];
type Revision = NonNullable<ChangeInfo['revisions']>[string];

function synthesize(triggers: Trigger[], info: ChangeInfo, rev: Revision, c: ConnectionConfig, meets: (v: Map<string, Map<string, number>>) => boolean): Record<string, unknown> | null {
  const change = { project: info.project, branch: info.branch, number: info._number, id: info.change_id, subject: info.subject, status: info.status };
  const patchSet = { number: rev._number, revision: info.current_revision, ref: rev.ref };
  if (triggers.some((t) => t.event === 'patchset-created')) return { type: 'patchset-created', change, patchSet, uploader: { username: info.owner.username } };
  const votes = votesOf(info);
  const approvalTrigger = triggers.find((t) => t.event === 'comment-added' && t.approval.length && !t.comment.length);
  if (!approvalTrigger || !meets(votes)) return null;
  // The approvals the trigger asks for, as if just given (oldValue 0), when the change carries them.
  const set = approvalTrigger.approval.find((all) => all.every((a) => [...(votes.get(a.label)?.values() ?? [])].some((v) => a.values.includes(v))));
  if (!set) return null;
  const approvals = set.map((a) => ({ type: a.label, description: a.label, value: String([...votes.get(a.label)!.values()].find((v) => a.values.includes(v))), oldValue: '0' }));
  return { type: 'comment-added', change, patchSet, author: { username: c.user }, approvals, comment: 'caught up after the event stream was down' };
}

function commentTriggered(triggers: Trigger[], c: ConnectionConfig): boolean {
  return triggers.some((t) => t.connection === c.name && t.event === 'comment-added' && t.comment.length > 0);
}

/**
 * The newest comment on the current patch set since `since` that a comment trigger matches (a
 * `recheck`), not the gate's own, as the comment-added Gerrit sent; null when there is none or
 * the pipeline enqueued the patch set after it (`handledAfter`).
 */
function missedComment(triggers: Trigger[], info: ChangeInfo, rev: Revision, c: ConnectionConfig, since: number, handledAfter: (at: number) => boolean): Record<string, unknown> | null {
  const commentTriggers = triggers.filter((t) => t.event === 'comment-added' && t.comment.length);
  if (!commentTriggers.length) return null;
  const messages = (info.messages ?? []).filter((m) => m._revision_number === rev._number && m.author?.username !== c.user && gerritTimeMs(m.date) >= since);
  const m = messages.reverse().find((x) => commentTriggers.some((t) => t.comment.some((r) => r.test(x.message))));
  if (!m || handledAfter(gerritTimeMs(m.date))) return null;
  const change = { project: info.project, branch: info.branch, number: info._number, id: info.change_id, subject: info.subject, status: info.status };
  const patchSet = { number: rev._number, revision: info.current_revision, ref: rev.ref };
  return { type: 'comment-added', change, patchSet, author: { username: m.author?.username, name: m.author?.name }, approvals: [], comment: m.message };
}
