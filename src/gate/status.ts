import type { GateItemStatus, GateJobStatus, GateStatus } from '../api/contract.ts';
import type { Store } from '../store/store.ts';
import type { GateConfig } from './config/types.ts';
import { failingReason } from './planner.ts';
import { changeKey, type Build, type Item } from './model.ts';

/**
 * The gate's status, read from the store (so any API process serves it, and it survives the
 * gate): pipelines → queues → items → jobs, with Zuul's field names (`change_queues`, `heads`,
 * `item_ahead`, `elapsed_time`, `remaining_time` …). A job's remaining time is estimated from the
 * average of its successful builds of the last day.
 */

const DAY = 86400_000;

export async function gateStatus(store: Store, config: GateConfig | null, now: number): Promise<GateStatus> {
  const [active, done, pending] = await Promise.all([
    store.gate.listItems({ states: ['active', 'reporting'] }),
    store.gate.listItems({ states: ['done'], updatedSince: now - DAY, limit: 500 }),
    store.gate.listEvents({ pending: true, limit: 1000 }),
  ]);
  const estimates = estimate(done);
  const names = config ? config.pipelines.map((p) => p.name) : [...new Set(active.map((i) => i.pipeline))];
  return {
    now,
    trigger_event_queue: { length: pending.length },
    pipelines: names.map((name) => {
      const p = config?.pipelines.find((x) => x.name === name);
      const items = active.filter((i) => i.pipeline === name);
      const queues = [...new Set(items.map((i) => i.queue))];
      return {
        name, description: p?.description ?? null, manager: p?.manager ?? 'independent',
        change_queues: queues.map((q) => {
          const inQueue = items.filter((i) => i.queue === q);
          const views = inQueue.map((i, k) => itemStatus(i, inQueue[k - 1] ?? null, inQueue.slice(k + 1), estimates, now));
          return { name: q, heads: p?.manager === 'dependent' ? [views] : views.map((v) => [v]) };
        }),
      };
    }),
    recent: done.filter((i) => i.reportedAt !== null).slice(0, 20).map((i) => ({
      id: changeKey(i.change), pipeline: i.pipeline, project: i.change.project, result: i.result, reason: i.reason, reported_at: i.reportedAt, url: i.change.url,
    })),
  };
}

function itemStatus(i: Item, ahead: Item | null, behind: Item[], estimates: Map<string, number>, now: number): GateItemStatus {
  const jobs = (i.buildset?.builds ?? []).map((b) => jobStatus(b, estimates, now));
  const failing = failingReason(i);
  const remaining = jobs.map((j) => j.remaining_time).filter((x): x is number => x !== null);
  return {
    id: changeKey(i.change), item: i.id, project: i.change.project, branch: i.change.branch, url: i.change.url, owner: i.change.owner,
    subject: i.change.subject, state: i.buildset?.state === 'merging' ? 'merging' : i.state, active: true, live: true, enqueue_time: i.enqueuedAt,
    remaining_time: remaining.length ? Math.max(...remaining) : null,
    failing_reasons: failing ? [failing.reason] : i.reason ? [i.reason] : [],
    item_ahead: ahead ? changeKey(ahead.change) : null, items_behind: behind.map((b) => changeKey(b.change)),
    zuul_ref: i.buildset?.id ?? null, needs: i.needs.map(changeKey), jobs,
  };
}

function jobStatus(b: Build, estimates: Map<string, number>, now: number): GateJobStatus {
  const elapsed = b.startedAt === null ? null : (b.endedAt ?? now) - b.startedAt;
  const est = estimates.get(b.job) ?? null;
  return {
    name: b.job, uuid: b.id, state: b.state, result: b.result, voting: b.voting, url: b.logUrl ? `${b.logUrl}job-output.txt` : null, report_url: b.logUrl,
    start_time: b.startedAt, end_time: b.endedAt, elapsed_time: elapsed, estimated_time: est,
    remaining_time: b.state === 'done' ? 0 : est !== null ? Math.max(0, est - (elapsed ?? 0)) : null,
    error: b.error, held: b.held, nodes: b.nodes,
  };
}

/** Average duration of each job's successful builds among the items given. */
function estimate(items: Item[]): Map<string, number> {
  const sums = new Map<string, { total: number; n: number }>();
  for (const i of items) {
    for (const b of i.buildset?.builds ?? []) {
      if (b.result !== 'SUCCESS' || b.startedAt === null || b.endedAt === null) continue;
      const s = sums.get(b.job) ?? { total: 0, n: 0 };
      s.total += b.endedAt - b.startedAt;
      s.n++;
      sums.set(b.job, s);
    }
  }
  return new Map([...sums].map(([k, s]) => [k, Math.round(s.total / s.n)]));
}
