/**
 * The sizes the API accepts. Each body limit is what the largest legal call of its route needs,
 * so anything bigger is refused (413) before it is read or parsed; strings and lists have their
 * own limits (400), checked before their elements are. Measured with `npm run fuzz:api`: before
 * these limits, bodies of up to 1 MiB (fastify's default) with 10^5-element lists were parsed
 * and validated element by element.
 */
import type { FastifyInstance } from 'fastify';

/** Longest label, requestor, tenant, provider or image name. */
export const MAX_NAME = 255;
/** Longest node, request, build or upload id (ours are 16 characters). */
export const MAX_ID = 64;
/** Longest hold or pause reason. */
export const MAX_REASON = 1000;
/** `api.max-nodes-per-request` when nothing else is said. */
export const DEFAULT_MAX_NODES_PER_REQUEST = 50;

/** Worst case of one string in a body: every character JSON-escaped as \uXXXX, plus its quotes and comma. */
const jsonString = (chars: number) => chars * 6 + 4;
/** Keys, numbers, and whitespace a pretty-printing client adds: doubled, plus a fixed allowance. */
const withSlack = (bytes: number) => 2 * bytes + 1024;

/** POST /api/v1/requests: `maxNodes` labels, requestor and tenant at their longest. */
export function requestBodyLimit(maxNodes: number): number {
  return withSlack((maxNodes + 2) * jsonString(MAX_NAME) + 64);
}

/** Routes whose body holds a reason (hold, release, pause) and a few short fields. */
export const REASON_BODY_LIMIT = withSlack(jsonString(MAX_REASON) + 128);
/** Routes that take no body: an empty object or nothing. */
export const EMPTY_BODY_LIMIT = 1024;

/**
 * Gives every route that sets no body limit of its own the one that fits it: REASON_BODY_LIMIT
 * when it declares a body, EMPTY_BODY_LIMIT when it does not. Must be installed before the routes.
 */
export function installBodyLimits(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= route.schema?.body ? REASON_BODY_LIMIT : EMPTY_BODY_LIMIT;
  });
}

/** "158 KiB", "1024 bytes": a limit as the refusal names it. */
export function sizeText(bytes: number): string {
  return bytes >= 10 * 1024 ? `${Math.floor(bytes / 1024)} KiB` : `${bytes} bytes`;
}
