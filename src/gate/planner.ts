import type { Item, ItemResult } from './model.ts';

/**
 * The queue planner: a pure function of one pipeline's items (and what has merged) that returns
 * what to do next, in the spirit of src/launcher/planner.ts. ./scheduler.ts carries the actions
 * out and calls it again whenever something changed.
 *
 * A dependent pipeline tests each item on top of the items ahead of it that are not failing
 * (Zuul's "nearest non-failing item"): when an item starts failing, the items behind it get a
 * base without it and start over; when an item ahead leaves the queue unmerged, likewise. An
 * item is reported (merged, or failed) only once every item of its base has merged: a failure
 * seen further back may be the fault of a change ahead. An independent pipeline tests each item
 * on the branch alone.
 */

export type Action =
  /** Prepare a new buildset on `base` (the items ahead, in order); the old one's builds are canceled. */
  | { type: 'prepare'; itemId: string; base: string[] }
  /** Start a build: ask for its nodes, then run it. */
  | { type: 'start'; itemId: string; buildId: string }
  /** Report the item's result (and merge it, for a gate's SUCCESS); unfinished builds are canceled. */
  | { type: 'report'; itemId: string; result: Exclude<ItemResult, 'DEQUEUED' | 'SUPERSEDED'>; reason: string | null };

export interface PlanInput {
  manager: 'independent' | 'dependent';
  /** The pipeline's items that are active or reporting, in enqueue order. */
  items: readonly Item[];
  /** Ids of items that left a queue merged. */
  mergedItems: ReadonlySet<string>;
  /** Numbers of changes known merged (by this gate or in Gerrit): a Depends-On on them is met. */
  mergedChanges: ReadonlySet<number>;
  /** Builds that may start now (the executor's free slots, shared by every pipeline). */
  freeSlots: number;
}

export interface Plan {
  actions: Action[];
  /** Slots left for the next pipeline. */
  freeSlots: number;
}

/** Why an item fails (a voting build failed, its change did not merge), or null while it does not. */
export function failingReason(item: Item): { result: 'FAILURE' | 'MERGE_CONFLICT'; reason: string } | null {
  const bs = item.buildset;
  if (!bs) return null;
  if (bs.state === 'conflict') return { result: 'MERGE_CONFLICT', reason: bs.conflict ?? 'merge conflict' };
  const failed = bs.builds.find((b) => b.voting && b.state === 'done' && b.result !== 'SUCCESS' && b.result !== 'SKIPPED');
  return failed ? { result: 'FAILURE', reason: `${failed.job}: ${failed.result}${failed.error ? ` (${failed.error})` : ''}` } : null;
}

function complete(item: Item): boolean {
  const bs = item.buildset;
  return !!bs && (bs.state === 'conflict' || (bs.state === 'ready' && bs.builds.every((b) => b.state === 'done')));
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export function planPipeline(input: PlanInput): Plan {
  const actions: Action[] = [];
  let free = input.freeSlots;
  // Per queue: the items ahead that are not failing, which the next item is tested on.
  const chains = new Map<string, Item[]>();

  for (const item of input.items) {
    const chain = chains.get(item.queue) ?? [];
    chains.set(item.queue, chain);
    if (item.state === 'reporting') {
      // A success being reported is about to merge: those behind stay on top of it.
      if (item.result === 'SUCCESS' && input.manager === 'dependent') chain.push(item);
      continue;
    }

    const base = input.manager === 'dependent' ? chain.map((i) => i.id) : [];
    const unmetNeed = input.manager === 'dependent'
      ? item.needs.find((n) => !input.mergedChanges.has(n.number) && !chain.some((i) => i.change.number === n.number))
      : undefined;
    if (unmetNeed) {
      actions.push({
        type: 'report', itemId: item.id, result: 'FAILURE',
        reason: `depends on change ${unmetNeed.number},${unmetNeed.patchset}, which is neither merged nor ahead of it in the queue`,
      });
      continue;
    }

    const bs = item.buildset;
    const current = bs ? bs.base.filter((id) => !input.mergedItems.has(id)) : null;
    if (!bs || !sameList(current!, base)) {
      actions.push({ type: 'prepare', itemId: item.id, base });
      // Until prepared, it counts as passing: those behind are tested on top of it.
      chain.push(item);
      continue;
    }

    const failing = failingReason(item);
    if (!failing) chain.push(item);

    // Builds start while the workspace is still prepared: their nodes are asked for meanwhile.
    if (bs.state !== 'conflict') {
      for (const b of bs.builds) {
        if (b.state !== 'waiting' || free <= 0) continue;
        actions.push({ type: 'start', itemId: item.id, buildId: b.id });
        free--;
      }
    }

    // Reported only at the head of its queue (everything it was tested on has merged): a failure
    // may have come from a change ahead, which then fails too and this item is tested again without it.
    if (!complete(item) || !bs.base.every((id) => input.mergedItems.has(id))) continue;
    actions.push(failing
      ? { type: 'report', itemId: item.id, result: failing.result, reason: failing.reason }
      : { type: 'report', itemId: item.id, result: 'SUCCESS', reason: null });
  }
  return { actions, freeSlots: free };
}
