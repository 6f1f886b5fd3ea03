import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { and, asc, desc, eq, gt, inArray, isNull, isNotNull, lt, or, type SQL } from 'drizzle-orm';
import type { NodeRecord, NodeState, RequestRecord, RequestState, StateChange } from '../../model.ts';
import type {
  LauncherRecord, NodeFilter, NodePatch, RequestFilter, RequestPatch, Store, StoreCondition, StoreEvent,
} from '../store.ts';
import { launchers, nodes, requests, stateChanges } from './schema.ts';
import { migrate } from './migrations.ts';

type NodeRow = typeof nodes.$inferSelect;
type RequestRow = typeof requests.$inferSelect;

function nodeFromRow(r: NodeRow): NodeRecord {
  return { ...r, state: r.state as NodeState, step: r.step as NodeRecord['step'], hostKeys: JSON.parse(r.hostKeys) };
}

function nodeToRow(p: NodePatch): Partial<NodeRow> {
  const { hostKeys, ...rest } = p;
  return hostKeys === undefined ? rest : { ...rest, hostKeys: JSON.stringify(hostKeys) };
}

function requestFromRow(r: RequestRow): RequestRecord {
  return { ...r, state: r.state as RequestState, labels: JSON.parse(r.labels), nodes: JSON.parse(r.nodes) };
}

function requestToRow(p: RequestPatch): Partial<RequestRow> {
  const { labels, nodes: ids, ...rest } = p;
  const row: Partial<RequestRow> = { ...rest };
  if (labels !== undefined) row.labels = JSON.stringify(labels);
  if (ids !== undefined) row.nodes = JSON.stringify(ids);
  return row;
}

/** Builds the WHERE clause of a conditional update on a table with state and lease columns. */
function conditionSql<S extends string>(
  table: typeof nodes | typeof requests, id: string, cond: StoreCondition<S> | undefined,
): SQL {
  const parts: (SQL | undefined)[] = [eq(table.id, id)];
  if (cond?.states) parts.push(inArray(table.state, cond.states as unknown as string[]));
  if (cond?.leaseFreeOr) {
    const { owner, now } = cond.leaseFreeOr;
    parts.push(or(isNull(table.leaseOwner), eq(table.leaseOwner, owner), lt(table.leaseExpires, now)));
  }
  if (cond?.unallocated && table === nodes) parts.push(isNull(nodes.allocatedTo));
  if (cond?.allocatedTo && table === nodes) parts.push(eq(nodes.allocatedTo, cond.allocatedTo));
  if (cond?.holderLeaseAfter !== undefined && table === requests) parts.push(gt(requests.holderExpires, cond.holderLeaseAfter));
  return and(...parts)!;
}

/**
 * The SQLite store: one file, WAL journal, `synchronous=NORMAL` (a commit is durable once the
 * WAL is checkpointed; a crash loses at most the last transactions, never corrupts the file).
 * better-sqlite3 is synchronous, so each method runs its statements in one transaction and
 * publishes the change after commit.
 */
export class SqliteStore implements Store {
  private readonly sqlite: Database.Database;
  private readonly db: BetterSQLite3Database;
  private readonly listeners = new Set<(e: StoreEvent) => void>();

  constructor(path: string, opts: { now?: () => number } = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.sqlite = new Database(path);
    this.sqlite.pragma('journal_mode = WAL');
    this.sqlite.pragma('synchronous = NORMAL');
    this.sqlite.pragma('busy_timeout = 5000');
    migrate(this.sqlite);
    this.db = drizzle(this.sqlite);
    this.now = opts.now ?? Date.now;
  }

  private readonly now: () => number;

  private publish(e: StoreEvent): void {
    for (const l of this.listeners) l(e);
  }

  private audit(kind: 'node' | 'request', id: string, from: string | null, to: string, by: string, reason?: string | null): void {
    this.db.insert(stateChanges).values({ at: this.now(), kind, id, from, to, by, reason: reason ?? null }).run();
  }

  async insertNode(node: NodeRecord, by: string): Promise<void> {
    this.sqlite.transaction(() => {
      this.db.insert(nodes).values(nodeToRow(node) as NodeRow).run();
      this.audit('node', node.id, null, node.state, by, node.comment);
    })();
    this.publish({ kind: 'node', id: node.id, state: node.state });
  }

  async getNode(id: string): Promise<NodeRecord | null> {
    const row = this.db.select().from(nodes).where(eq(nodes.id, id)).get();
    return row ? nodeFromRow(row) : null;
  }

  async listNodes(filter: NodeFilter = {}): Promise<NodeRecord[]> {
    const parts: SQL[] = [];
    if (filter.states) parts.push(inArray(nodes.state, filter.states as unknown as string[]));
    if (filter.provider) parts.push(eq(nodes.provider, filter.provider));
    if (filter.label) parts.push(eq(nodes.label, filter.label));
    if (filter.allocatedTo) parts.push(eq(nodes.allocatedTo, filter.allocatedTo));
    const rows = this.db.select().from(nodes).where(parts.length ? and(...parts) : undefined)
      .orderBy(asc(nodes.createdAt), asc(nodes.id)).all();
    return rows.map(nodeFromRow);
  }

  async updateNode(id: string, patch: NodePatch, by: string, cond?: StoreCondition<NodeState>, reason?: string): Promise<boolean> {
    let changedState: string | null = null;
    const ok = this.sqlite.transaction(() => {
      const before = patch.state ? this.db.select({ state: nodes.state }).from(nodes).where(eq(nodes.id, id)).get() : undefined;
      const res = this.db.update(nodes).set(nodeToRow(patch)).where(conditionSql(nodes, id, cond)).run();
      if (res.changes === 0) return false;
      if (patch.state && before && before.state !== patch.state) {
        this.audit('node', id, before.state, patch.state, by, reason ?? patch.comment);
        changedState = patch.state;
      }
      return true;
    })();
    if (ok) this.publish({ kind: 'node', id, state: changedState ?? patch.state ?? '' });
    return ok;
  }

  async renewLeases(owner: string, until: number): Promise<number> {
    return this.sqlite.transaction(() =>
      this.db.update(nodes).set({ leaseExpires: until }).where(eq(nodes.leaseOwner, owner)).run().changes +
      this.db.update(requests).set({ leaseExpires: until }).where(eq(requests.leaseOwner, owner)).run().changes)();
  }

  async removeNode(id: string, by: string, cond?: StoreCondition<NodeState>): Promise<boolean> {
    const ok = this.sqlite.transaction(() => {
      const before = this.db.select({ state: nodes.state }).from(nodes).where(eq(nodes.id, id)).get();
      const res = this.db.delete(nodes).where(conditionSql(nodes, id, cond)).run();
      if (res.changes === 0) return false;
      this.audit('node', id, before?.state ?? null, 'gone', by);
      return true;
    })();
    if (ok) this.publish({ kind: 'node', id, state: 'gone' });
    return ok;
  }

  async insertRequest(req: RequestRecord, by: string): Promise<void> {
    this.sqlite.transaction(() => {
      this.db.insert(requests).values(requestToRow(req) as RequestRow).run();
      this.audit('request', req.id, null, req.state, by, req.reason);
    })();
    this.publish({ kind: 'request', id: req.id, state: req.state });
  }

  async getRequest(id: string): Promise<RequestRecord | null> {
    const row = this.db.select().from(requests).where(eq(requests.id, id)).get();
    return row ? requestFromRow(row) : null;
  }

  async listRequests(filter: RequestFilter = {}): Promise<RequestRecord[]> {
    const parts: SQL[] = [];
    if (filter.states) parts.push(inArray(requests.state, filter.states as unknown as string[]));
    if (filter.withHolderLease) parts.push(isNotNull(requests.holderExpires));
    let q = this.db.select().from(requests).where(parts.length ? and(...parts) : undefined).$dynamic();
    q = filter.limit ? q.orderBy(desc(requests.createdAt), desc(requests.id)).limit(filter.limit) : q.orderBy(asc(requests.createdAt), asc(requests.id));
    return q.all().map(requestFromRow);
  }

  async updateRequest(id: string, patch: RequestPatch, by: string, cond?: StoreCondition<RequestState>, reason?: string): Promise<boolean> {
    let changedState: string | null = null;
    const ok = this.sqlite.transaction(() => {
      const before = patch.state ? this.db.select({ state: requests.state }).from(requests).where(eq(requests.id, id)).get() : undefined;
      const res = this.db.update(requests).set(requestToRow(patch)).where(conditionSql(requests, id, cond)).run();
      if (res.changes === 0) return false;
      if (patch.state && before && before.state !== patch.state) {
        this.audit('request', id, before.state, patch.state, by, reason ?? patch.reason);
        changedState = patch.state;
      }
      return true;
    })();
    if (ok) this.publish({ kind: 'request', id, state: changedState ?? patch.state ?? '' });
    return ok;
  }

  async listChanges(kind: 'node' | 'request', id: string): Promise<StateChange[]> {
    const rows = this.db.select().from(stateChanges)
      .where(and(eq(stateChanges.kind, kind), eq(stateChanges.id, id))).orderBy(asc(stateChanges.seq)).all();
    return rows.map((r) => ({ at: r.at, kind: r.kind as 'node' | 'request', id: r.id, from: r.from, to: r.to, by: r.by, reason: r.reason }));
  }

  async upsertLauncher(rec: LauncherRecord): Promise<void> {
    const row = { ...rec, providers: JSON.stringify(rec.providers) };
    this.db.insert(launchers).values(row).onConflictDoUpdate({ target: launchers.name, set: row }).run();
  }

  async listLaunchers(): Promise<LauncherRecord[]> {
    return this.db.select().from(launchers).orderBy(asc(launchers.name)).all()
      .map((r) => ({ ...r, providers: JSON.parse(r.providers) }));
  }

  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    if (this.sqlite.open) this.sqlite.close();
  }
}
