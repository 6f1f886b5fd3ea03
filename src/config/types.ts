import type { FakeDriverYaml } from '../../providers/fake/schema.ts';
import type { StaticPoolConfig } from '../../providers/static/schema.ts';

/**
 * The configuration after validation: camelCase names for the YAML's kebab-case keys
 * (which keep Nodepool's names and meanings). Produced by `loadConfig` in ./load.ts from the
 * zod schema in ./schema.ts; nothing else reads the YAML.
 */
import type { BuilderConfig, DiskImageConfig, ProviderDiskImageConfig } from './diskimage-types.ts';
import type { GateConfig } from '../gate/config/types.ts';

export type * from './diskimage-types.ts';

export interface LabelConfig {
  name: string;
  /** Ready, unassigned nodes to keep at all times (Nodepool `min-ready`). Default 0. */
  minReady: number;
  /** Seconds a ready node may wait unused before it is replaced; 0 = for ever. Default 0. */
  maxReadyAge: number;
}

export interface PoolLabelConfig {
  name: string;
  flavorName?: string;
  /** Smallest flavor with at least this RAM (MiB) when no flavor-name is given. */
  minRam?: number;
  /** Exactly one of cloudImage (an image already in the cloud) and diskimage (one we build). */
  cloudImage?: string;
  diskimage?: string;
  keyName?: string;
  userdata?: string;
  /** Extra server metadata (Nodepool `instance-properties`). */
  instanceProperties: Record<string, string>;
  /** SSH port of the node. Default 22. */
  connectionPort: number;
  /** User the scheduler logs in as. Default from the cloud image, else `zuul`. */
  username: string;
  /** Scan and return SSH host keys before a node is ready. Default true. */
  hostKeyChecking: boolean;
  /** Boot from a new volume of this size (GiB); undefined = local disk. */
  volumeSize?: number;
}

export interface PoolConfig {
  name: string;
  maxServers: number;
  /** Most vCPUs the pool may use; undefined = no pool limit. */
  maxCores?: number;
  /** Most RAM (MiB) the pool may use; undefined = no pool limit. */
  maxRam?: number;
  /** Network names or ids; empty = Nova `networks: "none"`... unless auto. */
  networks: string[];
  availabilityZones: string[];
  /** Give each node a floating IP on `floatingIpNetwork` and reach it there. Default false. */
  autoFloatingIp: boolean;
  /** External network for floating IPs. Default `public`. */
  floatingIpNetwork: string;
  labels: PoolLabelConfig[];
  /** Lower numbers are preferred when several pools can serve a request. Default 100. */
  priority: number;
}

export interface CloudImageConfig {
  name: string;
  /** Name or id of the image in the cloud. Default: `name`. */
  imageName: string;
  username?: string;
  connectionPort?: number;
}

export interface ProviderConfig {
  name: string;
  driver: 'openstack' | 'fake' | 'static';
  /** Cloud name in clouds.yaml; for the fake driver, the in-memory cloud's name; empty for the static driver. */
  cloud: string;
  /** The fake driver's `fake:` block, as written (providers/fake/schema.ts); absent for other drivers. */
  fake?: FakeDriverYaml;
  /** The static driver's pools with their hosts (providers/static/schema.ts); absent for other drivers. */
  staticPools?: StaticPoolConfig[];
  regionName?: string;
  /** Seconds to wait for ACTIVE. Default 60. */
  bootTimeout: number;
  /** Seconds for the whole launch, SSH readiness included. Default 3600. */
  launchTimeout: number;
  /** Attempts per node before the request fails. Default 3. */
  launchRetries: number;
  /** Seconds between create/delete calls (Nodepool `rate`), 0 = no limit. Default 0. */
  rate: number;
  /** Seconds between two server lists when nothing is launching (of what changed, or complete). Default 10. */
  refreshInterval: number;
  /** Seconds between two complete server lists; at least refreshInterval. Default 60. */
  fullRefreshInterval: number;
  /** Shortest gap (seconds) between server lists while something waits on the cloud. Default 1. */
  listInterval: number;
  /** Nova microversion sent on every compute call. Default "2.79". */
  computeMicroversion: string;
  /** Most launches in flight at once in this provider; 0 = no limit. */
  maxConcurrency: number;
  /** Also delete floating IPs we did not allocate once they are not associated (the project is ours alone). Default false. */
  cleanFloatingIps: boolean;
  cloudImages: CloudImageConfig[];
  /** Built images uploaded here. (Absent in configurations built by hand: none.) */
  diskimages?: ProviderDiskImageConfig[];
  /** Seconds an upload may take until the image is active. Default 3600. */
  imageUploadTimeout?: number;
  pools: PoolConfig[];
}

export interface ApiConfig {
  listen: string;
  port: number;
  /** Seconds a requestor's lease on fulfilled nodes lasts without a heartbeat. Default 600. */
  requestLeaseTimeout: number;
  /** Most nodes one request may ask for. Default 50. (Absent in configurations built by hand: 50.) */
  maxNodesPerRequest?: number;
  /** Status reads need no token. Default true. (Absent in configurations built by hand: true.) */
  readPublic?: boolean;
  /** API tokens by hash. Default none: writes are open. */
  tokens?: ApiTokenConfig[];
}

export interface ApiTokenConfig {
  name: string;
  role: 'admin' | 'requestor' | 'read';
  /** `sha256:<hex>` of the token. */
  hash: string;
}

export interface SecretsConfig {
  /** Absolute path of the daemon's key pair; null when none is configured. */
  keyFile: string | null;
}

export interface StatusConfig {
  /** Seconds between two plot points. Default 60. */
  sampleInterval: number;
  /** Seconds of plot points kept. Default 86400. */
  retention: number;
  /** Seconds between two writes of a launcher's provider state to the store. Default 5. */
  publishInterval: number;
}

export interface StoreConfig {
  driver: 'sqlite' | 'postgres';
  /** SQLite file path, relative to the config file's folder. */
  path: string;
  /** PostgreSQL URL; null or absent: the DATABASE_URL variable. */
  url?: string | null;
  /** Most PostgreSQL connections of one process (the listening one aside). Default 10. */
  poolSize?: number;
}

/** The built-in OpenStack simulator, started by `nodepool run` for the clouds named in `clouds`. */
export interface CloudSimConfig {
  /** Clouds (as providers name them in `cloud`) the simulator serves; every other cloud comes from clouds.yaml. Default none. */
  clouds: string[];
  /** Port of the simulator's HTTP APIs (0 = any free port). */
  port: number;
  /** Seconds from create to ACTIVE. */
  bootDelay: number;
  /** Seconds from DELETE to gone. */
  deleteDelay: number;
  /** SSH port every simulated server listens on, at its own loopback address. */
  sshPort: number;
}

/** Limits per tenant (Nodepool `tenant-resource-limits`), across every provider; undefined = no limit. */
export interface TenantLimits {
  tenantName: string;
  maxServers?: number;
  maxCores?: number;
  maxRam?: number;
}

export interface Config {
  /** Absolute path of the file it was read from; null when built in memory. */
  path: string | null;
  labels: LabelConfig[];
  providers: ProviderConfig[];
  tenantResourceLimits: TenantLimits[];
  api: ApiConfig;
  store: StoreConfig;
  cloudSim: CloudSimConfig;
  /** Sealed secrets. (Absent in configurations built by hand: no key.) */
  secrets?: SecretsConfig;
  /** The status page's time series. (Absent in configurations built by hand: the defaults.) */
  status?: StatusConfig;
  /** Images to build (abstract ones left out). (Absent in configurations built by hand: none.) */
  diskimages?: DiskImageConfig[];
  /** Where the builder works. (Absent in configurations built by hand: no builder.) */
  builder?: BuilderConfig;
  /** Seconds between two reads of the configuration files by running processes; 0 = never. (Absent in configurations built by hand: 0.) */
  reloadInterval?: number;
  /** The gating core (src/gate/), from the `gate:` section or the gate.yaml it names; null without one. */
  gate?: GateConfig | null;
}
