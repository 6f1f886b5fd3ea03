/**
 * `npm run bench:status`: what dashboards and the status page cost with a large fleet.
 *
 * - `/node-list` as JSON with 10,000 nodes in the store: latency p50/p99 over real HTTP on
 *   loopback (sequential requests after a warm-up, from a client in its own process, timed to the
 *   last byte as sent), and the same for `?fields=id,state`, the text
 *   table, the status summary (`/api/v1/status`) and a Prometheus scrape of `/metrics`; the
 *   `changing` rows change a node before each GET (not timed), so no listing is served again.
 * - The status page in headless Chromium over the same store plus six hours of plot points:
 *   time from navigation to the page drawn (data fetched, tables and plots rendered), and the
 *   size of a full-page screenshot.
 *
 * Options (environment): BENCH_NODES=10000  BENCH_REQUESTS=200  BENCH_PAGE_LOADS=5  BENCH_SHOT=path.png
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApiApp } from '../src/api/app.ts';
import { Metrics } from '../src/metrics/metrics.ts';
import { silentLogger } from '../src/log.ts';
import { NODE_STATES, type NodeRecord } from '../src/model.ts';
import { newNodeRecord, newRequestRecord } from '../src/store/records.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { launchChromium } from '../test/support/chromium.ts';

const NODES = Number(process.env.BENCH_NODES ?? 10_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const PAGE_LOADS = Number(process.env.BENCH_PAGE_LOADS ?? 5);

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

async function fill(store: SqliteStore, now: number): Promise<void> {
  const labels = ['ubuntu-jammy', 'ubuntu-noble', 'centos-9-stream', 'debian-bookworm'];
  const states = ['ready', 'in-use', 'in-use', 'in-use', 'building', 'used', 'deleting', 'hold'] as const;
  for (let i = 0; i < NODES; i++) {
    const n = newNodeRecord({ label: labels[i % labels.length]!, provider: `cloud-${i % 5}`, pool: 'main', connectionPort: 22, username: 'zuul', now: now - (i % 3600) * 1000 });
    const state = states[i % states.length]!;
    const node: NodeRecord = {
      ...n, state, step: state === 'building' ? 'booting' : null, serverId: `srv-${i}`, interfaceIp: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      privateIpv4: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, az: 'nova',
      hostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0Uq3b1Z6k0GgqZ3m6o0Pq8mXnR9cJ4vQm3t5kzY7a'],
      allocatedTo: state === 'in-use' ? `req-${i}` : null, launchStartedAt: n.createdAt,
    };
    await store.insertNode(node, 'bench');
  }
  for (let i = 0; i < 40; i++) await store.insertRequest(newRequestRecord({ labels: ['ubuntu-jammy', 'ubuntu-jammy'], requestor: 'zuul', now: now - i * 5000 }), 'bench');
  // Six hours of points every minute, as the sampler leaves them.
  for (let t = now - 6 * 3600_000; t <= now; t += 60_000) {
    const wave = Math.sin(t / 1800_000);
    const values: Record<string, number> = {
      'requests.waiting': Math.max(0, Math.round(20 + 20 * wave)), 'requests.wait_p50': 30 + 10 * wave, 'requests.wait_p95': 120 + 60 * wave,
      'launch.failures': Math.max(0, Math.round(2 * wave)),
    };
    for (const s of NODE_STATES) values[`nodes.${s}`] = Math.round((NODES / 8) * (1 + 0.2 * wave));
    await store.appendSamples(t, values);
  }
}

/** The dashboard: bench/status-client.ts in its own process, so its CPU is not the server's. */
const client = fork(join(import.meta.dirname, 'status-client.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });

/** Before each GET of a `changing` row the client asks for a write: one node's comment changes, as a launcher's step would. */
let onWrite: () => Promise<void> = async () => {};
let onResult: ((r: { times: number[]; bytes: number }) => void) | null = null;
client.on('message', (m: { write?: boolean; times?: number[]; bytes?: number }) => {
  if (m.write) void onWrite().then(() => client.send({ written: true }));
  else onResult?.(m as { times: number[]; bytes: number });
});

async function latency(url: string, headers: Record<string, string> = {}, write = false): Promise<{ p50: number; p99: number; bytes: number }> {
  const r = await new Promise<{ times: number[]; bytes: number }>((resolve) => {
    onResult = resolve;
    client.send({ url, headers, n: REQUESTS, warmup: 20, write });
  });
  const times = [...r.times].sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), bytes: r.bytes };
}

async function page(base: string): Promise<{ loadMs: number[]; shotBytes: number; shotPath: string; browser: string }> {
  const { browser, source } = await launchChromium();
  try {
    const loadMs: number[] = [];
    const p = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    for (let i = 0; i < PAGE_LOADS; i++) {
      const t0 = performance.now();
      await p.goto(`${base}/`);
      await p.waitForSelector('body[data-loaded="true"]');
      loadMs.push(performance.now() - t0);
    }
    const shot = await p.screenshot({ fullPage: true });
    const shotPath = process.env.BENCH_SHOT ?? join(tmpdir(), 'nodepool-status-page.png');
    writeFileSync(shotPath, shot);
    return { loadMs, shotBytes: shot.length, shotPath, browser: source };
  } finally {
    await browser.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'np-bench-status-'));
const store = new SqliteStore(join(dir, 'np.sqlite'));
const now = Date.now();
try {
  const t0 = performance.now();
  await fill(store, now);
  console.log(`store: ${NODES} nodes, 40 requests, 6 h of plot points (${Math.round(performance.now() - t0)} ms to write)`);
  const app = buildApiApp({ store, logger: silentLogger(), requestLeaseTimeoutMs: 600_000, metrics: new Metrics({ store, config: null }) });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    // `changing`: a node is written before each GET (not timed), so the store changed and the
    // listing is read and rendered afresh; otherwise the fleet holds still, as it does between a
    // dashboard's polls on a quiet day, and a listing less than a second old is served again.
    const changed = (await store.listNodes({ states: ['ready'] }))[0]!;
    let writes = 0;
    onWrite = async () => { await store.updateNode(changed.id, { comment: `write ${++writes}` }, 'bench'); };
    const changing = true;
    const rows: [string, string, Record<string, string>?, boolean?][] = [
      ['/node-list JSON (br)', '/node-list', { accept: 'application/json', 'accept-encoding': 'br' }],
      ['/node-list JSON (gzip)', '/node-list', { accept: 'application/json', 'accept-encoding': 'gzip' }],
      ['/node-list JSON (identity)', '/node-list', { accept: 'application/json', 'accept-encoding': 'identity' }],
      ['/node-list JSON (br), changing', '/node-list', { accept: 'application/json', 'accept-encoding': 'br' }, changing],
      ['/node-list JSON (gzip), changing', '/node-list', { accept: 'application/json', 'accept-encoding': 'gzip' }, changing],
      ['/node-list JSON (identity), changing', '/node-list', { accept: 'application/json', 'accept-encoding': 'identity' }, changing],
      ['/api/v1/nodes?limit=100 (a page)', '/api/v1/nodes?limit=100'],
      ['/node-list?fields=id,state JSON', '/node-list?format=json&fields=id,state'],
      ['/node-list text table', '/node-list'],
      ['/api/v1/status (summary)', '/api/v1/status'],
      ['/metrics (a Prometheus scrape)', '/metrics'],
    ];
    console.log(`\n${'path'.padEnd(38)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'body'.padStart(10)}   (${REQUESTS} sequential requests)`);
    for (const [name, path, headers, write] of rows) {
      const r = await latency(base + path, headers, write);
      console.log(`${name.padEnd(38)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${`${(r.bytes / 1024).toFixed(0)} KiB`.padStart(10)}`);
    }
    const pg = await page(base);
    const sorted = [...pg.loadMs].sort((a, b) => a - b);
    console.log(`\nstatus page in ${pg.browser}`);
    console.log(`status page: load to drawn ${quantile(sorted, 0.5).toFixed(0)} ms median of ${PAGE_LOADS} (first ${pg.loadMs[0]!.toFixed(0)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms)`);
    console.log(`status page: full-page screenshot ${(pg.shotBytes / 1024).toFixed(0)} KiB (1280 px wide): ${pg.shotPath}`);
  } finally {
    await app.close();
  }
} finally {
  client.disconnect();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
