/**
 * Nova (compute v2.1) at an explicit microversion: flavors, servers, limits.
 */
import type { Logger } from '../../src/log.ts';
import { CloudError } from '../errors.ts';
import type { CreateServerSpec, Flavor, Limits, ListServersOptions, ServerView } from '../provider.ts';
import { readErrorBody } from './classify.ts';
import type { Method } from './http.ts';
import { collectPages } from './pages.ts';
import {
  FlavorListSchema, LimitsSchema, ServerBodySchema, ServerCreatedSchema, ServerListSchema, parseBody,
} from './schemas.ts';
import { toServerView } from './servers.ts';
import type { ServiceAnswer, ServiceCall, Session } from './session.ts';

export interface Microversion {
  major: number;
  minor: number;
}

export function parseMicroversion(v: string): Microversion {
  const m = /^(\d+)\.(\d+)$/.exec(v.trim());
  if (!m) throw new CloudError({ kind: 'config', message: `compute microversion ${v} is not of the form 2.79`, service: 'nova' });
  return { major: Number(m[1]), minor: Number(m[2]) };
}

function atLeast(v: Microversion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

export class NovaClient {
  private readonly version: Microversion;
  private warnedNoVersionHeader = false;
  private warnedNoTags = false;

  constructor(
    private readonly session: Session,
    private readonly microversion: string,
    private readonly logger: Logger,
    private readonly provider: string,
  ) {
    this.version = parseMicroversion(microversion);
  }

  async listFlavors(): Promise<Flavor[]> {
    const flavors = await collectPages({
      fetch: (query) => this.call({ method: 'GET', path: '/flavors/detail', query }),
      read: (res) => {
        const body = parseBody(FlavorListSchema, res.body, res);
        return { items: body.flavors, links: body.flavors_links };
      },
    });
    return flavors.map((f) => ({ id: f.id, name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk }));
  }

  async createServer(spec: CreateServerSpec): Promise<{ id: string }> {
    const server: Record<string, unknown> = {
      name: spec.name,
      imageRef: spec.imageId,
      flavorRef: spec.flavorId,
      metadata: spec.metadata,
    };
    if (spec.networkIds.length > 0) server.networks = spec.networkIds.map((uuid) => ({ uuid }));
    // "none" exists from 2.37, where `networks` became required; before it, leaving the key out
    // is the only way to ask for the default.
    else if (atLeast(this.version, 2, 37)) server.networks = 'none';
    if (spec.tags.length > 0) {
      if (atLeast(this.version, 2, 52)) server.tags = spec.tags;
      else if (!this.warnedNoTags) {
        this.warnedNoTags = true;
        this.logger.warn({ provider: this.provider, microversion: this.microversion }, 'server tags need compute 2.52; relying on metadata only');
      }
    }
    if (spec.keyName) server.key_name = spec.keyName;
    if (spec.userdata) server.user_data = Buffer.from(spec.userdata, 'utf8').toString('base64');
    if (spec.availabilityZone) server.availability_zone = spec.availabilityZone;
    const res = await this.call({ method: 'POST', path: '/servers', body: { server } });
    return { id: parseBody(ServerCreatedSchema, res.body, res).server.id };
  }

  /** null when Nova says 404 or still shows the server as DELETED (both mean gone). */
  async getServer(id: string): Promise<ServerView | null> {
    const res = await this.call({ method: 'GET', path: `/servers/${encodeURIComponent(id)}`, also: [404] });
    if (res.status === 404) return this.gone(res);
    const view = toServerView(parseBody(ServerBodySchema, res.body, res).server);
    return view.state === 'deleted' ? null : view;
  }

  /** Nova answers 204 and deletes in the background; a 404 means an earlier delete finished. */
  async deleteServer(id: string): Promise<void> {
    const res = await this.call({ method: 'DELETE', path: `/servers/${encodeURIComponent(id)}`, also: [404] });
    if (res.status === 404) this.gone(res);
  }

  /** Every server of the project, one GET per page; with changesSince, deleted ones too. */
  async listServers(opts: ListServersOptions = {}): Promise<ServerView[]> {
    const first = opts.changesSince ? { 'changes-since': isoSeconds(opts.changesSince) } : undefined;
    // Each page is converted as it arrives, so a list of 10,000 servers never holds every raw
    // server object at once (they are most of the memory a complete list allocates).
    return collectPages({
      first,
      fetch: (query) => this.call({ method: 'GET', path: '/servers/detail', query }),
      read: (res) => {
        const body = parseBody(ServerListSchema, res.body, res);
        return { items: body.servers.map(toServerView), links: body.servers_links };
      },
    });
  }

  async getLimits(): Promise<Limits> {
    const res = await this.call({ method: 'GET', path: '/limits' });
    const a = parseBody(LimitsSchema, res.body, res).limits.absolute;
    return {
      maxInstances: a.maxTotalInstances,
      maxCores: a.maxTotalCores,
      maxRam: a.maxTotalRAMSize,
      instancesUsed: a.totalInstancesUsed,
      coresUsed: a.totalCoresUsed,
      ramUsed: a.totalRAMUsed,
    };
  }

  /**
   * A 404 means "gone" only when Nova itself said so (`{"itemNotFound": {...}}`). A 404 in any
   * other shape (an HTML page from a proxy, a wrong endpoint) would make us forget servers that
   * still exist, so it is a configuration error instead.
   */
  private gone(res: ServiceAnswer): null {
    if (readErrorBody(res.body).shape === 'nova') return null;
    throw new CloudError({
      kind: 'config',
      message: `nova ${res.method} ${res.url} answered 404 without a Nova error body; is the compute endpoint right?`,
      status: 404, service: 'nova', method: res.method, url: res.url, requestId: res.requestId,
    });
  }

  /** Every Nova call carries the microversion, and the answer must be at that microversion. */
  private async call(call: ServiceCall & { method: Method }): Promise<ServiceAnswer> {
    const res = await this.session.call('compute', {
      ...call,
      headers: { ...call.headers, 'OpenStack-API-Version': `compute ${this.microversion}` },
    });
    if (res.status >= 200 && res.status <= 299) this.checkVersion(res);
    return res;
  }

  private checkVersion(res: ServiceAnswer): void {
    const answered = res.headers['openstack-api-version']?.replace(/^compute\s+/i, '')
      ?? res.headers['x-openstack-nova-api-version'];
    if (answered === undefined) {
      if (!this.warnedNoVersionHeader) {
        this.warnedNoVersionHeader = true;
        this.logger.warn({ provider: this.provider, microversion: this.microversion, path: res.url }, 'Nova answered without a microversion header');
      }
      return;
    }
    if (answered.trim() !== this.microversion) {
      // Nova answers either at the version asked for or 406; anything else means something
      // between us and Nova dropped the header, and every body would have another shape.
      throw new CloudError({
        kind: 'config',
        message: `nova ${res.method} ${res.url}: asked for compute ${this.microversion}, answered at ${answered} (does a proxy drop the OpenStack-API-Version header?)`,
        status: res.status, service: 'nova', method: res.method, url: res.url, requestId: res.requestId,
      });
    }
  }
}

/** Nova's `changes-since` as recorded (`2026-11-26T11:36:30Z`); seconds floored so nothing is missed. */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
