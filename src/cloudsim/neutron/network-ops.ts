/**
 * What Neutron does behind its API, shared by the API handlers and the server lifecycle: ports
 * made and removed, floating IPs bound to a port and let go. A floating IP reaches its server
 * for real: the server's SSH also listens at the floating address while it is associated.
 */
import type { FloatingIpRecord } from '../records.ts';
import type { CloudState, PortRecord } from '../state.ts';
import { randomMac, uuid } from '../util.ts';

/** A port for a server on a network, ACTIVE, owned by Nova (its addresses come at boot). */
export function novaPort(cloud: CloudState, networkId: string, ip: string, serverId: string): PortRecord {
  const now = Date.now();
  const port: PortRecord = {
    id: uuid(), name: '', networkId, mac: randomMac(), ip, deviceId: serverId, deviceOwner: 'compute:nova',
    status: 'ACTIVE', tags: [], revision: 3, createdAt: now, updatedAt: now,
  };
  cloud.ports.set(port.id, port);
  return port;
}

/** Removes a port: its address goes back, floating IPs on it are let go, its server forgets it. */
export function removePort(cloud: CloudState, id: string): void {
  const port = cloud.ports.get(id);
  if (!port) return;
  for (const fip of cloud.floatingIps.values()) if (fip.portId === id) disassociate(cloud, fip);
  cloud.ports.delete(id);
  cloud.addresses.release(port.ip);
  const server = port.deviceId ? cloud.servers.get(port.deviceId) : undefined;
  if (server) server.portIds = server.portIds.filter((p) => p !== id);
  // A port deleted under a live server takes its address away from the guest too.
  if (server?.node) void server.node.unlisten(port.ip);
}

/** Binds a floating IP to a port; Nova shows it after the `network-changed` delay. */
export function associate(cloud: CloudState, fip: FloatingIpRecord, port: PortRecord): void {
  if (fip.portId && fip.portId !== port.id) disassociate(cloud, fip);
  const now = Date.now();
  Object.assign(fip, {
    portId: port.id, fixedIp: port.ip, routerId: cloud.routerId, updatedAt: now, revision: fip.revision + 1,
    novaSeesAt: now + cloud.config.floatingIpNovaDelayMs,
  });
  const node = cloud.servers.get(port.deviceId)?.node;
  if (node && !cloud.offline) {
    node.listen(fip.address, cloud.config.sshPort).catch((err: Error) =>
      cloud.logger.warn({ cloud: cloud.name, floatingIp: fip.address, err: err.message }, 'floating IP cannot reach its server'));
  }
}

export function disassociate(cloud: CloudState, fip: FloatingIpRecord): void {
  if (!fip.portId) return;
  const port = cloud.ports.get(fip.portId);
  const node = port ? cloud.servers.get(port.deviceId)?.node : undefined;
  if (node) void node.unlisten(fip.address);
  Object.assign(fip, { portId: null, fixedIp: null, routerId: null, updatedAt: Date.now(), revision: fip.revision + 1, novaSeesAt: null });
}

/** Releases a floating IP (also while associated, as Neutron allows). */
export function releaseFloatingIp(cloud: CloudState, fip: FloatingIpRecord): void {
  disassociate(cloud, fip);
  cloud.floatingIps.delete(fip.id);
  cloud.floatingAddresses.release(fip.address);
}

/** The floating IPs Nova shows on this port (associated, and Nova has heard of it). */
export function visibleFloatingIps(cloud: CloudState, portId: string, now = Date.now()): FloatingIpRecord[] {
  const out: FloatingIpRecord[] = [];
  for (const fip of cloud.floatingIps.values()) {
    if (fip.portId === portId && fip.novaSeesAt !== null && fip.novaSeesAt <= now) out.push(fip);
  }
  return out;
}
