import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApiApp, type ApiOptions } from '../../src/api/app.ts';
import { silentLogger } from '../../src/log.ts';
import type { NodeRecord, NodeState, RequestRecord } from '../../src/model.ts';
import { newNodeRecord } from '../../src/store/records.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

/** Shared by the API, status and CLI tests: an API app over a real SQLite store in a temp dir. */

export const LEASE_MS = 600_000;

export interface Harness {
  app: FastifyInstance;
  store: SqliteStore;
  dbPath: string;
  /** The app's clock; tests move it to age leases. */
  clock: { now: number };
  close(): Promise<void>;
}

export function apiHarness(opts: Partial<ApiOptions> = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'np-api-'));
  const dbPath = join(dir, 'np.sqlite');
  const store = new SqliteStore(dbPath);
  const clock = { now: Date.UTC(2024, 0, 1, 12, 0, 0) };
  const app = buildApiApp({
    store, logger: silentLogger(), now: () => clock.now, requestLeaseTimeoutMs: LEASE_MS, pollIntervalMs: 100, ...opts,
  });
  return {
    app, store, dbPath, clock,
    close: async () => { await app.close(); await store.close(); rmSync(dir, { recursive: true, force: true }); },
  };
}

let serial = 0;

/** A node as a launcher leaves it: booted, addressed, host keys scanned. */
export async function addNode(
  store: SqliteStore, o: { state?: NodeState; label?: string; provider?: string; allocatedTo?: string | null; now: number },
): Promise<NodeRecord> {
  const n = newNodeRecord({
    label: o.label ?? 'ubuntu-jammy', provider: o.provider ?? 'sim-east', pool: 'main', connectionPort: 2022,
    username: 'zuul', now: o.now, allocatedTo: o.allocatedTo ?? null,
  });
  serial += 1;
  const state = o.state ?? 'ready';
  const node: NodeRecord = {
    ...n, state, step: state === 'building' ? 'booting' : null, serverId: `srv-${serial}`,
    interfaceIp: `127.0.10.${serial % 250}`, publicIpv4: null, privateIpv4: `10.0.0.${serial % 250}`,
    az: 'nova', hostKeys: [`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA${serial}`],
  };
  await store.insertNode(node, 'test-launcher');
  return node;
}

/** What a launcher does when it fulfils a request: nodes in-use, allocated, holder lease started. */
export async function fulfil(store: SqliteStore, req: RequestRecord | { id: string; labels: string[] }, now: number): Promise<NodeRecord[]> {
  const nodes: NodeRecord[] = [];
  for (const label of req.labels) nodes.push(await addNode(store, { state: 'in-use', label, allocatedTo: req.id, now }));
  await store.updateRequest(req.id, {
    state: 'fulfilled', provider: 'sim-east', pool: 'main', nodes: nodes.map((n) => n.id), stateTime: now,
    fulfilledAt: now, holderExpires: now + LEASE_MS,
  }, 'test-launcher');
  return nodes;
}
