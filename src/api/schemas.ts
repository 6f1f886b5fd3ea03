import { z } from 'zod';
import { NODE_STATES, REQUEST_STATES } from '../model.ts';

/** Shapes of path and query parameters shared by several routes. Bodies live with their operations. */

export const IdParams = z.object({ id: z.string().min(1).max(64) });
export type IdParams = z.output<typeof IdParams>;

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
});
export type NodeListQuery = z.output<typeof NodeListQuery>;

export const RequestListQuery = z.object({
  state: listOf(REQUEST_STATES),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
export type RequestListQuery = z.output<typeof RequestListQuery>;

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
