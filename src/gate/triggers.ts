import type { ApprovalSpec, PipelineConfig, TriggerConfig } from './config/types.ts';
import type { GerritEvent } from './gerrit/events.ts';

/**
 * Which pipelines an event enqueues its change into (Zuul's triggers), and whether the change
 * meets a pipeline's requirements (Zuul's `require`). Pure: the votes come from the REST API.
 */

function anyMatch(res: RegExp[], value: string | undefined): boolean {
  return res.length === 0 || (value !== undefined && res.some((r) => r.test(value)));
}

function eventUser(e: GerritEvent): string | undefined {
  switch (e.type) {
    case 'patchset-created': return e.uploader?.username ?? e.patchSet.uploader?.username;
    case 'comment-added': return e.author?.username;
    case 'change-merged': case 'ref-updated': return e.submitter?.username;
    case 'change-abandoned': return e.abandoner?.username;
  }
}

/** Votes this comment set: approvals whose value changed (Gerrit sends `oldValue` only for those). */
function votesSet(e: GerritEvent): Map<string, number> {
  const out = new Map<string, number>();
  if (e.type !== 'comment-added') return out;
  for (const a of e.approvals) if (a.oldValue !== undefined && a.oldValue !== a.value) out.set(a.type, a.value);
  return out;
}

export function triggerMatches(t: TriggerConfig, e: GerritEvent, connection: string): boolean {
  if (t.connection !== connection || t.event !== e.type) return false;
  if (e.type === 'ref-updated') return anyMatch(t.branch, e.refUpdate.refName);
  if (!anyMatch(t.branch, e.change.branch) || !anyMatch(t.username, eventUser(e))) return false;
  if (e.type !== 'comment-added') return true;
  if (t.comment.length && !t.comment.some((r) => r.test(e.comment))) return false;
  if (t.approval.length) {
    const set = votesSet(e);
    return t.approval.some((all) => all.every((a) => set.has(a.label) && a.values.includes(set.get(a.label)!)));
  }
  return true;
}

/** The pipelines whose triggers match, in configuration order. */
export function matchingPipelines(pipelines: readonly PipelineConfig[], e: GerritEvent, connection: string): PipelineConfig[] {
  return pipelines.filter((p) => p.triggers.some((t) => triggerMatches(t, e, connection)));
}

/** Which requirement (if any) the change's current votes fail: `Code-Review 2`, …; null when all are met. */
export function unmetRequirement(p: PipelineConfig, connection: string, votes: Map<string, Map<string, number>>, open: boolean): string | null {
  for (const r of p.require.filter((x) => x.connection === connection)) {
    if (r.open && !open) return 'the change is not open';
    for (const a of r.approval as ApprovalSpec[]) {
      const values = [...(votes.get(a.label)?.values() ?? [])];
      if (!values.some((v) => a.values.includes(v))) return `${a.label} ${a.values.join(' or ')}`;
    }
  }
  return null;
}
