import type { NodeRecord, RequestRecord } from '../model.ts';

/**
 * Status rows: the flat, snake_case records behind `nodepool list`, `/node-list` and their JSON.
 * Field names and column headers follow Nodepool's status module, so an operator's scripts and
 * habits carry over; `age` is whole seconds in the current state (Nodepool's `state_time`), and
 * only the text table turns it into `dd:hh:mm:ss`.
 */

export interface Column<K extends string = string> {
  key: K;
  header: string;
  /** Shown by `list --detail` (and in the table only when asked for). */
  detail?: boolean;
  /** Too long for a table row; in JSON always, in a table only when named in `fields`. */
  jsonOnly?: boolean;
}

export type Cell = string | number | boolean | null | string[];

export const NODE_COLUMNS = [
  { key: 'id', header: 'ID' },
  { key: 'provider', header: 'Provider' },
  { key: 'label', header: 'Label' },
  { key: 'server_id', header: 'Server ID' },
  { key: 'public_ipv4', header: 'Public IPv4' },
  { key: 'ipv6', header: 'IPv6' },
  { key: 'state', header: 'State' },
  { key: 'age', header: 'Age' },
  { key: 'locked', header: 'Locked' },
  { key: 'pool', header: 'Pool', detail: true },
  { key: 'hostname', header: 'Hostname', detail: true },
  { key: 'private_ipv4', header: 'Private IPv4', detail: true },
  { key: 'az', header: 'AZ', detail: true },
  { key: 'username', header: 'Username', detail: true },
  { key: 'connection_port', header: 'Port', detail: true },
  { key: 'launcher', header: 'Launcher', detail: true },
  { key: 'allocated_to', header: 'Allocated To', detail: true },
  { key: 'hold_reason', header: 'Hold Reason', detail: true },
  { key: 'hold_expires', header: 'Hold Expires', detail: true },
  { key: 'comment', header: 'Comment', detail: true },
  { key: 'interface_ip', header: 'Interface IP', jsonOnly: true },
  { key: 'host_keys', header: 'Host Keys', jsonOnly: true },
] as const satisfies readonly Column[];

export type NodeRow = Record<(typeof NODE_COLUMNS)[number]['key'], Cell>;

export const REQUEST_COLUMNS = [
  { key: 'id', header: 'Request ID' },
  { key: 'priority', header: 'Priority' },
  { key: 'state', header: 'State' },
  { key: 'requestor', header: 'Requestor' },
  { key: 'labels', header: 'Labels' },
  { key: 'provider', header: 'Provider' },
  { key: 'nodes', header: 'Nodes' },
  { key: 'age', header: 'Age' },
  { key: 'reason', header: 'Reason' },
  { key: 'tenant', header: 'Tenant', detail: true },
  { key: 'pool', header: 'Pool', detail: true },
] as const satisfies readonly Column[];

export type RequestRow = Record<(typeof REQUEST_COLUMNS)[number]['key'], Cell>;

/** Whole seconds from `since` to `now`, never negative (clocks of two hosts may disagree a little). */
export function ageSeconds(since: number, now: number): number {
  return Math.max(0, Math.floor((now - since) / 1000));
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** A node is locked while a launcher's lease on it runs (Nodepool: a held ZooKeeper lock). */
export function isLocked(node: NodeRecord, now: number): boolean {
  return node.leaseOwner !== null && node.leaseExpires !== null && node.leaseExpires > now;
}

export function nodeRow(n: NodeRecord, now: number): NodeRow {
  return {
    id: n.id,
    provider: n.provider,
    label: n.label,
    server_id: n.serverId,
    // Nodepool shows the address a job connects to; a cloud without public addresses has only this.
    public_ipv4: n.publicIpv4 ?? n.interfaceIp,
    ipv6: n.publicIpv6,
    state: n.state,
    age: ageSeconds(n.stateTime, now),
    locked: isLocked(n, now) ? 'locked' : 'unlocked',
    pool: n.pool,
    hostname: n.hostname,
    private_ipv4: n.privateIpv4,
    az: n.az,
    username: n.username,
    connection_port: n.connectionPort,
    launcher: isLocked(n, now) ? n.leaseOwner : null,
    allocated_to: n.allocatedTo,
    hold_reason: n.holdReason,
    hold_expires: iso(n.holdExpires),
    comment: n.comment,
    interface_ip: n.interfaceIp,
    host_keys: n.hostKeys,
  };
}

export function nodeRows(nodes: readonly NodeRecord[], now: number): NodeRow[] {
  return nodes.map((n) => nodeRow(n, now));
}

export function requestRow(r: RequestRecord, now: number): RequestRow {
  return {
    id: r.id,
    priority: r.priority,
    state: r.state,
    requestor: r.requestor,
    labels: r.labels,
    provider: r.provider,
    nodes: r.nodes,
    age: ageSeconds(r.stateTime, now),
    reason: r.reason,
    tenant: r.tenant,
    pool: r.pool,
  };
}

export function requestRows(requests: readonly RequestRecord[], now: number): RequestRow[] {
  return requests.map((r) => requestRow(r, now));
}
