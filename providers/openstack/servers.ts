import { classifyServerFault } from './classify.ts';
/**
 * Nova server bodies (2.1 and later shapes alike) turned into the launcher's `ServerView`.
 */
import type { ServerView } from '../provider.ts';
import type { NovaServer } from './schemas.ts';

export function toServerView(s: NovaServer): ServerView {
  const ips = pickAddresses(s);
  return {
    id: s.id,
    name: s.name,
    state: stateOf(s.status, s['OS-EXT-STS:task_state'] ?? null),
    status: s.status,
    metadata: s.metadata ?? {},
    tags: s.tags ?? [],
    ...ips,
    // A server still in its build request answers "" for the zone.
    az: s['OS-EXT-AZ:availability_zone'] || null,
    fault: s.fault ? { code: s.fault.code, message: s.fault.message.trim(), kind: classifyServerFault(s.fault).kind } : null,
    created: s.created ?? null,
    updated: s.updated ?? null,
  };
}

/**
 * Nova keeps a deleted server ACTIVE with task_state `deleting` until the compute host is done
 * (0.09 s in the samples, minutes on a busy host); the launcher must not count it as usable.
 * The same holds for a BUILD or ERROR server being deleted.
 */
export function stateOf(status: string, taskState: string | null): ServerView['state'] {
  if (status === 'DELETED') return 'deleted';
  if (taskState === 'deleting') return 'deleting';
  switch (status) {
    case 'BUILD': return 'building';
    case 'ACTIVE': return 'active';
    case 'ERROR': return 'error';
    default: return 'other';
  }
}

export interface ServerAddresses {
  privateIpv4: string | null;
  publicIpv4: string | null;
  publicIpv6: string | null;
}

/**
 * Reads `addresses` (keyed by network name; entries typed `fixed` or `floating`):
 *  - privateIpv4: the first fixed IPv4, whatever its range.
 *  - publicIpv4: the first floating IPv4; else `accessIPv4` when the cloud sets one; else the
 *    first fixed IPv4 outside RFC 1918 (10/8, 172.16/12, 192.168/16), which is how provider
 *    networks hand out routable addresses. Loopback (the simulator's 127.x) and documentation
 *    ranges count as reachable. Otherwise null: the node is reached on its private address, and
 *    the launcher uses privateIpv4 whenever publicIpv4 is null.
 *  - publicIpv6: the first IPv6 (IPv6 addresses are not NATed), else `accessIPv6`.
 */
export function pickAddresses(s: NovaServer): ServerAddresses {
  const entries = Object.values(s.addresses ?? {}).flat();
  // Entries without OS-EXT-IPS:type (very old clouds) are fixed addresses.
  const fixed4 = entries.filter((e) => e.version === 4 && (e['OS-EXT-IPS:type'] ?? 'fixed') === 'fixed').map((e) => e.addr);
  const floating4 = entries.filter((e) => e.version === 4 && e['OS-EXT-IPS:type'] === 'floating').map((e) => e.addr);
  const v6 = entries.filter((e) => e.version === 6).map((e) => e.addr);
  return {
    privateIpv4: fixed4[0] ?? null,
    publicIpv4: floating4[0] ?? (s.accessIPv4 || null) ?? fixed4.find((a) => !isPrivateIpv4(a)) ?? null,
    publicIpv6: v6[0] ?? (s.accessIPv6 || null),
  };
}

export function isPrivateIpv4(addr: string): boolean {
  const p = addr.split('.').map(Number);
  if (p.length !== 4 || p.some((n) => !Number.isInteger(n))) return false;
  return p[0] === 10 || (p[0] === 172 && p[1] >= 16 && p[1] <= 31) || (p[0] === 192 && p[1] === 168);
}
