/**
 * The control handle of one simulated cloud, for tests and benchmarks: what exists, how slow the
 * cloud is, its quota, and which failures come next. It reaches behind the API on purpose; a
 * client under test never sees it.
 */
import type { BootFault, CallFault, QuotaSpec, ServerStateChange, SimServer, SimStats } from './types.ts';
import { importKeypair } from './nova-other.ts';
import type { CloudState, ServerRecord } from './state.ts';

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

  /** Applies to steps scheduled from now on. */
  setBootDelay(ms: number): void {
    this.cloud.config.bootDelayMs = ms;
  }

  setDeleteDelay(ms: number): void {
    this.cloud.config.deleteDelayMs = ms;
  }

  /** Offline: every HTTP call to the cloud is reset and its nodes' SSH is down. */
  setOffline(offline: boolean): Promise<void> {
    return this.cloud.lifecycle.setOffline(offline);
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

  stats(): SimStats {
    return { total: this.cloud.totalCalls, calls: Object.fromEntries(this.cloud.calls) };
  }

  resetStats(): void {
    this.cloud.calls.clear();
    this.cloud.totalCalls = 0;
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
