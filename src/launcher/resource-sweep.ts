import type { FloatingIp } from '../../providers/extensions/floating-ips.ts';
import type { PortView } from '../../providers/extensions/ports.ts';
import type { VolumeView } from '../../providers/extensions/volumes.ts';
import type { ProviderAdapter } from '../../providers/provider.ts';
import { isCloudError } from '../../providers/errors.ts';
import type { Logger } from '../log.ts';

export type ResourceKind = 'floating-ip' | 'port' | 'volume';

export interface Suspect {
  kind: ResourceKind;
  id: string;
  why: string;
}

/**
 * Which floating IPs, ports and volumes of a provider are leaks (promise 1), decided from what the
 * cloud lists and what the store knows — a pure function, so the rules are testable:
 * - a floating IP with our tags whose node is gone (or, with `clean-floating-ips`, any floating
 *   IP not associated with a port: the operator says the project is ours alone);
 * - a port Nova made (device_owner `compute:*`) left DOWN for a server that no longer exists;
 * - a volume with our tags, not attached, whose node is gone.
 */
export function findLeakedResources(o: {
  provider: string;
  knownNodes: ReadonlySet<string>;
  servers: ReadonlySet<string>;
  floatingIps: FloatingIp[];
  ports: PortView[];
  volumes: VolumeView[];
  cleanFloatingIps: boolean;
}): Suspect[] {
  const out: Suspect[] = [];
  for (const f of o.floatingIps) {
    const ours = f.tags.nodepool_provider_name === o.provider;
    const node = f.tags.nodepool_node_id;
    if (ours && node && !o.knownNodes.has(node)) out.push({ kind: 'floating-ip', id: f.id, why: `node ${node} is gone` });
    else if (!ours && o.cleanFloatingIps && f.portId === null) out.push({ kind: 'floating-ip', id: f.id, why: 'not associated (clean-floating-ips)' });
  }
  for (const p of o.ports) {
    if (p.status === 'DOWN' && p.deviceOwner.startsWith('compute:') && !o.servers.has(p.deviceId)) {
      out.push({ kind: 'port', id: p.id, why: `DOWN, its server ${p.deviceId} is gone` });
    }
  }
  for (const v of o.volumes) {
    const node = v.metadata.nodepool_node_id;
    if (v.metadata.nodepool_provider_name === o.provider && node && !o.knownNodes.has(node) && v.attachedTo.length === 0 && v.status !== 'deleting') {
      out.push({ kind: 'volume', id: v.id, why: `node ${node} is gone` });
    }
  }
  return out;
}

/**
 * Runs `findLeakedResources` against one provider and deletes what it named on two sweeps in a row
 * (so nothing made between a list and the store read is taken for a leak). Only the extensions the
 * driver offers are swept (floating IPs, ports, volumes); a service the cloud does not have (no
 * Cinder in the catalog) is left out from then on.
 */
export class ResourceSweeper {
  private sightings = new Set<string>();
  private readonly missing = new Set<ResourceKind>();
  readonly deleted: Record<ResourceKind, number> = { 'floating-ip': 0, port: 0, volume: 0 };

  constructor(private readonly adapter: ProviderAdapter, private readonly opts: { provider: string; cleanFloatingIps: boolean; logger: Logger }) {}

  async sweep(knownNodes: ReadonlySet<string>, servers: ReadonlySet<string>): Promise<void> {
    const [floatingIps, ports, volumes] = await Promise.all([
      this.list('floating-ip', this.adapter.floatingIps && (() => this.adapter.floatingIps!.list())),
      this.list('port', this.adapter.ports && (() => this.adapter.ports!.list({ status: 'DOWN' }))),
      this.list('volume', this.adapter.volumes && (() => this.adapter.volumes!.list())),
    ]);
    if (floatingIps === null && ports === null && volumes === null) return;
    const suspects = findLeakedResources({
      provider: this.opts.provider, knownNodes, servers, floatingIps: floatingIps ?? [], ports: ports ?? [], volumes: volumes ?? [],
      cleanFloatingIps: this.opts.cleanFloatingIps,
    });
    const now = new Set<string>();
    for (const s of suspects) {
      const key = `${s.kind}/${s.id}`;
      now.add(key);
      if (!this.sightings.has(key)) {
        this.opts.logger.info({ provider: this.opts.provider, kind: s.kind, id: s.id, why: s.why }, 'leaked resource suspected: deleting it if it is still there on the next sweep');
        continue;
      }
      try {
        if (s.kind === 'floating-ip') await this.adapter.floatingIps!.delete(s.id);
        else if (s.kind === 'port') await this.adapter.ports!.delete(s.id);
        else await this.adapter.volumes!.delete(s.id);
        this.deleted[s.kind]++;
        this.opts.logger.warn({ provider: this.opts.provider, kind: s.kind, id: s.id, why: s.why }, 'deleted leaked resource');
      } catch (err) {
        this.opts.logger.warn({ provider: this.opts.provider, kind: s.kind, id: s.id, err }, 'deleting leaked resource failed; next sweep tries again');
      }
    }
    this.sightings = now;
  }

  /** What the driver lists of `kind`; null when it has no such extension, the cloud no such service, or the list failed. */
  private async list<T>(kind: ResourceKind, fn: (() => Promise<T[]>) | undefined): Promise<T[] | null> {
    if (!fn || this.missing.has(kind)) return null;
    try {
      return await fn();
    } catch (err) {
      if (isCloudError(err, 'config')) {
        this.missing.add(kind);
        this.opts.logger.info({ provider: this.opts.provider, kind, err }, 'resource type not available in this cloud: not swept');
      } else {
        this.opts.logger.warn({ provider: this.opts.provider, kind, err }, 'listing resources for cleanup failed');
      }
      return null;
    }
  }
}
