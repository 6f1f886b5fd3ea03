import type { CloudErrorKind } from './errors.ts';

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
  flavorId: string;
  imageId: string;
  /** Network ids; empty means `"none"` (no network, as Nova's 2.37+ `networks: "none"`). */
  networkIds: string[];
  keyName?: string;
  userdata?: string;
  availabilityZone?: string;
  /** Our metadata tags (promise 1): nodepool_provider_name, nodepool_pool_name, nodepool_node_id, nodepool_launcher. */
  metadata: Record<string, string>;
  /** Server tags (Nova 2.52+). */
  tags: string[];
}

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
}

export interface Image {
  id: string;
  name: string;
  status: string;
}

export interface Network {
  id: string;
  name: string;
  external: boolean;
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
 * A floating IP of the project. Ours carry our tags (promise 1), written into its `description`
 * in the same call that allocates it; `tags` is empty for the others.
 */
export interface FloatingIp {
  id: string;
  address: string;
  /** The external network it came from. */
  networkId: string;
  /** The port it is associated with; null when it is free. */
  portId: string | null;
  fixedAddress: string | null;
  /** Neutron's status word (DOWN, ACTIVE, ERROR). */
  status: string;
  tags: Record<string, string>;
  /** ISO time from the cloud. */
  created: string | null;
}

/** A port Nova made for a server (`device_owner` `compute:<zone>`). */
export interface PortView {
  id: string;
  networkId: string;
  /** The server it was made for; a port whose server no longer exists is a leak. */
  deviceId: string;
  deviceOwner: string;
  /** Neutron's status word (ACTIVE, DOWN, BUILD). */
  status: string;
  /** Neutron tags of the port. */
  tags: string[];
  created: string | null;
}

/** A volume of the project (Cinder). */
export interface VolumeView {
  id: string;
  name: string;
  /** Cinder's status word (creating, available, in-use, deleting, error...). */
  status: string;
  sizeGb: number;
  /** Ours carry our tags here. */
  metadata: Record<string, string>;
  /** Servers it is attached to. */
  attachedTo: string[];
  created: string | null;
}

/** An image in the cloud as the builder sees it. */
export interface ImageView {
  id: string;
  name: string;
  /** The cloud's status word (Glance: queued, saving, active, killed, deleted, pending_delete, deactivated). */
  status: string;
  /** Bytes stored; null before the data arrived. */
  size: number | null;
  /** MD5 of the data (Glance `checksum`); null before the data arrived. */
  checksum: string | null;
  tags: string[];
  /** Custom properties, our nodepool_* tags among them. */
  properties: Record<string, string>;
  /** ISO time from the cloud. */
  created: string | null;
}

export interface CreateImageSpec {
  name: string;
  /** qcow2, raw, vhd, vmdk... */
  diskFormat: string;
  containerFormat: string;
  /** Our tags as image properties (promise 1): nodepool_provider_name, nodepool_upload_id, ..., plus the operator's `meta`. */
  properties: Record<string, string>;
  tags: string[];
}

/** The data of an upload, read as a stream (an image can be larger than the memory). */
export interface ImageData {
  /** Opens the data from its start; called again if the call has to be made again (a token renewed on 401). */
  open(): NodeJS.ReadableStream;
  size: number;
  /** Aborts the transfer (a timeout, a shutdown). */
  signal?: AbortSignal;
}

export interface ProviderAdapter {
  /** The provider's name in nodepool.yaml. */
  readonly name: string;
  /** What the driver can do beyond creating and deleting servers; absent: nothing more. */
  readonly capabilities?: DriverCapabilities;
  /** Lists every server of the project, following pagination. One call per page. */
  listServers(opts?: ListServersOptions): Promise<ServerView[]>;
  /** Asks the cloud to create a server; resolves with its id as soon as the cloud accepted it (Nova 202). */
  createServer(spec: CreateServerSpec): Promise<{ id: string }>;
  /** Fetches one server; null when it does not exist or is DELETED. */
  getServer(id: string): Promise<ServerView | null>;
  /** Asks the cloud to delete a server; resolves when accepted. A server already gone is not an error. */
  deleteServer(id: string): Promise<void>;
  /** Lists the flavors the project may use. */
  listFlavors(): Promise<Flavor[]>;
  /** Finds an active image by name (or id); null when there is none. */
  findImage(nameOrId: string): Promise<Image | null>;
  /** Finds a network by name (or id); null when there is none. */
  findNetwork(nameOrId: string): Promise<Network | null>;
  /** Absolute limits and usage of the project. */
  getLimits(): Promise<Limits>;
  /** Lists the project's floating IPs, ours and others', following pagination. */
  listFloatingIps(): Promise<FloatingIp[]>;
  /** Allocates a floating IP on an external network with our tags written in the same call (Neutron 201). */
  createFloatingIp(networkId: string, tags: Record<string, string>): Promise<FloatingIp>;
  /** Associates a floating IP with the server's port (the one on `networkId` if given); a server without a port yet is a transient error. */
  attachFloatingIp(floatingIpId: string, serverId: string, networkId?: string): Promise<FloatingIp>;
  /** Releases a floating IP, also while associated; one already gone is not an error. */
  deleteFloatingIp(id: string): Promise<void>;
  /** Lists the ports Nova made for servers, only those in `status` (e.g. DOWN) when given. */
  listPorts(filter?: { status?: string }): Promise<PortView[]>;
  /** Deletes a port; one already gone is not an error. */
  deletePort(id: string): Promise<void>;
  /** Lists the project's volumes with their metadata, status and attachments, following pagination. */
  listVolumes(): Promise<VolumeView[]>;
  /** Asks the cloud to delete a volume (Cinder 202); one already gone is not an error. */
  deleteVolume(id: string): Promise<void>;
  /** Creates an image record without data (Glance `queued`), carrying our properties and tags; resolves with its id. */
  createImage(spec: CreateImageSpec): Promise<{ id: string }>;
  /** Sends an image's data streamed from `data.open()`, never held in memory; resolves once the cloud took all of it. */
  uploadImageData(id: string, data: ImageData): Promise<void>;
  /** Fetches one image; null when it does not exist. */
  getImage(id: string): Promise<ImageView | null>;
  /** Lists the project's images carrying `tag` and every one of `properties`, following pagination. */
  listImages(filter: { tag: string; properties?: Record<string, string> }): Promise<ImageView[]>;
  /** Asks the cloud to delete an image; an image already gone is not an error. */
  deleteImage(id: string): Promise<void>;
  /** Number of HTTP calls made so far (for the economy promise and the benchmarks). */
  callCount(): number;
  /** Releases connections and timers. */
  close(): Promise<void>;
}
