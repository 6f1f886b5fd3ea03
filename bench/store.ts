/**
 * `npm run bench:store`: the SQLite store's own cost per node lifecycle, through the store's API in
 * one process (no HTTP, no launcher): the writes and reads a one-node request makes in the burst of
 * `npm run bench` (store calls per node there), in the same order, for BENCH_STORE_N (500) nodes at
 * a time, over a file that already holds BENCH_STORE_HISTORY (5,000) finished lifecycles.
 * Prints the median of BENCH_STORE_ROUNDS (7) rounds: CPU µs per lifecycle (user + kernel), write
 * system calls and bytes written per lifecycle (/proc/self/io), and µs per call by method.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeRecord, RequestRecord } from '../src/model.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';

const N = Number(process.env.BENCH_STORE_N ?? 500);
const HISTORY = Number(process.env.BENCH_STORE_HISTORY ?? 5000);
const ROUNDS = Number(process.env.BENCH_STORE_ROUNDS ?? 7);
const BY = 'launcher-bench';
const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHdq2s0Sd8jAbuE5Dq2tZyBcr6r0wB6FTj1qwB6j2nJd';

const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
const store = new SqliteStore(join(dir, 'state.sqlite'));
const perCall = new Map<string, { n: number; us: number }>();
async function timed<T>(method: string, f: () => Promise<T>): Promise<T> {
  const t0 = process.hrtime.bigint();
  const r = await f();
  const e = perCall.get(method) ?? { n: 0, us: 0 };
  e.n++;
  e.us += Number(process.hrtime.bigint() - t0) / 1000;
  perCall.set(method, e);
  return r;
}

let seq = 0;
function request(now: number): RequestRecord {
  return {
    id: `r-${String(++seq).padStart(10, '0')}`, state: 'requested', labels: ['ubuntu-jammy'], requestor: 'zuul', priority: 100, tenant: null,
    provider: null, pool: null, nodes: [], reason: null, leaseOwner: null, leaseExpires: null, holderExpires: null,
    createdAt: now, stateTime: now, fulfilledAt: null,
  };
}
function node(now: number, requestId: string): NodeRecord {
  const id = String(++seq).padStart(10, '0');
  return {
    id, label: 'ubuntu-jammy', provider: 'bench-a', pool: 'main', state: 'building', step: 'pending', serverId: null, hostname: `np${id}`,
    interfaceIp: null, publicIpv4: null, privateIpv4: null, publicIpv6: null, az: null, connectionPort: 22, username: 'zuul', hostKeys: [],
    allocatedTo: requestId, attempt: 1, leaseOwner: BY, leaseExpires: now + 60_000, holdReason: null, holdExpires: null, comment: null,
    createdAt: now, stateTime: now, launchStartedAt: null, createAnsweredAt: null, pythonPath: null,
  };
}

/** The store calls of N one-node lifecycles, each step for all N before the next (as in a burst). */
async function lifecycles(n: number): Promise<void> {
  const now = Date.now();
  const lease = { leaseOwner: BY, leaseExpires: now + 60_000 };
  const mine = { owner: BY, now };
  const reqs = Array.from({ length: n }, () => request(now));
  for (const r of reqs) { await timed('insertRequest', () => store.insertRequest(r, 'api')); await timed('getRequest', () => store.getRequest(r.id)); }
  for (const r of reqs) await timed('updateRequest', () => store.updateRequest(r.id, { state: 'pending', provider: 'bench-a', pool: 'main', stateTime: now, ...lease }, BY, { states: ['requested'], leaseFreeOr: mine }));
  const nodes = reqs.map((r) => node(now, r.id));
  for (const x of nodes) await timed('insertNode', () => store.insertNode(x, BY, { maxServers: 100_000 }));
  for (const x of nodes) await timed('updateNode', () => store.updateNode(x.id, { step: 'creating', launchStartedAt: now, createAnsweredAt: null, ...lease }, BY, { states: ['building'], leaseFreeOr: mine }));
  for (const x of nodes) await timed('updateNode', () => store.updateNode(x.id, { serverId: `srv-${x.id}`, step: 'booting', createAnsweredAt: now }, BY, { states: ['building'] }));
  for (const x of nodes) {
    await timed('getNode', () => store.getNode(x.id));
    await timed('updateNode', () => store.updateNode(x.id, { interfaceIp: '10.0.0.5', publicIpv4: '10.0.0.5', privateIpv4: '10.0.0.5', publicIpv6: null, az: 'nova', step: 'scanning' }, BY, { states: ['building'] }));
  }
  for (const x of nodes) {
    await timed('getNode', () => store.getNode(x.id));
    await timed('updateNode', () => store.updateNode(x.id, { hostKeys: [HOST_KEY], state: 'ready', step: null, stateTime: now, ...lease }, BY, { states: ['building'] }));
  }
  for (let i = 0; i < n; i++) {
    await timed('writeAll', () => store.writeAll([
      { table: 'nodes', id: nodes[i]!.id, patch: { state: 'in-use', stateTime: now }, cond: { states: ['ready'], allocatedTo: reqs[i]!.id } },
      { table: 'requests', id: reqs[i]!.id, patch: { state: 'fulfilled', nodes: [nodes[i]!.id], fulfilledAt: now, stateTime: now, holderExpires: now + 600_000, leaseOwner: null, leaseExpires: null }, cond: { states: ['pending'], leaseFreeOr: mine } },
    ], BY));
  }
  for (let i = 0; i < n; i++) {
    await timed('getRequest', () => store.getRequest(reqs[i]!.id));
    await timed('getNode', () => store.getNode(nodes[i]!.id));
  }
  for (let i = 0; i < n; i++) {
    await timed('getRequest', () => store.getRequest(reqs[i]!.id));
    await timed('listNodes', () => store.listNodes({ allocatedTo: reqs[i]!.id, states: ['in-use'] }));
    await timed('writeAll', () => store.writeAll([
      { table: 'requests', id: reqs[i]!.id, patch: { holderExpires: null, leaseOwner: null, leaseExpires: null }, cond: { states: ['fulfilled'], holderLeaseAfter: now - 1 } },
      { table: 'nodes', id: nodes[i]!.id, patch: { state: 'used', stateTime: now }, cond: { states: ['in-use'], allocatedTo: reqs[i]!.id }, optional: true },
    ], 'api'));
  }
  for (const x of nodes) await timed('updateNode', () => store.updateNode(x.id, { state: 'deleting', stateTime: now, comment: null, ...lease }, BY, { states: ['used'], leaseFreeOr: mine }));
  for (const x of nodes) await timed('removeNode', () => store.removeNode(x.id, BY, { states: ['deleting'] }));
}

function io(): { syscw: number; wchar: number } {
  const t: Record<string, number> = {};
  for (const l of readFileSync('/proc/self/io', 'utf8').trim().split('\n')) { const [k, v] = l.split(': '); t[k!] = Number(v); }
  return { syscw: t.syscw!, wchar: t.wchar! };
}

for (let done = 0; done < HISTORY; done += N) await lifecycles(Math.min(N, HISTORY - done));
const rounds: { cpu: number; writes: number; kib: number; calls: Map<string, { n: number; us: number }> }[] = [];
for (let k = 0; k < ROUNDS; k++) {
  perCall.clear();
  const i0 = io();
  const c0 = process.cpuUsage();
  await lifecycles(N);
  const c = process.cpuUsage(c0);
  const i1 = io();
  rounds.push({ cpu: (c.user + c.system) / N, writes: (i1.syscw - i0.syscw) / N, kib: (i1.wchar - i0.wchar) / 1024 / N, calls: new Map(perCall) });
}
await store.close();
rmSync(dir, { recursive: true, force: true });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`## SQLite store: the store calls of one node lifecycle (${N} at a time, ${HISTORY} before; median of ${ROUNDS} rounds)`);
console.log(`CPU per lifecycle: ${median(rounds.map((r) => r.cpu)).toFixed(0)} µs (rounds: ${rounds.map((r) => r.cpu.toFixed(0)).join(' ')})`);
console.log(`write system calls per lifecycle: ${median(rounds.map((r) => r.writes)).toFixed(1)}, ${median(rounds.map((r) => r.kib)).toFixed(1)} KiB written`);
const methods = [...rounds[0]!.calls.keys()];
console.log(`µs per call: ${methods.map((m) => `${m} ${median(rounds.map((r) => r.calls.get(m)!.us / r.calls.get(m)!.n)).toFixed(1)} (×${(rounds[0]!.calls.get(m)!.n / N).toFixed(0)})`).join(', ')}`);
