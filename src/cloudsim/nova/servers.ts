/**
 * Nova's server collection: list (brief and detail, with Nova's filters and limit/marker
 * pagination, newest first), show and delete. Create lives in nova-create.ts.
 */
import { NOVA_MAX_LIMIT } from '../defaults.ts';
import { badRequest, json, liveServer, nextLink, notFound, queryError, readLimit } from './common.ts';
import { createServer } from './create.ts';
import { serverBrief, serverView } from './view.ts';
import type { RouteDef, SimReply, SimRequest } from '../service.ts';
import type { ServerRecord } from '../state.ts';
import { pyRepr } from '../util.ts';

function readTime(query: URLSearchParams, param: string): number | undefined {
  const raw = query.get(param);
  if (raw === null) return undefined;
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw queryError(param, raw, `${pyRepr(raw)} is not a 'date-time'`);
  return t;
}

/** `a,b` lists of the tag filters. */
function tagList(query: URLSearchParams, param: string): string[] | undefined {
  const raw = query.getAll(param);
  if (raw.length === 0) return undefined;
  return raw.flatMap((r) => r.split(',')).filter((t) => t !== '');
}

/** Nova matches `name` (and `ip`) as regular expressions; an invalid one matches as plain text. */
function matcher(pattern: string): (s: string) => boolean {
  try {
    const re = new RegExp(pattern);
    return (s) => re.test(s);
  } catch {
    return (s) => s.includes(pattern);
  }
}

function filterServers(req: SimRequest): ServerRecord[] {
  const { cloud, query } = req;
  const mv = req.microversion!;
  const since = readTime(query, 'changes-since');
  const before = mv >= 66 ? readTime(query, 'changes-before') : undefined;
  if (since !== undefined && before !== undefined && since > before) {
    throw badRequest('The value of changes-since must be less than or equal to changes-before.');
  }
  // Deleted servers are listed only to a client asking what changed.
  const withDeleted = since !== undefined || before !== undefined;
  const filters: ((s: ServerRecord) => boolean)[] = [];
  if (!withDeleted) filters.push((s) => s.status !== 'DELETED');
  if (since !== undefined) filters.push((s) => s.updated >= since);
  if (before !== undefined) filters.push((s) => s.updated <= before);
  const name = query.get('name');
  if (name !== null) {
    const m = matcher(name);
    filters.push((s) => m(s.name));
  }
  const statuses = query.getAll('status').map((x) => x.toUpperCase());
  if (statuses.length > 0) filters.push((s) => statuses.includes(s.status));
  const image = query.get('image');
  if (image !== null) filters.push((s) => s.imageId === image);
  const flavor = query.get('flavor');
  if (flavor !== null) filters.push((s) => s.flavor.id === flavor);
  const reservation = query.get('reservation_id');
  if (reservation !== null) filters.push((s) => s.reservationId === reservation);
  const ip = query.get('ip');
  if (ip !== null) {
    const m = matcher(ip);
    filters.push((s) => s.portIds.some((id) => m(cloud.ports.get(id)?.ip ?? '')));
  }
  if (mv >= 26) {
    const all = tagList(query, 'tags');
    const any = tagList(query, 'tags-any');
    const notAll = tagList(query, 'not-tags');
    const notAny = tagList(query, 'not-tags-any');
    if (all) filters.push((s) => all.every((t) => s.tags.includes(t)));
    if (any) filters.push((s) => any.some((t) => s.tags.includes(t)));
    if (notAll) filters.push((s) => !notAll.every((t) => s.tags.includes(t)));
    if (notAny) filters.push((s) => !notAny.some((t) => s.tags.includes(t)));
  }
  cloud.pruneDeleted();
  const out: ServerRecord[] = [];
  for (const s of cloud.servers.values()) if (filters.every((f) => f(s))) out.push(s);
  // Newest first, as Nova sorts by created_at desc, id desc.
  return out.sort((a, b) => b.seq - a.seq);
}

function list(detail: boolean) {
  return (req: SimRequest): SimReply => {
    const { cloud, query } = req;
    const limit = readLimit(query, NOVA_MAX_LIMIT);
    let servers = filterServers(req);
    const marker = query.get('marker');
    if (marker !== null) {
      const m = cloud.servers.get(marker);
      if (!m) throw badRequest(`marker [${marker}] not found`);
      servers = servers.filter((s) => s.seq < m.seq);
    }
    const page = servers.slice(0, limit);
    const mv = req.microversion!;
    const body: Record<string, unknown> = {
      servers: page.map((s) => (detail ? serverView(cloud, s, mv, 'detail') : serverBrief(cloud, s))),
    };
    // A full page always gets a next link, even when nothing follows (as Nova does).
    if (page.length > 0 && page.length === limit) {
      const base = `${cloud.endpoints().compute}/servers${detail ? '/detail' : ''}`;
      body.servers_links = [nextLink(base, query, page[page.length - 1].id)];
    }
    return json(200, body);
  };
}

function show(req: SimRequest): SimReply {
  const { cloud } = req;
  const s = cloud.servers.get(req.params.id);
  // A finished delete still answers 200 DELETED for a moment, then 404.
  const gone = !s || (s.status === 'DELETED' && Date.now() - (s.deletedAt ?? 0) > cloud.config.deletedVisibleMs);
  if (gone) throw notFound(`Instance ${req.params.id} could not be found.`);
  return json(200, { server: serverView(cloud, s, req.microversion!, 'show') });
}

function remove(req: SimRequest): SimReply {
  const s = liveServer(req.cloud, req.params.id);
  req.cloud.lifecycle.delete(s);
  return { status: 204, contentType: 'application/json' };
}

export const serverRoutes: RouteDef[] = [
  { method: 'GET', path: '/compute/v2.1/servers', auth: true, handler: list(false) },
  { method: 'GET', path: '/compute/v2.1/servers/detail', auth: true, handler: list(true) },
  { method: 'POST', path: '/compute/v2.1/servers', auth: true, handler: createServer },
  { method: 'GET', path: '/compute/v2.1/servers/:id', auth: true, handler: show },
  { method: 'DELETE', path: '/compute/v2.1/servers/:id', auth: true, handler: remove },
];
