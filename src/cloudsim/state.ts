/**
 * Everything one simulated cloud remembers: its fixed catalog (flavors, images, networks), the
 * project's servers, ports, keypairs, application credentials and tokens, its quota, and the
 * knobs the control handle turns. Services read and change it; `lifecycle.ts` moves servers
 * through their states.
 */
import { EventEmitter } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from '../log.ts';
import { AddressPool } from './addresses.ts';
import {
  DEFAULTS, DEFAULT_FLAVORS, DEFAULT_IMAGES, DEFAULT_NETWORK_QUOTA, DEFAULT_NETWORKS, DEFAULT_QUOTA, DEFAULT_VOLUME_QUOTA,
  DELETED_RETENTION_COUNT, DELETED_RETENTION_MS,
} from './defaults.ts';
import type { FaultPlan } from './fault-plan.ts';
import type { FaultQueue } from './faults.ts';
import type { FloatingIpRecord, VolumeRecord } from './records.ts';
import { Lifecycle } from './lifecycle.ts';
import type { SshNode } from './ssh.ts';
import type { BootFault, CloudSimCloudOptions, ServerStateChange } from './types.ts';
import { hexId, uuid } from './util.ts';

export interface FlavorRecord {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  description: string | null;
  extraSpecs: Record<string, string>;
}

export interface ImageRecord {
  id: string;
  name: string;
  status: string;
  minDisk: number;
  minRam: number;
  size: number | null;
  checksum: string | null;
  hashValue: string | null;
  visibility: string;
  owner: string;
  createdAt: number;
  updatedAt: number;
  diskFormat: string | null;
  containerFormat: string | null;
  protected: boolean;
  tags: string[];
  /** Extra top-level properties (Glance keeps unknown keys as string properties). */
  properties: Record<string, string>;
}

export interface NetworkRecord {
  id: string;
  name: string;
  shared: boolean;
  external: boolean;
  mtu: number;
  subnetId: string;
  projectId: string;
  createdAt: number;
}

export interface PortRecord {
  id: string;
  name: string;
  networkId: string;
  mac: string;
  ip: string;
  /** The server using it; "" for a port nobody uses. */
  deviceId: string;
  /** `compute:nova` for the ports Nova makes; "" for a port created through the API. */
  deviceOwner: string;
  status: 'DOWN' | 'ACTIVE';
  tags: string[];
  revision: number;
  createdAt: number;
  updatedAt: number;
}

export interface KeypairRecord {
  id: number;
  name: string;
  publicKey: string;
  fingerprint: string;
  type: string;
  createdAt: number;
}

export interface AppCredRecord {
  id: string;
  name: string;
  description: string | null;
  secret: string;
  userId: string;
  projectId: string;
  expiresAt: number | null;
  unrestricted: boolean;
}

export interface TokenRecord {
  id: string;
  userId: string;
  projectId: string | null;
  methods: string[];
  issuedAt: number;
  expiresAt: number;
  auditId: string;
  appCred?: { id: string; name: string };
}

export type ServerStatus = 'BUILD' | 'ACTIVE' | 'ERROR' | 'DELETED';

export interface ServerRecord {
  id: string;
  /** Creation order; lists are newest first. */
  seq: number;
  name: string;
  flavor: FlavorRecord;
  imageId: string;
  /** Networks asked for, one port each once the server is placed; empty for `"none"`. */
  networkIds: string[];
  keyName: string | null;
  /** The keypair's public key at boot: the only key SSH accepts when set. */
  authorizedKey: string | null;
  metadata: Record<string, string>;
  /** In request order; shown sorted once the server has left BUILD. */
  tags: string[];
  description: string | null;
  securityGroups: string[];
  /** Shared by the servers of one request (`min_count`/`max_count`); a list filter. */
  reservationId: string;
  created: number;
  updated: number;
  launchedAt: number | null;
  terminatedAt: number | null;
  /** When it became DELETED. */
  deletedAt: number | null;
  status: ServerStatus;
  taskState: string | null;
  vmState: string;
  powerState: number;
  /** A host was chosen: hostId and availability zone are filled. */
  scheduled: boolean;
  fault: { code: number; message: string; created: number } | null;
  portIds: string[];
  /** Boot from volume: the volume Nova makes at boot (block_device_mapping_v2 image -> volume). */
  bootVolume?: { size: number; deleteOnTermination: boolean };
  /** Volumes attached to it, deleted with the server when `deleteOnTermination`. */
  volumes: { id: string; deleteOnTermination: boolean }[];
  /** Set for servers of other users of the project (unmanaged, counted in quota). */
  userId?: string;
  /** What the boot will do: finish, fail with `planFault`, or hang in BUILD. */
  plan: 'boot' | 'fail' | 'hang';
  planFault?: BootFault;
  timers: Set<NodeJS.Timeout>;
  node?: SshNode;
  /** Public host key (`ssh-ed25519 AAAA...`) once the node listens. */
  hostKey?: string;
  scratchDir?: string;
}

export interface Quota {
  instances: number;
  cores: number;
  ram: number;
}

/** Neutron quota of the project (-1 is unlimited). */
export interface NetworkQuota {
  floatingip: number;
  port: number;
}

/** Cinder quota of the project (-1 is unlimited). */
export interface VolumeQuota {
  volumes: number;
  gigabytes: number;
}

/** Token count above which expired tokens are swept at the next issue. */
const TOKEN_SWEEP_SIZE = 10_000;

export function cloudConfig(o: CloudSimCloudOptions) {
  return {
    bootDelayMs: o.bootDelayMs ?? DEFAULTS.bootDelayMs,
    deleteDelayMs: o.deleteDelayMs ?? DEFAULTS.deleteDelayMs,
    deletedVisibleMs: o.deletedVisibleMs ?? DEFAULTS.deletedVisibleMs,
    sshPort: o.sshPort ?? DEFAULTS.sshPort,
    ssh: o.ssh ?? true,
    sshDelayMs: o.sshDelayMs ?? DEFAULTS.sshDelayMs,
    tokenTtlMs: o.tokenTtlMs ?? DEFAULTS.tokenTtlMs,
    floatingIpNovaDelayMs: o.floatingIpNovaDelayMs ?? DEFAULTS.floatingIpNovaDelayMs,
    volumeDelayMs: o.volumeDelayMs ?? DEFAULTS.volumeDelayMs,
  };
}

export class CloudState {
  readonly name: string;
  readonly region: string;
  readonly config: ReturnType<typeof cloudConfig>;
  readonly events = new EventEmitter();
  readonly lifecycle: Lifecycle = new Lifecycle(this);
  readonly addresses: AddressPool;
  /** Floating IPs come from their own loopback /16, so each one can reach its server's SSH too. */
  readonly floatingAddresses: AddressPool;

  // The project the simulator's user works in, and the admin project owning shared resources.
  readonly userId = hexId();
  readonly username = 'nodepool';
  readonly password = randomBytes(18).toString('base64url');
  readonly projectId = hexId();
  readonly projectName = 'nodepool';
  readonly adminProjectId = hexId();
  /** The other user of the project, owner of the unmanaged servers. */
  readonly otherUserId = hexId();
  /** The router between `private` and the external network, as floating IPs report it. */
  readonly routerId = uuid();
  readonly roles = [{ id: hexId(), name: 'member' }, { id: hexId(), name: 'reader' }];
  /** Nova's hostId: sha224 of project id and compute host. */
  readonly hostId: string;
  /** Catalog ids, stable for the cloud's lifetime. */
  readonly catalogIds = { services: {} as Record<string, string>, endpoints: {} as Record<string, string> };

  baseUrl = '';
  /** false, or how the cloud is offline: connections reset, or calls never answered. */
  offline: false | 'reset' | 'timeout' = false;
  quota: Quota;
  networkQuota: NetworkQuota;
  volumeQuota: VolumeQuota;
  readonly flavors: FlavorRecord[];
  readonly images: ImageRecord[];
  readonly networks: NetworkRecord[];
  readonly servers = new Map<string, ServerRecord>();
  readonly ports = new Map<string, PortRecord>();
  readonly floatingIps = new Map<string, FloatingIpRecord>();
  readonly volumes = new Map<string, VolumeRecord>();
  readonly keypairs = new Map<string, KeypairRecord>();
  readonly appCreds = new Map<string, AppCredRecord>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly securityGroupId = uuid();
  /** Connections of calls left unanswered (offline `timeout`, injected timeouts). */
  readonly heldSockets = new Set<Socket>();
  /** API calls by `service METHOD route`, for the control handle's stats. */
  readonly calls = new Map<string, number>();
  totalCalls = 0;
  /** Kept up to date as servers come and go: a boot must not scan every server (10,000 of them). */
  private readonly used: Quota = { instances: 0, cores: 0, ram: 0 };
  private deletedOrder: string[] = [];
  private seq = 0;
  keypairSeq = 0;

  constructor(
    o: CloudSimCloudOptions,
    index: number,
    readonly logger: Logger,
    readonly faults: FaultQueue,
    readonly plan: FaultPlan,
    readonly stateDir: string,
  ) {
    this.name = o.name;
    this.region = o.region ?? DEFAULTS.region;
    this.config = cloudConfig(o);
    this.addresses = new AddressPool(o.addressBase ?? `127.${100 + index}`);
    this.floatingAddresses = new AddressPool(o.floatingAddressBase ?? `127.${(200 + index) % 256}`);
    this.quota = { ...DEFAULT_QUOTA, ...o.quota };
    this.networkQuota = { ...DEFAULT_NETWORK_QUOTA, ...o.networkQuota };
    this.volumeQuota = { ...DEFAULT_VOLUME_QUOTA, ...o.volumeQuota };
    this.hostId = createHash('sha224').update(`${this.projectId}sim-compute-${o.name}`).digest('hex');
    const now = Date.now();
    this.flavors = (o.flavors ?? DEFAULT_FLAVORS).map((f) => ({
      id: f.id, name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk, ephemeral: f.ephemeral ?? 0, swap: f.swap ?? 0,
      description: f.description ?? null, extraSpecs: f.extraSpecs ?? {},
    }));
    this.images = (o.images ?? DEFAULT_IMAGES).map((i) => {
      const active = (i.status ?? 'active') === 'active';
      const digest = (alg: string) => createHash(alg).update(i.name).digest('hex');
      return {
        id: i.id ?? uuid(), name: i.name, status: i.status ?? 'active', minDisk: i.minDisk ?? 0, minRam: 0,
        size: active ? 21_233_664 : null, checksum: active ? digest('md5') : null, hashValue: active ? digest('sha512') : null,
        visibility: 'public', owner: this.adminProjectId, createdAt: now, updatedAt: now,
        diskFormat: active ? 'qcow2' : null, containerFormat: active ? 'bare' : null, protected: false, tags: [], properties: {},
      };
    });
    this.networks = (o.networks ?? DEFAULT_NETWORKS).map((n) => ({
      id: n.id ?? uuid(), name: n.name, shared: n.shared ?? false, external: n.external ?? false,
      mtu: n.external ? 1500 : 1450, subnetId: uuid(), projectId: this.adminProjectId, createdAt: now,
    }));
    for (const s of ['identity', 'compute', 'image', 'network', 'block-storage', 'volumev3']) {
      this.catalogIds.services[s] = hexId();
      for (const i of ['public', 'internal', 'admin']) this.catalogIds.endpoints[`${s}/${i}`] = hexId();
    }
  }

  /** Service endpoints as the catalog lists them (devstack's layout under one port). */
  endpoints() {
    const root = `${this.baseUrl}/${this.name}`;
    return {
      identity: `${root}/identity`, compute: `${root}/compute/v2.1`, image: `${root}/image`, network: `${root}/network`,
      volume: `${root}/volume/v3/${this.projectId}`,
    };
  }

  countCall(key: string): void {
    this.totalCalls++;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  /** Takes in a server just accepted (BUILD/scheduling) and reports it. */
  addServer(s: ServerRecord): void {
    this.servers.set(s.id, s);
    this.account(s, 1);
    const to = CloudState.label(s);
    this.logger.info({ cloud: this.name, server: s.id, from: 'none', to }, 'server state change');
    this.events.emit('state', { cloud: this.name, server: s.id, from: 'none', to } satisfies ServerStateChange);
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** Servers that count against quota: everything not yet DELETED (BUILD, ACTIVE, ERROR), as Nova counts. */
  usage(): Quota {
    return { ...this.used };
  }

  private account(s: ServerRecord, sign: 1 | -1): void {
    this.used.instances += sign;
    this.used.cores += sign * s.flavor.vcpus;
    this.used.ram += sign * s.flavor.ram;
  }

  /** A label for logs and events: the status, with the task state when there is one. */
  static label(s: Pick<ServerRecord, 'status' | 'taskState'>): string {
    return s.taskState ? `${s.status}(${s.taskState})` : s.status;
  }

  /** Applies a change to a server, stamps `updated`, and reports the state change. */
  change(s: ServerRecord, patch: Partial<ServerRecord>): void {
    const from = CloudState.label(s);
    const wasCounted = s.status !== 'DELETED';
    Object.assign(s, patch);
    if (wasCounted && s.status === 'DELETED') this.account(s, -1);
    s.updated = Date.now();
    const to = CloudState.label(s);
    if (from !== to) {
      this.logger.info({ cloud: this.name, server: s.id, from, to }, 'server state change');
      const ev: ServerStateChange = { cloud: this.name, server: s.id, from, to };
      this.events.emit('state', ev);
    }
  }

  /** Remembers a DELETED server for `changes-since` within the retention limits, forgets older ones. */
  rememberDeleted(s: ServerRecord): void {
    this.deletedOrder.push(s.id);
    this.pruneDeleted();
  }

  pruneDeleted(now = Date.now()): void {
    while (this.deletedOrder.length > 0) {
      const id = this.deletedOrder[0];
      const s = this.servers.get(id);
      const tooMany = this.deletedOrder.length > DELETED_RETENTION_COUNT;
      const tooOld = s?.deletedAt != null && now - s.deletedAt > DELETED_RETENTION_MS;
      if (s && !tooMany && !tooOld) break;
      this.deletedOrder.shift();
      if (s?.status === 'DELETED') this.servers.delete(id);
    }
  }

  issueToken(t: Omit<TokenRecord, 'id' | 'issuedAt' | 'expiresAt' | 'auditId'>): TokenRecord {
    const now = Date.now();
    // Clients that log in often (or never reuse tokens) must not grow the table for ever.
    if (this.tokens.size >= TOKEN_SWEEP_SIZE) {
      for (const [id, old] of this.tokens) if (old.expiresAt <= now) this.tokens.delete(id);
    }
    // Fernet tokens start with gAAAAA; clients sometimes log the prefix.
    const record: TokenRecord = {
      ...t, id: `gAAAAAB${randomBytes(120).toString('base64url')}`, issuedAt: now, expiresAt: now + this.config.tokenTtlMs,
      auditId: randomBytes(16).toString('base64url').slice(0, 22),
    };
    this.tokens.set(record.id, record);
    return record;
  }

  /** The token if it is known and not expired (expired ones are forgotten). */
  validToken(id: string | undefined): TokenRecord | undefined {
    if (!id) return undefined;
    const t = this.tokens.get(id);
    if (!t) return undefined;
    if (t.expiresAt <= Date.now()) {
      this.tokens.delete(id);
      return undefined;
    }
    return t;
  }

  findFlavor(id: string): FlavorRecord | undefined {
    return this.flavors.find((f) => f.id === id);
  }

  findImage(id: string): ImageRecord | undefined {
    return this.images.find((i) => i.id === id);
  }

  findNetwork(id: string): NetworkRecord | undefined {
    return this.networks.find((n) => n.id === id);
  }
}
