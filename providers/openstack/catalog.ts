/**
 * Endpoint choice from the token's service catalog, by service type, region and interface,
 * and the version each service is spoken at.
 */
import { CloudError } from '../errors.ts';
import type { CatalogService } from './schemas.ts';

export type ServiceKind = 'compute' | 'image' | 'network' | 'block-storage';

/** Catalog types per service, preferred first (Cinder's type is `block-storage` on new clouds, `volumev3` on most). */
const CATALOG_TYPES: Record<ServiceKind, string[]> = {
  compute: ['compute'],
  image: ['image'],
  network: ['network'],
  'block-storage': ['block-storage', 'volumev3'],
};

/** Service names for the log and the errors. */
export const SERVICE_NAMES: Record<ServiceKind, string> = {
  compute: 'nova', image: 'glance', network: 'neutron', 'block-storage': 'cinder',
};

export interface EndpointQuery {
  cloud: string;
  /** clouds.yaml `region_name`; undefined takes the first region that has the service. */
  region?: string;
  iface: 'public' | 'internal' | 'admin';
}

/** The versioned base URL of a service (no trailing slash), e.g. `https://nova:8774/v2.1`. */
export function endpointFor(catalog: CatalogService[], kind: ServiceKind, q: EndpointQuery): string {
  const types = CATALOG_TYPES[kind];
  const where = `type ${types.join(' or ')}, interface ${q.iface}${q.region ? `, region ${q.region}` : ''}`;
  const services = types.flatMap((t) => catalog.filter((s) => s.type === t));
  if (services.length === 0) {
    const have = catalog.map((s) => s.type).join(', ') || 'none (is the token scoped to a project?)';
    throw configError(`cloud ${q.cloud}: no ${where} service in the catalog; it has ${have}`);
  }
  for (const s of services) {
    const ep = s.endpoints.find((e) => e.interface === q.iface && (!q.region || (e.region_id ?? e.region) === q.region));
    if (ep) return versioned(kind, ep.url);
  }
  const regions = [...new Set(services.flatMap((s) => s.endpoints.filter((e) => e.interface === q.iface).map((e) => e.region_id ?? e.region)))];
  throw configError(`cloud ${q.cloud}: no endpoint for ${where} in the catalog (regions with ${q.iface} endpoints: ${regions.join(', ') || 'none'})`);
}

/**
 * Catalogs list Nova with its version (`.../v2.1`, sometimes `.../v2.1/<project id>`), Glance and
 * Neutron without (`http://host:9292`), and Cinder with a project id (`.../v3/<project id>`).
 * Unversioned URLs get the version this driver speaks: Glance v2, Neutron v2.0, Nova v2.1.
 */
function versioned(kind: ServiceKind, url: string): string {
  const base = url.replace(/\/+$/, '');
  const path = safePath(base);
  switch (kind) {
    case 'compute':
      return /\/v2(\.\d+)?(\/|$)/.test(path) ? base : `${base}/v2.1`;
    case 'image':
      return /\/v2(\.\d+)?$/.test(path) ? base : `${base}/v2`;
    case 'network':
      return /\/v2\.0$/.test(path) ? base : `${base}/v2.0`;
    case 'block-storage':
      return /\/v3(\/|$)/.test(path) ? base : `${base}/v3`;
  }
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

function configError(message: string): CloudError {
  return new CloudError({ kind: 'config', message, service: 'keystone' });
}
