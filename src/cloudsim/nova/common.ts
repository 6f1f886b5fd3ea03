/**
 * What every Nova answer shares: microversion negotiation, the request-id and microversion
 * headers, Nova's fault bodies, links, and the JSON-schema style 400 messages.
 */
import { SimError, type SimReply, type SimRequest } from '../service.ts';
import type { CloudState, ServerRecord } from '../state.ts';
import { pyRepr } from '../util.ts';

export const MIN_MINOR = 1;
export const MAX_MINOR = 93;

/** Nova's fault names by status; anything else is a `computeFault`. */
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound', 405: 'badMethod',
  409: 'conflictingRequest', 413: 'overLimit', 415: 'badMediaType', 429: 'overLimit', 501: 'notImplemented',
  503: 'serviceUnavailable',
};

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * The requested microversion (the minor of 2.x): `OpenStack-API-Version: compute X`, else the
 * legacy `X-OpenStack-Nova-API-Version`, else 2.1. `latest` is the maximum.
 */
export function readMicroversion(req: SimRequest): number {
  let value: string | undefined;
  const modern = headerValue(req.headers['openstack-api-version']);
  if (modern) {
    for (const part of modern.split(',')) {
      const [service, version] = part.trim().split(/\s+/, 2);
      if (service?.toLowerCase() === 'compute' && version) value = version;
    }
  }
  value ??= headerValue(req.headers['x-openstack-nova-api-version'])?.trim();
  if (!value) return MIN_MINOR;
  if (value.toLowerCase() === 'latest') return MAX_MINOR;
  const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(value);
  if (!m) throw new SimError(400, `API Version String ${value} is of invalid format. Must be of format MajorNum.MinorNum.`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== 2 || minor < MIN_MINOR || minor > MAX_MINOR) {
    throw new SimError(406, `Version ${major}.${minor} is not supported by the API. Minimum is 2.${MIN_MINOR} and maximum is 2.${MAX_MINOR}.`);
  }
  return minor;
}

/** Request ids on everything under /v2.1; microversion headers once the version was accepted. */
export function decorateNova(req: SimRequest, reply: SimReply): void {
  if (!req.path.startsWith('/compute/v2.1')) return;
  const h = (reply.headers ??= {});
  h['X-Openstack-Request-Id'] = req.requestId;
  h['X-Compute-Request-Id'] = req.requestId;
  if (req.microversion !== undefined) {
    h['Openstack-Api-Version'] = `compute 2.${req.microversion}`;
    h['X-Openstack-Nova-Api-Version'] = `2.${req.microversion}`;
    h['Vary'] = 'OpenStack-API-Version, X-OpenStack-Nova-API-Version';
  }
}

export function novaError(_req: SimRequest, err: SimError): SimReply {
  const name = FAULT_NAMES[err.status] ?? 'computeFault';
  return {
    status: err.status,
    headers: { ...err.headers },
    body: { [name]: { code: err.status, message: err.message } },
    contentType: 'application/json; charset=UTF-8',
  };
}

export const badRequest = (message: string) => new SimError(400, message);

/** Nova's message for a JSON-schema failure: `Value:` is Python's str(), the reason uses repr(). */
export function schemaError(field: string, value: unknown, reason: string): SimError {
  const shown = typeof value === 'string' ? value : pyRepr(value);
  return badRequest(`Invalid input for field/attribute ${field}. Value: ${shown}. ${reason}`);
}

export function queryError(param: string, value: string, reason: string): SimError {
  return badRequest(`Invalid input for query parameters ${param}. Value: ${value}. ${reason}`);
}

export function notFound(message: string): SimError {
  return new SimError(404, message);
}

/** The 409 Nova gives when an action does not fit the server's state. */
export function stateConflict(action: string, s: ServerRecord, attrOnly?: 'vm_state'): SimError {
  const [attr, state] = s.taskState && !attrOnly ? ['task_state', s.taskState] : ['vm_state', s.vmState];
  return new SimError(409, `Cannot '${action}' instance ${s.id} while it is in ${attr} ${state}`);
}

/** A server the API can act on: known and not DELETED. */
export function liveServer(cloud: CloudState, id: string): ServerRecord {
  const s = cloud.servers.get(id);
  if (!s || s.status === 'DELETED') throw notFound(`Instance ${id} could not be found.`);
  return s;
}

/** Nova's self and bookmark links (the bookmark drops the version). */
export function links(cloud: CloudState, collection: string, id: string) {
  const compute = cloud.endpoints().compute;
  const bookmarkRoot = compute.replace(/\/v2\.1$/, '');
  return [
    { rel: 'self', href: `${compute}/${collection}/${id}` },
    { rel: 'bookmark', href: `${bookmarkRoot}/${collection}/${id}` },
  ];
}

export function bookmark(cloud: CloudState, collection: string, id: string) {
  return [links(cloud, collection, id)[1]];
}

/** Nova's `limit` query parameter: digits only, capped at `max`. */
export function readLimit(query: URLSearchParams, max: number): number {
  const raw = query.get('limit');
  if (raw === null) return max;
  if (!/^[0-9]+$/.test(raw)) throw queryError('limit', raw, `${pyRepr(raw)} does not match '^[0-9]*$'`);
  return Math.min(Number(raw), max);
}

/** The `next` link of a full page: the same query with `marker` set to the page's last id. */
export function nextLink(base: string, query: URLSearchParams, marker: string): { rel: string; href: string } {
  const q = new URLSearchParams(query);
  q.set('marker', marker);
  return { rel: 'next', href: `${base}?${q.toString()}` };
}

export function json(status: number, body: unknown, headers?: Record<string, string>): SimReply {
  return { status, body, headers, contentType: 'application/json' };
}
