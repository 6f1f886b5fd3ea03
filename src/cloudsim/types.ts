/**
 * Public shapes of the OpenStack simulator: its options and what its control handle reports.
 */
import type { Logger } from '../log.ts';
import type { FaultSpec } from './fault-spec.ts';

export interface CloudSimOptions {
  /** Address of the one HTTP listener serving every cloud. Default 127.0.0.1. */
  host?: string;
  /** HTTP port; 0 picks a free one. Default 0. */
  port?: number;
  clouds: CloudSimCloudOptions[];
  logger?: Logger;
  /** Parent of the servers' scratch directories. Default: a fresh temporary directory, removed on close. */
  stateDir?: string;
}

export interface FlavorSpec {
  id: string;
  name: string;
  vcpus: number;
  /** MiB. */
  ram: number;
  /** GiB. */
  disk: number;
  ephemeral?: number;
  swap?: number;
  description?: string | null;
  extraSpecs?: Record<string, string>;
}

export interface ImageSpec {
  name: string;
  id?: string;
  /** GiB; a flavor with a smaller disk is refused at boot (400). */
  minDisk?: number;
  /** Glance status: active (default), queued, saving, deactivated... */
  status?: string;
}

export interface NetworkSpec {
  name: string;
  id?: string;
  shared?: boolean;
  external?: boolean;
}

/** Nova absolute limits; -1 means unlimited. */
export interface QuotaSpec {
  instances?: number;
  cores?: number;
  /** MiB. */
  ram?: number;
}

export interface CloudSimCloudOptions {
  name: string;
  region?: string;
  /** Time from the 202 to ACTIVE (or to ERROR for a failed boot). Default 1000 ms. */
  bootDelayMs?: number;
  /** Time from DELETE to status DELETED. Default 500 ms. */
  deleteDelayMs?: number;
  /** How long GET /servers/{id} still answers 200 DELETED after the delete finished, before 404. Default 300 ms. */
  deletedVisibleMs?: number;
  /** SSH port every server listens on at its own address. Default 2022. */
  sshPort?: number;
  /** false: no SSH listeners at all (for very large scale tests). Default true. */
  ssh?: boolean;
  /** Extra time after ACTIVE before SSH accepts sessions (connections are reset meanwhile). Default 0. */
  sshDelayMs?: number;
  quota?: QuotaSpec;
  flavors?: FlavorSpec[];
  images?: ImageSpec[];
  networks?: NetworkSpec[];
  /** Keystone token lifetime. Default 1 hour. */
  tokenTtlMs?: number;
  /** First two octets of the servers' loopback addresses, e.g. "127.100". Default 127.(100 + cloud index). */
  addressBase?: string;
  /** First two octets of the floating IPs' loopback addresses. Default 127.(200 + cloud index). */
  floatingAddressBase?: string;
  /** Time from a floating IP's association to Nova showing it in the server's addresses. Default 100 ms (4.2 s recorded). */
  floatingIpNovaDelayMs?: number;
  /** Time a volume spends creating (and deleting). Default 100 ms. */
  volumeDelayMs?: number;
  networkQuota?: { floatingip?: number; port?: number };
  volumeQuota?: { volumes?: number; gigabytes?: number };
  /** Injected faults in force from the start (see fault-spec.ts). */
  faults?: FaultSpec;
  /** Servers other users of the project run: ACTIVE from the start, counted in quota and limits. */
  unmanagedServers?: number | { count: number; flavor?: string };
}

/** The fault an injected failed boot ends with (Nova `fault`). */
export interface BootFault {
  code: number;
  message: string;
}

/** An injected failure of the next matching API calls. */
export interface CallFault {
  /** keystone, nova, glance or neutron; any when absent. */
  service?: string;
  /** HTTP method; any when absent. */
  method?: string;
  /** Tested against the path below the cloud prefix, without query (e.g. `/compute/v2.1/servers/detail`). */
  pathPattern?: RegExp;
  status: 500 | 503 | 429;
  count: number;
  /** Sent as `Retry-After` (429 only). Default 1. */
  retryAfterSeconds?: number;
}

export interface SimServerAddress {
  network: string;
  ip: string;
  mac: string;
}

/** A server as the control handle reports it. */
export interface SimServer {
  id: string;
  name: string;
  status: string;
  taskState: string | null;
  flavorId: string;
  imageId: string;
  keyName: string | null;
  metadata: Record<string, string>;
  tags: string[];
  addresses: SimServerAddress[];
  fault: BootFault | null;
  /** Public host key in OpenSSH form (`ssh-ed25519 AAAA...`) once the node listens; null otherwise. */
  hostKey: string | null;
  /** The node's working directory for SSH commands. */
  scratchDir: string | null;
  /** Where the node's SSH server listens, null without one. */
  sshPort: number | null;
  created: Date;
}

export interface SimStats {
  total: number;
  /** Calls by `service METHOD route`, e.g. `nova GET /servers/detail`. */
  calls: Record<string, number>;
}

export interface ServerStateChange {
  cloud: string;
  server: string;
  from: string;
  to: string;
}

/** Everything a simulated cloud holds, as the admin endpoint `GET /<cloud>/sim/inventory` lists it. */
export interface SimInventory {
  servers: {
    id: string; name: string; status: string; taskState: string | null; flavorId: string;
    metadata: Record<string, string>; tags: string[];
    /** A server of another user of the project (not booted through the API by us). */
    unmanaged: boolean;
    portIds: string[]; volumeIds: string[];
  }[];
  ports: {
    id: string; networkId: string; deviceId: string; deviceOwner: string; status: string; ip: string; tags: string[];
  }[];
  floatingIps: {
    id: string; address: string; networkId: string; portId: string | null; fixedIp: string | null; status: string;
    description: string; tags: string[];
  }[];
  volumes: {
    id: string; name: string; status: string; size: number; metadata: Record<string, string>; attachedTo: string | null; bootable: boolean;
  }[];
  images: { id: string; name: string; status: string; visibility: string; ownedByProject: boolean; properties: Record<string, string> }[];
  keypairs: string[];
}

/** What the fault plan injected so far, by `service answer` (`nova 503`), `boot error`, `boot hang`, `delete stuck`, `port leak`. */
export type SimInjected = Record<string, number>;
