/**
 * Glossary — the words every part of the system shares (store, API, CLI, status JSON).
 *
 * request   A scheduler's ask for a set of labels (e.g. two `ubuntu-jammy` nodes for a multinode
 *           job). It is fulfilled by nodes that all come from one provider.
 * node      One test machine: a cloud server we booted (or a static host) and its record.
 * label     A kind of node a scheduler can ask for: image + flavor + network, named in the config.
 * pool      A group of labels inside a provider with its own limits (max-servers) and networks.
 * provider  One cloud region (an OpenStack cloud from clouds.yaml + region) that nodes are booted in.
 * image     A disk image that nodes boot from: a cloud image already in the cloud, or one we build.
 * build     One local build of a disk image (the builder's output).
 * upload    One build uploaded to one provider.
 * lease     Ownership that expires: the process that holds a request or node lease acts on it;
 *           when the holder dies the lease runs out and another process takes the work over.
 * hold      An operator's order to keep a node (for debugging) out of every pool until deleted.
 */

/** Node states, in lifecycle order: building → ready → in-use → used → deleting → gone. */
export const NODE_STATES = ['building', 'ready', 'in-use', 'used', 'deleting', 'hold', 'failed'] as const;
export type NodeState = (typeof NODE_STATES)[number];

/**
 * Steps inside `building`: the launch state machine. `pending`: the record exists, the cloud has
 * not been asked yet; `creating`: the create call is in flight or its answer was lost (find the
 * server by its tags); `booting`: the server exists, waiting for ACTIVE; `scanning`: ACTIVE,
 * waiting for SSH and reading its host keys.
 */
export const LAUNCH_STEPS = ['pending', 'creating', 'booting', 'scanning'] as const;
export type LaunchStep = (typeof LAUNCH_STEPS)[number];

/** Request states: requested → pending (a launcher is fulfilling it) → fulfilled | failed; canceled. */
export const REQUEST_STATES = ['requested', 'pending', 'fulfilled', 'failed', 'canceled'] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

/** A request is open while a launcher still has work to do for it. */
export const OPEN_REQUEST_STATES: readonly RequestState[] = ['requested', 'pending'];

export interface NodeRecord {
  id: string;
  label: string;
  provider: string;
  pool: string;
  state: NodeState;
  /** Launch step while `building`; null otherwise. */
  step: LaunchStep | null;
  /** The cloud's id of the server; null until the create call answered. */
  serverId: string | null;
  /** Server name we asked for (`np-<node id>`), used to find a server whose create answer was lost. */
  hostname: string;
  interfaceIp: string | null;
  publicIpv4: string | null;
  privateIpv4: string | null;
  publicIpv6: string | null;
  az: string | null;
  connectionPort: number;
  username: string;
  /** Host keys in known_hosts form (`ssh-ed25519 AAAA…`), as scanned at launch. */
  hostKeys: string[];
  /** Request this node is assigned to (promise 2: at most one). */
  allocatedTo: string | null;
  /** Launch attempt number, 1 for the first try. */
  attempt: number;
  /** Lease: which launcher owns work on this node, until when (ms since epoch). */
  leaseOwner: string | null;
  leaseExpires: number | null;
  holdReason: string | null;
  holdExpires: number | null;
  /** Why the node failed or was deleted, for operators. */
  comment: string | null;
  createdAt: number;
  stateTime: number;
  /** Time the create call was sent (ms since epoch), after the provider's rate gate; for boot-timeout. */
  launchStartedAt: number | null;
  /**
   * Time the create call answered, with a server id or an error. A server list sent before it
   * cannot show the server (Nova answered POST /servers in 3–8.5 s under a burst), so only a list
   * sent after it may judge the server vanished or never created.
   */
  createAnsweredAt: number | null;
  /** The Python interpreter on the node, for the scheduler (Nodepool's `python-path`); null: auto. */
  pythonPath: string | null;
}

export interface RequestRecord {
  id: string;
  state: RequestState;
  labels: string[];
  requestor: string;
  priority: number;
  tenant: string | null;
  /** Provider chosen to serve the request (promise 3: one provider per request). */
  provider: string | null;
  pool: string | null;
  /** Ids of the nodes assigned, in the order of `labels`. */
  nodes: string[];
  reason: string | null;
  /** Lease of the launcher working on it. */
  leaseOwner: string | null;
  leaseExpires: number | null;
  /** The requestor's lease on fulfilled nodes; renewed by heartbeat; expired → nodes become used. */
  holderExpires: number | null;
  createdAt: number;
  stateTime: number;
  fulfilledAt: number | null;
}

/** One state change, for the audit log. */
export interface StateChange {
  at: number;
  kind: 'node' | 'request' | 'build' | 'upload';
  id: string;
  from: string | null;
  to: string;
  by: string;
  reason?: string | null;
}

/** Image build states: building → ready | failed; later deleting (its files and uploads go first). */
export const BUILD_STATES = ['building', 'ready', 'failed', 'deleting'] as const;
export type BuildState = (typeof BUILD_STATES)[number];

/** Upload states, one upload per build and provider: uploading → ready | failed; later deleting. */
export const UPLOAD_STATES = ['uploading', 'ready', 'failed', 'deleting'] as const;
export type UploadState = (typeof UPLOAD_STATES)[number];

/**
 * Validation of a ready upload before launches use it: `none` (the image asks for none),
 * `pending` → `running` (a test node boots from it and runs the image's check over SSH) →
 * `passed` | `failed`. Launches use the newest ready upload whose validation is none or passed.
 */
export const VALIDATION_STATES = ['none', 'pending', 'running', 'passed', 'failed'] as const;
export type ValidationState = (typeof VALIDATION_STATES)[number];

/** One output file of a build, with the checksums written beside it (`<file>.md5`, `<file>.sha256`). */
export interface ImageFile {
  format: string;
  path: string;
  size: number;
  md5: string;
  sha256: string;
}

/** One local build of a diskimage (the builder's output), kept by the builder that made it. */
export interface BuildRecord {
  id: string;
  /** The diskimage's name in nodepool.yaml. */
  image: string;
  /** Name of the builder that made it and holds its files (uploads are made by it only). */
  builder: string;
  state: BuildState;
  /** Formats asked for (qcow2, raw, vhd...). */
  formats: string[];
  /** Output files with their checksums; empty until the build is ready. */
  files: ImageFile[];
  logPath: string | null;
  /** Why it failed or is being deleted, for operators. */
  reason: string | null;
  leaseOwner: string | null;
  leaseExpires: number | null;
  createdAt: number;
  stateTime: number;
}

/** One build uploaded to one provider. */
export interface UploadRecord {
  id: string;
  buildId: string;
  image: string;
  provider: string;
  state: UploadState;
  format: string;
  /** The cloud's image id; null until the create call answered. */
  externalId: string | null;
  /** The image's name in the cloud (`<image>-<build id>`). */
  externalName: string;
  /** Bytes sent so far (progress); equals `size` once ready. */
  bytes: number;
  size: number;
  validation: ValidationState;
  /** The test node booted to validate it, while validation runs. */
  validationNode: string | null;
  /** Why it failed (upload or validation), for operators. */
  reason: string | null;
  leaseOwner: string | null;
  leaseExpires: number | null;
  createdAt: number;
  stateTime: number;
}

/** An operator's orders for one diskimage: pause its builds and uploads, or build it now. */
export interface ImageFlags {
  image: string;
  paused: boolean;
  pausedReason: string | null;
  /** Set by `image build`: a build started after this time fulfils it. */
  buildRequestedAt: number | null;
  updatedAt: number;
}
