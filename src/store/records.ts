import { randomUUID } from 'node:crypto';
import type { NodeRecord, RequestRecord } from '../model.ts';

/**
 * Ids are short and sortable by creation: a millisecond timestamp in base 36 and random
 * characters, so `node list` reads well and two processes never collide.
 */
export function newId(now: number): string {
  return now.toString(36).padStart(9, '0') + randomUUID().replace(/-/g, '').slice(0, 7);
}

export function newNodeRecord(o: {
  label: string; provider: string; pool: string; connectionPort: number; username: string; now: number;
  allocatedTo?: string | null; attempt?: number; leaseOwner?: string | null; leaseExpires?: number | null; pythonPath?: string | null;
}): NodeRecord {
  const id = newId(o.now);
  return {
    id, label: o.label, provider: o.provider, pool: o.pool, state: 'building', step: 'pending', serverId: null,
    hostname: `np-${id}`, interfaceIp: null, publicIpv4: null, privateIpv4: null, publicIpv6: null, az: null,
    connectionPort: o.connectionPort, username: o.username, hostKeys: [], allocatedTo: o.allocatedTo ?? null,
    attempt: o.attempt ?? 1, leaseOwner: o.leaseOwner ?? null, leaseExpires: o.leaseExpires ?? null,
    holdReason: null, holdExpires: null, comment: null, createdAt: o.now, stateTime: o.now, launchStartedAt: null,
    createAnsweredAt: null, pythonPath: o.pythonPath ?? null,
  };
}

export function newRequestRecord(o: {
  labels: string[]; requestor: string; now: number; priority?: number; tenant?: string | null;
}): RequestRecord {
  return {
    id: newId(o.now), state: 'requested', labels: o.labels, requestor: o.requestor, priority: o.priority ?? 100,
    tenant: o.tenant ?? null, provider: null, pool: null, nodes: [], reason: null, leaseOwner: null,
    leaseExpires: null, holderExpires: null, createdAt: o.now, stateTime: o.now, fulfilledAt: null,
  };
}
