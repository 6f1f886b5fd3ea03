/**
 * The contract between the HTTP layer and the simulated services. A service is a list of routes
 * plus its own error shape and headers; handlers see a plain request and return a plain reply,
 * so each service file reads like the API reference it follows.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CloudState, TokenRecord } from './state.ts';

export type ServiceName = 'keystone' | 'nova' | 'glance' | 'neutron' | 'cinder';

export interface SimRequest {
  cloud: CloudState;
  method: string;
  /** Path below the cloud prefix, without query (`/compute/v2.1/servers/detail`). */
  path: string;
  /** Path and query below the service's endpoint, for pagination links. */
  query: URLSearchParams;
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Raw body text; services parse it themselves because each reports bad JSON its own way. */
  body: string | undefined;
  /** Streaming body (Glance image data), when the route asked for one. */
  stream?: NodeJS.ReadableStream;
  requestId: string;
  /** Set by the auth step on routes that need a token. */
  token?: TokenRecord;
  /** Nova microversion minor number (2.x), set by Nova's before step. */
  microversion?: number;
}

export interface SimReply {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as they are; undefined/null as an empty body. */
  body?: unknown;
  /** Content-Type; default `application/json` when there is a body. Empty string: send none. */
  contentType?: string;
}

export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD';
  /** Fastify path below the cloud prefix, e.g. `/compute/v2.1/servers/:id`. */
  path: string;
  /** Needs a valid X-Auth-Token (checked before the handler). */
  auth: boolean;
  /** Hand the body over as a stream instead of reading it (uploads). */
  stream?: boolean;
  handler(req: SimRequest): SimReply | Promise<SimReply>;
}

export interface ServiceDef {
  name: ServiceName;
  /** Prefixes stripped from a route to name it in stats, longest first. */
  statsRoots: string[];
  routes: RouteDef[];
  /** Runs after auth, before the handler (Nova reads the microversion here). */
  before?(req: SimRequest): void;
  /** Headers every answer of the service carries. */
  decorate(req: SimRequest, reply: SimReply): void;
  /** The service's own error body for a status and message. */
  error(req: SimRequest, err: SimError): SimReply;
  /** Answer to a missing, unknown or expired token. */
  unauthorized(req: SimRequest): SimReply;
  /** The service's refusal for lack of quota, for injected quota faults (a 500 when it has none). */
  quotaError?(req: SimRequest): SimError;
}

/** An error a handler throws; the service turns it into its own error body. */
export class SimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Neutron's exception type name (NetworkNotFound, ...). */
    readonly type?: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'SimError';
  }
}

/** HTTP reason phrases used as error titles by Keystone and Glance. */
export const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 409: 'Conflict', 413: 'Request Entity Too Large', 415: 'Unsupported Media Type',
  429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
};

/** Parses a JSON request body; `undefined` when it is not JSON (each service words that differently). */
export function parseJson(body: string | undefined): { ok: true; value: unknown } | { ok: false } {
  if (body === undefined || body === '') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    return { ok: false };
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const UNAUTHORIZED_MESSAGE = 'The request you have made requires authentication.';

/** keystonemiddleware's answer in front of Nova, Glance and Neutron (no service headers of its own). */
export function middlewareUnauthorized(req: SimRequest): SimReply {
  return {
    status: 401,
    headers: { 'WWW-Authenticate': `Keystone uri="${req.cloud.endpoints().identity}"` },
    body: { error: { code: 401, title: 'Unauthorized', message: UNAUTHORIZED_MESSAGE } },
    contentType: 'application/json',
  };
}
