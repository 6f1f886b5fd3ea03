import type { NodeRecord, NodeState, RequestRecord, RequestState } from '../../model.ts';
import type { NodePatch, RequestPatch, StoreCondition } from '../store.ts';
import { createHash } from 'node:crypto';
import { columns, encodeJson, type Table } from '../columns.ts';

/**
 * The SQL of the hot paths, written by hand as on SQLite (../sqlite/rows.ts says why), each write
 * one statement: the conditional change, its audit row and its NOTIFY travel together in one
 * round trip, and the NOTIFY is delivered by PostgreSQL only if the change commits.
 */

/**
 * The channel every change is announced on, but the changes only the launchers of the changed
 * row's provider act on (`quietSql`); the payload is JSON (see `auditAndNotify`).
 */
export const CHANNEL = 'nodepool_changes';
/** Where those changes go instead: to their provider's channel, and to this one for whoever hears every change. */
export const DETAIL_CHANNEL = 'nodepool_detail';
/** Asked again each time a subscription comes or goes (a host-key scan's, for one). */
const channelOf = new Map<string, string>();
/** The channel of one provider's changes that only its own launchers act on (PostgreSQL's md5 of the name, as `auditAndNotify` sends). */
export function providerChannel(provider: string): string {
  let ch = channelOf.get(provider);
  if (!ch) {
    ch = `nodepool_p_${createHash('md5').update(provider, 'utf8').digest('hex')}`;
    channelOf.set(provider, ch);
  }
  return ch;
}

export interface PgNode {
  id: string; label: string; provider: string; pool: string; state: string; step: string | null; server_id: string | null;
  hostname: string; interface_ip: string | null; public_ipv4: string | null; private_ipv4: string | null; public_ipv6: string | null;
  az: string | null; connection_port: number; username: string; host_keys: string[]; allocated_to: string | null; attempt: number;
  lease_owner: string | null; lease_expires: number | null; hold_reason: string | null; hold_expires: number | null;
  comment: string | null; created_at: number; state_time: number; launch_started_at: number | null;
  create_answered_at: number | null; python_path?: string | null;
}

export interface PgRequest {
  id: string; state: string; labels: string[]; requestor: string; priority: number; tenant: string | null; provider: string | null;
  pool: string | null; nodes: string[]; reason: string | null; lease_owner: string | null; lease_expires: number | null;
  holder_expires: number | null; created_at: number; state_time: number; fulfilled_at: number | null;
}

export function nodeFromPg(r: PgNode): NodeRecord {
  return {
    id: r.id, label: r.label, provider: r.provider, pool: r.pool, state: r.state as NodeState, step: r.step as NodeRecord['step'],
    serverId: r.server_id, hostname: r.hostname, interfaceIp: r.interface_ip, publicIpv4: r.public_ipv4, privateIpv4: r.private_ipv4,
    publicIpv6: r.public_ipv6, az: r.az, connectionPort: r.connection_port, username: r.username, hostKeys: r.host_keys,
    allocatedTo: r.allocated_to, attempt: r.attempt, leaseOwner: r.lease_owner, leaseExpires: r.lease_expires,
    holdReason: r.hold_reason, holdExpires: r.hold_expires, comment: r.comment, createdAt: r.created_at, stateTime: r.state_time,
    launchStartedAt: r.launch_started_at, createAnsweredAt: r.create_answered_at ?? null, pythonPath: r.python_path ?? null,
  };
}

export function requestFromPg(r: PgRequest): RequestRecord {
  return {
    id: r.id, state: r.state as RequestState, labels: r.labels, requestor: r.requestor, priority: r.priority,
    tenant: r.tenant, provider: r.provider, pool: r.pool, nodes: r.nodes, reason: r.reason, leaseOwner: r.lease_owner,
    leaseExpires: r.lease_expires, holderExpires: r.holder_expires, createdAt: r.created_at, stateTime: r.state_time,
    fulfilledAt: r.fulfilled_at,
  };
}

export interface Sql { text: string; values: unknown[] }

/** Collects parameters and hands out their `$n` placeholders. */
class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

const kindOf = (table: Table) => (table === 'nodes' ? 'node' : 'request');

/**
 * The columns of a changed row its announcement carries as `row` (StoreEventRow), so that a
 * launcher can tell without a read whether the change concerns it (src/launcher/relevance.ts).
 * The RETURNING of each write lists them, prefixed `ev_`, from the row as the write left it.
 */
const FACTS: Record<Table, Record<string, string>> = {
  nodes: { provider: 'provider', label: 'label', leaseOwner: 'lease_owner', leaseExpires: 'lease_expires' },
  requests: { provider: 'provider', leaseOwner: 'lease_owner', leaseExpires: 'lease_expires' },
};

/** `RETURNING` items for the facts of the row aliased `t` (or unaliased with `t` = ''), and what routes its announcement. */
function factColumns(table: Table, t: string): string {
  const routing = table === 'nodes' ? `, ${t}allocated_to AS ev_allocated_to` : '';
  return Object.values(FACTS[table]).map((c) => `${t}${c} AS ev_${c}`).join(', ') + routing;
}

/** How a write changes its rows, for routing their announcements. */
export type WriteOp = 'insert' | 'update' | 'delete' | 'allocate';

/**
 * Whether a changed row's announcement is one only the launchers of its provider act on, as SQL
 * over the `ev_` facts and the from/to states of `src`. Every launcher plans with every provider's
 * rows (so that each picks the same pool for a request, src/launcher/serving.ts), but of another
 * provider's rows it uses only what decides where a request goes: how many nodes a pool holds
 * (inserts and deletes), its unassigned nodes (their states, and any change of assignment), how
 * many are booting (moves into and out of `building`), and every state of a request. The rest,
 * writes that move no state (a booting node's steps, a comment), an assigned node going in-use,
 * used and deleting, a fulfilled request's release and its holder's heartbeats, only the
 * provider's own launchers act on: half of the changes of a node's life. Before, with four
 * launchers each serving one of four providers, each heard 12 announcements per node of the whole
 * fleet, and re-read the rows they named.
 */
function quietSql(table: Table, op: WriteOp): string {
  if (op === 'insert' || op === 'delete' || op === 'allocate') return 'false';
  if (table === 'requests') return `(from_state = to_state AND to_state = 'fulfilled' AND ev_provider IS NOT NULL)`;
  return `(from_state = to_state OR (ev_allocated_to IS NOT NULL AND from_state <> 'building' AND to_state <> 'building'))`;
}

/**
 * PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more, and the write with it. The facts
 * are a few short names and a number (about 150 bytes with uuids), but a name is whatever the
 * operator chose: past this size an announcement goes without them, and its listeners read.
 */
const PAYLOAD_LIMIT = 7900;

/**
 * The tail shared by every write: an audit row per changed row whose state moved (from `src` with
 * columns id, from_state, to_state and the `ev_` facts), a NOTIFY per changed row, and the count of changed rows.
 */
function auditAndNotify(p: Params, table: Table, src: string, o: { at: number; by: string; reason: string | null; audit: boolean; event: string; origin: string; op: WriteOp }): string {
  const t = notifyTail(p, table, src, o, '');
  return `${t.ctes}\nSELECT ${t.changed} AS changed, ${t.notified} AS notified`;
}

/** The CTEs of `auditAndNotify`, named with the prefix `x`, and the SQL of its two counts. */
function notifyTail(p: Params, table: Table, src: string, o: { at: number; by: string; reason: string | null; audit: boolean; event: string; origin: string; op: WriteOp }, x: string): { ctes: string; changed: string; notified: string } {
  const kind = p.add(kindOf(table));
  const audit = o.audit
    ? `, ${x}aud AS (INSERT INTO state_changes (at, kind, id, from_state, to_state, "by", reason)
        SELECT ${p.add(o.at)}, ${kind}, id, from_state, to_state, ${p.add(o.by)}, ${p.add(o.reason)} FROM ${src}
        WHERE from_state IS DISTINCT FROM to_state)`
    : '';
  const bare = `'kind', ${kind}::text, 'id', id, 'state', ${p.add(o.event)}::text, 'origin', ${p.add(o.origin)}::text`;
  const row = Object.entries(FACTS[table]).map(([key, c]) => `'${key}', ev_${c}`).join(', ');
  const ctes = `${audit}, ${x}pay AS (SELECT CASE WHEN octet_length(with_row) < ${PAYLOAD_LIMIT} THEN with_row ELSE without_row END AS payload, quiet, ev_provider FROM
  (SELECT json_build_object(${bare}, 'row', json_build_object(${row}))::text AS with_row, json_build_object(${bare})::text AS without_row,
    ${quietSql(table, o.op)} AS quiet, ev_provider FROM ${src}) AS facts),
${x}ntf AS (SELECT pg_notify(CASE WHEN quiet THEN 'nodepool_p_' || md5(ev_provider) ELSE '${CHANNEL}' END, payload) FROM ${x}pay
  UNION ALL SELECT pg_notify('${DETAIL_CHANNEL}', payload) FROM ${x}pay WHERE quiet)`;
  return { ctes, changed: `(SELECT count(*) FROM ${src})::int`, notified: `(SELECT count(*) FROM ${x}ntf)::int` };
}

export interface WriteMeta { at: number; by: string; reason: string | null; origin: string }

/** Inserts a whole record; with `guard`, only if its pool holds fewer than `maxServers` nodes. */
export function insertSql(table: Table, rec: NodeRecord | RequestRecord, meta: WriteMeta, guard?: { maxServers: number; exclusiveServer?: boolean }): Sql {
  const cols = columns(table);
  const keys = Object.keys(cols);
  const p = new Params();
  const values = keys.map((k) => p.add(encodeJson(table, k, (rec as unknown as Record<string, unknown>)[k])));
  let source = `VALUES (${values.join(', ')})`;
  if (guard) {
    // nodepool_pool_room (migration 8) takes the pool's advisory lock, held to the end of this
    // statement's transaction, then counts: a volatile function's queries each read a fresh
    // snapshot, so the count sees every insert of an earlier holder of the lock, and this insert
    // needs no transaction of its own (it took four round trips: BEGIN, the lock, the insert,
    // COMMIT). A reusable server is held by one node at a time: checked under the same lock.
    const n = rec as NodeRecord;
    const server = guard.exclusiveServer ? n.serverId : null;
    source = `SELECT ${values.join(', ')} WHERE nodepool_pool_room(${p.add(n.provider)}, ${p.add(n.pool)}, ${p.add(guard.maxServers)}, ${p.add(server)}::text)`;
  }
  const text = `WITH ins AS (INSERT INTO ${table} (${keys.map((k) => cols[k]).join(', ')}) ${source}
  RETURNING id, NULL::text AS from_state, state AS to_state, ${factColumns(table, '')})${auditAndNotify(p, table, 'ins', { ...meta, audit: true, event: rec.state, op: 'insert' })}`;
  return { text, values: p.values };
}

/** The WHERE clause of a conditional write (see `StoreCondition`) on the row aliased `t`. */
function condition(p: Params, table: Table, id: string, cond: StoreCondition<string> | undefined): string {
  const parts = [`t.id = ${p.add(id)}`];
  if (cond?.states) parts.push(`t.state = ANY(${p.add(cond.states)}::text[])`);
  if (cond?.leaseFreeOr) {
    parts.push(`(t.lease_owner IS NULL OR t.lease_owner = ${p.add(cond.leaseFreeOr.owner)} OR t.lease_expires < ${p.add(cond.leaseFreeOr.now)})`);
  }
  if (table === 'nodes' && cond?.unallocated) parts.push('t.allocated_to IS NULL');
  if (table === 'nodes' && cond?.allocatedTo) parts.push(`t.allocated_to = ${p.add(cond.allocatedTo)}`);
  if (table === 'requests' && cond?.holderLeaseAfter !== undefined) parts.push(`t.holder_expires > ${p.add(cond.holderLeaseAfter)}`);
  return parts.join(' AND ');
}

/**
 * Claiming is this statement too: a launcher claims a request with `state IN ('requested')` and
 * `leaseFreeOr` me, so of several launchers that planned the same claim exactly one changes the row.
 * Measured against `UPDATE … WHERE id = (SELECT … ORDER BY priority, created_at LIMIT 1 FOR UPDATE
 * SKIP LOCKED)` with its partial index (`npm run bench:claim`, 2,000 requests, one connection per
 * claimer, this 2-core machine): 1 claimer 3,900–4,800 claims/s here against 4,700–4,900; 2 claimers
 * 3,700 against 4,700–5,200; 4 claimers 2,000–2,300 against 5,300–6,400, and here every loser's
 * statement is spent on nothing ((k−1)×2,000 of them). SKIP LOCKED is the faster queue; the
 * conditional update is kept because the claim is the planner's decision, made on its snapshot
 * with the pool that request goes to (the only reason a launcher picks one request over another),
 * and SKIP LOCKED would hand a launcher the oldest request before that decision. Even at four
 * launchers it claims over 2,000 requests a second, more than ten times what the launchers fulfil
 * end to end (50–160 nodes/s on this machine, `npm run bench:multi`), so claiming is not what limits them.
 *
 * A conditional update. When it changes the state, the row is first locked (`FOR UPDATE` in `prev`)
 * so the audit's from-state is the one the update replaced, even when another process wrote the
 * row between this statement's snapshot and its update.
 */
export function updateSql(table: Table, id: string, patch: NodePatch | RequestPatch, cond: StoreCondition<string> | undefined, meta: WriteMeta): Sql {
  const p = new Params();
  const w = updateParts(p, '', table, id, patch, cond, meta);
  return { text: `WITH ${w.ctes}\nSELECT ${w.changed} AS changed, ${w.notified} AS notified`, values: p.values };
}

export interface BatchWrite { table: Table; id: string; patch: NodePatch | RequestPatch; cond: StoreCondition<string> | undefined; meta: WriteMeta; optional?: boolean }

/**
 * Several conditional updates of different rows in one statement, all or none: each is the
 * statement of `updateSql` as CTEs of its own (prefixed `w<i>_`), and `nodepool_require`
 * (migration 9) fails the whole statement, so nothing is written, audited or announced, when one
 * that is not optional changed no row. Columns `c<i>`: the rows each changed. One round trip where
 * a transaction took two more (BEGIN, COMMIT). The rows must differ: the CTEs of one statement
 * all read the same snapshot, so a second write of a row would not see the first.
 */
export function updateAllSql(writes: readonly BatchWrite[]): Sql {
  const p = new Params();
  const parts = writes.map((w, i) => updateParts(p, `w${i}_`, w.table, w.id, w.patch, w.cond, w.meta));
  const must = parts.filter((_, i) => !writes[i].optional).map((w) => `${w.changed} > 0`);
  const check = must.length ? `,\nchk AS (SELECT nodepool_require(${must.join(' AND ')}) AS ok)` : '';
  const counts = parts.map((w, i) => `${w.changed} AS c${i}`).join(', ');
  const text = `WITH ${parts.map((w) => w.ctes).join(',\n')}${check}
SELECT ${counts}, ${parts.map((w) => w.notified).join(' + ')} AS notified${check ? ', (SELECT count(*) FROM chk)::int AS checked' : ''}`;
  return { text, values: p.values };
}

/** The CTEs of one conditional update (names prefixed `x`) and the SQL of its counts. */
function updateParts(p: Params, x: string, table: Table, id: string, patch: NodePatch | RequestPatch, cond: StoreCondition<string> | undefined, meta: WriteMeta): { ctes: string; changed: string; notified: string } {
  const cols = columns(table);
  const keys = Object.keys(patch).filter((k) => k in cols && k !== 'id' && (patch as Record<string, unknown>)[k] !== undefined);
  const set = keys.length ? keys.map((k) => `${cols[k]} = ${p.add(encodeJson(table, k, (patch as Record<string, unknown>)[k]))}`).join(', ') : 'id = t.id';
  const where = condition(p, table, id, cond);
  const state = (patch as { state?: string }).state;
  const head = state
    ? `${x}prev AS (SELECT id, state FROM ${table} WHERE id = ${p.add(id)} FOR UPDATE),
${x}upd AS (UPDATE ${table} t SET ${set} FROM ${x}prev prev WHERE prev.id = t.id AND ${where} RETURNING t.id, prev.state AS from_state, t.state AS to_state, ${factColumns(table, 't.')})`
    : `${x}upd AS (UPDATE ${table} t SET ${set} WHERE ${where} RETURNING t.id, t.state AS from_state, t.state AS to_state, ${factColumns(table, 't.')})`;
  // A change of assignment is every launcher's business (it makes or takes a pool's spare node).
  const op: WriteOp = 'allocatedTo' in patch && (patch as NodePatch).allocatedTo !== undefined ? 'allocate' : 'update';
  const tail = notifyTail(p, table, `${x}upd`, { ...meta, audit: !!state, event: state ?? '', op }, x);
  return { ctes: head + tail.ctes, changed: tail.changed, notified: tail.notified };
}

/** A conditional delete of a node, audited as a change to `gone`. */
export function removeSql(id: string, cond: StoreCondition<string> | undefined, meta: WriteMeta): Sql {
  const p = new Params();
  const where = condition(p, 'nodes', id, cond);
  const text = `WITH del AS (DELETE FROM nodes t WHERE ${where} RETURNING t.id, t.state AS from_state, 'gone'::text AS to_state, ${factColumns('nodes', 't.')})`;
  return { text: text + auditAndNotify(p, 'nodes', 'del', { ...meta, reason: null, audit: true, event: 'gone', op: 'delete' }), values: p.values };
}

/** `SELECT * FROM table` with the filters of `listNodes`/`listRequests`. */
export function selectSql(table: Table, f: { ids?: readonly string[]; states?: readonly string[]; provider?: string; label?: string; allocatedTo?: string; withHolderLease?: boolean; limit?: number }): Sql {
  const p = new Params();
  const where: string[] = [];
  if (f.ids) where.push(`id = ANY(${p.add(f.ids)}::text[])`);
  if (f.states) where.push(`state = ANY(${p.add(f.states)}::text[])`);
  if (f.provider) where.push(`provider = ${p.add(f.provider)}`);
  if (f.label) where.push(`label = ${p.add(f.label)}`);
  if (f.allocatedTo) where.push(`allocated_to = ${p.add(f.allocatedTo)}`);
  if (f.withHolderLease) where.push('holder_expires IS NOT NULL');
  const order = f.limit ? ` ORDER BY created_at DESC, id DESC LIMIT ${Math.max(0, Math.floor(f.limit))}` : ' ORDER BY created_at, id';
  return { text: `SELECT * FROM ${table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${order}`, values: p.values };
}
