import type Database from 'better-sqlite3';
import type { Autohold, GateEventRecord, Item } from '../../gate/model.ts';
import type { GateItemFilter, GateStore } from '../gate.ts';
import type { StoreEvent } from '../store.ts';

type RawEvent = { seq: number; source: string; body: string; received_at: number; processed_at: number | null; outcome: string | null };
type RawHold = {
  id: string; project: string | null; job: string; change_number: number | null; reason: string; count: number; held: number;
  node_expiration: number | null; created_at: number;
};

const eventOf = (r: RawEvent): GateEventRecord => ({
  seq: r.seq, source: r.source, body: JSON.parse(r.body), receivedAt: r.received_at, processedAt: r.processed_at, outcome: r.outcome,
});
const holdOf = (r: RawHold): Autohold => ({
  id: r.id, project: r.project, job: r.job, change: r.change_number, reason: r.reason, count: r.count, held: r.held,
  nodeExpiration: r.node_expiration, createdAt: r.created_at,
});

/**
 * The gate's tables in SQLite (migration 5). An item is one row: the columns the listings filter
 * on, and the whole item (buildset and builds) as JSON, written by the one scheduler holding the
 * gate lease.
 */
export class SqliteGateTables implements GateStore {
  private readonly st = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database, private readonly publish: (e: StoreEvent) => void) {}

  private q(sql: string): Database.Statement {
    let s = this.st.get(sql);
    if (!s) { s = this.db.prepare(sql); this.st.set(sql, s); }
    return s;
  }

  async saveItem(item: Item): Promise<void> {
    this.q(`INSERT INTO gate_items (id, pipeline, state, change_number, seq, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET pipeline = excluded.pipeline, state = excluded.state, change_number = excluded.change_number,
      seq = excluded.seq, updated_at = excluded.updated_at, data = excluded.data`)
      .run(item.id, item.pipeline, item.state, item.change.number, item.seq, item.updatedAt, JSON.stringify(item));
    this.publish({ kind: 'gate-item', id: item.id, state: item.state });
  }

  async getItem(id: string): Promise<Item | null> {
    const row = this.q('SELECT data FROM gate_items WHERE id = ?').get(id) as { data: string } | undefined;
    return row ? JSON.parse(row.data) as Item : null;
  }

  async listItems(f: GateItemFilter = {}): Promise<Item[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.states) { where.push(`state IN (${f.states.map(() => '?').join(',')})`); args.push(...f.states); }
    if (f.pipeline) { where.push('pipeline = ?'); args.push(f.pipeline); }
    if (f.change !== undefined) { where.push('change_number = ?'); args.push(f.change); }
    if (f.updatedSince !== undefined) { where.push('updated_at >= ?'); args.push(f.updatedSince); }
    const order = f.limit ? ` ORDER BY seq DESC LIMIT ${Math.max(0, Math.floor(f.limit))}` : ' ORDER BY seq';
    const rows = this.q(`SELECT data FROM gate_items${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${order}`).all(...args) as { data: string }[];
    return rows.map((r) => JSON.parse(r.data) as Item);
  }

  async pruneItems(before: number): Promise<number> {
    return this.q("DELETE FROM gate_items WHERE state = 'done' AND updated_at < ?").run(before).changes;
  }

  async appendEvent(source: string, body: unknown, at: number): Promise<number> {
    const seq = Number(this.q('INSERT INTO gate_events (source, body, received_at) VALUES (?, ?, ?)').run(source, JSON.stringify(body), at).lastInsertRowid);
    this.publish({ kind: 'gate-event', id: String(seq), state: 'pending' });
    return seq;
  }

  async getEvent(seq: number): Promise<GateEventRecord | null> {
    const row = this.q('SELECT * FROM gate_events WHERE seq = ?').get(seq) as RawEvent | undefined;
    return row ? eventOf(row) : null;
  }

  async listEvents(f: { afterSeq?: number; pending?: boolean; limit?: number } = {}): Promise<GateEventRecord[]> {
    const rows = this.q(`SELECT * FROM gate_events WHERE seq > ?${f.pending ? ' AND processed_at IS NULL' : ''} ORDER BY seq LIMIT ?`)
      .all(f.afterSeq ?? 0, f.limit ?? 1000) as RawEvent[];
    return rows.map(eventOf);
  }

  async finishEvent(seq: number, outcome: string, at: number): Promise<void> {
    this.q('UPDATE gate_events SET processed_at = ?, outcome = ? WHERE seq = ?').run(at, outcome, seq);
    this.publish({ kind: 'gate-event', id: String(seq), state: 'processed' });
  }

  async pruneEvents(before: number): Promise<number> {
    return this.q('DELETE FROM gate_events WHERE processed_at IS NOT NULL AND received_at < ?').run(before).changes;
  }

  async insertAutohold(a: Autohold): Promise<void> {
    this.q(`INSERT INTO gate_autoholds (id, project, job, change_number, reason, count, held, node_expiration, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(a.id, a.project, a.job, a.change, a.reason, a.count, a.held, a.nodeExpiration, a.createdAt);
  }

  async listAutoholds(): Promise<Autohold[]> {
    return (this.q('SELECT * FROM gate_autoholds ORDER BY created_at, id').all() as RawHold[]).map(holdOf);
  }

  async useAutohold(id: string): Promise<boolean> {
    return this.q('UPDATE gate_autoholds SET held = held + 1 WHERE id = ? AND held < count').run(id).changes > 0;
  }

  async removeAutohold(id: string): Promise<boolean> {
    return this.q('DELETE FROM gate_autoholds WHERE id = ?').run(id).changes > 0;
  }

  async claimLease(name: string, owner: string, until: number, now: number): Promise<boolean> {
    return this.q(`INSERT INTO gate_leases (name, owner, expires) VALUES (?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
      WHERE gate_leases.owner = excluded.owner OR gate_leases.expires < ?`).run(name, owner, until, now).changes > 0;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    this.q('DELETE FROM gate_leases WHERE name = ? AND owner = ?').run(name, owner);
  }
}
