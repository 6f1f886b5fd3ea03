/**
 * Neutron's `standard-attr-tag` sub-resource on floating IPs and ports, with the API
 * reference's codes: replace all (PUT .../tags, 200 with the list), add one (PUT .../tags/{tag},
 * 201, no body), confirm one (GET, 204 or 404), list (200), remove one or all (204).
 */
import { checkTag } from './common.ts';
import { floatingIpOf } from './floating-ips.ts';
import { portOf } from './ports.ts';
import { SimError, isObject, parseJson, type RouteDef, type SimRequest } from '../service.ts';

interface Tagged {
  tags: string[];
  revision: number;
  updatedAt: number;
}

const RESOURCES: Record<string, (req: SimRequest) => Tagged> = {
  floatingips: (req) => floatingIpOf(req.cloud, req.params.id),
  ports: (req) => portOf(req.cloud, req.params.id),
};

function touched(t: Tagged): void {
  t.revision += 1;
  t.updatedAt = Date.now();
}

function tagsBody(req: SimRequest): string[] {
  const parsed = parseJson(req.body);
  const tags = parsed.ok && isObject(parsed.value) ? parsed.value.tags : undefined;
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
    throw new SimError(400, `Invalid input for tags. Reason: '${String(tags)}' is not a list of strings.`, 'HTTPBadRequest');
  }
  tags.forEach(checkTag);
  return [...new Set(tags)];
}

export const tagRoutes: RouteDef[] = Object.entries(RESOURCES).flatMap(([collection, find]): RouteDef[] => {
  const base = `/network/v2.0/${collection}/:id/tags`;
  return [
    { method: 'GET', path: base, auth: true, handler: (req) => ({ status: 200, body: { tags: [...find(req).tags] } }) },
    {
      method: 'PUT', path: base, auth: true,
      handler: (req) => {
        const item = find(req);
        item.tags = tagsBody(req);
        touched(item);
        return { status: 200, body: { tags: [...item.tags] } };
      },
    },
    {
      method: 'DELETE', path: base, auth: true,
      handler: (req) => {
        const item = find(req);
        item.tags = [];
        touched(item);
        return { status: 204 };
      },
    },
    {
      method: 'GET', path: `${base}/:tag`, auth: true,
      handler: (req) => {
        if (!find(req).tags.includes(req.params.tag)) throw new SimError(404, `Tag ${req.params.tag} could not be found.`, 'TagNotFound');
        return { status: 204 };
      },
    },
    {
      method: 'PUT', path: `${base}/:tag`, auth: true,
      handler: (req) => {
        const item = find(req);
        checkTag(req.params.tag);
        if (!item.tags.includes(req.params.tag)) {
          item.tags.push(req.params.tag);
          touched(item);
        }
        return { status: 201 };
      },
    },
    {
      method: 'DELETE', path: `${base}/:tag`, auth: true,
      handler: (req) => {
        const item = find(req);
        if (!item.tags.includes(req.params.tag)) throw new SimError(404, `Tag ${req.params.tag} could not be found.`, 'TagNotFound');
        item.tags = item.tags.filter((t) => t !== req.params.tag);
        touched(item);
        return { status: 204 };
      },
    },
  ];
});
