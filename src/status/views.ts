import type { NodeRecord, RequestRecord } from '../model.ts';
import type { RequestView, SchedulerNodeView } from '../api/contract.ts';

/**
 * What a scheduler receives for a request (the shapes are in src/api/contract.ts): its state and,
 * once fulfilled, every node with what a job needs to log in.
 */

export type { RequestView, SchedulerNodeView };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function schedulerNodeView(n: NodeRecord): SchedulerNodeView {
  return {
    id: n.id, label: n.label, provider: n.provider, pool: n.pool, state: n.state, hostname: n.hostname,
    interface_ip: n.interfaceIp, public_ipv4: n.publicIpv4, private_ipv4: n.privateIpv4, ipv6: n.publicIpv6,
    az: n.az, connection_type: 'ssh', connection_port: n.connectionPort, username: n.username, host_keys: n.hostKeys, python_path: n.pythonPath ?? 'auto',
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
