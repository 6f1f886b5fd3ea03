/**
 * What every Neutron (networking v2.0) collection shares: attribute and tag filters, `fields`,
 * limit/marker pagination (`next` on a full page, `previous` whenever a limit is given, as the
 * recorded answers show), the `NeutronError` body and request bodies read Neutron's way.
 */
import { SimError, isObject, parseJson, type SimReply, type SimRequest } from '../service.ts';

export type Item = Record<string, unknown>;

const TAG_FILTERS = ['tags', 'tags-any', 'not-tags', 'not-tags-any'];
const CONTROL_PARAMS = new Set(['limit', 'marker', 'page_reverse', 'fields', 'sort_key', 'sort_dir', ...TAG_FILTERS]);
export const ERROR_TYPES: Record<number, string> = {
  400: 'HTTPBadRequest', 401: 'HTTPUnauthorized', 403: 'HTTPForbidden', 404: 'HTTPNotFound', 409: 'HTTPConflict',
  413: 'HTTPRequestEntityTooLarge', 429: 'HTTPTooManyRequests', 500: 'HTTPInternalServerError', 503: 'HTTPServiceUnavailable',
};

/** Each filter is `attribute=value` (repeat for "any of"); booleans compare case-insensitively; null matches "". */
function matchesAttributes(item: Item, query: URLSearchParams): boolean {
  for (const key of new Set(query.keys())) {
    if (CONTROL_PARAMS.has(key) || !(key in item)) continue;
    const actual = item[key];
    const wanted = query.getAll(key);
    const ok = typeof actual === 'boolean'
      ? wanted.some((w) => w.toLowerCase() === String(actual))
      : wanted.some((w) => w === (actual === null ? '' : String(actual)));
    if (!ok) return false;
  }
  return true;
}

/** `tags=a,b` (all of), `tags-any`, `not-tags` (not all of), `not-tags-any`. */
function matchesTags(item: Item, query: URLSearchParams): boolean {
  if (!TAG_FILTERS.some((f) => query.has(f))) return true;
  const have = Array.isArray(item.tags) ? (item.tags as string[]) : [];
  const list = (f: string) => query.getAll(f).flatMap((v) => v.split(',')).filter((t) => t !== '');
  const all = list('tags');
  const any = list('tags-any');
  const notAll = list('not-tags');
  const notAny = list('not-tags-any');
  if (all.length && !all.every((t) => have.includes(t))) return false;
  if (any.length && !any.some((t) => have.includes(t))) return false;
  if (notAll.length && notAll.every((t) => have.includes(t))) return false;
  if (notAny.length && notAny.some((t) => have.includes(t))) return false;
  return true;
}

export function collection(req: SimRequest, resource: string, all: Item[]): SimReply {
  const { query } = req;
  let items = all.filter((i) => matchesAttributes(i, query) && matchesTags(i, query)).sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
  const rawLimit = query.get('limit');
  const limit = rawLimit === null ? 0 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 0) throw new SimError(400, `Bad limit request: Limit must be an integer 0 or greater and not '${rawLimit}'.`);
  const reverse = (query.get('page_reverse') ?? '').toLowerCase() === 'true';
  const marker = query.get('marker');
  if (marker !== null) {
    const i = items.findIndex((x) => x.id === marker);
    if (i < 0) throw new SimError(404, `Marker ${marker} could not be found.`, 'HTTPNotFound');
    items = reverse ? items.slice(0, i) : items.slice(i + 1);
  }
  if (limit > 0) items = reverse ? items.slice(-limit) : items.slice(0, limit);
  const fields = query.getAll('fields');
  const shown = fields.length === 0 ? items : items.map((i) => Object.fromEntries(fields.filter((f) => f in i).map((f) => [f, i[f]])));
  const body: Item = { [resource]: shown };
  if (limit > 0) {
    const base = `${req.cloud.endpoints().network}/v2.0/${resource}`;
    const href = (params: URLSearchParams) => `${base}?${params.toString()}`;
    const links: Item[] = [];
    if (!(items.length < limit && !reverse)) {
      const p = new URLSearchParams(query);
      if (items.length > 0) p.set('marker', String(items[items.length - 1].id));
      p.delete('page_reverse');
      links.push({ rel: 'next', href: href(p) });
    }
    if (!(items.length < limit && reverse)) {
      const p = new URLSearchParams(query);
      if (items.length > 0) p.set('marker', String(items[0].id));
      p.set('page_reverse', 'True');
      links.push({ rel: 'previous', href: href(p) });
    }
    body[`${resource}_links`] = links;
  }
  return { status: 200, body };
}

export function one(resource: string, item: Item | undefined, id: string, type: string, what: string): SimReply {
  if (!item) throw new SimError(404, `${what} ${id} could not be found.`, type);
  return { status: 200, body: { [resource]: item } };
}

/** The `{"<resource>": {...}}` of a POST or PUT body, in Neutron's words when it is not there. */
export function resourceBody(req: SimRequest, resource: string): Item {
  const parsed = parseJson(req.body);
  if (!parsed.ok) throw new SimError(400, 'Malformed request body', 'HTTPBadRequest');
  const body = parsed.value;
  if (!isObject(body) || !isObject(body[resource])) throw new SimError(400, `Resource body required`, 'HTTPBadRequest');
  return body[resource] as Item;
}

/** Neutron's 409 when a quota is used up (recorded: `neutron-floatingips-create-409-quota`). */
export function overQuota(resource: string): SimError {
  return new SimError(409, `Quota exceeded for resources: ['${resource}'].`, 'OverQuota');
}

/** A tag is at most 60 characters (the API reference) and may hold neither ',' nor '/'. */
export function checkTag(tag: string): void {
  if (tag.length === 0 || tag.length > 60 || /[,/]/.test(tag)) {
    throw new SimError(400, `Invalid input for operation: '${tag}' is not a valid tag.`, 'InvalidInput');
  }
}
