/**
 * The control handle of one simulated cloud, for tests and benchmarks: what exists, how slow the
 * cloud is, its quota, and which failures come next. It reaches behind the API on purpose; a
 * client under test never sees it.
 */
import type { FaultSettings } from './fault-spec.ts';
import { inventory } from './inventory.ts';
import type { BootFault, CallFault, QuotaSpec, ServerStateChange, SimInjected, SimInventory, SimServer, SimStats } from './types.ts';
import { importKeypair } from './nova/other.ts';
import { dropNextUploads } from './glance/service.ts';
import type { CloudState, NetworkQuota, ServerRecord, VolumeQuota } from './state.ts';
import { addUnmanagedServers } from './unmanaged.ts';
import { volumeUsage } from './cinder/volume-ops.ts';

export class CloudControl {
  constructor(private readonly cloud: CloudState) {}

  get name(): string {
    return this.cloud.name;
  }

  /** What clouds.yaml says about this cloud, plus the ids a test may want to compare. */
  get credentials() {
    const c = this.cloud;
    return {
      authUrl: c.endpoints().identity, username: c.username, password: c.password, userId: c.userId,
      projectName: c.projectName, projectId: c.projectId, userDomainName: 'Default', projectDomainName: 'Default', regionName: c.region,
    };
  }

  /** Servers not yet DELETED, oldest first. */
  servers(): SimServer[] {
    return [...this.cloud.servers.values()].filter((s) => s.status !== 'DELETED').map((s) => this.view(s));
  }

  /** One server, also while it is remembered as DELETED. */
  server(id: string): SimServer | undefined {
    const s = this.cloud.servers.get(id);
    return s && this.view(s);
  }

  setQuota(q: QuotaSpec): void {
    this.cloud.quota = { ...this.cloud.quota, ...q };
  }

  /** Neutron quota (floatingip, port); -1 is unlimited. Accepted below usage, as Neutron does. */
  setNetworkQuota(q: Partial<NetworkQuota>): void {
    this.cloud.networkQuota = { ...this.cloud.networkQuota, ...q };
  }

  /** Cinder quota (volumes, gigabytes); -1 is unlimited. */
  setVolumeQuota(q: Partial<VolumeQuota>): void {
    this.cloud.volumeQuota = { ...this.cloud.volumeQuota, ...q };
  }

  /** Quotas and usage of every service, as the admin endpoint reports them. */
  quotas() {
    const c = this.cloud;
    return {
      compute: { limit: { ...c.quota }, used: c.usage() },
      network: { limit: { ...c.networkQuota }, used: { floatingip: c.floatingIps.size, port: c.ports.size } },
      volume: { limit: { ...c.volumeQuota }, used: volumeUsage(c) },
    };
  }

  /** Servers of other users of the project: ACTIVE at once, counted in quota and limits. Returns their ids. */
  addUnmanagedServers(count: number, flavor?: string): string[] {
    return addUnmanagedServers(this.cloud, count, flavor);
  }

  /** Replaces every injected fault (see fault-spec.ts); throws FaultSpecError naming a bad field. */
  async setFaults(spec: unknown): Promise<FaultSettings & { seed: number }> {
    this.cloud.plan.set(spec);
    await this.cloud.lifecycle.setOffline(this.cloud.plan.offline);
    return this.cloud.plan.view();
  }

  /** Replaces the top-level keys given (null removes one), keeping the others. */
  async patchFaults(patch: unknown): Promise<FaultSettings & { seed: number }> {
    this.cloud.plan.patch(patch);
    await this.cloud.lifecycle.setOffline(this.cloud.plan.offline);
    return this.cloud.plan.view();
  }

  /** The faults in force, with the seed of the generator. */
  faults(): FaultSettings & { seed: number } {
    return this.cloud.plan.view();
  }

  /** What the fault plan injected so far. */
  injected(): SimInjected {
    return Object.fromEntries(this.cloud.plan.injected);
  }

  /** Calls the cloud holds unanswered right now (offline `timeout`, injected timeouts). */
  heldCalls(): number {
    return this.cloud.heldSockets.size;
  }

  /** Every resource the cloud holds: servers, ports, floating IPs, volumes, images, keypairs. */
  inventory(): SimInventory {
    return inventory(this.cloud);
  }

  /** Applies to steps scheduled from now on. */
  setBootDelay(ms: number): void {
    this.cloud.config.bootDelayMs = ms;
  }

  setDeleteDelay(ms: number): void {
    this.cloud.config.deleteDelayMs = ms;
  }

  /**
   * Offline: every HTTP call to the cloud is reset (true or 'reset') or never answered
   * ('timeout'), and its nodes' SSH is down. The admin endpoint still answers.
   */
  async setOffline(offline: boolean | 'reset' | 'timeout'): Promise<void> {
    const mode = offline === true ? 'reset' : offline;
    this.cloud.plan.setOffline(mode);
    await this.cloud.lifecycle.setOffline(mode);
  }

  /** The next n boots are accepted (202) and end in ERROR with this fault at the boot delay. */
  failNextBoots(n: number, fault?: BootFault): void {
    this.cloud.faults.failNextBoots(n, fault);
  }

  /** The next n boots stay in BUILD for ever. */
  hangNextBoots(n: number): void {
    this.cloud.faults.hangNextBoots(n);
  }

  /** The next `count` matching calls get `status` in the service's own error shape (429 with Retry-After). */
  failNextCalls(f: CallFault): void {
    this.cloud.faults.failNextCalls(f);
  }

  /** The next `n` image uploads lose their connection once `afterBytes` of data arrived; the image goes back to `queued`. */
  dropNextUploads(n: number, afterBytes = 64 * 1024): void {
    dropNextUploads(this.cloud, n, afterBytes);
  }

  /** Images of the project (ours and the public ones), as Glance holds them. */
  images(): { id: string; name: string; status: string; size: number | null; checksum: string | null; tags: string[]; properties: Record<string, string> }[] {
    return this.cloud.images.map((i) => ({
      id: i.id, name: i.name, status: i.status, size: i.size, checksum: i.checksum, tags: [...i.tags], properties: { ...i.properties },
    }));
  }

  stats(): SimStats {
    return { total: this.cloud.totalCalls, calls: Object.fromEntries(this.cloud.calls) };
  }

  resetStats(): void {
    this.cloud.calls.clear();
    this.cloud.totalCalls = 0;
    this.cloud.plan.injected.clear();
  }

  addKeypair(name: string, publicKey: string): void {
    importKeypair(this.cloud, name, publicKey);
  }

  /** Every token issued so far stops working (a client must authenticate again). */
  expireTokens(): void {
    this.cloud.tokens.clear();
  }

  /** Calls `listener` on every server state change; returns the unsubscribe function. */
  onStateChange(listener: (e: ServerStateChange) => void): () => void {
    this.cloud.events.on('state', listener);
    return () => this.cloud.events.off('state', listener);
  }

  /** Resolves when the server reaches `status` (ACTIVE, ERROR, DELETED...); rejects after `timeoutMs`. */
  waitForStatus(id: string, status: string, timeoutMs = 10_000): Promise<SimServer> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const s = this.cloud.servers.get(id);
        if (s?.status !== status) return false;
        done();
        resolve(this.view(s));
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`server ${id} did not reach ${status} within ${timeoutMs} ms (now ${this.cloud.servers.get(id)?.status ?? 'gone'})`));
      }, timeoutMs);
      const off = this.onStateChange((e) => {
        if (e.server === id) check();
      });
      const done = () => {
        clearTimeout(timer);
        off();
      };
      check();
    });
  }

  private view(s: ServerRecord): SimServer {
    const cloud = this.cloud;
    const addresses = s.portIds.flatMap((id) => {
      const p = cloud.ports.get(id);
      const net = p && cloud.findNetwork(p.networkId);
      return p && net ? [{ network: net.name, ip: p.ip, mac: p.mac }] : [];
    });
    return {
      id: s.id, name: s.name, status: s.status, taskState: s.taskState, flavorId: s.flavor.id, imageId: s.imageId,
      keyName: s.keyName, metadata: { ...s.metadata }, tags: [...s.tags], addresses,
      fault: s.fault && { code: s.fault.code, message: s.fault.message }, hostKey: s.hostKey ?? null,
      scratchDir: s.scratchDir ?? null, sshPort: s.node ? cloud.config.sshPort : null, created: new Date(s.created),
    };
  }
}
