import type { NodeRecord, NodeState, RequestRecord, RequestState } from '../../model.ts';
import type { NodePatch, RequestPatch, StoreCondition } from '../store.ts';
import { columns, encodeJson, type Table } from '../columns.ts';

export type { Table } from '../columns.ts';

/**
 * Row codecs and SQL for the hot paths. The reconcile loop reads a snapshot and writes a few rows
 * per pass; through drizzle's query builder, building the SQL and mapping the rows took 40% of
 * the launcher's CPU in a 500-request burst, so these statements are written once, cached by
 * their text, and rows are mapped by hand. The column names are those of ../columns.ts.
 */

export interface RawNode {
  id: string; label: string; provider: string; pool: string; state: string; step: string | null; server_id: string | null;
  hostname: string; interface_ip: string | null; public_ipv4: string | null; private_ipv4: string | null; public_ipv6: string | null;
  az: string | null; connection_port: number; username: string; host_keys: string; allocated_to: string | null; attempt: number;
  lease_owner: string | null; lease_expires: number | null; hold_reason: string | null; hold_expires: number | null;
  comment: string | null; created_at: number; state_time: number; launch_started_at: number | null;
  create_answered_at: number | null; python_path?: string | null;
}

export interface RawRequest {
  id: string; state: string; labels: string; requestor: string; priority: number; tenant: string | null; provider: string | null;
  pool: string | null; nodes: string; reason: string | null; lease_owner: string | null; lease_expires: number | null;
  holder_expires: number | null; created_at: number; state_time: number; fulfilled_at: number | null;
}

/** Where each column of a row is in a raw (array) result: from the statement's own column list. */
export type ColumnIndex<Raw> = Record<keyof Raw, number>;
export type NodeColumnIndex = ColumnIndex<RawNode>;
export type RequestColumnIndex = ColumnIndex<RawRequest>;

export function columnIndex<Raw>(columns: readonly { name: string }[]): ColumnIndex<Raw> {
  return Object.fromEntries(columns.map((c, i) => [c.name, i])) as ColumnIndex<Raw>;
}

/**
 * A node from a raw row. Listing 10,000 nodes took 70-100 ms with better-sqlite3's row objects
 * (26 keys each, built in C++) and 28-40 ms as arrays mapped here (2-core machine, busy); one
 * node or request by id is read the same way.
 */
export function nodeFromArray(a: readonly unknown[], i: NodeColumnIndex): NodeRecord {
  return {
    id: a[i.id] as string, label: a[i.label] as string, provider: a[i.provider] as string, pool: a[i.pool] as string,
    state: a[i.state] as NodeState, step: a[i.step] as NodeRecord['step'], serverId: a[i.server_id] as string | null,
    hostname: a[i.hostname] as string, interfaceIp: a[i.interface_ip] as string | null, publicIpv4: a[i.public_ipv4] as string | null,
    privateIpv4: a[i.private_ipv4] as string | null, publicIpv6: a[i.public_ipv6] as string | null, az: a[i.az] as string | null,
    connectionPort: a[i.connection_port] as number, username: a[i.username] as string, hostKeys: JSON.parse(a[i.host_keys] as string),
    allocatedTo: a[i.allocated_to] as string | null, attempt: a[i.attempt] as number, leaseOwner: a[i.lease_owner] as string | null,
    leaseExpires: a[i.lease_expires] as number | null, holdReason: a[i.hold_reason] as string | null, holdExpires: a[i.hold_expires] as number | null,
    comment: a[i.comment] as string | null, createdAt: a[i.created_at] as number, stateTime: a[i.state_time] as number,
    launchStartedAt: a[i.launch_started_at] as number | null, createAnsweredAt: (a[i.create_answered_at] ?? null) as number | null,
    pythonPath: (a[i.python_path] ?? null) as string | null,
  };
}

export function requestFromArray(a: readonly unknown[], i: RequestColumnIndex): RequestRecord {
  return {
    id: a[i.id] as string, state: a[i.state] as RequestState, labels: JSON.parse(a[i.labels] as string), requestor: a[i.requestor] as string,
    priority: a[i.priority] as number, tenant: a[i.tenant] as string | null, provider: a[i.provider] as string | null,
    pool: a[i.pool] as string | null, nodes: JSON.parse(a[i.nodes] as string), reason: a[i.reason] as string | null,
    leaseOwner: a[i.lease_owner] as string | null, leaseExpires: a[i.lease_expires] as number | null,
    holderExpires: a[i.holder_expires] as number | null, createdAt: a[i.created_at] as number, stateTime: a[i.state_time] as number,
    fulfilledAt: a[i.fulfilled_at] as number | null,
  };
}

const encode = encodeJson;

const insertSqls = new Map<Table, { sql: string; keys: string[] }>();

/** `INSERT INTO table (...) VALUES (...)` for a whole record (the text made once per table), and its arguments. */
export function insertSql(table: Table, rec: NodeRecord | RequestRecord): { sql: string; args: unknown[] } {
  let made = insertSqls.get(table);
  if (!made) {
    const cols = columns(table);
    const keys = Object.keys(cols);
    made = { sql: `INSERT INTO ${table} (${keys.map((k) => cols[k]).join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`, keys };
    insertSqls.set(table, made);
  }
  return { sql: made.sql, args: made.keys.map((k) => encode(table, k, (rec as unknown as Record<string, unknown>)[k])) };
}

/** The WHERE clause of a conditional write (see `StoreCondition`), and its arguments. */
export function conditionSql(table: Table, id: string, cond: StoreCondition<string> | undefined): { sql: string; args: unknown[] } {
  const parts = ['id = ?'];
  const args: unknown[] = [id];
  if (cond?.states) { parts.push(`state IN (${cond.states.map(() => '?').join(', ')})`); args.push(...cond.states); }
  if (cond?.leaseFreeOr) {
    parts.push('(lease_owner IS NULL OR lease_owner = ? OR lease_expires < ?)');
    args.push(cond.leaseFreeOr.owner, cond.leaseFreeOr.now);
  }
  if (table === 'nodes' && cond?.unallocated) parts.push('allocated_to IS NULL');
  if (table === 'nodes' && cond?.allocatedTo) { parts.push('allocated_to = ?'); args.push(cond.allocatedTo); }
  if (table === 'requests' && cond?.holderLeaseAfter !== undefined) { parts.push('holder_expires > ?'); args.push(cond.holderLeaseAfter); }
  return { sql: parts.join(' AND '), args };
}

/** `UPDATE table SET ... WHERE <condition>` for the keys of a patch, and its arguments. */
export function updateSql(table: Table, id: string, patch: NodePatch | RequestPatch, cond: StoreCondition<string> | undefined): { sql: string; args: unknown[] } {
  const cols = columns(table);
  const keys = Object.keys(patch).filter((k) => k in cols && k !== 'id' && (patch as Record<string, unknown>)[k] !== undefined);
  const where = conditionSql(table, id, cond);
  return {
    sql: `UPDATE ${table} SET ${keys.length ? keys.map((k) => `${cols[k]} = ?`).join(', ') : 'id = id'} WHERE ${where.sql}`,
    args: [...keys.map((k) => encode(table, k, (patch as Record<string, unknown>)[k])), ...where.args],
  };
}
