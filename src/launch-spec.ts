import type { Flavor, ProviderAdapter } from '../providers/provider.ts';
import { CloudError } from '../providers/errors.ts';
import type { PoolConfig, PoolLabelConfig, ProviderConfig } from './config/types.ts';

/**
 * What a create call needs besides the label's names: the cloud's ids of its flavor, image and
 * networks, looked up through the driver's catalog extension. A driver without one gets the
 * configured names as they are. Shared by the launcher (every launch) and the builder (the boot
 * that validates an upload).
 */

/** Where a `diskimage` label's image comes from: the newest usable upload (src/builder/usable-uploads.ts). */
export interface UploadedImages {
  /** The cloud's image id of the newest ready, validated upload of `diskimage` in `provider`; null when there is none. */
  imageId(provider: string, diskimage: string): string | null;
}

export interface ResolvedLabel {
  flavorId: string;
  imageId: string;
  networkIds: string[];
}

/**
 * Turns a pool label's names (flavor-name or min-ram, cloud-image, networks) into the cloud's ids,
 * once per provider: flavors, images and networks change rarely, and looking them up per launch
 * would double the calls per node.
 */
export class LaunchSpecResolver {
  private readonly cache = new Map<string, Promise<ResolvedLabel>>();
  private flavorList: Promise<Flavor[]> | null = null;

  constructor(
    private readonly adapter: ProviderAdapter,
    private readonly provider: ProviderConfig,
    private readonly uploads?: UploadedImages,
  ) {}

  resolve(pool: PoolConfig, label: PoolLabelConfig): Promise<ResolvedLabel> {
    const key = `${pool.name}/${label.name}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.lookup(pool, label);
      // A failed lookup is not cached: the cloud may have been briefly unreachable.
      p.catch(() => this.cache.delete(key));
      this.cache.set(key, p);
    }
    const diskimage = label.diskimage;
    // A built image changes with every upload, so it is chosen at each launch, not cached.
    return diskimage ? p.then((r) => ({ ...r, imageId: this.uploadedImage(diskimage) })) : p;
  }

  private uploadedImage(diskimage: string): string {
    const id = this.uploads?.imageId(this.provider.name, diskimage) ?? null;
    if (id === null) throw new CloudError({ kind: 'config', message: `provider ${this.provider.name}: no ready upload of diskimage ${diskimage} yet` });
    return id;
  }

  /** The cloud's flavors, listed once (a failed list is tried again next time); none without a catalog. */
  flavors(): Promise<Flavor[]> {
    if (!this.flavorList) {
      this.flavorList = this.adapter.catalog ? this.adapter.catalog.listFlavors() : Promise.resolve([]);
      this.flavorList.catch(() => { this.flavorList = null; });
    }
    return this.flavorList;
  }

  private async lookup(pool: PoolConfig, cfg: PoolLabelConfig): Promise<ResolvedLabel> {
    const catalog = this.adapter.catalog;
    if (!catalog) return this.asNamed(pool, cfg);
    const flavor = pickFlavor(await this.flavors(), cfg);
    if (!flavor) {
      const what = cfg.flavorName ? `flavor ${cfg.flavorName}` : `a flavor with at least ${cfg.minRam} MiB of RAM`;
      throw new CloudError({ kind: 'config', message: `provider ${this.provider.name}: no ${what}` });
    }
    let imageId = '';
    if (cfg.cloudImage !== undefined) {
      const ci = this.provider.cloudImages.find((c) => c.name === cfg.cloudImage);
      const imageName = ci?.imageName ?? cfg.cloudImage;
      const image = await catalog.findImage(imageName);
      if (!image) throw new CloudError({ kind: 'config', message: `provider ${this.provider.name}: no active image ${imageName}` });
      imageId = image.id;
    }
    const networkIds: string[] = [];
    for (const name of pool.networks) {
      const net = await catalog.findNetwork(name);
      if (!net) throw new CloudError({ kind: 'config', message: `provider ${this.provider.name}: no network ${name}` });
      networkIds.push(net.id);
    }
    return { flavorId: flavor.id, imageId, networkIds };
  }

  /** For a driver without a catalog: the configured names, which the driver resolves itself. */
  private asNamed(pool: PoolConfig, cfg: PoolLabelConfig): Promise<ResolvedLabel> {
    const ci = cfg.cloudImage === undefined ? undefined : this.provider.cloudImages.find((c) => c.name === cfg.cloudImage);
    const imageId = cfg.cloudImage === undefined ? '' : ci?.imageName ?? cfg.cloudImage;
    return Promise.resolve({ flavorId: cfg.flavorName ?? '', imageId, networkIds: [...pool.networks] });
  }
}

/** The flavor a pool label boots: by name (or id), else the smallest with at least min-ram. */
export function pickFlavor(flavors: Flavor[], label: Pick<PoolLabelConfig, 'flavorName' | 'minRam'>): Flavor | undefined {
  if (label.flavorName) return flavors.find((f) => f.name === label.flavorName || f.id === label.flavorName);
  if (label.minRam !== undefined) return flavors.filter((f) => f.ram >= label.minRam!).sort((a, b) => a.ram - b.ram || a.vcpus - b.vcpus)[0];
  return undefined;
}
