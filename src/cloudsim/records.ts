/**
 * What a simulated cloud remembers of its floating IPs (Neutron) and volumes (Cinder).
 */

export interface FloatingIpRecord {
  id: string;
  address: string;
  /** The external network it was allocated on. */
  networkId: string;
  portId: string | null;
  fixedIp: string | null;
  routerId: string | null;
  /** DOWN, as in the recorded cloud without an L3 agent. */
  status: 'DOWN' | 'ACTIVE';
  description: string;
  tags: string[];
  revision: number;
  createdAt: number;
  updatedAt: number;
  /**
   * When Nova starts showing the address in the server's `addresses` (Neutron's
   * `network-changed` event reaches Nova's cache some time after the association).
   */
  novaSeesAt: number | null;
}

export type VolumeStatus = 'creating' | 'available' | 'in-use' | 'deleting' | 'error';

export interface VolumeRecord {
  id: string;
  name: string;
  description: string | null;
  /** GiB. */
  size: number;
  status: VolumeStatus;
  metadata: Record<string, string>;
  bootable: boolean;
  imageId: string | null;
  /** The server it is attached to, and since when. */
  attachedTo: { serverId: string; attachmentId: string; at: number } | null;
  createdAt: number;
  updatedAt: number;
  timers: Set<NodeJS.Timeout>;
}
