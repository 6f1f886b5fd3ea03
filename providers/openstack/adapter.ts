/**
 * The OpenStack `ProviderAdapter`: Keystone for the token and catalog, Nova for servers,
 * flavors and limits, Glance for images, Neutron for networks, floating IPs and ports, Cinder for
 * volumes. It makes calls and throws classified `CloudError`s; it never sleeps or retries beyond
 * the one token renewal.
 */
import type { CloudCredentials } from '../../src/config/cloud-credentials.ts';
import type { Logger } from '../../src/log.ts';
import type {
  CreateImageSpec, CreateServerSpec, Flavor, FloatingIp, Image, ImageData, ImageView, Limits, ListServersOptions, Network, PortView, ProviderAdapter, ServerView, VolumeView,
} from '../provider.ts';
import { CinderClient } from './cinder.ts';
import { FloatingIpClient } from './floating-ips.ts';
import { GlanceClient } from './glance.ts';
import { HttpClient } from './http.ts';
import type { CloudCall } from '../provider.ts';
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

export class OpenStackProvider implements ProviderAdapter {
  readonly name: string;
  private readonly http: HttpClient;
  private readonly tokens: TokenSource;
  private readonly nova: NovaClient;
  private readonly glance: GlanceClient;
  private readonly neutron: NeutronClient;
  private readonly floatingIps: FloatingIpClient;
  private readonly ports: PortClient;
  private readonly cinder: CinderClient;

  constructor(opts: OpenStackProviderOptions) {
    const now = opts.now ?? Date.now;
    const c = opts.credentials;
    this.name = opts.name;
    this.http = new HttpClient({
      provider: opts.name, logger: opts.logger, timeoutMs: opts.timeoutMs ?? 30_000, verify: c.verify ?? true, cacert: c.cacert, onCall: opts.onCall,
    });
    this.tokens = new TokenSource({ provider: opts.name, http: this.http, credentials: c, logger: opts.logger, now });
    const session = new Session(this.http, this.tokens, c, now);
    this.nova = new NovaClient(session, opts.computeMicroversion ?? '2.79', opts.logger, opts.name);
    this.glance = new GlanceClient(session);
    this.neutron = new NeutronClient(session, c.cloud);
    this.floatingIps = new FloatingIpClient(session);
    this.ports = new PortClient(session);
    this.cinder = new CinderClient(session);
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

  listFlavors(): Promise<Flavor[]> {
    return this.nova.listFlavors();
  }

  findImage(nameOrId: string): Promise<Image | null> {
    return this.glance.findImage(nameOrId);
  }

  createImage(spec: CreateImageSpec): Promise<{ id: string }> {
    return this.glance.createImage(spec);
  }

  uploadImageData(id: string, data: ImageData): Promise<void> {
    return this.glance.uploadImageData(id, data);
  }

  getImage(id: string): Promise<ImageView | null> {
    return this.glance.getImage(id);
  }

  listImages(filter: { tag: string; properties?: Record<string, string> }): Promise<ImageView[]> {
    return this.glance.listImages(filter);
  }

  deleteImage(id: string): Promise<void> {
    return this.glance.deleteImage(id);
  }

  findNetwork(nameOrId: string): Promise<Network | null> {
    return this.neutron.findNetwork(nameOrId);
  }

  getLimits(): Promise<Limits> {
    return this.nova.getLimits();
  }

  listFloatingIps(): Promise<FloatingIp[]> {
    return this.floatingIps.list();
  }

  createFloatingIp(networkId: string, tags: Record<string, string>): Promise<FloatingIp> {
    return this.floatingIps.create(networkId, tags);
  }

  attachFloatingIp(floatingIpId: string, serverId: string, networkId?: string): Promise<FloatingIp> {
    return this.floatingIps.attach(floatingIpId, serverId, networkId);
  }

  deleteFloatingIp(id: string): Promise<void> {
    return this.floatingIps.delete(id);
  }

  listPorts(filter?: { status?: string }): Promise<PortView[]> {
    return this.ports.list(filter);
  }

  deletePort(id: string): Promise<void> {
    return this.ports.delete(id);
  }

  listVolumes(): Promise<VolumeView[]> {
    return this.cinder.listVolumes();
  }

  deleteVolume(id: string): Promise<void> {
    return this.cinder.deleteVolume(id);
  }

  callCount(): number {
    return this.http.callCount();
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
