import type { Autohold, GateEventRecord, Item, ItemState } from '../gate/model.ts';

/**
 * The gating core's records in the store (src/gate/): its queue items (each with its buildset and
 * builds), the events waiting for the scheduler, operators' autoholds, and the scheduler's lease.
 * The gate keeps nothing else: a gate killed at any point starts again from these rows. It never
 * reads the node or request tables; its nodes come through the node-request API.
 */

export interface GateItemFilter {
  states?: readonly ItemState[];
  pipeline?: string;
  /** Only items of this change (number). */
  change?: number;
  /** Only items written at or after this time (ms). */
  updatedSince?: number;
  /** Newest first, at most this many (default: all, oldest first). */
  limit?: number;
}

export interface GateStore {
  /** Writes an item, its buildset and builds (insert or replace) and announces it. */
  saveItem(item: Item): Promise<void>;
  getItem(id: string): Promise<Item | null>;
  /** Items in enqueue order (`seq`), or the newest `limit` ones. */
  listItems(filter?: GateItemFilter): Promise<Item[]>;
  /** Removes done items last written before `before`; returns how many. */
  pruneItems(before: number): Promise<number>;

  /** Queues an event for the scheduler; returns its sequence number. */
  appendEvent(source: string, body: unknown, at: number): Promise<number>;
  getEvent(seq: number): Promise<GateEventRecord | null>;
  /** Events after `afterSeq`, oldest first (only unprocessed ones with `pending`). */
  listEvents(filter?: { afterSeq?: number; pending?: boolean; limit?: number }): Promise<GateEventRecord[]>;
  /** Marks an event handled, with what came of it. */
  finishEvent(seq: number, outcome: string, at: number): Promise<void>;
  /** Removes processed events received before `before`; returns how many. */
  pruneEvents(before: number): Promise<number>;

  insertAutohold(a: Autohold): Promise<void>;
  listAutoholds(): Promise<Autohold[]>;
  /** Counts one held build against the autohold if it has holds left (`held < count`); returns whether it did. */
  useAutohold(id: string): Promise<boolean>;
  removeAutohold(id: string): Promise<boolean>;

  /** Takes or renews the named lease for `owner` until `until` when it is free, expired at `now`, or already its own. */
  claimLease(name: string, owner: string, until: number, now: number): Promise<boolean>;
  /** Gives the lease up if `owner` holds it. */
  releaseLease(name: string, owner: string): Promise<void>;
}
