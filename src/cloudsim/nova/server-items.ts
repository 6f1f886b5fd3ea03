/**
 * A server's sub-resources: metadata (a dict of strings), tags (2.26+) and the guest password.
 * Changes are refused with 409 in the states Nova refuses them (e.g. while building).
 */
import { FIXED_LIMITS } from '../defaults.ts';
import { badRequest, json, liveServer, notFound, schemaError, stateConflict } from './common.ts';
import { SimError, isObject, parseJson, type RouteDef, type SimReply, type SimRequest } from '../service.ts';
import type { ServerRecord } from '../state.ts';
import { pyRepr } from '../util.ts';

const MAX_TAGS = 50;
const EMPTY_TAG_REPLY = 'text/html; charset=UTF-8';

function bodyOf(req: SimRequest): Record<string, unknown> {
  const parsed = parseJson(req.body);
  if (!parsed.ok) throw badRequest('Malformed request body');
  if (!isObject(parsed.value)) throw badRequest(`${pyRepr(parsed.value)} is not of type 'object'`);
  return parsed.value;
}

/** Metadata changes need an idle, running (or stopped) server. */
function writableForMetadata(s: ServerRecord, action: string): void {
  if (s.vmState !== 'active' || s.taskState !== null) throw stateConflict(action, s);
}

function checkMetadata(field: string, value: unknown): Record<string, string> {
  if (!isObject(value)) throw schemaError(field, value, `${pyRepr(value)} is not of type 'object'`);
  for (const [k, v] of Object.entries(value)) {
    if (!/^[a-zA-Z0-9-_:. ]{1,255}$/.test(k)) throw schemaError(field, value, `Additional properties are not allowed (${pyRepr(k)} was unexpected)`);
    if (typeof v !== 'string') throw schemaError(k, v, `${pyRepr(v)} is not of type 'string'`);
    if (v.length > 255) throw schemaError(k, v, `${pyRepr(v)} is too long`);
  }
  return value as Record<string, string>;
}

function checkMetadataCount(metadata: Record<string, string>): void {
  if (Object.keys(metadata).length > FIXED_LIMITS.maxServerMeta) {
    throw new SimError(403, `Maximum number of metadata items exceeds ${FIXED_LIMITS.maxServerMeta}`);
  }
}

function metadataGet(req: SimRequest): SimReply {
  return json(200, { metadata: { ...liveServer(req.cloud, req.params.id).metadata } });
}

/** POST merges, PUT replaces. */
function metadataSet(replace: boolean) {
  return (req: SimRequest): SimReply => {
    const s = liveServer(req.cloud, req.params.id);
    const body = bodyOf(req);
    if (body.metadata === undefined) throw badRequest("'metadata' is a required property");
    const given = checkMetadata('metadata', body.metadata);
    const next = replace ? { ...given } : { ...s.metadata, ...given };
    checkMetadataCount(next);
    writableForMetadata(s, 'update metadata');
    req.cloud.change(s, { metadata: next });
    return json(200, { metadata: { ...next } });
  };
}

function metadataItemGet(req: SimRequest): SimReply {
  const s = liveServer(req.cloud, req.params.id);
  const key = req.params.key;
  if (!(key in s.metadata)) throw notFound('Metadata item was not found');
  return json(200, { meta: { [key]: s.metadata[key] } });
}

function metadataItemPut(req: SimRequest): SimReply {
  const s = liveServer(req.cloud, req.params.id);
  const body = bodyOf(req);
  if (body.meta === undefined) throw badRequest("'meta' is a required property");
  const meta = checkMetadata('meta', body.meta);
  const keys = Object.keys(meta);
  if (keys.length === 0) throw schemaError('meta', meta, '{} does not have enough properties');
  if (keys.length > 1) throw schemaError('meta', meta, `${pyRepr(meta)} has too many properties`);
  if (keys[0] !== req.params.key) throw badRequest('Request body and URI mismatch');
  const next = { ...s.metadata, ...meta };
  checkMetadataCount(next);
  writableForMetadata(s, 'update metadata');
  req.cloud.change(s, { metadata: next });
  return json(200, { meta: { ...meta } });
}

function metadataItemDelete(req: SimRequest): SimReply {
  const s = liveServer(req.cloud, req.params.id);
  const key = req.params.key;
  if (!(key in s.metadata)) throw notFound('Metadata item was not found');
  writableForMetadata(s, 'delete metadata');
  const next = { ...s.metadata };
  delete next[key];
  req.cloud.change(s, { metadata: next });
  return { status: 204, contentType: 'application/json' };
}

/** The tag API exists from 2.26; below it the route is unknown. */
function taggable(req: SimRequest, action: string | null): ServerRecord {
  if (req.microversion! < 26) throw notFound('The resource could not be found.');
  const s = liveServer(req.cloud, req.params.id);
  if (action && !['active', 'paused', 'suspended', 'stopped'].includes(s.vmState)) throw stateConflict(action, s, 'vm_state');
  return s;
}

function tagProblem(tag: unknown): string | undefined {
  if (typeof tag !== 'string') return `${pyRepr(tag)} is not of type 'string'`;
  if (tag.length < 1) return `${pyRepr(tag)} is too short`;
  if (tag.length > 60) return `${pyRepr(tag)} is too long`;
  if (/[,/]/.test(tag)) return `${pyRepr(tag)} does not match '^[^,/]*$'`;
  return undefined;
}

function tagsGet(req: SimRequest): SimReply {
  return json(200, { tags: [...taggable(req, null).tags].sort() });
}

function tagsReplace(req: SimRequest): SimReply {
  const s = taggable(req, 'update tags');
  const body = bodyOf(req);
  const tags = body.tags;
  if (!Array.isArray(tags)) throw schemaError('tags', tags, `${pyRepr(tags ?? null)} is not of type 'array'`);
  if (tags.length > MAX_TAGS) throw schemaError('tags', tags, `${pyRepr(tags)} is too long`);
  tags.forEach((t, i) => {
    const problem = tagProblem(t);
    if (problem) throw schemaError(String(i), t, problem);
  });
  const next = [...new Set(tags as string[])].sort();
  req.cloud.change(s, { tags: next });
  return json(200, { tags: [...next] });
}

function tagsDeleteAll(req: SimRequest): SimReply {
  req.cloud.change(taggable(req, 'delete tags'), { tags: [] });
  return { status: 204, contentType: EMPTY_TAG_REPLY };
}

function tagGet(req: SimRequest): SimReply {
  const s = taggable(req, null);
  if (!s.tags.includes(req.params.tag)) throw notFound(`Instance ${s.id} has no tag '${req.params.tag}'`);
  return { status: 204, contentType: EMPTY_TAG_REPLY };
}

function tagPut(req: SimRequest): SimReply {
  const s = taggable(req, 'update tag');
  const tag = req.params.tag;
  const problem = tagProblem(tag);
  if (problem) {
    throw badRequest(`Tag '${tag}' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: ${problem}`);
  }
  if (s.tags.includes(tag)) return { status: 204, contentType: EMPTY_TAG_REPLY };
  if (s.tags.length >= MAX_TAGS) throw badRequest(`The number of tags exceeded the per-server limit ${MAX_TAGS}`);
  req.cloud.change(s, { tags: [...s.tags, tag] });
  const location = `${req.cloud.endpoints().compute}/servers/${s.id}/tags/${encodeURIComponent(tag)}`;
  return { status: 201, contentType: EMPTY_TAG_REPLY, headers: { Location: location } };
}

function tagDelete(req: SimRequest): SimReply {
  const s = taggable(req, 'delete tag');
  if (!s.tags.includes(req.params.tag)) throw notFound(`Instance ${s.id} has no tag '${req.params.tag}'`);
  req.cloud.change(s, { tags: s.tags.filter((t) => t !== req.params.tag) });
  return { status: 204, contentType: EMPTY_TAG_REPLY };
}

const base = '/compute/v2.1/servers/:id';
export const serverItemRoutes: RouteDef[] = [
  { method: 'GET', path: `${base}/metadata`, auth: true, handler: metadataGet },
  { method: 'POST', path: `${base}/metadata`, auth: true, handler: metadataSet(false) },
  { method: 'PUT', path: `${base}/metadata`, auth: true, handler: metadataSet(true) },
  { method: 'GET', path: `${base}/metadata/:key`, auth: true, handler: metadataItemGet },
  { method: 'PUT', path: `${base}/metadata/:key`, auth: true, handler: metadataItemPut },
  { method: 'DELETE', path: `${base}/metadata/:key`, auth: true, handler: metadataItemDelete },
  { method: 'GET', path: `${base}/tags`, auth: true, handler: tagsGet },
  { method: 'PUT', path: `${base}/tags`, auth: true, handler: tagsReplace },
  { method: 'DELETE', path: `${base}/tags`, auth: true, handler: tagsDeleteAll },
  { method: 'GET', path: `${base}/tags/:tag`, auth: true, handler: tagGet },
  { method: 'PUT', path: `${base}/tags/:tag`, auth: true, handler: tagPut },
  { method: 'DELETE', path: `${base}/tags/:tag`, auth: true, handler: tagDelete },
  {
    method: 'GET', path: `${base}/os-server-password`, auth: true,
    handler: (req) => (liveServer(req.cloud, req.params.id), json(200, { password: '' })),
  },
];
