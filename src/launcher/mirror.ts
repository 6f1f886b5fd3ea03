import type { NodeRecord, RequestRecord } from '../model.ts';
import { OPEN_REQUEST_STATES } from '../model.ts';
import type { Store, StoreEvent } from '../store/store.ts';

/**
 * The launcher's copy of the rows it plans from: every node, the open requests and the fulfilled
 * requests whose nodes are in use. The store stays the truth: a pass re-reads just the rows the
 * store said changed since the previous pass, and everything every `fullIntervalMs` (also the
 * safety net for writes this process was not told about) unless the store's change token says no
 * node or request was written since the last complete read began. Plans made on it are applied with
 * conditional writes, so a stale row can only make a write fail, never do harm.
 *
 * Measured on a 500-request burst: re-reading every row on every pass cost 5 ms a pass and half
 * of the launcher's CPU; re-reading the changed rows costs a few hundred microseconds.
 */
export class StoreMirror {
  private readonly nodes = new Map<string, NodeRecord>();
  private readonly requests = new Map<string, RequestRecord>();
  private changedNodes = new Set<string>();
  private changedRequests = new Set<string>();
  private lastFull: number | null = null;
  /** The store's change token when the last complete read began (null: the store has none). */
  private fullToken: string | null = null;

  constructor(private readonly store: Store, private readonly opts: { now: () => number; fullIntervalMs: number }) {}

  /** Notes a change the store published. */
  note(e: StoreEvent): void {
    if (e.kind === 'node') this.changedNodes.add(e.id);
    else if (e.kind === 'request') this.changedRequests.add(e.id);
  }

  /** Forces a complete re-read at the next `read()`. */
  invalidate(): void {
    this.lastFull = null;
  }

  async read(): Promise<{ nodes: NodeRecord[]; requests: RequestRecord[] }> {
    const now = this.opts.now();
    if (this.lastFull !== null && now - this.lastFull >= this.opts.fullIntervalMs && this.fullToken !== null && this.store.changeToken() === this.fullToken) {
      // No node or request written anywhere since the last complete read: it would read the same
      // rows (an idle fleet of 10,000 nodes cost 30-45 ms a read, every interval).
      this.lastFull = now;
    }
    if (this.lastFull === null || now - this.lastFull >= this.opts.fullIntervalMs) {
      this.fullToken = this.store.changeToken();
      this.changedNodes = new Set();
      this.changedRequests = new Set();
      const [nodes, open, holding] = await Promise.all([
        this.store.listNodes(),
        this.store.listRequests({ states: OPEN_REQUEST_STATES }),
        this.store.listRequests({ states: ['fulfilled'], withHolderLease: true }),
      ]);
      this.nodes.clear();
      this.requests.clear();
      for (const n of nodes) this.nodes.set(n.id, n);
      for (const r of [...open, ...holding]) this.requests.set(r.id, r);
      this.lastFull = now;
    } else {
      // Take the sets first: changes published while we read are kept for the next pass.
      const nodeIds = this.changedNodes;
      const requestIds = this.changedRequests;
      this.changedNodes = new Set();
      this.changedRequests = new Set();
      // One query per table, however many rows changed: with PostgreSQL each query is a round
      // trip, and every launcher hears of many of every other launcher's changes.
      const [nodes, requests] = await Promise.all([
        nodeIds.size ? this.store.listNodes({ ids: [...nodeIds] }) : [],
        requestIds.size ? this.store.listRequests({ ids: [...requestIds] }) : [],
      ]);
      for (const id of nodeIds) this.nodes.delete(id);
      for (const n of nodes) this.nodes.set(n.id, n);
      for (const id of requestIds) this.requests.delete(id);
      for (const r of requests) {
        if (OPEN_REQUEST_STATES.includes(r.state) || (r.state === 'fulfilled' && r.holderExpires !== null)) this.requests.set(r.id, r);
      }
    }
    // Oldest first, as the store lists them: the planner hands out the oldest ready node first.
    const nodes = [...this.nodes.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const requests = [...this.requests.values()];
    return { nodes, requests };
  }
}
