import type { NodeRecord, RequestRecord } from '../model.ts';

/**
 * What a scheduler receives for a request: its state and, once fulfilled, every node with what a
 * job needs to log in (address, port, user, SSH host keys to pin). Times are ISO 8601 strings.
 */

export interface SchedulerNodeView {
  id: string;
  label: string;
  provider: string;
  pool: string;
  state: string;
  hostname: string;
  interface_ip: string | null;
  public_ipv4: string | null;
  private_ipv4: string | null;
  ipv6: string | null;
  az: string | null;
  connection_type: 'ssh';
  connection_port: number;
  username: string;
  host_keys: string[];
}

export interface RequestView {
  id: string;
  state: string;
  labels: string[];
  requestor: string;
  priority: number;
  tenant: string | null;
  provider: string | null;
  pool: string | null;
  reason: string | null;
  created_at: string;
  fulfilled_at: string | null;
  /** The requestor's lease on the nodes: renew by heartbeat before it passes. */
  lease_expires_at: string | null;
  nodes: SchedulerNodeView[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function schedulerNodeView(n: NodeRecord): SchedulerNodeView {
  return {
    id: n.id, label: n.label, provider: n.provider, pool: n.pool, state: n.state, hostname: n.hostname,
    interface_ip: n.interfaceIp, public_ipv4: n.publicIpv4, private_ipv4: n.privateIpv4, ipv6: n.publicIpv6,
    az: n.az, connection_type: 'ssh', connection_port: n.connectionPort, username: n.username, host_keys: n.hostKeys,
  };
}

/**
 * `nodes` resolves the request's node ids (in label order); only a fulfilled request shows them,
 * since before that the set may still change. A node already gone is left out.
 */
export function requestView(r: RequestRecord, nodes: (id: string) => NodeRecord | null | undefined): RequestView {
  const shown = r.state === 'fulfilled'
    ? r.nodes.map(nodes).filter((n): n is NodeRecord => !!n).map(schedulerNodeView)
    : [];
  return {
    id: r.id, state: r.state, labels: r.labels, requestor: r.requestor, priority: r.priority, tenant: r.tenant,
    provider: r.provider, pool: r.pool, reason: r.reason, created_at: new Date(r.createdAt).toISOString(),
    fulfilled_at: iso(r.fulfilledAt), lease_expires_at: iso(r.holderExpires), nodes: shown,
  };
}
