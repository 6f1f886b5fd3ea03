import type { NodeRecord, RequestRecord } from '../model.ts';
import type { Action } from './actions.ts';
import { Capacity } from './plan-capacity.ts';
import type { PlanInput } from './plan-input.ts';
import { poolKey } from './topology.ts';

/** Node states that can still serve a request. */
export const LIVE: ReadonlySet<string> = new Set(['building', 'ready']);

/**
 * One planning pass: the snapshot indexed once, the quota arithmetic, the actions decided so far
 * and what they have already taken. The parts of the plan (./plan-nodes.ts, ./plan-claims.ts,
 * ./plan-failures.ts, ./plan-min-ready.ts, ./plan-leaks.ts) read and add to it in turn.
 */
export class PlanPass {
  readonly actions: Action[] = [];
  nextWakeAt: number | null = null;
  readonly cap: Capacity;
  /** Nodes an action of this pass already uses (deleted, failed, allocated): no other action takes them. */
  readonly taken = new Set<string>();
  /** Labels of the nodes this pass registers on free reusable servers, by `<provider>/<pool>` (./plan-register.ts). */
  readonly registering = new Map<string, string[]>();
  /** Requests given back to be claimed elsewhere in this pass. */
  readonly declining = new Set<string>();
  readonly requestsById: Map<string, RequestRecord>;
  readonly nodesByRequest = new Map<string, NodeRecord[]>();
  readonly nodesById = new Map<string, NodeRecord>();
  /** Unassigned building/ready nodes by `<provider>/<pool>/<label>`, oldest first. */
  readonly spare = new Map<string, NodeRecord[]>();
  /** Nodes of each label per pool (`<provider>/<pool>/<label>`), any state, for spreading min-ready. */
  readonly perPoolLabel = new Map<string, number>();

  constructor(readonly input: PlanInput) {
    this.cap = new Capacity(input, (t) => this.wakeAt(t));
    this.requestsById = new Map(input.requests.map((r) => [r.id, r]));
    for (const n of input.nodes) {
      this.nodesById.set(n.id, n);
      const tenant = n.allocatedTo ? this.requestsById.get(n.allocatedTo)?.tenant ?? null : null;
      this.cap.count(n, tenant);
      const lk = `${poolKey(n.provider, n.pool)}/${n.label}`;
      this.perPoolLabel.set(lk, (this.perPoolLabel.get(lk) ?? 0) + 1);
      if (n.allocatedTo === null && LIVE.has(n.state)) {
        const list = this.spare.get(lk) ?? [];
        list.push(n);
        this.spare.set(lk, list);
      }
      if (n.allocatedTo) {
        const list = this.nodesByRequest.get(n.allocatedTo) ?? [];
        list.push(n);
        this.nodesByRequest.set(n.allocatedTo, list);
      }
    }
  }

  wakeAt(t: number): void {
    if (this.nextWakeAt === null || t < this.nextWakeAt) this.nextWakeAt = t;
  }

  /** Whether this launcher may work on a row: no lease, its own, or an expired one. */
  owned(n: { leaseOwner: string | null; leaseExpires: number | null }): boolean {
    return n.leaseOwner === null || n.leaseOwner === this.input.launcher || (n.leaseExpires ?? 0) < this.input.now;
  }

  isOpen(requestId: string): boolean {
    const r = this.requestsById.get(requestId);
    return !!r && (r.state === 'requested' || r.state === 'pending');
  }

  deleteNode(n: NodeRecord, reason: string): void {
    if (this.taken.has(n.id)) return;
    this.taken.add(n.id);
    this.actions.push({ type: 'delete-node', nodeId: n.id, reason });
  }

  nodeState(id: string): string | undefined {
    return this.nodesById.get(id)?.state;
  }
}
