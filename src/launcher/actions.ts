import type { ServerView } from '../../providers/provider.ts';

/**
 * What a plan asks for (./planner.ts decides, ./apply.ts carries out), and the facts a launch task
 * reports back for the next plan to decide on.
 */

export type Action =
  | { type: 'fail-request'; requestId: string; reason: string }
  | { type: 'claim-request'; requestId: string; provider: string; pool: string; allocate: string[]; launch: string[] }
  | { type: 'launch-for-request'; requestId: string; provider: string; pool: string; allocate: string[]; labels: string[] }
  | { type: 'fulfill-request'; requestId: string; nodeIds: string[] }
  | { type: 'decline-request'; requestId: string; provider: string; reason: string }
  | { type: 'unallocate-node'; nodeId: string }
  | { type: 'return-used'; nodeId: string; reason: string }
  | { type: 'launch'; label: string; provider: string; pool: string }
  | { type: 'register-node'; label: string; provider: string; pool: string; serverId: string }
  | { type: 'create-server'; nodeId: string }
  | { type: 'adopt-server'; nodeId: string; serverId: string }
  | { type: 'retry-create'; nodeId: string }
  | { type: 'server-active'; nodeId: string; server: ServerView }
  | { type: 'scan-node'; nodeId: string }
  | { type: 'create-later'; nodeId: string; reason: string; kind: 'quota' | 'rate-limit'; retryAfterMs?: number; since?: number }
  | { type: 'pause-pool'; provider: string; pool: string; reason: string }
  | ({ type: 'launch-failed'; nodeId: string; reason: string; retry: boolean; kind?: string; moved?: boolean; failRequest?: string } & FailureEvidence)
  | { type: 'delete-node'; nodeId: string; reason: string }
  | { type: 'delete-server'; nodeId: string }
  | { type: 'remove-node'; nodeId: string; reason: string }
  | { type: 'note-leak'; provider: string; serverId: string }
  | { type: 'delete-leak'; provider: string; serverId: string; name: string };

/** What a failed launch task saw, carried to the action that records the failure. */
export interface FailureEvidence {
  /** The cloud refused the create call: no server was made, so there is none to look for. */
  nothingMade?: boolean;
  /** The cloud's Retry-After, for the label's backoff. */
  retryAfterMs?: number;
  /** When the failed attempt started (before the rate gate), for the provider's health. */
  since?: number;
}

/**
 * A launch task's failure, reported by ./apply-launch.ts as a fact and not yet acted on: the next plan
 * decides whether the node is created again, retried as a new node, moved with its request to
 * another provider, or failed.
 */
export interface LaunchFailure extends FailureEvidence {
  /** `create`: the create call failed; `scan`: the node never answered over SSH (or its floating IP failed). */
  stage: 'create' | 'scan';
  reason: string;
  /** The error's class (providers/errors.ts); absent when unknown. */
  kind?: string;
  /** A 429: the cloud asked us to slow down and made nothing. */
  throttled?: boolean;
}
