import { z } from 'zod';
import { NODE_STATES, type NodeRecord, type NodeState } from '../model.ts';
import type { Store } from '../store/store.ts';
import type { OpContext } from './context.ts';
import { ConflictError, NotFoundError, parseArgs } from './errors.ts';

/** Operator actions on one node. */

export const HoldInput = z.strictObject({
  reason: z.string().min(1).max(1000).optional(),
  /** When the hold ends (ms since epoch); absent = until an operator deletes the node. */
  expiresAt: z.number().int().positive().optional(),
});
export type HoldInput = z.input<typeof HoldInput>;

async function mustGetNode(store: Store, id: string): Promise<NodeRecord> {
  const node = await store.getNode(id);
  if (!node) throw new NotFoundError('node', id);
  return node;
}

/**
 * Holds a node for debugging: it leaves every pool until deleted (or until its hold expires).
 * A ready node may be held only while no request has claimed it, so a scheduler never receives
 * a node an operator just took; an in-use node keeps running its job and stays held after.
 */
export async function holdNode(store: Store, id: string, args: HoldInput, ctx: OpContext): Promise<NodeRecord> {
  const input = parseArgs(HoldInput, args);
  const patch = {
    state: 'hold' as const, stateTime: ctx.now,
    holdReason: input.reason ?? `held by ${ctx.by}`, holdExpires: input.expiresAt ?? null,
  };
  const reason = `hold: ${patch.holdReason}`;
  const held = await store.updateNode(id, patch, ctx.by, { states: ['in-use', 'used'] }, reason)
    || await store.updateNode(id, patch, ctx.by, { states: ['ready'], unallocated: true }, reason);
  if (held) return mustGetNode(store, id);
  const node = await mustGetNode(store, id);
  if (node.state === 'ready') {
    throw new ConflictError(`node ${id} is ready but allocated to request ${node.allocatedTo}`, node.state);
  }
  throw new ConflictError(`node ${id} is ${node.state}; only ready, in-use or used nodes can be held`, node.state);
}

const DELETABLE: readonly NodeState[] = NODE_STATES.filter((s) => s !== 'deleting');

/**
 * Marks a node `deleting`; the launcher deletes its server (and aborts it first if it is still
 * building). Any state but `deleting` itself may be deleted by an operator, in-use included.
 */
export async function deleteNode(store: Store, id: string, ctx: OpContext): Promise<NodeRecord> {
  const ok = await store.updateNode(id, { state: 'deleting', stateTime: ctx.now }, ctx.by,
    { states: DELETABLE }, `deleted by ${ctx.by}`);
  const node = await mustGetNode(store, id);
  if (!ok) throw new ConflictError(`node ${id} is already ${node.state}`, node.state);
  return node;
}
