import type { CloudErrorKind } from './errors.ts';

/**
 * The one small interface every cloud driver implements. A driver makes calls and throws
 * `CloudError`s; it never sleeps, retries or keeps node state: timeouts, retries, quota
 * arithmetic and host-key scanning live once, in the launcher.
 */

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

export interface ProviderAdapter {
  /** The provider's name in nodepool.yaml. */
  readonly name: string;
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
  /** Number of HTTP calls made so far (for the economy promise and the benchmarks). */
  callCount(): number;
  /** Releases connections and timers. */
  close(): Promise<void>;
}
