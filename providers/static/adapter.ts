import { isIP } from 'node:net';
import { CloudError } from '../errors.ts';
import type { DriverCapabilities, Limits, ListServersOptions, ProviderAdapter, ServerView } from '../provider.ts';
import type { StaticPoolConfig } from './schema.ts';

/**
 * The static driver: existing hosts as a provider whose servers are never created or deleted.
 * Each host offers `max-parallel-jobs` slots; each slot is listed as one ACTIVE server with its
 * `host` (pool, labels, address, login, pinned host keys), so the launcher registers one node per
 * free slot, scans it, hands it out, and on release returns the slot (`deleteServer`) and
 * registers it again. Which node holds which slot is the store's business (the launcher inserts
 * a node only while no other node holds its server id), never this object's: it keeps no state.
 */
export class StaticProvider implements ProviderAdapter {
  readonly capabilities: DriverCapabilities = { reusableServers: true };
  private readonly servers: ServerView[];
  private calls = 0;

  constructor(readonly name: string, pools: StaticPoolConfig[], now: () => number = Date.now) {
    const at = new Date(now()).toISOString();
    this.servers = pools.flatMap((pool) => pool.nodes.flatMap((h) => Array.from({ length: h.maxParallelJobs }, (_, slot): ServerView => {
      const v = isIP(h.name);
      return {
        id: slotId(h.name, h.connectionPort, slot), name: h.name, state: 'active', status: 'ACTIVE', metadata: {}, tags: [],
        publicIpv4: v === 4 ? h.name : null, privateIpv4: null, publicIpv6: v === 6 ? h.name : null, az: null, fault: null,
        created: at, updated: at,
        host: {
          pool: pool.name, labels: h.labels, address: h.name, port: h.connectionPort, username: h.username,
          hostKeys: h.hostKeys, hostKeyChecking: h.hostKeyChecking, pythonPath: h.pythonPath,
        },
      };
    })));
  }

  /** Every slot of every configured host; nothing changes between lists (the configuration is fixed). */
  listServers(opts?: ListServersOptions): Promise<ServerView[]> {
    this.calls++;
    return Promise.resolve(opts?.changesSince ? [] : this.servers.map((s) => ({ ...s })));
  }

  createServer(): Promise<{ id: string }> {
    return Promise.reject(new CloudError({ kind: 'config', status: 400, service: 'static', method: 'createServer', message: 'static hosts are registered, not created' }));
  }

  getServer(id: string): Promise<ServerView | null> {
    return Promise.resolve(this.servers.find((s) => s.id === id) ?? null);
  }

  /** Returns a slot: the host is not touched (a slot no longer configured is simply not listed again). */
  deleteServer(): Promise<void> {
    this.calls++;
    return Promise.resolve();
  }

  /** No limits: the hosts are the quota (their slots are the servers). */
  getLimits(): Promise<Limits> {
    return Promise.resolve({ maxInstances: -1, maxCores: -1, maxRam: -1, instancesUsed: 0, coresUsed: 0, ramUsed: 0 });
  }

  callCount(): number { return this.calls; }
  close(): Promise<void> { return Promise.resolve(); }
}

/** The server id of one slot of a host: stable across restarts and launchers, so the store can tell who holds it. */
export function slotId(host: string, port: number, slot: number): string {
  return `${host}:${port}/${slot}`;
}
