import type {
  BuildRecord, BuildState, ImageFlags, NodeRecord, NodeState, RequestRecord, RequestState, StateChange, UploadRecord, UploadState,
} from '../model.ts';
import type { GateStore } from './gate.ts';

export type { GateItemFilter, GateStore } from './gate.ts';

/**
 * The store: the only state shared between processes. Every method is asynchronous so that the
 * SQLite implementation (one process) and a PostgreSQL one (many processes) sit behind the same
 * interface. Multi-row decisions are never read-modify-write in memory: each write is a
 * conditional update (`StoreCondition`) that fails (returns false) when another process got there
 * first, so leases, not in-memory locks, decide who owns what.
 */

/** Conditions a conditional update checks atomically with the write. */
export interface StoreCondition<S extends string> {
  /** The row's state must be one of these. */
  states?: readonly S[];
  /** The row's lease must be held by this owner, or be free/expired at `now`. */
  leaseFreeOr?: { owner: string; now: number };
  /** For nodes: the node must not be allocated to any request (`allocatedTo IS NULL`). */
  unallocated?: boolean;
  /** For nodes: the node must be allocated to this request. */
  allocatedTo?: string;
  /** For requests: the requestor's lease on its nodes must still run at this time. */
  holderLeaseAfter?: number;
}

export type NodePatch = Partial<Omit<NodeRecord, 'id'>>;
export type RequestPatch = Partial<Omit<RequestRecord, 'id'>>;

/** A pool's limit checked by a guarded insert. */
export interface PoolGuard {
  maxServers: number;
  /** And only if no other node of the provider holds the node's server id (a reusable server: one node at a time). */
  exclusiveServer?: boolean;
}

export interface NodeFilter {
  /** Only these ids (the rows a change event named). */
  ids?: readonly string[];
  states?: readonly NodeState[];
  provider?: string;
  label?: string;
  allocatedTo?: string;
}

export interface RequestFilter {
  /** Only these ids. */
  ids?: readonly string[];
  states?: readonly RequestState[];
  /** Only fulfilled requests whose holder lease is running (their nodes are in use). */
  withHolderLease?: boolean;
  /** Newest first, at most this many. */
  limit?: number;
}

export type BuildPatch = Partial<Omit<BuildRecord, 'id'>>;
export type UploadPatch = Partial<Omit<UploadRecord, 'id'>>;
export type ImageFlagsPatch = Partial<Omit<ImageFlags, 'image' | 'updatedAt'>>;

export interface BuildFilter {
  image?: string;
  states?: readonly BuildState[];
  builder?: string;
}

export interface UploadFilter {
  image?: string;
  provider?: string;
  buildId?: string;
  states?: readonly UploadState[];
}

export interface LauncherRecord {
  name: string;
  host: string;
  pid: number;
  version: string;
  providers: string[];
  startedAt: number;
  heartbeatAt: number;
}

/** Quota amounts of one node or of room in a cloud: instances, cores, RAM (MiB). */
export interface QuotaAmounts {
  instances: number;
  cores: number;
  ram: number;
}

/** The cloud calls of one kind a launcher made since it started: their count and summed duration. */
export interface CloudCallTotal {
  service: string;
  method: string;
  /** HTTP status, or `none` when no answer came. */
  status: string;
  count: number;
  seconds: number;
}

/**
 * What a launcher knows in memory of one provider it serves, as it last published it (table
 * `provider_states`), so that processes without that launcher (an API server) can show it.
 */
export interface ProviderStateRecord {
  launcher: string;
  provider: string;
  /** healthy | degraded | unhealthy, as that launcher judges it. */
  health: string;
  reason: string | null;
  /** Since when (ms) the provider is in this health. */
  since: number | null;
  /** Room the cloud leaves for our nodes; Infinity on an unlimited axis; null until read. */
  room: QuotaAmounts | null;
  /** Cost of one node of `<pool>/<label>`, from the cloud's flavors. */
  labelCosts: Record<string, QuotaAmounts>;
  /** Pools paused after a quota refusal: pool → until (ms). */
  pausedUntil: Record<string, number>;
  /** Leaked resources deleted since the launcher started, by resource (`instances`). */
  leaked: Record<string, number>;
  calls: CloudCallTotal[];
  /** When the launcher published this row (ms): a row not renewed for a while is stale. */
  updatedAt: number;
}

/**
 * The facts of a changed node or request row that let a listener tell, without reading the row,
 * whether the change concerns it (src/launcher/relevance.ts): the row as the write left it.
 */
export interface StoreEventRow {
  /** The node's provider; the request's once a launcher claimed it for one of its pools, else null. */
  provider: string | null;
  /** The node's label (absent for requests). */
  label?: string;
  leaseOwner: string | null;
  /** ms since the epoch. */
  leaseExpires: number | null;
}

/** A change written to the store, published to in-process listeners after the write. */
export interface StoreEvent {
  kind: 'node' | 'request' | 'build' | 'upload' | 'image' | 'gate-item' | 'gate-event';
  id: string;
  state: string;
  /** The changed row's facts, when the store sends them (PostgreSQL's announcements); absent, a listener must assume the change concerns it. */
  row?: StoreEventRow;
}

/** What a subscriber needs to hear of other processes' changes (Store.subscribe). */
export interface SubscribeScope {
  /** The providers whose every change it needs; of the others, only what any launcher may act on. */
  providers: Iterable<string>;
}

/** The scope of a subscriber that reads no node or request change. */
export const NO_NODES: SubscribeScope = { providers: [] };

/** One point of a time series: the status page plots these (requests waiting, nodes by state...). */
export interface Sample {
  series: string;
  /** ms since epoch. */
  at: number;
  value: number;
}

/** One update of a `writeAll` batch. */
export type RowWrite =
  | { table: 'nodes'; id: string; patch: NodePatch; cond?: StoreCondition<NodeState>; reason?: string; optional?: boolean }
  | { table: 'requests'; id: string; patch: RequestPatch; cond?: StoreCondition<RequestState>; reason?: string; optional?: boolean };

export interface Store {
  /**
   * Adds a node record (written before any cloud call: promise 1). With a guard, adds it only if
   * its pool holds fewer than `maxServers` nodes, counted in the store atomically with the insert
   * (so two launchers never both take a pool's last slot); returns whether it was added.
   */
  insertNode(node: NodeRecord, by: string, guard?: PoolGuard): Promise<boolean>;
  /** Reads one node; null when gone. */
  getNode(id: string): Promise<NodeRecord | null>;
  /** Lists nodes, oldest first. */
  listNodes(filter?: NodeFilter): Promise<NodeRecord[]>;
  /**
   * Every node, oldest first, as `listNodes()` would list them, from a copy the store keeps up to
   * date where it can (SQLite: with its own writes, everything again after another process's);
   * the records and the list are shared and must not be changed. Absent: `listNodes()` is read.
   */
  readFleet?(): Promise<readonly NodeRecord[]>;
  /** Updates a node if the condition holds; returns whether it did. A state change is audited. */
  updateNode(id: string, patch: NodePatch, by: string, cond?: StoreCondition<NodeState>, reason?: string): Promise<boolean>;
  /** Extends every node and request lease held by `owner` to `until`; returns how many rows. */
  renewLeases(owner: string, until: number): Promise<number>;
  /** Removes a node record (its server is gone) if the condition holds. */
  removeNode(id: string, by: string, cond?: StoreCondition<NodeState>): Promise<boolean>;
  /**
   * Passes a failed launch's slot in its pool to the launch that retries it, in one transaction:
   * the failed node is updated if the condition holds and the retry is added, or neither. The
   * retry is not counted against max-servers (it takes the failed node's slot: the launcher
   * creates its server once the pool has room for it, after the failed server is gone when the
   * pool is full); returns whether it was done.
   */
  passSlot(failedId: string, patch: NodePatch, cond: StoreCondition<NodeState>, retry: NodeRecord, by: string, reason?: string): Promise<boolean>;

  /**
   * Several conditional updates of nodes and requests in one transaction, all or none: returns
   * false, having written nothing, when a write that is not `optional` finds its condition false
   * (an optional write whose condition is false is skipped). State changes are audited and
   * announced after the commit, as by updateNode/updateRequest.
   */
  writeAll(writes: readonly RowWrite[], by: string): Promise<boolean>;

  /** Adds a request. */
  insertRequest(req: RequestRecord, by: string): Promise<void>;
  getRequest(id: string): Promise<RequestRecord | null>;
  /** Lists requests, oldest first (newest first with `limit`). */
  listRequests(filter?: RequestFilter): Promise<RequestRecord[]>;
  /** Updates a request if the condition holds; returns whether it did. A state change is audited. */
  updateRequest(id: string, patch: RequestPatch, by: string, cond?: StoreCondition<RequestState>, reason?: string): Promise<boolean>;

  /** The audit log of state changes for one node or request, oldest first. */
  listChanges(kind: 'node' | 'request', id: string): Promise<StateChange[]>;

  /** Registers a launcher or renews its heartbeat. */
  upsertLauncher(rec: LauncherRecord): Promise<void>;
  listLaunchers(): Promise<LauncherRecord[]>;

  /**
   * Replaces every provider-state row of `launcher` with `rows`, in one transaction: rows of
   * providers not in the list are removed, so an empty list removes them all (a clean stop).
   * Announces nothing: readers read these rows when they need them.
   */
  publishProviderStates(launcher: string, rows: readonly Omit<ProviderStateRecord, 'launcher'>[]): Promise<void>;
  /** Every launcher's published provider states, by launcher then provider; judging staleness is the reader's part. */
  listProviderStates(): Promise<ProviderStateRecord[]>;

  // ---- disk images (src/builder/): builds, their uploads per provider, operators' flags ----

  /** Adds a build record (written before the build command starts). */
  insertBuild(build: BuildRecord, by: string): Promise<void>;
  /** Reads one build; null when gone. */
  getBuild(id: string): Promise<BuildRecord | null>;
  /** Lists builds, newest first. */
  listBuilds(filter?: BuildFilter): Promise<BuildRecord[]>;
  /** Updates a build if the condition (`states`, `leaseFreeOr`) holds; returns whether it did. A state change is audited. */
  updateBuild(id: string, patch: BuildPatch, by: string, cond?: StoreCondition<BuildState>, reason?: string): Promise<boolean>;
  /** Removes a build record if the condition holds. */
  removeBuild(id: string, by: string, cond?: StoreCondition<BuildState>): Promise<boolean>;
  /** Adds an upload record (written before the cloud is asked to create the image: promise 1). */
  insertUpload(upload: UploadRecord, by: string): Promise<void>;
  /** Reads one upload; null when gone. */
  getUpload(id: string): Promise<UploadRecord | null>;
  /** Lists uploads, newest first. */
  listUploads(filter?: UploadFilter): Promise<UploadRecord[]>;
  /** Updates an upload if the condition (`states`, `leaseFreeOr`) holds; returns whether it did. A state change is audited. */
  updateUpload(id: string, patch: UploadPatch, by: string, cond?: StoreCondition<UploadState>, reason?: string): Promise<boolean>;
  /** Removes an upload record if the condition holds. */
  removeUpload(id: string, by: string, cond?: StoreCondition<UploadState>): Promise<boolean>;
  /** Every diskimage's operator flags (only images that ever had one set). */
  listImageFlags(): Promise<ImageFlags[]>;
  /** Sets some of an image's flags (creating its row with paused=false, no request); returns them all. */
  setImageFlags(image: string, patch: ImageFlagsPatch, by: string): Promise<ImageFlags>;

  /**
   * Subscribes to committed changes: those made through this store object, and with PostgreSQL
   * those of every other process too (LISTEN/NOTIFY); returns the unsubscribe function. With
   * `scope`, another process's changes that only a provider's own launchers act on (a booting
   * node's steps, an assigned node going in-use, used, deleting; postgres/rows.ts says which) may
   * be left out but for the providers it names.
   */
  subscribe(listener: (e: StoreEvent) => void, scope?: SubscribeScope): () => void;

  /** Records one point per series at `at`; writing the same series and time again replaces the point. */
  appendSamples(at: number, values: Readonly<Record<string, number>>): Promise<void>;
  /** Points taken at or after `since`, oldest first. */
  listSamples(since: number): Promise<Sample[]>;
  /** Removes points taken before `before`; returns how many. */
  pruneSamples(before: number): Promise<number>;

  /**
   * A value that changes whenever a node or request may have changed since it was last returned (a
   * write by this process or, through the same file, by another); null when the store cannot tell
   * cheaply. Readers that only look at the fleet keep their last read while it holds (./node-reads.ts).
   */
  changeToken(): string | null;

  /** The gating core's items, events, autoholds and lease (./gate.ts). */
  readonly gate: GateStore;
  close(): Promise<void>;
}
