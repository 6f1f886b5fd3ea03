/**
 * What Cinder does behind its API: volumes created (`creating` -> `available`), deleted
 * (`deleting` -> gone), and the boot volumes Nova makes for servers booted from volume
 * (`in-use` while the server lives; deleted with it, or left `available` when the boot asked
 * to keep it: the volumes a leak cleaner looks for).
 */
import type { VolumeRecord } from '../records.ts';
import type { CloudState, ServerRecord } from '../state.ts';
import { uuid } from '../util.ts';

export interface NewVolume {
  name: string;
  description: string | null;
  size: number;
  metadata: Record<string, string>;
  imageId: string | null;
}

/** Cinder's usage: every volume counts until it is gone. */
export function volumeUsage(cloud: CloudState): { volumes: number; gigabytes: number } {
  let gigabytes = 0;
  for (const v of cloud.volumes.values()) gigabytes += v.size;
  return { volumes: cloud.volumes.size, gigabytes };
}

function record(v: NewVolume, status: VolumeRecord['status']): VolumeRecord {
  const now = Date.now();
  return {
    id: uuid(), name: v.name, description: v.description, size: v.size, status, metadata: { ...v.metadata },
    bootable: v.imageId !== null, imageId: v.imageId, attachedTo: null, createdAt: now, updatedAt: now, timers: new Set(),
  };
}

/** A volume asked for through the API: `creating`, then `available` after the volume delay. */
export function createVolume(cloud: CloudState, v: NewVolume): VolumeRecord {
  const vol = record(v, 'creating');
  cloud.volumes.set(vol.id, vol);
  after(vol, cloud.config.volumeDelayMs, () => {
    if (vol.status === 'creating') setStatus(vol, 'available');
  });
  return vol;
}

/** Accepts a delete: `deleting` now, gone after the volume delay. */
export function deleteVolume(cloud: CloudState, vol: VolumeRecord): void {
  clearTimers(vol);
  vol.attachedTo = null;
  setStatus(vol, 'deleting');
  after(vol, cloud.config.volumeDelayMs, () => cloud.volumes.delete(vol.id));
}

/** At ACTIVE: the boot volume of a server booted from volume, attached and in use. */
export function attachBootVolumes(cloud: CloudState, s: ServerRecord): void {
  const want = s.bootVolume;
  if (!want) return;
  const vol = record({ name: '', description: null, size: want.size, metadata: {}, imageId: s.imageId }, 'in-use');
  vol.attachedTo = { serverId: s.id, attachmentId: uuid(), at: Date.now() };
  cloud.volumes.set(vol.id, vol);
  s.volumes.push({ id: vol.id, deleteOnTermination: want.deleteOnTermination });
}

/** With the server: its volumes deleted when it asked so, otherwise detached and `available`. */
export function releaseBootVolumes(cloud: CloudState, s: ServerRecord): void {
  for (const { id, deleteOnTermination } of s.volumes) {
    const vol = cloud.volumes.get(id);
    if (!vol) continue;
    if (deleteOnTermination) deleteVolume(cloud, vol);
    else {
      vol.attachedTo = null;
      setStatus(vol, 'available');
    }
  }
  s.volumes = [];
}

export function clearVolumeTimers(cloud: CloudState): void {
  for (const v of cloud.volumes.values()) clearTimers(v);
}

function setStatus(vol: VolumeRecord, status: VolumeRecord['status']): void {
  vol.status = status;
  vol.updatedAt = Date.now();
}

function after(vol: VolumeRecord, ms: number, fn: () => void): void {
  const t = setTimeout(() => {
    vol.timers.delete(t);
    fn();
  }, Math.max(0, ms));
  vol.timers.add(t);
}

function clearTimers(vol: VolumeRecord): void {
  for (const t of vol.timers) clearTimeout(t);
  vol.timers.clear();
}
