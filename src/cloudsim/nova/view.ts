/**
 * A server as Nova shows it to a project member, by microversion. Key order follows the
 * recorded answers (show and detail differ: detail puts security_groups last and has no
 * server_groups).
 */
import { visibleFloatingIps } from '../neutron/network-ops.ts';
import { bookmark, links } from './common.ts';
import type { CloudState, ServerRecord } from '../state.ts';
import { isoMicros, isoSeconds } from '../util.ts';

type Json = Record<string, unknown>;

export function serverBrief(cloud: CloudState, s: ServerRecord): Json {
  return { id: s.id, name: s.name, links: links(cloud, 'servers', s.id) };
}

function flavorView(cloud: CloudState, s: ServerRecord, mv: number): Json {
  const f = s.flavor;
  if (mv >= 47) {
    return { vcpus: f.vcpus, ram: f.ram, disk: f.disk, ephemeral: f.ephemeral, swap: f.swap, original_name: f.name, extra_specs: { ...f.extraSpecs } };
  }
  return { id: f.id, links: bookmark(cloud, 'flavors', f.id) };
}

/**
 * Fixed IPs by network name, filled once the server has its ports (at ACTIVE); a floating IP
 * follows its port's fixed IP once Nova has heard of the association.
 */
function addresses(cloud: CloudState, s: ServerRecord): Json {
  const out: Record<string, Json[]> = {};
  if (s.status === 'DELETED') return out;
  for (const id of s.portIds) {
    const p = cloud.ports.get(id);
    const net = p && cloud.findNetwork(p.networkId);
    if (!p || !net) continue;
    const list = (out[net.name] ??= []);
    list.push({ version: 4, addr: p.ip, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': p.mac });
    if (cloud.floatingIps.size === 0) continue;
    for (const fip of visibleFloatingIps(cloud, p.id)) {
      list.push({ version: 4, addr: fip.address, 'OS-EXT-IPS:type': 'floating', 'OS-EXT-IPS-MAC:mac_addr': p.mac });
    }
  }
  return out;
}

/** Hostname Nova derives from the display name (2.90+). */
function hostname(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'server';
}

export function serverView(cloud: CloudState, s: ServerRecord, mv: number, mode: 'show' | 'detail'): Json {
  const deleted = s.status === 'DELETED';
  const hasSecurityGroups = s.portIds.length > 0 && !deleted;
  const v: Json = {
    id: s.id,
    name: s.name,
    status: s.status,
    tenant_id: cloud.projectId,
    user_id: s.userId ?? cloud.userId,
    metadata: deleted ? {} : { ...s.metadata },
    hostId: s.scheduled ? cloud.hostId : '',
    image: { id: s.imageId, links: bookmark(cloud, 'images', s.imageId) },
    flavor: flavorView(cloud, s, mv),
    created: isoSeconds(s.created),
    updated: isoSeconds(s.updated),
    addresses: addresses(cloud, s),
    accessIPv4: '',
    accessIPv6: '',
    links: links(cloud, 'servers', s.id),
    'OS-DCF:diskConfig': 'MANUAL',
  };
  if (s.status === 'BUILD' || s.status === 'ACTIVE') v.progress = 0;
  if (s.fault && (s.status === 'ERROR' || deleted)) {
    v.fault = { code: s.fault.code, created: isoSeconds(s.fault.created), message: s.fault.message };
  }
  v['OS-EXT-AZ:availability_zone'] = s.scheduled ? 'nova' : '';
  v.config_drive = '';
  v.key_name = s.keyName;
  v['OS-SRV-USG:launched_at'] = s.launchedAt === null ? null : isoMicros(s.launchedAt);
  v['OS-SRV-USG:terminated_at'] = s.terminatedAt === null ? null : isoMicros(s.terminatedAt);
  const securityGroups = s.securityGroups.map((name) => ({ name }));
  if (hasSecurityGroups && mode === 'show') v.security_groups = securityGroups;
  if (mv >= 90) v['OS-EXT-SRV-ATTR:hostname'] = hostname(s.name);
  v['OS-EXT-STS:task_state'] = s.taskState;
  v['OS-EXT-STS:vm_state'] = s.vmState;
  v['OS-EXT-STS:power_state'] = s.powerState;
  // delete_on_termination is shown from 2.3.
  v['os-extended-volumes:volumes_attached'] = s.volumes.map((a) => (mv >= 3 ? { id: a.id, delete_on_termination: a.deleteOnTermination } : { id: a.id }));
  if (mv >= 9) v.locked = false;
  if (mv >= 73) v.locked_reason = null;
  if (mv >= 19) v.description = s.description;
  // A build request keeps the tags as sent; the cell database returns them sorted.
  if (mv >= 26) v.tags = deleted ? [] : s.status === 'BUILD' ? [...s.tags] : [...s.tags].sort();
  if (mv >= 63) v.trusted_image_certificates = null;
  if (mv >= 71 && mode === 'show') v.server_groups = [];
  if (hasSecurityGroups && mode === 'detail') v.security_groups = securityGroups;
  return v;
}
