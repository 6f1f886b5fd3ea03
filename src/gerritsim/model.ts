/**
 * What the Gerrit simulator keeps: accounts, projects, changes with their patch sets, votes and
 * messages. The words are Gerrit's (change, patch set, revision, label, approval, submit).
 */

export interface Account {
  /** `_account_id`, from 1000000 as on a fresh Gerrit. */
  id: number;
  username: string;
  name: string;
  email: string;
  /** HTTP password for `/a/` REST calls (basic auth). */
  password: string;
}

/** The labels every project has, with their ranges. */
export const LABELS: Record<string, { min: number; max: number }> = {
  'Code-Review': { min: -2, max: 2 },
  Verified: { min: -2, max: 2 },
  Workflow: { min: -1, max: 1 },
};

export type ChangeStatus = 'NEW' | 'MERGED' | 'ABANDONED';

export interface PatchSet {
  number: number;
  /** The commit's sha. */
  revision: string;
  parent: string;
  /** `refs/changes/NN/CHANGE/PATCHSET`, NN the change number's last two digits. */
  ref: string;
  uploader: number;
  /** ms since epoch. */
  created: number;
  commitMessage: string;
  files: string[];
}

export interface Vote {
  label: string;
  value: number;
  account: number;
  /** ms since epoch. */
  granted: number;
}

export interface ChangeMessage {
  id: string;
  author: number;
  date: number;
  message: string;
  tag: string | null;
  patchSet: number;
}

export interface Change {
  number: number;
  /** The Change-Id footer (`I` + 40 hex). */
  changeId: string;
  project: string;
  branch: string;
  subject: string;
  owner: number;
  status: ChangeStatus;
  created: number;
  updated: number;
  patchSets: PatchSet[];
  /** Votes on the current patch set, by label then account (a new patch set clears them). */
  votes: Map<string, Map<number, Vote>>;
  messages: ChangeMessage[];
  /** The branch's commit once merged (the change itself or a merge commit). */
  mergedAs: string | null;
  submitter: number | null;
}

export function currentPatchSet(c: Change): PatchSet {
  return c.patchSets[c.patchSets.length - 1]!;
}

export function changeRef(change: number, patchSet: number): string {
  return `refs/changes/${String(change % 100).padStart(2, '0')}/${change}/${patchSet}`;
}

/** A Gerrit timestamp: `2013-02-01 09:59:32.126000000`, always UTC. */
export function gerritTime(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}000000`;
}

/** A refusal with the HTTP status Gerrit answers and its plain-text message. */
export class GerritError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'GerritError';
  }
}
