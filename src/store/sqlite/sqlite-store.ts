import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { and, asc, eq } from 'drizzle-orm';
import type {
  BuildRecord, BuildState, ImageFlags, NodeRecord, NodeState, RequestRecord, RequestState, StateChange, UploadRecord, UploadState,
} from '../../model.ts';
import type {
  LauncherRecord, NodeFilter, NodePatch, PoolGuard, RequestFilter, RequestPatch, RowWrite, Store, StoreCondition, StoreEvent,
  BuildFilter, BuildPatch, ImageFlagsPatch, UploadFilter, UploadPatch, Sample, ProviderStateRecord,
} from '../store.ts';
import { launchers, stateChanges } from './schema.ts';
import { migrate } from './migrations.ts';
import { SqliteImageTables } from './image-tables.ts';
import { SqliteSamples } from './samples.ts';
import { SqliteProviderStates } from './provider-states.ts';
import { FleetCopy } from './fleet-copy.ts';
import { SqliteGateTables } from './gate-tables.ts';
import {
  columnIndex, conditionSql, insertSql, nodeFromArray, requestFromArray, updateSql,
  type ColumnIndex, type RawNode, type RawRequest, type Table,
} from './rows.ts';

/** A node or request write waiting for its group commit (`SqliteStore.write`). */
interface QueuedWrite {
  fn: () => unknown;
  events: (v: unknown) => readonly StoreEvent[];
  resolve: (v: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * The SQLite store: one file, WAL journal, `synchronous=NORMAL` (a commit is durable once the
 * WAL is checkpointed; a crash loses at most the last transactions, never corrupts the file).
 * better-sqlite3 is synchronous, so each method runs its statements in one transaction and
 * publishes the change to listeners after commit. Nodes and requests go through cached
 * statements (./rows.ts); the cold tables through drizzle.
 */
export class SqliteStore implements Store {
  private readonly sqlite: Database.Database;
  private readonly db: BetterSQLite3Database;
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  private readonly statements = new Map<string, Database.Statement>();
  /** Writes of nodes and requests through this connection: half of `changeToken`. */
  private recordWrites = 0;
  private readonly now: () => number;
  private readonly images: SqliteImageTables;
  private readonly samples: SqliteSamples;
  private readonly providerStates: SqliteProviderStates;
  readonly gate: SqliteGateTables;
  /** One transaction wrapper for every write: better-sqlite3 builds a new one at each `transaction()`. */
  private readonly tx: Database.Transaction<(fn: () => unknown) => unknown>;

  constructor(path: string, opts: { now?: () => number } = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.sqlite = new Database(path);
    this.sqlite.pragma('journal_mode = WAL');
    this.sqlite.pragma('synchronous = NORMAL');
    this.sqlite.pragma('busy_timeout = 5000');
    migrate(this.sqlite);
    this.tx = this.sqlite.transaction((fn: () => unknown) => fn());
    this.db = drizzle(this.sqlite);
    this.now = opts.now ?? Date.now;
    this.samples = new SqliteSamples(this.sqlite);
    this.providerStates = new SqliteProviderStates(this.sqlite);
    this.gate = new SqliteGateTables(this.sqlite, (e) => this.publish(e));
    this.images = new SqliteImageTables(this.sqlite, this.db, {
      audit: (kind, id, from, to, by, reason) => this.audit(kind, id, from, to, by, reason),
      publish: (e) => this.publish(e),
      now: () => this.now(),
    });
  }

  /** Node and request writes asked for by the running task, not committed yet. */
  private queued: QueuedWrite[] = [];

  /**
   * Group commit: `fn` runs in one transaction with every other node and request write the running
   * task asks for (each in a savepoint of its own, so a write that throws undoes only itself), once
   * that task is done (a microtask), and the promise settles once that transaction is committed and
   * the write's `events` are published. In a burst a commit (its WAL frames and system calls) cost
   * more than the statements in it, and writes asked for together touch the same few pages.
   * Waiting for the next turn of the event loop (setImmediate) grouped more writes (32 write
   * system calls per node lifecycle in a burst against 53) for no less CPU, but added 2-3 ms to a
   * lone request's way through the system.
   */
  private write<T>(fn: () => T, events: (v: T) => readonly StoreEvent[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queued.length === 0) queueMicrotask(() => this.commitQueued());
      this.queued.push({ fn, events: events as (v: unknown) => readonly StoreEvent[], resolve: resolve as (v: unknown) => void, reject });
    });
  }

  private commitQueued(): void {
    const writes = this.queued;
    if (!writes.length) return;
    this.queued = [];
    const outcomes: ({ ok: true; value: unknown } | { ok: false; err: unknown })[] = [];
    try {
      // IMMEDIATE: a guarded insert counts its pool and inserts under the write lock, even against
      // another process writing the same file.
      this.tx.immediate(() => {
        for (const w of writes) {
          try {
            outcomes.push({ ok: true, value: this.tx(w.fn) });
          } catch (err) {
            outcomes.push({ ok: false, err });
          }
        }
      });
    } catch (err) {
      for (const w of writes) w.reject(err);
      return;
    }
    writes.forEach((w, i) => {
      const o = outcomes[i]!;
      if (!o.ok) { w.reject(o.err); return; }
      try {
        for (const e of w.events(o.value)) this.publish(e);
        w.resolve(o.value);
      } catch (err) {
        w.reject(err);
      }
    });
  }

  private statement(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) { st = this.sqlite.prepare(sql); this.statements.set(sql, st); }
    return st;
  }

  private readonly fleet = new FleetCopy({
    version: () => this.dataVersion(),
    all: () => this.listNodesNow({}),
    some: (ids) => this.listNodesNow({ ids }),
  });

  private readonly rawStatements = new Map<string, { st: Database.Statement; index: Record<string, number> }>();

  /**
   * A read of nodes or requests in raw mode (rows as arrays, ./rows.ts), cached with its column
   * positions: no row object of 16-28 keys built per row.
   */
  private rawStatement<Raw extends RawNode | RawRequest>(sql: string): { st: Database.Statement; index: ColumnIndex<Raw> } {
    let entry = this.rawStatements.get(sql);
    if (!entry) {
      const st = this.sqlite.prepare(sql).raw(true);
      entry = { st, index: columnIndex<Raw>(st.columns()) };
      this.rawStatements.set(sql, entry);
    }
    return entry as unknown as { st: Database.Statement; index: ColumnIndex<Raw> };
  }

  private readonly plucked = new Map<string, Database.Statement>();

  /** The first column of the first row of a cached query (undefined: no row). */
  private value(sql: string, ...args: unknown[]): unknown {
    let st = this.plucked.get(sql);
    if (!st) { st = this.sqlite.prepare(sql).pluck(); this.plucked.set(sql, st); }
    return st.get(...args);
  }

  /** A node's or request's state, or undefined when there is no such row. */
  private stateOf(table: Table, id: string): string | undefined {
    return this.value(`SELECT state FROM ${table} WHERE id = ?`, id) as string | undefined;
  }

  private publish(e: StoreEvent): void {
    if (e.kind === 'node' || e.kind === 'request') this.recordWrites++;
    if (e.kind === 'node') this.fleet.touch(e.id);
    for (const l of this.listeners) l(e);
  }

  private audit(kind: StateChange['kind'], id: string, from: string | null, to: string, by: string, reason?: string | null): void {
    // The record's next number: the last key of its range (migration 10), one b-tree descent.
    this.statement(`INSERT INTO state_changes (kind, id, seq, at, from_state, to_state, by, reason)
      VALUES (@kind, @id, COALESCE((SELECT MAX(seq) FROM state_changes WHERE kind = @kind AND id = @id), 0) + 1, @at, @from, @to, @by, @reason)`)
      .run({ kind, id, at: this.now(), from, to, by, reason: reason ?? null });
  }

  /** Inserts a record inside the caller's transaction, with its audit row. */
  private insertRow(table: Table, rec: NodeRecord | RequestRecord, by: string, reason: string | null): void {
    const { sql, args } = insertSql(table, rec);
    this.statement(sql).run(...args);
    this.audit(table === 'nodes' ? 'node' : 'request', rec.id, null, rec.state, by, reason);
  }

  private insert(table: Table, rec: NodeRecord | RequestRecord, by: string, reason: string | null, guard?: PoolGuard): Promise<boolean> {
    return this.write(() => {
      if (guard) {
        const n = rec as NodeRecord;
        // One row kept by triggers (migration 7): counting the pool's index made each insert cost
        // as much as the pool was large.
        const count = this.value('SELECT n FROM pool_node_counts WHERE provider = ? AND pool = ?', n.provider, n.pool) as number | undefined;
        if ((count ?? 0) >= guard.maxServers) return false;
        if (guard.exclusiveServer && n.serverId !== null &&
          this.statement('SELECT 1 FROM nodes WHERE provider = ? AND server_id = ? LIMIT 1').get(n.provider, n.serverId)) return false;
      }
      this.insertRow(table, rec, by, reason);
      return true;
    }, (ok) => (ok ? [{ kind: table === 'nodes' ? 'node' : 'request', id: rec.id, state: rec.state }] : []));
  }

  /** A conditional update inside the caller's transaction; audits a state change. */
  private updateRow(table: Table, id: string, patch: NodePatch | RequestPatch, by: string, cond: StoreCondition<string> | undefined, reason: string | null | undefined): boolean {
    const { sql, args } = updateSql(table, id, patch, cond);
    const from = patch.state ? this.stateOf(table, id) : undefined;
    if (this.statement(sql).run(...args).changes === 0) return false;
    if (patch.state && from !== undefined && from !== patch.state) this.audit(table === 'nodes' ? 'node' : 'request', id, from, patch.state, by, reason);
    return true;
  }

  /** A conditional update; audits a state change and publishes it. */
  private update(table: Table, id: string, patch: NodePatch | RequestPatch, by: string, cond: StoreCondition<string> | undefined, reason: string | null | undefined): Promise<boolean> {
    return this.write(() => this.updateRow(table, id, patch, by, cond, reason),
      (ok) => (ok ? [{ kind: table === 'nodes' ? 'node' : 'request', id, state: patch.state ?? '' }] : []));
  }

  async writeAll(writes: readonly RowWrite[], by: string): Promise<boolean> {
    const refused = new Error('a condition of the batch is false');
    try {
      // Its savepoint is undone when a condition is false: all of the batch or none of it.
      await this.write(() => {
        const done: StoreEvent[] = [];
        for (const w of writes) {
          const reason = w.reason ?? (w.table === 'nodes' ? w.patch.comment : w.patch.reason);
          if (this.updateRow(w.table, w.id, w.patch, by, w.cond, reason)) done.push({ kind: w.table === 'nodes' ? 'node' : 'request', id: w.id, state: w.patch.state ?? '' });
          else if (!w.optional) throw refused;
        }
        return done;
      }, (done) => done);
      return true;
    } catch (err) {
      if (err === refused) return false;
      throw err;
    }
  }

  async insertNode(node: NodeRecord, by: string, guard?: PoolGuard): Promise<boolean> {
    return this.insert('nodes', node, by, node.comment, guard);
  }

  async getNode(id: string): Promise<NodeRecord | null> {
    const { st, index } = this.rawStatement<RawNode>('SELECT * FROM nodes WHERE id = ?');
    const row = st.get(id) as unknown[] | undefined;
    return row ? nodeFromArray(row, index) : null;
  }

  async listNodes(filter: NodeFilter = {}): Promise<NodeRecord[]> {
    return this.listNodesNow(filter);
  }

  /** Every node, oldest first, from a copy kept up to date with this connection's writes (./fleet-copy.ts). */
  async readFleet(): Promise<readonly NodeRecord[]> {
    return this.fleet.read();
  }

  private listNodesNow(filter: NodeFilter): NodeRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.ids) { where.push(`id IN (SELECT value FROM json_each(?))`); args.push(JSON.stringify(filter.ids)); }
    if (filter.states) { where.push(`state IN (${filter.states.map(() => '?').join(',')})`); args.push(...filter.states); }
    if (filter.provider) { where.push('provider = ?'); args.push(filter.provider); }
    if (filter.label) { where.push('label = ?'); args.push(filter.label); }
    if (filter.allocatedTo) { where.push('allocated_to = ?'); args.push(filter.allocatedTo); }
    const sql = `SELECT * FROM nodes${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
    const { st, index } = this.rawStatement<RawNode>(sql);
    return (st.all(...args) as unknown[][]).map((a) => nodeFromArray(a, index));
  }

  async updateNode(id: string, patch: NodePatch, by: string, cond?: StoreCondition<NodeState>, reason?: string): Promise<boolean> {
    return this.update('nodes', id, patch, by, cond, reason ?? patch.comment);
  }

  async passSlot(failedId: string, patch: NodePatch, cond: StoreCondition<NodeState>, retry: NodeRecord, by: string, reason?: string): Promise<boolean> {
    return this.write(() => {
      if (!this.updateRow('nodes', failedId, patch, by, cond, reason ?? patch.comment)) return false;
      this.insertRow('nodes', retry, by, `retry of ${failedId}`);
      return true;
    }, (ok) => (ok ? [{ kind: 'node', id: failedId, state: patch.state ?? '' }, { kind: 'node', id: retry.id, state: retry.state }] : []));
  }

  async renewLeases(owner: string, until: number): Promise<number> {
    const renewed = await this.write(() => {
      const nodes = this.statement('UPDATE nodes SET lease_expires = ? WHERE lease_owner = ? RETURNING id').all(until, owner) as { id: string }[];
      for (const n of nodes) this.fleet.touch(n.id);
      return nodes.length + this.statement('UPDATE requests SET lease_expires = ? WHERE lease_owner = ?').run(until, owner).changes;
    }, () => []);
    // Not announced (nobody acts on a renewal), but the rows changed.
    if (renewed) this.recordWrites++;
    return renewed;
  }

  async removeNode(id: string, by: string, cond?: StoreCondition<NodeState>): Promise<boolean> {
    const where = conditionSql('nodes', id, cond);
    return this.write(() => {
      const before = this.stateOf('nodes', id);
      if (this.statement(`DELETE FROM nodes WHERE ${where.sql}`).run(...where.args).changes === 0) return false;
      this.audit('node', id, before ?? null, 'gone', by);
      return true;
    }, (ok) => (ok ? [{ kind: 'node', id, state: 'gone' }] : []));
  }

  async insertRequest(req: RequestRecord, by: string): Promise<void> {
    await this.insert('requests', req, by, req.reason);
  }

  async getRequest(id: string): Promise<RequestRecord | null> {
    const { st, index } = this.rawStatement<RawRequest>('SELECT * FROM requests WHERE id = ?');
    const row = st.get(id) as unknown[] | undefined;
    return row ? requestFromArray(row, index) : null;
  }

  async listRequests(filter: RequestFilter = {}): Promise<RequestRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.ids) { where.push(`id IN (SELECT value FROM json_each(?))`); args.push(JSON.stringify(filter.ids)); }
    if (filter.states) { where.push(`state IN (${filter.states.map(() => '?').join(',')})`); args.push(...filter.states); }
    if (filter.withHolderLease) where.push('holder_expires IS NOT NULL');
    const order = filter.limit ? ` ORDER BY created_at DESC, id DESC LIMIT ${Math.max(0, Math.floor(filter.limit))}` : ' ORDER BY created_at, id';
    const sql = `SELECT * FROM requests${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${order}`;
    const { st, index } = this.rawStatement<RawRequest>(sql);
    return (st.all(...args) as unknown[][]).map((a) => requestFromArray(a, index));
  }

  async updateRequest(id: string, patch: RequestPatch, by: string, cond?: StoreCondition<RequestState>, reason?: string): Promise<boolean> {
    return this.update('requests', id, patch, by, cond, reason ?? patch.reason);
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

  async publishProviderStates(launcher: string, rows: readonly Omit<ProviderStateRecord, 'launcher'>[]): Promise<void> {
    this.providerStates.publish(launcher, rows);
  }

  async listProviderStates(): Promise<ProviderStateRecord[]> {
    return this.providerStates.list();
  }

  async insertBuild(b: BuildRecord, by: string): Promise<void> { this.images.insertBuild(b, by); }
  async getBuild(id: string): Promise<BuildRecord | null> { return this.images.getBuild(id); }
  async listBuilds(filter?: BuildFilter): Promise<BuildRecord[]> { return this.images.listBuilds(filter); }
  async updateBuild(id: string, patch: BuildPatch, by: string, cond?: StoreCondition<BuildState>, reason?: string): Promise<boolean> {
    return this.images.updateBuild(id, patch, by, cond, reason);
  }
  async removeBuild(id: string, by: string, cond?: StoreCondition<BuildState>): Promise<boolean> { return this.images.removeBuild(id, by, cond); }
  async insertUpload(u: UploadRecord, by: string): Promise<void> { this.images.insertUpload(u, by); }
  async getUpload(id: string): Promise<UploadRecord | null> { return this.images.getUpload(id); }
  async listUploads(filter?: UploadFilter): Promise<UploadRecord[]> { return this.images.listUploads(filter); }
  async updateUpload(id: string, patch: UploadPatch, by: string, cond?: StoreCondition<UploadState>, reason?: string): Promise<boolean> {
    return this.images.updateUpload(id, patch, by, cond, reason);
  }
  async removeUpload(id: string, by: string, cond?: StoreCondition<UploadState>): Promise<boolean> { return this.images.removeUpload(id, by, cond); }
  async listImageFlags(): Promise<ImageFlags[]> { return this.images.listImageFlags(); }
  async setImageFlags(image: string, patch: ImageFlagsPatch, by: string): Promise<ImageFlags> { return this.images.setImageFlags(image, patch, by); }

  async appendSamples(at: number, values: Readonly<Record<string, number>>): Promise<void> { this.samples.append(at, values); }
  async listSamples(since: number): Promise<Sample[]> { return this.samples.list(since); }
  async pruneSamples(before: number): Promise<number> { return this.samples.pruneBefore(before); }

  /**
   * `PRAGMA data_version` moves when another connection commits to the file (any table); the count
   * of this connection's node and request writes when it writes one. Together: any change of a
   * record since the last call, in any process. This process's other writes (provider states
   * every publish-interval, plot points) leave it alone, so an idle fleet's reads stay cached.
   */
  changeToken(): string {
    return `${this.dataVersion()}.${this.recordWrites}`;
  }

  private dataVersion(): number {
    const [[version]] = this.statement('SELECT data_version FROM pragma_data_version').raw(true).all() as [[number]];
    return version;
  }

  /** Every change is heard, whatever the scope: only this store object announces any. */
  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    // Writes asked for before the close are committed, not lost.
    this.commitQueued();
    this.listeners.clear();
    if (this.sqlite.open) this.sqlite.close();
  }
}
