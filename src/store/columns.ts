import type { NodeRecord, RequestRecord } from '../model.ts';

/**
 * Column names of the node and request tables, the same in SQLite and PostgreSQL, and the fields
 * stored as JSON text (SQLite) or jsonb (PostgreSQL).
 */

export const NODE_COLUMNS: Record<keyof NodeRecord, string> = {
  id: 'id', label: 'label', provider: 'provider', pool: 'pool', state: 'state', step: 'step', serverId: 'server_id',
  hostname: 'hostname', interfaceIp: 'interface_ip', publicIpv4: 'public_ipv4', privateIpv4: 'private_ipv4',
  publicIpv6: 'public_ipv6', az: 'az', connectionPort: 'connection_port', username: 'username', hostKeys: 'host_keys',
  allocatedTo: 'allocated_to', attempt: 'attempt', leaseOwner: 'lease_owner', leaseExpires: 'lease_expires',
  holdReason: 'hold_reason', holdExpires: 'hold_expires', comment: 'comment', createdAt: 'created_at',
  stateTime: 'state_time', launchStartedAt: 'launch_started_at', createAnsweredAt: 'create_answered_at',
  pythonPath: 'python_path',
};

export const REQUEST_COLUMNS: Record<keyof RequestRecord, string> = {
  id: 'id', state: 'state', labels: 'labels', requestor: 'requestor', priority: 'priority', tenant: 'tenant',
  provider: 'provider', pool: 'pool', nodes: 'nodes', reason: 'reason', leaseOwner: 'lease_owner',
  leaseExpires: 'lease_expires', holderExpires: 'holder_expires', createdAt: 'created_at', stateTime: 'state_time',
  fulfilledAt: 'fulfilled_at',
};

export const NODE_JSON: ReadonlySet<string> = new Set(['hostKeys']);
export const REQUEST_JSON: ReadonlySet<string> = new Set(['labels', 'nodes']);

export type Table = 'nodes' | 'requests';

export function columns(table: Table): Record<string, string> {
  return table === 'nodes' ? NODE_COLUMNS : REQUEST_COLUMNS;
}

export function encodeJson(table: Table, key: string, value: unknown): unknown {
  return (table === 'nodes' ? NODE_JSON : REQUEST_JSON).has(key) ? JSON.stringify(value) : value;
}
