/**
 * The OpenStack `ProviderAdapter`: Keystone for the token and catalog, Nova for servers,
 * flavors and limits, Glance for images, Neutron for networks, floating IPs and ports, Cinder for
 * volumes. It makes calls and throws classified `CloudError`s; it never sleeps or retries beyond
 * the one token renewal.
 */
import type { CloudCredentials } from './clouds-yaml/credentials.ts';
import type { Logger } from '../../src/log.ts';
import type { CatalogExtension } from '../extensions/catalog.ts';
import type { CloudCall, CreateServerSpec, Limits, ListServersOptions, ProviderAdapter, ServerView } from '../provider.ts';
import { CinderClient } from './cinder.ts';
import { FloatingIpClient } from './floating-ips.ts';
import { GlanceClient } from './glance.ts';
import { CALLS_AT_ONCE, HttpClient } from './http.ts';
import { TokenSource } from './keystone.ts';
import { NeutronClient } from './neutron.ts';
import { NovaClient } from './nova.ts';
import { PortClient } from './ports.ts';
import { Session } from './session.ts';

export interface OpenStackProviderOptions {
  /** The provider's name in nodepool.yaml. */
  name: string;
  credentials: CloudCredentials;
  /** Compute microversion sent on every Nova call. Default 2.79 (Train): tags at create, 2.47 flavor shape. */
  computeMicroversion?: string;
  logger: Logger;
  /** Per HTTP call. Default 30 s. */
  timeoutMs?: number;
  /** Clock for token lifetimes and `Retry-After` dates. */
  now?: () => number;
  /** Told of every HTTP call when it ends (metrics). */
  onCall?: (call: CloudCall) => void;
}

/** Every extension is offered: Nova flavors, Glance and Neutron lookups, floating IPs, ports, Cinder volumes, Glance uploads. */
export class OpenStackProvider implements ProviderAdapter {
  readonly name: string;
  readonly callsAtOnce = CALLS_AT_ONCE;
  readonly catalog: CatalogExtension;
  readonly floatingIps: FloatingIpClient;
  readonly ports: PortClient;
  readonly volumes: CinderClient;
  readonly images: GlanceClient;
  private readonly http: HttpClient;
  private readonly tokens: TokenSource;
  private readonly nova: NovaClient;

  constructor(opts: OpenStackProviderOptions) {
    const now = opts.now ?? Date.now;
    const c = opts.credentials;
    this.name = opts.name;
    this.http = new HttpClient({
      provider: opts.name, logger: opts.logger, timeoutMs: opts.timeoutMs ?? (c.apiTimeout !== undefined ? c.apiTimeout * 1000 : 30_000), verify: c.verify ?? true, cacert: c.cacert, onCall: opts.onCall,
    });
    this.tokens = new TokenSource({ provider: opts.name, http: this.http, credentials: c, logger: opts.logger, now });
    const session = new Session(this.http, this.tokens, c, now);
    this.nova = new NovaClient(session, opts.computeMicroversion ?? '2.79', opts.logger, opts.name);
    this.images = new GlanceClient(session);
    const neutron = new NeutronClient(session, c.cloud);
    this.catalog = {
      listFlavors: () => this.nova.listFlavors(),
      findImage: (nameOrId) => this.images.findImage(nameOrId),
      findNetwork: (nameOrId) => neutron.findNetwork(nameOrId),
    };
    this.floatingIps = new FloatingIpClient(session);
    this.ports = new PortClient(session);
    this.volumes = new CinderClient(session);
  }

  /** Authenticates now (or reuses a valid token): a way to check credentials at start-up. */
  async authenticate(): Promise<void> {
    await this.tokens.token();
  }

  listServers(opts?: ListServersOptions): Promise<ServerView[]> {
    return this.nova.listServers(opts);
  }

  createServer(spec: CreateServerSpec): Promise<{ id: string }> {
    return this.nova.createServer(spec);
  }

  getServer(id: string): Promise<ServerView | null> {
    return this.nova.getServer(id);
  }

  deleteServer(id: string): Promise<void> {
    return this.nova.deleteServer(id);
  }

  getLimits(): Promise<Limits> {
    return this.nova.getLimits();
  }

  callCount(): number {
    return this.http.callCount();
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
