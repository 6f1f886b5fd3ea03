/**
 * Servers other users of the project run: ACTIVE at once, without network or SSH, owned by
 * another user id and carrying none of our metadata. They use part of the quota, and
 * `GET /limits` counts them, as a real shared project does; a pool manager must do its quota
 * arithmetic with them in.
 */
import type { CloudState, ServerRecord } from './state.ts';
import { randomAlnum, uuid } from './util.ts';

/** The flavor asked for does not exist in the cloud. */
export class UnknownFlavorError extends Error {}

/** Adds `count` ACTIVE servers of `flavor` (id or name; default the smallest); returns their ids. */
export function addUnmanagedServers(cloud: CloudState, count: number, flavor?: string): string[] {
  const f = flavor === undefined
    ? [...cloud.flavors].sort((a, b) => a.vcpus - b.vcpus || a.ram - b.ram)[0]
    : cloud.flavors.find((x) => x.id === flavor || x.name === flavor);
  if (!f) throw new UnknownFlavorError(`cloud ${cloud.name} has no flavor ${flavor}`);
  const image = cloud.images.find((i) => i.status === 'active') ?? cloud.images[0];
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const now = Date.now();
    const s: ServerRecord = {
      id: uuid(), seq: cloud.nextSeq(), name: `other-user-${randomAlnum(6).toLowerCase()}`, flavor: { ...f }, imageId: image?.id ?? '',
      networkIds: [], keyName: null, authorizedKey: null, metadata: {}, tags: [], description: null, securityGroups: ['default'],
      reservationId: `r-${randomAlnum(8).toLowerCase()}`, created: now, updated: now, launchedAt: now, terminatedAt: null,
      deletedAt: null, status: 'ACTIVE', taskState: null, vmState: 'active', powerState: 1, scheduled: true, fault: null,
      portIds: [], volumes: [], plan: 'boot', timers: new Set(), userId: cloud.otherUserId,
    };
    cloud.addServer(s);
    ids.push(s.id);
  }
  return ids;
}
