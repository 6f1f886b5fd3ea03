import { NODE_STATES, OPEN_REQUEST_STATES, type NodeRecord, type RequestRecord } from '../model.ts';
import { formatAge, formatTable, renderRows } from './format.ts';
import { LABEL_COLUMNS, type LabelRow } from './labels.ts';
import { PROVIDER_COLUMNS, type ProviderRow } from './providers.ts';
import { ageSeconds, nodeRow, requestRow, type NodeRow, type RequestRow } from './rows.ts';

/**
 * The one-screen summary: `nodepool status` prints it, the status page draws it, and
 * `/api/v1/status` serves it as JSON. Counts of nodes by state for every label and provider,
 * the requests still waiting and for how long, the labels and the providers.
 */

export interface PoolCounts {
  label: string;
  provider: string;
  /** Nodes of this label in this provider, by state (every state present, zeros included). */
  by_state: Record<string, number>;
}

export interface StatusSummary {
  generated_at: string;
  nodes: { total: number; by_state: Record<string, number>; by_label_provider: PoolCounts[] };
  requests: {
    /** Requests not yet fulfilled (requested or pending). */
    waiting: number;
    by_state: Record<string, number>;
    /** Seconds the oldest waiting request has waited; null when none waits. */
    oldest_waiting_age: number | null;
    /** The waiting requests, oldest first, at most 50. */
    waiting_list: RequestRow[];
  };
  labels: LabelRow[];
  providers: ProviderRow[];
  /** The nodes whose state changed last, newest first, at most 20: what just happened. */
  recent_nodes: NodeRow[];
}

const zeros = () => Object.fromEntries(NODE_STATES.map((s) => [s, 0])) as Record<string, number>;

export function buildSummary(
  nodes: readonly NodeRecord[], open: readonly RequestRecord[], labels: LabelRow[], providers: ProviderRow[], now: number,
): StatusSummary {
  const byState = zeros();
  const pools = new Map<string, PoolCounts>();
  for (const n of nodes) {
    byState[n.state] = (byState[n.state] ?? 0) + 1;
    const key = `${n.label}\u0000${n.provider}`;
    let p = pools.get(key);
    if (!p) pools.set(key, p = { label: n.label, provider: n.provider, by_state: zeros() });
    p.by_state[n.state] = (p.by_state[n.state] ?? 0) + 1;
  }
  const waiting = open.filter((r) => OPEN_REQUEST_STATES.includes(r.state)).sort((a, b) => a.createdAt - b.createdAt);
  const reqStates = Object.fromEntries(OPEN_REQUEST_STATES.map((s) => [s, waiting.filter((r) => r.state === s).length]));
  return {
    generated_at: new Date(now).toISOString(),
    nodes: {
      total: nodes.length,
      by_state: byState,
      by_label_provider: [...pools.values()].sort((a, b) => a.label.localeCompare(b.label) || a.provider.localeCompare(b.provider)),
    },
    requests: {
      waiting: waiting.length,
      by_state: reqStates,
      // Waiting is measured from creation: a request waits from the moment it was asked for.
      oldest_waiting_age: waiting.length ? ageSeconds(waiting[0]!.createdAt, now) : null,
      waiting_list: waiting.slice(0, 50).map((r) => ({ ...requestRow(r, now), age: ageSeconds(r.createdAt, now) })),
    },
    labels,
    providers,
    recent_nodes: [...nodes].sort((a, b) => b.stateTime - a.stateTime).slice(0, 20).map((n) => nodeRow(n, now)),
  };
}

/** The summary as one screen of text. */
export function renderSummary(s: StatusSummary): string {
  const states = NODE_STATES.filter((st) => s.nodes.by_state[st]);
  const nodeLine = `Nodes: ${s.nodes.total}${states.length ? ` (${states.map((st) => `${st} ${s.nodes.by_state[st]}`).join(', ')})` : ''}`;
  const shown = NODE_STATES.filter((st) => s.nodes.by_label_provider.some((p) => p.by_state[st]));
  const pools = s.nodes.by_label_provider.length
    ? formatTable(['Label', 'Provider', ...shown], s.nodes.by_label_provider.map((p) => [p.label, p.provider, ...shown.map((st) => String(p.by_state[st] ?? 0))]))
    : '';
  const oldest = s.requests.oldest_waiting_age;
  const reqLine = `Requests waiting: ${s.requests.waiting}${s.requests.waiting ? ` (${Object.entries(s.requests.by_state).map(([k, v]) => `${k} ${v}`).join(', ')}; oldest waiting ${formatAge(oldest ?? 0)})` : ''}`;
  return [
    `nodepool status at ${s.generated_at}`,
    '',
    nodeLine,
    pools.trimEnd(),
    '',
    reqLine,
    '',
    'Providers:',
    renderRows(s.providers, PROVIDER_COLUMNS, 'text').trimEnd(),
    '',
    'Labels:',
    renderRows(s.labels, LABEL_COLUMNS, 'text').trimEnd(),
  ].filter((l, i, all) => !(l === '' && all[i - 1] === '')).join('\n') + '\n';
}
