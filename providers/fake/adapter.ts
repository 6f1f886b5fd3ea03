import { CloudError } from '../errors.ts';
import type {
  CreateImageSpec, CreateServerSpec, Flavor, FloatingIp, Image, ImageData, ImageView, Limits, ListServersOptions, Network,
  PortView, ProviderAdapter, ServerView, VolumeView,
} from '../provider.ts';
import type { FakeCloud } from './cloud.ts';

/**
 * The fake driver: a `ProviderAdapter` over a `FakeCloud` in this process. Servers, flavors,
 * images, networks and limits are the cloud's; floating IPs, ports, volumes and image uploads are
 * not offered (the calls that list them answer empty, the calls that make them refuse).
 */
export class FakeProvider implements ProviderAdapter {
  constructor(readonly name: string, readonly cloud: FakeCloud) {}

  private call<T>(method: string, fn: () => T): Promise<T> {
    this.cloud.count(method);
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private unsupported(what: string): never {
    throw new CloudError({ kind: 'config', status: 400, service: 'fake', message: `the fake driver has no ${what}` });
  }

  listServers(opts?: ListServersOptions): Promise<ServerView[]> {
    return this.call('listServers', () => this.cloud.list(opts?.changesSince));
  }

  createServer(spec: CreateServerSpec): Promise<{ id: string }> {
    return this.call('createServer', () => this.cloud.create(spec));
  }

  getServer(id: string): Promise<ServerView | null> {
    return this.call('getServer', () => this.cloud.live().find((s) => s.id === id) ?? null);
  }

  deleteServer(id: string): Promise<void> {
    return this.call('deleteServer', () => this.cloud.delete(id));
  }

  listFlavors(): Promise<Flavor[]> {
    return this.call('listFlavors', () => [...this.cloud.flavors]);
  }

  findImage(nameOrId: string): Promise<Image | null> {
    return this.call('findImage', () => (this.cloud.images.includes(nameOrId) ? { id: `image-${nameOrId}`, name: nameOrId, status: 'active' } : null));
  }

  findNetwork(nameOrId: string): Promise<Network | null> {
    return this.call('findNetwork', () => (this.cloud.networks.includes(nameOrId) ? { id: `net-${nameOrId}`, name: nameOrId, external: false } : null));
  }

  getLimits(): Promise<Limits> {
    return this.call('getLimits', () => this.cloud.usage());
  }

  listFloatingIps(): Promise<FloatingIp[]> {
    return this.call('listFloatingIps', () => []);
  }

  createFloatingIp(): Promise<FloatingIp> {
    return this.call('createFloatingIp', () => this.unsupported('floating IPs'));
  }

  attachFloatingIp(): Promise<FloatingIp> {
    return this.call('attachFloatingIp', () => this.unsupported('floating IPs'));
  }

  deleteFloatingIp(): Promise<void> {
    return this.call('deleteFloatingIp', () => undefined);
  }

  listPorts(): Promise<PortView[]> {
    return this.call('listPorts', () => []);
  }

  deletePort(): Promise<void> {
    return this.call('deletePort', () => undefined);
  }

  listVolumes(): Promise<VolumeView[]> {
    return this.call('listVolumes', () => []);
  }

  deleteVolume(): Promise<void> {
    return this.call('deleteVolume', () => undefined);
  }

  createImage(_spec: CreateImageSpec): Promise<{ id: string }> {
    return this.call('createImage', () => this.unsupported('image uploads'));
  }

  uploadImageData(_id: string, _data: ImageData): Promise<void> {
    return this.call('uploadImageData', () => this.unsupported('image uploads'));
  }

  getImage(): Promise<ImageView | null> {
    return this.call('getImage', () => null);
  }

  listImages(): Promise<ImageView[]> {
    return this.call('listImages', () => []);
  }

  deleteImage(): Promise<void> {
    return this.call('deleteImage', () => undefined);
  }

  callCount(): number {
    let n = 0;
    for (const c of this.cloud.calls.values()) n += c;
    return n;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
