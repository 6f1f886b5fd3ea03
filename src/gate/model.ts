/**
 * Glossary of the gating core (Zuul's words):
 *
 * change    A proposed commit in Gerrit, at one patch set (`number,patchset`, e.g. `42,3`).
 * pipeline  A way changes are tested and reported: `independent` (each change alone: check) or
 *           `dependent` (changes in order, each on top of those ahead: gate).
 * queue     Changes of a pipeline tested together; a dependent pipeline has one shared queue per
 *           group of projects, an independent one a queue per change.
 * item      One change in one pipeline's queue, from enqueue to report.
 * buildset  The item's test of one speculative state: the branch with the items ahead (its base)
 *           and the change merged in, and one build per job on it. A new base means a new buildset.
 * build     One job run on one nodeset for a buildset; its result is SUCCESS, FAILURE,
 *           TIMED_OUT, NODE_FAILURE, ERROR, CANCELED or SKIPPED.
 * report    The votes and the message left on the change (and the submit, in the gate).
 * autohold  An operator's order to keep the nodes of a failed build for debugging.
 */

/** The change an item tests, as the gate read it from Gerrit. */
export interface ChangeRef {
  connection: string;
  project: string;
  branch: string;
  number: number;
  patchset: number;
  /** `refs/changes/NN/CHANGE/PATCHSET`. */
  ref: string;
  revision: string;
  changeId: string;
  subject: string;
  url: string;
  owner: string;
  /** The commit message: its `Depends-On:` footers name the changes it needs. */
  message: string;
}

export const changeKey = (c: Pick<ChangeRef, 'number' | 'patchset'>) => `${c.number},${c.patchset}`;

/** active: in its queue; reporting: its result is being left on the change; done: reported (or dequeued). */
export const ITEM_STATES = ['active', 'reporting', 'done'] as const;
export type ItemState = (typeof ITEM_STATES)[number];

/** waiting: not started; nodes: its node request is out; running: steps on the nodes; done: has a result. */
export const BUILD_STATES = ['waiting', 'nodes', 'running', 'done'] as const;
export type BuildState = (typeof BUILD_STATES)[number];

export const BUILD_RESULTS = ['SUCCESS', 'FAILURE', 'TIMED_OUT', 'NODE_FAILURE', 'ERROR', 'CANCELED', 'SKIPPED'] as const;
export type BuildResult = (typeof BUILD_RESULTS)[number];

/**
 * How an item left its queue: SUCCESS (and merged, in a gate), FAILURE, MERGE_CONFLICT (its
 * change does not merge on its base), DEQUEUED (by an operator), SUPERSEDED (a new patch set,
 * or the change merged or abandoned elsewhere). The last two are not reported.
 */
export const ITEM_RESULTS = ['SUCCESS', 'FAILURE', 'MERGE_CONFLICT', 'DEQUEUED', 'SUPERSEDED'] as const;
export type ItemResult = (typeof ITEM_RESULTS)[number];

export interface BuildNode {
  name: string;
  id: string;
  label: string;
  provider: string;
  ip: string | null;
}

export interface Build {
  id: string;
  job: string;
  voting: boolean;
  state: BuildState;
  result: BuildResult | null;
  /** The node request, once asked for (so a restarted gate can give it back). */
  requestId: string | null;
  nodes: BuildNode[];
  startedAt: number | null;
  endedAt: number | null;
  logUrl: string | null;
  /** Why it failed, in a line (a step's exit status, no nodes, a timeout). */
  error: string | null;
  /** Its nodes were kept by an autohold. */
  held: boolean;
}

export interface Buildset {
  id: string;
  /** Ids of the items ahead it was prepared on, in queue order. */
  base: string[];
  /** merging: the workspace is being prepared; ready: builds run; conflict: the change does not merge. */
  state: 'merging' | 'ready' | 'conflict';
  /** Project → the commit prepared for it (the speculative state). */
  commits: Record<string, string>;
  /** Files the item's change touches. */
  files: string[];
  /** Numbers of the changes merged into its speculative state (those ahead, those depended on, its own). */
  merged?: number[];
  conflict: string | null;
  builds: Build[];
  createdAt: number;
}

export interface Item {
  id: string;
  pipeline: string;
  /** Queue name: shared by a group of projects in a dependent pipeline, the change's own otherwise. */
  queue: string;
  /** Enqueue order, across pipelines. */
  seq: number;
  state: ItemState;
  change: ChangeRef;
  /** Changes its `Depends-On:` footers name that were not merged at enqueue. */
  needs: ChangeRef[];
  enqueuedAt: number;
  buildset: Buildset | null;
  result: ItemResult | null;
  /** Why, in a line, when it did not succeed. */
  reason: string | null;
  reportedAt: number | null;
  updatedAt: number;
}

/** An operator's order to keep the nodes of the next failing build(s) of a job. */
export interface Autohold {
  id: string;
  /** Only builds of this project's changes; null = any. */
  project: string | null;
  job: string;
  /** Only this change; null = any. */
  change: number | null;
  reason: string;
  /** How many failed builds to hold. */
  count: number;
  /** How many have been held. */
  held: number;
  /** Seconds a held node is kept; null = until an operator deletes it. */
  nodeExpiration: number | null;
  createdAt: number;
}

/** An event waiting for the scheduler: from Gerrit (stream or webhook) or from an operator. */
export interface GateEventRecord {
  seq: number;
  /** `stream:<connection>`, `webhook:<connection>`, `operator`, `catch-up:<connection>`. */
  source: string;
  body: unknown;
  receivedAt: number;
  /** Set once handled: what came of it (enqueued, ignored and why, an error). */
  processedAt: number | null;
  outcome: string | null;
}
