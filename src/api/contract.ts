import { z } from 'zod';
import { NODE_STATES, REQUEST_STATES } from '../model.ts';
import { MAX_ID, MAX_NAME, MAX_REASON } from './limits.ts';

/**
 * The node-request API on the wire: every body, parameter and answer shape, once. The API
 * validates what it receives with these schemas and the client (src/client/) parses what it
 * receives with them, so the two cannot drift apart. Answers are read with plain (non-strict)
 * objects: a newer API may add fields, and an older client keeps working.
 */

const atMost = (n: number) => `at most ${n} characters`;

// ---- paths and queries ----

export const IdParams = z.object({ id: z.string().min(1).max(MAX_ID, atMost(MAX_ID)) });
export type IdParams = z.output<typeof IdParams>;

/** A provider's or an image's name in the path. */
export const NameParams = z.object({ name: z.string().min(1).max(MAX_NAME, atMost(MAX_NAME)) });
export type NameParams = z.output<typeof NameParams>;

/** `?state=a,b` or `?state=a&state=b`. */
function listOf<T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess(
    (v) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).flatMap((s) => String(s).split(',')).filter(Boolean)),
    z.array(z.enum(values)).optional(),
  );
}

export const NodeListQuery = z.object({
  state: listOf(NODE_STATES),
  label: z.string().min(1).optional(),
  provider: z.string().min(1).optional(),
  /** A page of at most this many nodes; the answer's `next` names the `after` of the next page. */
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  /** The id of the last node of the previous page. */
  after: z.string().min(1).max(200).optional(),
});
export type NodeListQuery = z.output<typeof NodeListQuery>;

export const RequestListQuery = z.object({
  state: listOf(REQUEST_STATES),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
export type RequestListQuery = z.output<typeof RequestListQuery>;

/** GET /api/v1/requests/{id}?wait=S: long-poll up to S seconds for the request to leave requested/pending. */
export const WaitQuery = z.object({
  wait: z.coerce.number().min(0, 'must be at least 0 seconds').max(300, 'at most 300 seconds').optional(),
});
export type WaitQuery = z.output<typeof WaitQuery>;

/** Nodepool-style status paths: `?format=json` (or `Accept: application/json`), `?fields=a,b`. */
export const StatusQuery = z.object({
  format: z.enum(['json', 'text', 'pretty']).optional(),
  fields: z.string().optional(),
  detail: z.enum(['', '1', 'true', '0', 'false']).optional(),
  node_id: z.string().optional(),
  state: listOf(NODE_STATES),
  label: z.string().min(1).optional(),
  provider: z.string().min(1).optional(),
});
export type StatusQuery = z.output<typeof StatusQuery>;

export const RequestStatusQuery = StatusQuery.omit({ node_id: true, label: true, provider: true }).extend({
  state: listOf(REQUEST_STATES),
});
export type RequestStatusQuery = z.output<typeof RequestStatusQuery>;

// ---- bodies ----

/** POST /api/v1/requests: a scheduler asks for nodes. */
export const CreateRequestInput = z.strictObject({
  // How many nodes one request may ask for is the API's setting (api.max-nodes-per-request): createRequestBody.
  labels: z.array(z.string().min(1, 'must not be empty').max(MAX_NAME, atMost(MAX_NAME))).min(1, 'must name at least one label'),
  requestor: z.string().min(1, 'must not be empty').max(MAX_NAME, atMost(MAX_NAME)),
  /** Lower is served sooner, as in Nodepool's relative priority. */
  priority: z.int().min(0).max(1_000_000).default(100),
  tenant: z.string().min(1).max(MAX_NAME, atMost(MAX_NAME)).nullable().default(null),
});
export type CreateRequestInput = z.input<typeof CreateRequestInput>;

/**
 * The body of POST /api/v1/requests with the configured most nodes per request. The list's
 * length is checked before its elements: 10^5 wrong elements would otherwise be 10^5 issues.
 */
export function createRequestBody(maxNodes: number) {
  const limit = `at most ${maxNodes} nodes per request (api.max-nodes-per-request)`;
  return CreateRequestInput.extend({
    labels: z.array(z.unknown()).max(maxNodes, limit).pipe(CreateRequestInput.shape.labels),
  });
}

/** POST /api/v1/requests/{id}/release: the job is done with the nodes. */
export const ReleaseInput = z.strictObject({
  state: z.enum(['used', 'hold']),
  reason: z.string().min(1).max(MAX_REASON, atMost(MAX_REASON)).optional(),
  /** With `hold`: seconds until the held nodes are deleted; absent = until an operator deletes them. */
  expires: z.number().positive().max(365 * 86400, 'at most a year (31536000 seconds)').optional(),
}).refine((b) => b.expires === undefined || b.state === 'hold', { path: ['expires'], message: 'only with state "hold": used nodes are deleted at once' });
export type ReleaseInput = z.input<typeof ReleaseInput>;

/** POST /api/v1/nodes/{id}/hold. */
export const HoldNodeBody = z.strictObject({
  reason: z.string().min(1).max(MAX_REASON, atMost(MAX_REASON)).optional(),
  /** Seconds from now until the hold ends; absent = until an operator deletes the node. */
  expires: z.number().positive().max(365 * 86400, 'at most a year (31536000 seconds)').optional(),
});
export type HoldNodeBody = z.input<typeof HoldNodeBody>;

/** POST /api/v1/images/{name}/pause. */
export const PauseImageBody = z.strictObject({ reason: z.string().min(1).max(MAX_REASON, atMost(MAX_REASON)).optional() }).optional();
export type PauseImageBody = z.input<typeof PauseImageBody>;

// ---- answers ----

const isoTime = z.string();

/** A node as its scheduler receives it: what a job needs to log in (address, port, user, host keys to pin). */
export const SchedulerNodeView = z.object({
  id: z.string(),
  label: z.string(),
  provider: z.string(),
  pool: z.string(),
  state: z.enum(NODE_STATES),
  hostname: z.string(),
  interface_ip: z.string().nullable(),
  public_ipv4: z.string().nullable(),
  private_ipv4: z.string().nullable(),
  ipv6: z.string().nullable(),
  az: z.string().nullable(),
  connection_type: z.literal('ssh'),
  connection_port: z.number().int(),
  username: z.string(),
  /** known_hosts form (`ssh-ed25519 AAAA…`), as scanned at launch. */
  host_keys: z.array(z.string()),
  /** The node's Python interpreter (Nodepool's `python-path`): a path, or `auto` to discover it. */
  python_path: z.string(),
});
export type SchedulerNodeView = z.output<typeof SchedulerNodeView>;

/** A request as its scheduler sees it; `nodes` only once fulfilled. Times are ISO 8601. */
export const RequestView = z.object({
  id: z.string(),
  state: z.enum(REQUEST_STATES),
  labels: z.array(z.string()),
  requestor: z.string(),
  priority: z.number().int(),
  tenant: z.string().nullable(),
  provider: z.string().nullable(),
  pool: z.string().nullable(),
  reason: z.string().nullable(),
  created_at: isoTime,
  fulfilled_at: isoTime.nullable(),
  /** The requestor's lease on the nodes: renew by heartbeat before it passes. */
  lease_expires_at: isoTime.nullable(),
  nodes: z.array(SchedulerNodeView),
});
export type RequestView = z.output<typeof RequestView>;

export const RequestListAnswer = z.object({ requests: z.array(RequestView) });
export type RequestListAnswer = z.output<typeof RequestListAnswer>;

export const HeartbeatAnswer = z.object({ id: z.string(), lease_expires_at: isoTime });
export type HeartbeatAnswer = z.output<typeof HeartbeatAnswer>;

/**
 * Every refusal: `{"error": {"code": 400, "field": "labels[1]", "message": "…"}}`; `field` for
 * validation errors only.
 */
export const ErrorBody = z.object({
  error: z.object({ code: z.number().int(), message: z.string(), field: z.string().optional() }),
});
export type ErrorBody = z.output<typeof ErrorBody>;

// ---- the gating core (`/api/v1/gate`, `/gate/…`) ----

const changeSpec = z.string().regex(/^\d+(,\d+)?$/, 'must be a change number, or number,patchset (e.g. 42,3)');

/** POST /api/v1/gate/enqueue and /dequeue: an operator's order, carried out by the gate's scheduler. */
export const GateOrderInput = z.strictObject({
  pipeline: z.string().min(1).max(255),
  change: changeSpec,
  project: z.string().min(1).max(255).optional(),
});
export type GateOrderInput = z.input<typeof GateOrderInput>;

/** What the API answers to an order or a webhook: the event queued for the scheduler. */
export const GateEventAnswer = z.object({
  event: z.number().int(),
  /** Set once the scheduler handled it: `enqueued 42,3 into gate`, `error: …`. */
  outcome: z.string().nullable(),
  processed: z.boolean(),
});
export type GateEventAnswer = z.output<typeof GateEventAnswer>;

/** POST /api/v1/gate/autoholds: keep the nodes of the next failed build(s) of a job. */
export const AutoholdInput = z.strictObject({
  job: z.string().min(1).max(255),
  reason: z.string().min(1).max(1000),
  project: z.string().min(1).max(255).optional(),
  change: z.int().positive().optional(),
  count: z.int().min(1).max(100).default(1),
});
export type AutoholdInput = z.input<typeof AutoholdInput>;

export const AutoholdView = z.object({
  id: z.string(), job: z.string(), project: z.string().nullable(), change: z.number().nullable(), reason: z.string(),
  count: z.number(), held: z.number(), created_at: isoTime,
});
export type AutoholdView = z.output<typeof AutoholdView>;
export const AutoholdList = z.object({ autoholds: z.array(AutoholdView) });

const GateJobStatus = z.object({
  name: z.string(), uuid: z.string(), state: z.string(), result: z.string().nullable(), voting: z.boolean(),
  url: z.string().nullable(), report_url: z.string().nullable(), start_time: z.number().nullable(), end_time: z.number().nullable(),
  elapsed_time: z.number().nullable(), remaining_time: z.number().nullable(), estimated_time: z.number().nullable(),
  error: z.string().nullable(), held: z.boolean(),
  nodes: z.array(z.object({ name: z.string(), id: z.string(), label: z.string(), provider: z.string(), ip: z.string().nullable() })),
});

const GateItemStatus = z.object({
  id: z.string(), item: z.string(), project: z.string(), branch: z.string(), url: z.string(), owner: z.string(), subject: z.string(),
  state: z.string(), active: z.boolean(), live: z.boolean(), enqueue_time: z.number(), remaining_time: z.number().nullable(),
  failing_reasons: z.array(z.string()), item_ahead: z.string().nullable(), items_behind: z.array(z.string()),
  zuul_ref: z.string().nullable(), needs: z.array(z.string()), jobs: z.array(GateJobStatus),
});

/** GET /gate/status: pipelines → queues → items → jobs, in the spirit of Zuul's status.json. Times in ms. */
export const GateStatus = z.object({
  now: z.number(),
  trigger_event_queue: z.object({ length: z.number() }),
  pipelines: z.array(z.object({
    name: z.string(), description: z.string().nullable(), manager: z.string(),
    change_queues: z.array(z.object({ name: z.string(), heads: z.array(z.array(GateItemStatus)) })),
  })),
  recent: z.array(z.object({
    id: z.string(), pipeline: z.string(), project: z.string(), result: z.string().nullable(), reason: z.string().nullable(),
    reported_at: z.number().nullable(), url: z.string(),
  })),
});
export type GateStatus = z.output<typeof GateStatus>;
export type GateItemStatus = z.output<typeof GateItemStatus>;
export type GateJobStatus = z.output<typeof GateJobStatus>;
