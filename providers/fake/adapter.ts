import type { CatalogExtension } from '../extensions/catalog.ts';
import type { CreateServerSpec, Limits, ListServersOptions, ProviderAdapter, ServerView } from '../provider.ts';
import type { FakeCloud } from './cloud.ts';

/**
 * The fake driver: a `ProviderAdapter` over a `FakeCloud` in this process. Servers, limits and
 * the catalog (flavors, images, networks) are the cloud's; it offers no floating IPs, ports,
 * volumes or image uploads. Every call is counted by its name in `cloud.calls`.
 */
export class FakeProvider implements ProviderAdapter {
  readonly catalog: CatalogExtension = {
    listFlavors: () => this.call('listFlavors', () => [...this.cloud.flavors]),
    findImage: (nameOrId) => this.call('findImage', () => (this.cloud.images.includes(nameOrId) ? { id: `image-${nameOrId}`, name: nameOrId, status: 'active' } : null)),
    findNetwork: (nameOrId) => this.call('findNetwork', () => (this.cloud.networks.includes(nameOrId) ? { id: `net-${nameOrId}`, name: nameOrId, external: false } : null)),
  };

  constructor(readonly name: string, readonly cloud: FakeCloud) {}

  private call<T>(method: string, fn: () => T): Promise<T> {
    this.cloud.count(method);
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
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

  getLimits(): Promise<Limits> {
    return this.call('getLimits', () => this.cloud.usage());
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
