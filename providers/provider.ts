import type { CloudErrorKind } from './errors.ts';
import type { CatalogExtension } from './extensions/catalog.ts';
import type { FloatingIpExtension } from './extensions/floating-ips.ts';
import type { ImageExtension } from './extensions/images.ts';
import type { PortExtension } from './extensions/ports.ts';
import type { VolumeExtension } from './extensions/volumes.ts';

export type { CatalogExtension, Flavor, Image, Network } from './extensions/catalog.ts';
export type { FloatingIp, FloatingIpExtension } from './extensions/floating-ips.ts';
export type { CreateImageSpec, ImageData, ImageExtension, ImageView } from './extensions/images.ts';
export type { PortExtension, PortView } from './extensions/ports.ts';
export type { VolumeExtension, VolumeView } from './extensions/volumes.ts';

/**
 * The one small interface every cloud driver implements. A driver makes calls and throws
 * `CloudError`s; it never sleeps, retries or keeps node state: timeouts, retries, quota
 * arithmetic and host-key scanning live once, in the launcher.
 */

/** One call a driver made to its cloud, reported through its `onCall` hook (metrics count them). */
export interface CloudCall {
  provider: string;
  /** The cloud's service (for OpenStack: compute, image, network, identity...). */
  service: string;
  /** The call's verb (HTTP method for REST clouds). */
  method: string;
  /** The answer's status; null when no answer came. */
  status: number | null;
  seconds: number;
}

/** A server as the launcher sees it, whatever the cloud. */
export interface ServerView {
  id: string;
  name: string;
  /** Normalised status: building (BUILD), active, error, deleting (task_state deleting), deleted (DELETED or gone), other. */
  state: 'building' | 'active' | 'error' | 'deleting' | 'deleted' | 'other';
  /** The cloud's own status word (BUILD, ACTIVE, ERROR, DELETED, SHUTOFF...). */
  status: string;
  metadata: Record<string, string>;
  tags: string[];
  publicIpv4: string | null;
  privateIpv4: string | null;
  publicIpv6: string | null;
  az: string | null;
  /**
   * The fault of an ERROR server (Nova `fault`), e.g. {code: 500, message: "No valid host was found."},
   * with its class as the driver's classifier decided it (quota, capacity, transient...).
   */
  fault: { code: number; message: string; kind?: CloudErrorKind } | null;
  /** ISO times from the cloud. */
  created: string | null;
  updated: string | null;
  /**
   * Set by drivers whose servers exist before and after their nodes (`capabilities.reusableServers`,
   * e.g. static hosts): one server per slot a node may hold, and how such a node is registered and reached.
   */
  host?: ServerHost;
}

/** A reusable server (a slot of an existing host): what a node registered on it serves and how it is reached. */
export interface ServerHost {
  /** The pool of the provider it belongs to. */
  pool: string;
  /** Labels a node on it may serve. */
  labels: string[];
  /** Host name or IP address to reach it at. */
  address: string;
  port: number;
  username: string;
  /** Host keys it must present (known_hosts form, `ssh-ed25519 AAAA…`); empty: the key scanned is recorded as is. */
  hostKeys: string[];
  /** false: it is not scanned at all, and its node is ready without host keys. */
  hostKeyChecking: boolean;
  /** The Python interpreter on the host, for the scheduler's tools. */
  pythonPath: string | null;
}

/** What a driver's clouds can and cannot do, for the launcher; every flag absent is false. */
export interface DriverCapabilities {
  /**
   * The servers exist already and outlive their nodes (static hosts): none is created or deleted.
   * Every listed server with `host` that no node holds is registered as a node; deleting a node
   * calls `deleteServer`, which returns the server to the driver, and the node is gone once that
   * call answered.
   */
  reusableServers?: boolean;
}

export interface CreateServerSpec {
  name: string;
  /** The cloud's flavor id; the configured flavor-name when the driver has no catalog extension ('' for none). */
  flavorId: string;
  /** The cloud's image id (or an uploaded diskimage's); the configured image name without a catalog. */
  imageId: string;
  /** Network ids (names without a catalog); empty means `"none"` (no network, as Nova's 2.37+ `networks: "none"`). */
  networkIds: string[];
  keyName?: string;
  userdata?: string;
  availabilityZone?: string;
  /** Our metadata tags (promise 1): nodepool_provider_name, nodepool_pool_name, nodepool_node_id, nodepool_launcher. */
  metadata: Record<string, string>;
  /** Server tags (Nova 2.52+). */
  tags: string[];
}

/** Absolute limits and usage of the project (Nova `GET /limits`). -1 means unlimited. */
export interface Limits {
  maxInstances: number;
  maxCores: number;
  maxRam: number;
  instancesUsed: number;
  coresUsed: number;
  ramUsed: number;
}

export interface ListServersOptions {
  /** Only servers changed since this time, deleted ones included (Nova `changes-since`). */
  changesSince?: Date;
}

/**
 * The core every driver implements. Anything else a cloud offers is an optional extension below,
 * present only when the driver has it: the launcher and the builder use each one only if present.
 */
export interface ProviderAdapter {
  /** The provider's name in nodepool.yaml. */
  readonly name: string;
  /** What the driver can do beyond creating and deleting servers; absent: nothing more. */
  readonly capabilities?: DriverCapabilities;
  /** Lists every server of the project (ours carry our metadata tags), following pagination. One call per page. */
  listServers(opts?: ListServersOptions): Promise<ServerView[]>;
  /** Asks the cloud to create a server; resolves with its id as soon as the cloud accepted it (Nova 202). */
  createServer(spec: CreateServerSpec): Promise<{ id: string }>;
  /** Fetches one server; null when it does not exist or is DELETED. */
  getServer(id: string): Promise<ServerView | null>;
  /** Asks the cloud to delete a server; resolves when accepted. A server already gone is not an error. */
  deleteServer(id: string): Promise<void>;
  /** Absolute limits and usage of the project (quota); -1 for a limit the cloud does not set. */
  getLimits(): Promise<Limits>;
  /**
   * How many server creates and deletes the driver carries at once (its connections to the cloud);
   * absent: no limit. The launcher starts no more: the rest wait in the store, where no timeout
   * runs, instead of in a connection queue where the call's timeout would already be running.
   */
  readonly callsAtOnce?: number;
  /** Number of cloud calls made so far (for the economy promise and the benchmarks). */
  callCount(): number;
  /** Releases connections and timers. */
  close(): Promise<void>;

  /** Flavors, images and networks by name; without it `createServer` gets the configured names. */
  readonly catalog?: CatalogExtension;
  /** Floating IPs: `auto-floating-ip` pools and the cleanup sweep. */
  readonly floatingIps?: FloatingIpExtension;
  /** Ports left behind by deleted servers, for the cleanup sweep. */
  readonly ports?: PortExtension;
  /** Volumes of our nodes, for the cleanup sweep. */
  readonly volumes?: VolumeExtension;
  /** Image uploads for the builder (`diskimages`). */
  readonly images?: ImageExtension;
}
