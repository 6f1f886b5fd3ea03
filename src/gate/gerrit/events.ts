import { z } from 'zod';

/**
 * Gerrit's stream events as the gate reads them (from `gerrit stream-events` or a webhook
 * carrying the same JSON). Gerrit says any field may be missing, so the schemas ask only for what
 * the gate uses; unknown fields pass, unknown event types are ignored (not errors).
 */

const Account = z.object({ username: z.string().optional(), name: z.string().optional(), email: z.string().optional() }).loose();

const ChangeAttr = z.object({
  project: z.string().min(1),
  branch: z.string().min(1),
  number: z.coerce.number().int().positive(),
  id: z.string().optional(),
  subject: z.string().optional(),
  url: z.string().optional(),
  commitMessage: z.string().optional(),
  owner: Account.optional(),
  status: z.string().optional(),
}).loose();

const PatchSetAttr = z.object({
  number: z.coerce.number().int().positive(),
  revision: z.string().min(1),
  ref: z.string().min(1),
  uploader: Account.optional(),
}).loose();

/** Values are strings on the wire ("2"); `oldValue` marks a label the comment changed. */
const Approval = z.object({ type: z.string(), value: z.coerce.number(), oldValue: z.coerce.number().optional() }).loose();

const base = { eventCreatedOn: z.number().optional() };

export const PatchsetCreated = z.object({ type: z.literal('patchset-created'), change: ChangeAttr, patchSet: PatchSetAttr, uploader: Account.optional(), ...base }).loose();
export const CommentAdded = z.object({
  type: z.literal('comment-added'), change: ChangeAttr, patchSet: PatchSetAttr, author: Account.optional(),
  comment: z.string().default(''), approvals: z.array(Approval).default([]), ...base,
}).loose();
export const ChangeMerged = z.object({ type: z.literal('change-merged'), change: ChangeAttr, patchSet: PatchSetAttr.optional(), submitter: Account.optional(), newRev: z.string().optional(), ...base }).loose();
export const ChangeAbandoned = z.object({ type: z.literal('change-abandoned'), change: ChangeAttr, patchSet: PatchSetAttr.optional(), abandoner: Account.optional(), ...base }).loose();
export const RefUpdated = z.object({
  type: z.literal('ref-updated'), submitter: Account.optional(),
  refUpdate: z.object({ project: z.string(), refName: z.string(), oldRev: z.string().optional(), newRev: z.string().optional() }).loose(), ...base,
}).loose();

export const GerritEvent = z.discriminatedUnion('type', [PatchsetCreated, CommentAdded, ChangeMerged, ChangeAbandoned, RefUpdated]);
export type GerritEvent = z.output<typeof GerritEvent>;
export type ChangeEvent = Exclude<GerritEvent, z.output<typeof RefUpdated>>;

export const EVENT_TYPES = ['patchset-created', 'comment-added', 'change-merged', 'change-abandoned', 'ref-updated'] as const;

export type ParsedEvent =
  | { ok: true; event: GerritEvent }
  | { ok: true; event: null; ignored: string }
  | { ok: false; error: string };

/** One event's JSON: the event, or nothing for a type the gate does not use, or what is wrong with it naming the field. */
export function parseEvent(body: unknown): ParsedEvent {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, error: 'an event must be a JSON object' };
  const type = (body as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, error: 'type: missing (every Gerrit event has a type)' };
  if (!(EVENT_TYPES as readonly string[]).includes(type)) return { ok: true, event: null, ignored: `event type ${type} is not used` };
  const r = GerritEvent.safeParse(body);
  if (r.success) return { ok: true, event: r.data };
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || 'event';
  const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
  return { ok: false, error: `${type} event: ${field}: ${missing ? 'missing' : issue.message.replace(/^Invalid input: /, '')}` };
}

/** One line of `gerrit stream-events`. */
export function parseEventLine(line: string): ParsedEvent {
  let body: unknown;
  try {
    body = JSON.parse(line);
  } catch (e) {
    return { ok: false, error: `not JSON (${(e as Error).message}): ${line.length > 120 ? `${line.slice(0, 120)}…` : line}` };
  }
  return parseEvent(body);
}
