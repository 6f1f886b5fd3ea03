import { randomUUID } from 'node:crypto';
import { CloudError, type CloudErrorKind } from '../errors.ts';
import type { CreateServerSpec, Flavor, Limits, ServerView } from '../provider.ts';

/**
 * An in-memory cloud for fast tests of the launcher: no HTTP, no SSH. A server is created at once
 * in BUILD and turns ACTIVE after a number of server lists (or of milliseconds) chosen by the
 * test; a deleted server stays listed (deleting) for a number of lists too. The test can make
 * create calls fail with a class of error, lower the quota, send a server to ERROR, or lose it.
 */

export interface FakeCloudOptions {
  /** Server lists after its create call before a new server shows ACTIVE. Default 1. */
  activeAfterLists?: number;
  /** Or milliseconds after its create call, whichever comes first; default: lists only. */
  activeAfterMs?: number;
  /** Server lists after its delete call during which a deleted server is still listed (deleting). Default 1. */
  goneAfterLists?: number;
  /** Flavors offered. Default one: `small` (1 vCPU, 1024 MiB). */
  flavors?: Flavor[];
  /** Names of the active images. Default `fake-image`. */
  images?: string[];
  /** Names of the networks. Default `private`. */
  networks?: string[];
  /** Absolute limits; -1 = unlimited (the default for each). */
  limits?: Partial<Pick<Limits, 'maxInstances' | 'maxCores' | 'maxRam'>>;
  /** Address block the servers get addresses in (`<prefix>.<n>`). Default `127.42.0`. */
  addressPrefix?: string;
  now?: () => number;
}

/** A failure the next create calls meet. */
export interface FakeFailure {
  kind: CloudErrorKind;
  /** The HTTP status the cloud would answer; a 4xx says nothing was made. Default by kind. */
  status?: number;
  retryAfterMs?: number;
  message?: string;
}

interface FakeServer {
  view: ServerView;
  flavor: Flavor;
  createdAt: number;
  listsSeen: number;
  deletedAt: number | null;
  listsSinceDelete: number;
}

const STATUS_OF: Record<CloudErrorKind, number> = {
  quota: 403, capacity: 500, 'rate-limit': 429, transient: 503, config: 400, 'not-found': 404, fatal: 500,
};

export class FakeCloud {
  private readonly servers = new Map<string, FakeServer>();
  private readonly failures: FakeFailure[] = [];
  private readonly now: () => number;
  private seq = 0;
  readonly flavors: Flavor[];
  readonly images: string[];
  readonly networks: string[];
  limits: Pick<Limits, 'maxInstances' | 'maxCores' | 'maxRam'>;
  /** Calls made, by method name (`listServers`, `createServer`, ...). */
  readonly calls = new Map<string, number>();
  /** While true, deleted servers stay listed (deleting) whatever `goneAfterLists` says: a slow delete. */
  holdDeletes = false;

  constructor(private readonly opts: FakeCloudOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.flavors = opts.flavors ?? [{ id: 'small', name: 'small', vcpus: 1, ram: 1024, disk: 10 }];
    this.images = opts.images ?? ['fake-image'];
    this.networks = opts.networks ?? ['private'];
    this.limits = { maxInstances: -1, maxCores: -1, maxRam: -1, ...opts.limits };
  }

  count(method: string): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
  }

  /** The next `times` create calls fail with `failure` (queued after failures already asked for). */
  failCreates(failure: FakeFailure, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(failure);
  }

  /** Sends a server to ERROR with a fault (`kind` as a driver's classifier would give it). */
  breakServer(id: string, fault: { code: number; message: string; kind?: CloudErrorKind }): void {
    const s = this.servers.get(id);
    if (s) this.change(s, { state: 'error', status: 'ERROR', fault });
  }

  /** The server disappears without a delete call (an operator, or the cloud, removed it). */
  lose(id: string): void {
    this.servers.delete(id);
  }

  /** The servers the cloud still has, those being deleted included, as it would list them now (no list is counted). */
  live(): ServerView[] {
    return [...this.servers.values()].map((s) => ({ ...s.view }));
  }

  create(spec: CreateServerSpec): { id: string } {
    const failure = this.failures.shift();
    if (failure) {
      const status = failure.status ?? STATUS_OF[failure.kind];
      throw new CloudError({ kind: failure.kind, status, retryAfterMs: failure.retryAfterMs, service: 'fake', method: 'createServer', message: failure.message ?? `fake ${failure.kind} failure` });
    }
    const flavor = this.flavors.find((f) => f.id === spec.flavorId);
    if (!flavor) throw new CloudError({ kind: 'config', status: 400, service: 'fake', message: `no flavor ${spec.flavorId}` });
    const used = this.usage();
    const over = (max: number, used: number, extra: number) => max >= 0 && used + extra > max;
    if (over(this.limits.maxInstances, used.instancesUsed, 1) || over(this.limits.maxCores, used.coresUsed, flavor.vcpus) || over(this.limits.maxRam, used.ramUsed, flavor.ram)) {
      throw new CloudError({ kind: 'quota', status: 403, service: 'fake', message: 'Quota exceeded for instances' });
    }
    const id = randomUUID();
    const n = ++this.seq;
    const at = new Date(this.now()).toISOString();
    const prefix = this.opts.addressPrefix ?? '127.42.0';
    this.servers.set(id, {
      flavor, createdAt: this.now(), listsSeen: 0, deletedAt: null, listsSinceDelete: 0,
      view: {
        id, name: spec.name, state: 'building', status: 'BUILD', metadata: { ...spec.metadata }, tags: [...spec.tags],
        publicIpv4: null, privateIpv4: `${prefix}.${(n % 250) + 1}`, publicIpv6: null, az: spec.availabilityZone ?? 'nova',
        fault: null, created: at, updated: at,
      },
    });
    return { id };
  }

  delete(id: string): void {
    const s = this.servers.get(id);
    if (!s || s.deletedAt !== null) return;
    s.deletedAt = this.now();
    this.change(s, { state: 'deleting' });
  }

  /** One server list: servers advance (BUILD → ACTIVE, deleting → gone) as lists go by. */
  list(changesSince?: Date): ServerView[] {
    const now = this.now();
    const out: ServerView[] = [];
    for (const [id, s] of this.servers) {
      if (s.deletedAt !== null) {
        if (!this.holdDeletes && s.listsSinceDelete++ >= (this.opts.goneAfterLists ?? 1)) {
          this.servers.delete(id);
          // An incremental list shows a deleted server DELETED (Nova keeps it a while); a complete one no longer lists it.
          if (changesSince) out.push({ ...s.view, state: 'deleted', status: 'DELETED', updated: new Date(now).toISOString() });
          continue;
        }
      } else if (s.view.state === 'building') {
        s.listsSeen++;
        const byTime = this.opts.activeAfterMs !== undefined && now - s.createdAt >= this.opts.activeAfterMs;
        if (byTime || s.listsSeen >= (this.opts.activeAfterLists ?? 1)) this.change(s, { state: 'active', status: 'ACTIVE' });
      }
      if (!changesSince || Date.parse(s.view.updated ?? '') >= changesSince.getTime()) out.push({ ...s.view });
    }
    return out;
  }

  /** Absolute limits with the usage of every server not deleted. */
  usage(): Limits {
    let instancesUsed = 0, coresUsed = 0, ramUsed = 0;
    for (const s of this.servers.values()) {
      if (s.deletedAt !== null) continue;
      instancesUsed++;
      coresUsed += s.flavor.vcpus;
      ramUsed += s.flavor.ram;
    }
    return { ...this.limits, instancesUsed, coresUsed, ramUsed };
  }

  private change(s: FakeServer, patch: Partial<ServerView>): void {
    s.view = { ...s.view, ...patch, updated: new Date(this.now()).toISOString() };
  }
}
