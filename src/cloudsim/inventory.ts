/**
 * The whole content of a simulated cloud in one plain object, for a test to compare with the
 * store ("nothing leaks") and for the admin endpoint.
 */
import type { CloudState } from './state.ts';
import type { SimInventory } from './types.ts';

export function inventory(cloud: CloudState): SimInventory {
  return {
    servers: [...cloud.servers.values()].filter((s) => s.status !== 'DELETED').map((s) => ({
      id: s.id, name: s.name, status: s.status, taskState: s.taskState, flavorId: s.flavor.id, metadata: { ...s.metadata },
      tags: [...s.tags], unmanaged: s.userId !== undefined, portIds: [...s.portIds], volumeIds: s.volumes.map((v) => v.id),
    })),
    ports: [...cloud.ports.values()].map((p) => ({
      id: p.id, networkId: p.networkId, deviceId: p.deviceId, deviceOwner: p.deviceOwner, status: p.status, ip: p.ip, tags: [...p.tags],
    })),
    floatingIps: [...cloud.floatingIps.values()].map((f) => ({
      id: f.id, address: f.address, networkId: f.networkId, portId: f.portId, fixedIp: f.fixedIp, status: f.status,
      description: f.description, tags: [...f.tags],
    })),
    volumes: [...cloud.volumes.values()].map((v) => ({
      id: v.id, name: v.name, status: v.status, size: v.size, metadata: { ...v.metadata }, attachedTo: v.attachedTo?.serverId ?? null,
      bootable: v.bootable,
    })),
    images: cloud.images.map((i) => ({
      id: i.id, name: i.name, status: i.status, visibility: i.visibility, ownedByProject: i.owner === cloud.projectId, properties: { ...i.properties },
    })),
    keypairs: [...cloud.keypairs.keys()],
  };
}
