import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { and, asc, eq } from 'drizzle-orm';
import type {
  BuildRecord, BuildState, ImageFlags, NodeRecord, NodeState, RequestRecord, RequestState, StateChange, UploadRecord, UploadState,
} from '../../model.ts';
import type {
  BuildFilter, BuildPatch, ImageFlagsPatch, LauncherRecord, NodeFilter, NodePatch, PoolGuard, RequestFilter, RequestPatch, RowWrite,
  Store, StoreCondition, StoreEvent, SubscribeScope, UploadFilter, UploadPatch, Sample, ProviderStateRecord,
} from '../store.ts';
import { PgSamples } from './samples.ts';
import { PgProviderStates } from './provider-states.ts';
import { PgGateTables } from './gate-tables.ts';
import { PgImageTables } from './image-tables.ts';
import type { Table } from '../columns.ts';
import { createPool, type ConnectOptions } from './connect.ts';
import { ChangeListener } from './listen.ts';
import { CHANNEL, DETAIL_CHANNEL, providerChannel } from './rows.ts';
import { migrate } from './migrations.ts';
import { launchers, stateChanges } from './schema.ts';
import {
  insertSql, updateAllSql, nodeFromPg, removeSql, requestFromPg, selectSql, updateSql, type PgNode, type PgRequest, type Sql, type WriteMeta,
} from './rows.ts';

/** The SQLSTATE `nodepool_require` raises (migration 9). */
const REQUIRED_WRITE_FAILED = 'NP001';

export interface PgStoreOptions extends ConnectOptions {
  now?: () => number;
  /** Open a LISTEN connection at once, so changes of other processes reach `subscribe` listeners. */
  listen?: boolean;
  /** Bring the schema up to date as a starting process may (default), or leave it alone. */
  migrate?: 'start' | 'none';
  onError?: (err: Error) => void;
}

/**
 * The PostgreSQL store, shared by any number of processes. Every write is one statement (a batch
 * of them, `writeAll` and `passSlot`, one short transaction) that checks its condition, writes its
 * audit row and announces itself with NOTIFY, so a process that lost a lease cannot overwrite the new owner's
 * work and every other process hears of the change within milliseconds of the commit.
 * Statements are prepared once per connection (named by their text).
 */
export class PgStore implements Store {
  readonly pool: pg.Pool;
  private readonly db: NodePgDatabase;
  /** Each listener with the providers whose quiet changes it hears (null: every provider's). */
  private readonly listeners = new Map<(e: StoreEvent) => void, ReadonlySet<string> | null>();
  private readonly names = new Map<string, string>();
  private readonly now: () => number;
  /** Tells this process's own announcements from the others'. */
  private readonly origin = randomUUID();
  private listener: ChangeListener | null = null;
  private readonly images: PgImageTables;
  private readonly samples: PgSamples;
  private readonly providerStates: PgProviderStates;
  readonly gate: PgGateTables;
  private closed = false;
  /** Round trips to the server, for the benchmark's queries per node. */
  queries = 0;

  /** Announcements the listening connection received, this process's own included (each one parsed). */
  get heard(): number {
    return this.listener?.received ?? 0;
  }

  private constructor(private readonly opts: PgStoreOptions) {
    this.pool = createPool(opts);
    // An idle connection killed by the server (restart, pg_terminate_backend) is dropped by the
    // pool and replaced on the next query; without a handler the error would end the process.
    this.pool.on('error', (err) => opts.onError?.(err));
    this.db = drizzle(this.pool);
    this.now = opts.now ?? Date.now;
    this.samples = new PgSamples(this.pool, () => { this.queries++; });
    this.providerStates = new PgProviderStates(this.pool, () => { this.queries++; });
    this.gate = new PgGateTables(this.pool, { publish: (e) => this.publish(e), origin: this.origin, counted: () => { this.queries++; } });
    this.images = new PgImageTables(this.db, {
      publish: (e) => this.publish(e), now: () => this.now(), origin: this.origin, counted: () => { this.queries++; },
    });
  }

  static async open(opts: PgStoreOptions): Promise<PgStore> {
    const store = new PgStore(opts);
    try {
      if ((opts.migrate ?? 'start') === 'start') await migrate(store.pool, { mode: 'start' });
      if (opts.listen) await store.listen();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** Starts hearing other processes' changes; resolves once LISTEN is in place. */
  async listen(): Promise<void> {
    if (!this.listener && !this.closed) {
      this.listener = new ChangeListener(this.opts, this.origin, () => this.channels(), (e, channel) => this.received(e, channel), { onError: this.opts.onError });
    }
    await this.listener?.ready;
  }

  /** Runs one statement, prepared on its connection under a name derived from its text. */
  private async run<R extends pg.QueryResultRow>(q: Sql, client: pg.Pool | pg.PoolClient = this.pool): Promise<R[]> {
    let name = this.names.get(q.text);
    if (!name) { name = `np${this.names.size}`; this.names.set(q.text, name); }
    this.queries++;
    return (await client.query<R>({ name, text: q.text, values: q.values })).rows;
  }

  /**
   * The channels the listeners need: every change any launcher may act on, and of the others
   * (rows.ts, `quietSql`) every provider's when a listener has no scope, else its providers'.
   */
  private channels(): Set<string> {
    const out = new Set([CHANNEL]);
    const scopes = [...this.listeners.values()];
    if (scopes.some((s) => s === null)) out.add(DETAIL_CHANNEL);
    else for (const s of scopes) for (const p of s!) out.add(providerChannel(p));
    return out;
  }

  /** Another process's change: a quiet one goes to the listeners that follow its provider. */
  private received(e: StoreEvent, channel: string): void {
    if (channel === CHANNEL) return this.publish(e);
    // A listener without a scope hears them on the detail channel; a scoped one, those of its
    // providers on whichever channel brought them (the store listens on one kind or the other).
    const provider = e.row?.provider;
    for (const [l, scope] of this.listeners) {
      if (scope === null ? channel === DETAIL_CHANNEL : !provider || scope.has(provider)) l(e);
    }
  }

  private publish(e: StoreEvent): void {
    for (const l of this.listeners.keys()) l(e);
  }

  private meta(by: string, reason: string | null | undefined): WriteMeta {
    return { at: this.now(), by, reason: reason ?? null, origin: this.origin };
  }

  private async write(q: Sql, client?: pg.PoolClient): Promise<boolean> {
    const [row] = await this.run<{ changed: number }>(q, client);
    return row.changed > 0;
  }

  async insertNode(node: NodeRecord, by: string, guard?: PoolGuard): Promise<boolean> {
    const q = insertSql('nodes', node, this.meta(by, node.comment), guard);
    // One statement: the pool's lock, its count and the insert (rows.ts, `insertSql`).
    const ok = await this.write(q);
    if (ok) this.publish({ kind: 'node', id: node.id, state: node.state });
    return ok;
  }

  async getNode(id: string): Promise<NodeRecord | null> {
    const [row] = await this.run<PgNode>({ text: 'SELECT * FROM nodes WHERE id = $1', values: [id] });
    return row ? nodeFromPg(row) : null;
  }

  async listNodes(filter: NodeFilter = {}): Promise<NodeRecord[]> {
    return (await this.run<PgNode>(selectSql('nodes', filter))).map(nodeFromPg);
  }

  private async update(table: Table, id: string, patch: NodePatch | RequestPatch, by: string, cond: StoreCondition<string> | undefined, reason: string | null | undefined): Promise<boolean> {
    const event: StoreEvent = { kind: table === 'nodes' ? 'node' : 'request', id, state: patch.state ?? '' };
    const ok = await this.write(updateSql(table, id, patch, cond, this.meta(by, reason)));
    if (ok) this.publish(event);
    return ok;
  }

  async updateNode(id: string, patch: NodePatch, by: string, cond?: StoreCondition<NodeState>, reason?: string): Promise<boolean> {
    return this.update('nodes', id, patch, by, cond, reason ?? patch.comment);
  }

  async writeAll(writes: readonly RowWrite[], by: string): Promise<boolean> {
    const rows = new Set(writes.map((w) => `${w.table}/${w.id}`));
    if (rows.size === writes.length && writes.length > 0) return this.writeAllAtOnce(writes, by);
    // A row written twice: one after the other, in a transaction (one statement reads one snapshot).
    const done: StoreEvent[] = [];
    const client = await this.pool.connect();
    let ok = true;
    try {
      this.queries += 2;
      await client.query('BEGIN');
      for (const w of writes) {
        const reason = w.reason ?? (w.table === 'nodes' ? w.patch.comment : w.patch.reason);
        if (await this.write(updateSql(w.table, w.id, w.patch, w.cond, this.meta(by, reason)), client)) {
          done.push({ kind: w.table === 'nodes' ? 'node' : 'request', id: w.id, state: w.patch.state ?? '' });
        } else if (!w.optional) { ok = false; break; }
      }
      await client.query(ok ? 'COMMIT' : 'ROLLBACK');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      client.release(err as Error);
      throw err;
    }
    client.release();
    if (ok) for (const e of done) this.publish(e);
    return ok;
  }

  /** `writeAll` of different rows as one statement (rows.ts, `updateAllSql`). */
  private async writeAllAtOnce(writes: readonly RowWrite[], by: string): Promise<boolean> {
    const q = updateAllSql(writes.map((w) => ({
      table: w.table, id: w.id, patch: w.patch, cond: w.cond, optional: w.optional,
      meta: this.meta(by, w.reason ?? (w.table === 'nodes' ? w.patch.comment : w.patch.reason)),
    })));
    let row: Record<string, number>;
    try {
      [row] = await this.run<Record<string, number>>(q);
    } catch (err) {
      if ((err as { code?: string }).code === REQUIRED_WRITE_FAILED) return false;
      throw err;
    }
    writes.forEach((w, i) => {
      if (row[`c${i}`] > 0) this.publish({ kind: w.table === 'nodes' ? 'node' : 'request', id: w.id, state: w.patch.state ?? '' });
    });
    return true;
  }

  async passSlot(failedId: string, patch: NodePatch, cond: StoreCondition<NodeState>, retry: NodeRecord, by: string, reason?: string): Promise<boolean> {
    const client = await this.pool.connect();
    let ok = false;
    try {
      this.queries += 2;
      await client.query('BEGIN');
      ok = await this.write(updateSql('nodes', failedId, patch, cond, this.meta(by, reason ?? patch.comment)), client);
      if (ok) await this.write(insertSql('nodes', retry, this.meta(by, `retry of ${failedId}`)), client);
      await client.query(ok ? 'COMMIT' : 'ROLLBACK');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      client.release(err as Error);
      throw err;
    }
    client.release();
    if (ok) {
      this.publish({ kind: 'node', id: failedId, state: patch.state ?? '' });
      this.publish({ kind: 'node', id: retry.id, state: retry.state });
    }
    return ok;
  }

  async renewLeases(owner: string, until: number): Promise<number> {
    const [row] = await this.run<{ n: number }>({
      text: `WITH n AS (UPDATE nodes SET lease_expires = $2 WHERE lease_owner = $1 RETURNING 1),
r AS (UPDATE requests SET lease_expires = $2 WHERE lease_owner = $1 RETURNING 1)
SELECT ((SELECT count(*) FROM n) + (SELECT count(*) FROM r))::int AS n`,
      values: [owner, until],
    });
    return row.n;
  }

  async removeNode(id: string, by: string, cond?: StoreCondition<NodeState>): Promise<boolean> {
    const ok = await this.write(removeSql(id, cond, this.meta(by, null)));
    if (ok) this.publish({ kind: 'node', id, state: 'gone' });
    return ok;
  }

  async insertRequest(req: RequestRecord, by: string): Promise<void> {
    await this.write(insertSql('requests', req, this.meta(by, req.reason)));
    this.publish({ kind: 'request', id: req.id, state: req.state });
  }

  async getRequest(id: string): Promise<RequestRecord | null> {
    const [row] = await this.run<PgRequest>({ text: 'SELECT * FROM requests WHERE id = $1', values: [id] });
    return row ? requestFromPg(row) : null;
  }

  async listRequests(filter: RequestFilter = {}): Promise<RequestRecord[]> {
    return (await this.run<PgRequest>(selectSql('requests', filter))).map(requestFromPg);
  }

  async updateRequest(id: string, patch: RequestPatch, by: string, cond?: StoreCondition<RequestState>, reason?: string): Promise<boolean> {
    return this.update('requests', id, patch, by, cond, reason ?? patch.reason);
  }

  async listChanges(kind: 'node' | 'request', id: string): Promise<StateChange[]> {
    this.queries++;
    const rows = await this.db.select().from(stateChanges)
      .where(and(eq(stateChanges.kind, kind), eq(stateChanges.id, id))).orderBy(asc(stateChanges.seq));
    return rows.map((r) => ({ at: r.at, kind: r.kind as 'node' | 'request', id: r.id, from: r.from, to: r.to, by: r.by, reason: r.reason }));
  }

  async upsertLauncher(rec: LauncherRecord): Promise<void> {
    this.queries++;
    await this.db.insert(launchers).values(rec).onConflictDoUpdate({ target: launchers.name, set: rec });
  }

  async listLaunchers(): Promise<LauncherRecord[]> {
    this.queries++;
    return this.db.select().from(launchers).orderBy(asc(launchers.name));
  }

  publishProviderStates(launcher: string, rows: readonly Omit<ProviderStateRecord, 'launcher'>[]): Promise<void> {
    return this.providerStates.publish(launcher, rows);
  }
  listProviderStates(): Promise<ProviderStateRecord[]> { return this.providerStates.list(); }

  insertBuild(b: BuildRecord, by: string): Promise<void> { return this.images.insertBuild(b, by); }
  getBuild(id: string): Promise<BuildRecord | null> { return this.images.getBuild(id); }
  listBuilds(f?: BuildFilter): Promise<BuildRecord[]> { return this.images.listBuilds(f); }
  updateBuild(id: string, patch: BuildPatch, by: string, cond?: StoreCondition<BuildState>, reason?: string): Promise<boolean> {
    return this.images.updateBuild(id, patch, by, cond, reason);
  }
  removeBuild(id: string, by: string, cond?: StoreCondition<BuildState>): Promise<boolean> { return this.images.removeBuild(id, by, cond); }
  insertUpload(u: UploadRecord, by: string): Promise<void> { return this.images.insertUpload(u, by); }
  getUpload(id: string): Promise<UploadRecord | null> { return this.images.getUpload(id); }
  listUploads(f?: UploadFilter): Promise<UploadRecord[]> { return this.images.listUploads(f); }
  updateUpload(id: string, patch: UploadPatch, by: string, cond?: StoreCondition<UploadState>, reason?: string): Promise<boolean> {
    return this.images.updateUpload(id, patch, by, cond, reason);
  }
  removeUpload(id: string, by: string, cond?: StoreCondition<UploadState>): Promise<boolean> { return this.images.removeUpload(id, by, cond); }
  listImageFlags(): Promise<ImageFlags[]> { return this.images.listImageFlags(); }
  setImageFlags(image: string, patch: ImageFlagsPatch, by: string): Promise<ImageFlags> { return this.images.setImageFlags(image, patch, by); }

  appendSamples(at: number, values: Readonly<Record<string, number>>): Promise<void> { return this.samples.append(at, values); }
  listSamples(since: number): Promise<Sample[]> { return this.samples.list(since); }
  pruneSamples(before: number): Promise<number> { return this.samples.pruneBefore(before); }

  /** Every launcher writes to the server: no cheap token here, so readers always read. */
  changeToken(): null {
    return null;
  }

  /** Resolves once the connection listens on every channel the subscribers now need. */
  async listening(): Promise<void> {
    await this.listen();
    await this.listener?.sync();
  }

  subscribe(listener: (e: StoreEvent) => void, scope?: SubscribeScope): () => void {
    this.listeners.set(listener, scope ? new Set(scope.providers) : null);
    void this.listen().then(() => this.listener?.sync());
    return () => {
      this.listeners.delete(listener);
      void this.listener?.sync();
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await this.listener?.close();
    await this.pool.end();
  }
}
