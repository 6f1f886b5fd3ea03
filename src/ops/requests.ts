import type { z } from 'zod';
import { CreateRequestInput, ReleaseInput } from '../api/contract.ts';
import type { RequestRecord } from '../model.ts';
import { OPEN_REQUEST_STATES } from '../model.ts';
import type { Store } from '../store/store.ts';
import { newRequestRecord } from '../store/records.ts';
import type { OpContext } from './context.ts';
import { ConflictError, NotFoundError } from './errors.ts';

export { CreateRequestInput, ReleaseInput };
/** A request body as the API's validation leaves it (defaults filled in): the API parses it once, at its edge. */
export type CreateRequestArgs = z.output<typeof CreateRequestInput>;
export type ReleaseArgs = z.output<typeof ReleaseInput>;

/**
 * Node-request operations: what a scheduler does with a request after asking for it. Every state
 * change is a conditional update, so when a launcher (or another API process) changes the same
 * record at the same moment, one of the two writes loses and the loser re-reads instead of
 * overwriting.
 */


/**
 * Records a new request in `requested`. Labels are not checked against the configuration: the
 * API may run beside launchers of another config version, so the launcher that picks the request
 * up fails it with a reason when no provider offers a label.
 */
export async function createRequest(store: Store, input: CreateRequestArgs, ctx: OpContext): Promise<RequestRecord> {
  const req = newRequestRecord({ ...input, now: ctx.now });
  await store.insertRequest(req, ctx.by);
  return req;
}

async function mustGetRequest(store: Store, id: string): Promise<RequestRecord> {
  const req = await store.getRequest(id);
  if (!req) throw new NotFoundError('request', id);
  return req;
}

/** A request's state may move under us (a launcher fulfils it); a few re-reads settle it. */
const MAX_RACES = 5;

/**
 * Cancels an open request: it becomes `canceled` and the nodes a launcher had already set aside
 * for it (building or ready) return to the pool. A fulfilled request is released as `used`
 * instead: its nodes ran (or could have run) a job and are never handed out again.
 */
export async function cancelRequest(store: Store, id: string, ctx: OpContext): Promise<RequestRecord> {
  for (let i = 0; i < MAX_RACES; i++) {
    const req = await mustGetRequest(store, id);
    if (req.state === 'fulfilled') return releaseRequest(store, id, { state: 'used' }, ctx);
    if (!OPEN_REQUEST_STATES.includes(req.state)) {
      throw new ConflictError(`request ${id} is already ${req.state}`, req.state);
    }
    const canceled = await store.updateRequest(
      id, { state: 'canceled', stateTime: ctx.now, reason: `canceled by ${ctx.by}` }, ctx.by,
      { states: OPEN_REQUEST_STATES },
    );
    if (!canceled) continue;
    await returnNodesToPool(store, id, ctx);
    return mustGetRequest(store, id);
  }
  throw new ConflictError(`request ${id} keeps changing; try again`);
}

async function returnNodesToPool(store: Store, requestId: string, ctx: OpContext): Promise<void> {
  const nodes = await store.listNodes({ allocatedTo: requestId, states: ['building', 'ready'] });
  for (const n of nodes) {
    // Only while it is still ours and not yet handed over: a node that just went in-use or was
    // deleted is left to whoever changed it.
    await store.updateNode(n.id, { allocatedTo: null }, ctx.by,
      { states: ['building', 'ready'], allocatedTo: requestId }, `request ${requestId} canceled`);
  }
}

/**
 * Ends the requestor's use of a fulfilled request's nodes: each in-use node becomes `used`
 * (deleted by the launcher) or `hold` (kept for debugging), and the holder lease stops.
 */
export async function releaseRequest(store: Store, id: string, input: ReleaseArgs, ctx: OpContext): Promise<RequestRecord> {
  const req = await mustGetRequest(store, id);
  assertHolding(req, ctx.now);
  const holdReason = input.reason ?? `held by ${req.requestor} for request ${id}`;
  // One transaction: the holder lease ends (only while it still runs, so two releases racing for
  // the same nodes cannot split them) and every in-use node moves, or nothing changes; the
  // launcher never sees in-use nodes of a released request half-way. A node that left in-use
  // meanwhile (an operator deleted it) is left to whoever changed it.
  const nodes = await store.listNodes({ allocatedTo: id, states: ['in-use'] });
  const patch = input.state === 'used'
    ? { state: 'used' as const, stateTime: ctx.now }
    : { state: 'hold' as const, stateTime: ctx.now, holdReason, holdExpires: input.expires === undefined ? null : ctx.now + Math.round(input.expires * 1000) };
  const released = await store.writeAll([
    { table: 'requests', id, patch: { holderExpires: null, leaseOwner: null, leaseExpires: null }, cond: { states: ['fulfilled'], holderLeaseAfter: ctx.now } },
    ...nodes.map((n) => ({
      table: 'nodes' as const, id: n.id, patch, cond: { states: ['in-use' as const], allocatedTo: id },
      reason: input.state === 'used' ? `released by ${req.requestor}` : holdReason, optional: true,
    })),
  ], ctx.by);
  if (!released) {
    assertHolding(await mustGetRequest(store, id), ctx.now);
    throw new ConflictError(`request ${id} is being released by another caller`, req.state);
  }
  // The write's conditions held, and nothing else writes a fulfilled request: it is now this.
  return { ...req, holderExpires: null, leaseOwner: null, leaseExpires: null };
}

/** Renews the requestor's lease on a fulfilled request's nodes; returns the new expiry (ms). */
export async function heartbeat(store: Store, id: string, ctx: OpContext): Promise<number> {
  const req = await mustGetRequest(store, id);
  assertHolding(req, ctx.now);
  const expires = ctx.now + ctx.leaseTimeoutMs;
  const ok = await store.updateRequest(id, { holderExpires: expires }, ctx.by, { states: ['fulfilled'], holderLeaseAfter: ctx.now });
  if (!ok) {
    const now = await mustGetRequest(store, id);
    throw new ConflictError(`request ${id} is ${now.state}`, now.state);
  }
  return expires;
}

/** Throws unless the request is fulfilled and its holder lease is still running at `now`. */
function assertHolding(req: RequestRecord, now: number): void {
  if (req.state !== 'fulfilled') {
    throw new ConflictError(`request ${req.id} is ${req.state}; only a fulfilled request holds nodes`, req.state);
  }
  if (req.holderExpires === null) {
    throw new ConflictError(`request ${req.id} no longer holds its nodes: released, or lease expired; nodes were returned`, req.state);
  }
  if (req.holderExpires <= now) {
    throw new ConflictError(`request ${req.id}: lease expired; nodes were returned`, req.state);
  }
}
