import type pg from 'pg';
import type { Autohold, GateEventRecord, Item } from '../../gate/model.ts';
import type { GateItemFilter, GateStore } from '../gate.ts';
import type { StoreEvent } from '../store.ts';
import { CHANNEL } from './rows.ts';

type RawEvent = { seq: string; source: string; body: unknown; received_at: string; processed_at: string | null; outcome: string | null };
type RawHold = {
  id: string; project: string | null; job: string; change_number: number | null; reason: string; count: number; held: number;
  node_expiration: string | null; created_at: string;
};

// bigint arrives as text: pg does not guess that it fits a JavaScript number (ms times and sequence numbers do).
const num = (v: string | null) => (v === null ? null : Number(v));
const eventOf = (r: RawEvent): GateEventRecord => ({
  seq: Number(r.seq), source: r.source, body: r.body, receivedAt: Number(r.received_at), processedAt: num(r.processed_at), outcome: r.outcome,
});
const holdOf = (r: RawHold): Autohold => ({
  id: r.id, project: r.project, job: r.job, change: r.change_number, reason: r.reason, count: r.count, held: r.held,
  nodeExpiration: num(r.node_expiration), createdAt: Number(r.created_at),
});

/**
 * The gate's tables in PostgreSQL (migration 4). Each write is one statement; the writes other
 * processes react to (items, events) announce themselves with NOTIFY in the same statement.
 */
export class PgGateTables implements GateStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly host: { publish(e: StoreEvent): void; origin: string; counted(): void },
  ) {}

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    this.host.counted();
    return this.pool.query<R>(text, values);
  }

  private payload(e: StoreEvent): string {
    return JSON.stringify({ ...e, origin: this.host.origin });
  }

  async saveItem(item: Item): Promise<void> {
    const e: StoreEvent = { kind: 'gate-item', id: item.id, state: item.state };
    await this.query(`WITH w AS (
      INSERT INTO gate_items (id, pipeline, state, change_number, seq, updated_at, data) VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (id) DO UPDATE SET pipeline = EXCLUDED.pipeline, state = EXCLUDED.state, change_number = EXCLUDED.change_number,
        seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at, data = EXCLUDED.data
      RETURNING 1)
      SELECT pg_notify('${CHANNEL}', $8) FROM w`,
    [item.id, item.pipeline, item.state, item.change.number, item.seq, item.updatedAt, JSON.stringify(item), this.payload(e)]);
    this.host.publish(e);
  }

  async getItem(id: string): Promise<Item | null> {
    const r = await this.query<{ data: Item }>('SELECT data FROM gate_items WHERE id = $1', [id]);
    return r.rows[0]?.data ?? null;
  }

  async listItems(f: GateItemFilter = {}): Promise<Item[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.states) { args.push([...f.states]); where.push(`state = ANY($${args.length})`); }
    if (f.pipeline) { args.push(f.pipeline); where.push(`pipeline = $${args.length}`); }
    if (f.change !== undefined) { args.push(f.change); where.push(`change_number = $${args.length}`); }
    if (f.updatedSince !== undefined) { args.push(f.updatedSince); where.push(`updated_at >= $${args.length}`); }
    const order = f.limit ? ` ORDER BY seq DESC LIMIT ${Math.max(0, Math.floor(f.limit))}` : ' ORDER BY seq';
    const r = await this.query<{ data: Item }>(`SELECT data FROM gate_items${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${order}`, args);
    return r.rows.map((row) => row.data);
  }

  async pruneItems(before: number): Promise<number> {
    return (await this.query("DELETE FROM gate_items WHERE state = 'done' AND updated_at < $1", [before])).rowCount ?? 0;
  }

  async appendEvent(source: string, body: unknown, at: number): Promise<number> {
    const r = await this.query<{ seq: string }>(`WITH w AS (
      INSERT INTO gate_events (source, body, received_at) VALUES ($1, $2, $3) RETURNING seq)
      SELECT seq, pg_notify('${CHANNEL}', json_build_object('kind', 'gate-event', 'id', seq::text, 'state', 'pending', 'origin', $4::text)::text) FROM w`,
    [source, JSON.stringify(body), at, this.host.origin]);
    const seq = Number(r.rows[0]!.seq);
    this.host.publish({ kind: 'gate-event', id: String(seq), state: 'pending' });
    return seq;
  }

  async getEvent(seq: number): Promise<GateEventRecord | null> {
    const r = await this.query<RawEvent>('SELECT * FROM gate_events WHERE seq = $1', [seq]);
    return r.rows[0] ? eventOf(r.rows[0]) : null;
  }

  async listEvents(f: { afterSeq?: number; pending?: boolean; limit?: number } = {}): Promise<GateEventRecord[]> {
    const r = await this.query<RawEvent>(`SELECT * FROM gate_events WHERE seq > $1${f.pending ? ' AND processed_at IS NULL' : ''} ORDER BY seq LIMIT $2`,
      [f.afterSeq ?? 0, f.limit ?? 1000]);
    return r.rows.map(eventOf);
  }

  async finishEvent(seq: number, outcome: string, at: number): Promise<void> {
    const e: StoreEvent = { kind: 'gate-event', id: String(seq), state: 'processed' };
    await this.query(`WITH w AS (UPDATE gate_events SET processed_at = $1, outcome = $2 WHERE seq = $3 RETURNING 1)
      SELECT pg_notify('${CHANNEL}', $4) FROM w`, [at, outcome, seq, this.payload(e)]);
    this.host.publish(e);
  }

  async pruneEvents(before: number): Promise<number> {
    return (await this.query('DELETE FROM gate_events WHERE processed_at IS NOT NULL AND received_at < $1', [before])).rowCount ?? 0;
  }

  async insertAutohold(a: Autohold): Promise<void> {
    await this.query(`INSERT INTO gate_autoholds (id, project, job, change_number, reason, count, held, node_expiration, created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [a.id, a.project, a.job, a.change, a.reason, a.count, a.held, a.nodeExpiration, a.createdAt]);
  }

  async listAutoholds(): Promise<Autohold[]> {
    return (await this.query<RawHold>('SELECT * FROM gate_autoholds ORDER BY created_at, id', [])).rows.map(holdOf);
  }

  async useAutohold(id: string): Promise<boolean> {
    return ((await this.query('UPDATE gate_autoholds SET held = held + 1 WHERE id = $1 AND held < count', [id])).rowCount ?? 0) > 0;
  }

  async removeAutohold(id: string): Promise<boolean> {
    return ((await this.query('DELETE FROM gate_autoholds WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async claimLease(name: string, owner: string, until: number, now: number): Promise<boolean> {
    const r = await this.query(`INSERT INTO gate_leases (name, owner, expires) VALUES ($1, $2, $3)
      ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires = EXCLUDED.expires
      WHERE gate_leases.owner = EXCLUDED.owner OR gate_leases.expires < $4`, [name, owner, until, now]);
    return (r.rowCount ?? 0) > 0;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.query('DELETE FROM gate_leases WHERE name = $1 AND owner = $2', [name, owner]);
  }
}
