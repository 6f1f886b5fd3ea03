/**
 * `npm run bench`: the figures of the core — overhead of one request, 500 requests at once (host-key
 * scanning on and off), release → gone for 500 nodes, cloud API calls per node lifecycle, CPU per
 * node, and RSS with 1,000 and 10,000 ready nodes.
 *
 * The system runs in this process (API + launcher + SQLite, as `nodepool run`), logging at info to
 * /dev/null; the simulator and the burst's scheduler (the HTTP client) run in child processes, so
 * the CPU read in this process is the system's alone. Each scenario starts a fresh system and store.
 * The RSS scenario runs `nodepool run` itself in a child process and reads its RSS twice: as soon
 * as the fleet is ready, and after BENCH_IDLE seconds of idling (once V8 has collected what the
 * filling left behind: the fleet's settled size).
 *
 * Options (environment): BENCH_ONLY=overhead,burst,rss  BENCH_BURST=500  BENCH_WARMUP=500 BENCH_WARMUP_BURSTS=3 (bursts first, scanning on and off in turn, their figures not the ones to quote)  BENCH_REPEAT=1 (the measured bursts, with medians when more)  BENCH_RSS=1000,10000  BENCH_IDLE=30 (s)
 *   BENCH_SYSTEM_ARGS (node options of the `nodepool run` of the RSS scenario)  BENCH_SNAPSHOT=S  BENCH_FILL_TIMEOUT=900 (s)
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.ts';
import { startSystem, type System } from '../src/run.ts';
import { freshBundle } from '../bin/bundle.js';

const BOOT_MS = 100;
const DELETE_MS = 100;
const only = (process.env.BENCH_ONLY ?? 'overhead,burst,rss').split(',');
const BURST = Number(process.env.BENCH_BURST ?? 500);
/** Requests of an unmeasured burst first, in this process (0: none). */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 500);
/** How many unmeasured bursts: V8 still compiles hot paths in the second and third burst of a process. */
const WARMUP_BURSTS = Number(process.env.BENCH_WARMUP_BURSTS ?? 3);
/** How many times the measured bursts run (scanning on, then off, each time); medians printed when more than once. */
const REPEAT = Number(process.env.BENCH_REPEAT ?? 1);
/** The burst's host-key scanning: `on`, `off` or both (the default), in that order. */
const SCAN = (process.env.BENCH_SCAN ?? 'on,off').split(',').map((x) => x === 'on');
const RSS_SIZES = (process.env.BENCH_RSS ?? '1000,10000').split(',').map(Number);
/** Seconds the ready fleet is left idle while its CPU is measured. */
const IDLE_S = Number(process.env.BENCH_IDLE ?? 30);

class Sim {
  private seq = 0;
  private pending = new Map<number, (d: any) => void>();
  constructor(readonly child: ChildProcess, readonly cloudsYaml: string) {
    child.on('message', (m: any) => { if (m.id !== undefined) { this.pending.get(m.id)?.(m.data); this.pending.delete(m.id); } });
  }
  static async start(dir: string, ssh: boolean, sshPort: number): Promise<Sim> {
    const cloudsYaml = join(dir, `clouds-${ssh ? 'ssh' : 'nossh'}.yaml`);
    const child = fork(join(import.meta.dirname, 'sim-child.ts'),
      [JSON.stringify({ clouds: ['bench-a', 'bench-b'], bootDelayMs: BOOT_MS, deleteDelayMs: DELETE_MS, sshPort, ssh, cloudsYaml })],
      { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    return new Sim(child, cloudsYaml);
  }
  call<T = any>(cmd: string): Promise<T> {
    const id = ++this.seq;
    return new Promise((resolve) => { this.pending.set(id, resolve); this.child.send({ cmd, id }); });
  }
}

function configYaml(o: { sshPort: number; hostKeys: boolean; minReady: number; maxServers: number; port: number }): string {
  const provider = (name: string) => `
  - name: ${name}
    driver: openstack
    cloud: ${name}
    list-interval: 0.01
    launch-timeout: 120
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools:
      - name: main
        max-servers: ${o.maxServers}
        networks: [private]
        labels: [{name: jammy, flavor-name: m1.tiny, cloud-image: jammy, connection-port: ${o.sshPort}, host-key-checking: ${o.hostKeys}}]`;
  return `labels: [{name: jammy, min-ready: ${o.minReady}}]
providers:${provider('bench-a')}${provider('bench-b')}
api: {listen: 127.0.0.1, port: ${o.port}}
store: {path: state.sqlite}
`;
}

async function system(sim: Sim, o: { sshPort: number; hostKeys: boolean; minReady?: number; maxServers?: number }): Promise<{ sys: System; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'np-bench-'));
  const path = join(dir, 'nodepool.yaml');
  writeFileSync(path, configYaml({ ...o, minReady: o.minReady ?? 0, maxServers: o.maxServers ?? 6000, port: 0 }));
  const logger = pino({ level: process.env.BENCH_LOG_LEVEL ?? 'info' }, pino.destination({ dest: process.env.BENCH_LOG ?? '/dev/null', sync: false }));
  const sys = await startSystem({ config: loadConfig(path), logger, env: { OS_CLIENT_CONFIG_FILE: sim.cloudsYaml } });
  return { sys, dir };
}

async function stop(s: { sys: System; dir: string }): Promise<void> {
  await s.sys.stop();
  rmSync(s.dir, { recursive: true, force: true });
}

async function post(base: string, path: string, body: unknown): Promise<any> {
  const r = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return r.json();
}

async function get(base: string, path: string): Promise<any> {
  return (await fetch(base + path)).json();
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 300_000, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) { if (await fn()) return; await new Promise((r) => setTimeout(r, everyMs)); }
  throw new Error(`timed out: ${what}`);
}

async function overhead(sim: Sim, sshPort: number): Promise<void> {
  const s = await system(sim, { sshPort, hostKeys: true });
  const base = s.sys.apiUrl;
  const samples: number[] = [];
  for (let i = 0; i < 60; i++) {
    const t0 = performance.now();
    const req = await post(base, '/api/v1/requests', { labels: ['jammy'], requestor: 'bench' });
    const done = await get(base, `/api/v1/requests/${req.id}?wait=30`);
    const t1 = performance.now();
    if (done.state !== 'fulfilled') throw new Error(`request ${req.id} ${done.state}: ${done.reason}`);
    if (i >= 10) samples.push(t1 - t0 - BOOT_MS); // the first ones teach the launcher this cloud's boot time
    await post(base, `/api/v1/requests/${req.id}/release`, { state: 'used' });
  }
  console.log(`\n## One request at a time (simulated boot ${BOOT_MS} ms, SSH host-key scan on), ${samples.length} requests`);
  console.log(`overhead (submit → fulfilled, minus the boot): p50 ${ms(pct(samples, 50))}, p90 ${ms(pct(samples, 90))}, p99 ${ms(pct(samples, 99))}, max ${ms(Math.max(...samples))}`);
  await stop(s);
}

/** The scheduler of the burst, in another process (bench/client-child.ts). */
class Client {
  private seq = 0;
  private pending = new Map<number, { resolve: (d: any) => void; reject: (e: Error) => void }>();
  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: any) => {
      const p = m.id !== undefined ? this.pending.get(m.id) : undefined;
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error)); else p.resolve(m.data);
    });
  }
  static async start(): Promise<Client> {
    const child = fork(join(import.meta.dirname, 'client-child.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    return new Client(child);
  }
  call<T = any>(msg: Record<string, unknown>): Promise<T> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => { this.pending.set(id, { resolve, reject }); this.child.send({ ...msg, id }); });
  }
  stop(): void { this.child.disconnect(); }
}

/** Counts the store's calls by method from now on (the system's store, wrapped in place). */
function countStoreCalls(store: object): Map<string, number> {
  const counts = new Map<string, number>();
  const methods = ['insertRequest', 'updateRequest', 'getRequest', 'listRequests', 'insertNode', 'updateNode', 'passSlot', 'removeNode', 'getNode', 'listNodes', 'renewLeases'];
  const target = store as Record<string, (...a: unknown[]) => unknown>;
  for (const m of methods) {
    const f = target[m];
    if (typeof f !== 'function') continue;
    target[m] = function (this: unknown, ...a: unknown[]) { const k = process.env.BENCH_PATCH_KEYS && (m === 'updateNode' || m === 'updateRequest') ? `${m}(${Object.keys(a[1] as object).join(',')})` : m; counts.set(k, (counts.get(k) ?? 0) + 1); return f.apply(this, a); };
  }
  return counts;
}

interface BurstFigures { scan: boolean; nodesPerS: number; fulfilMs: number; lifecycleMs: number; mainMs: number; othersMs: number; allMs: number }

async function burst(sim: Sim, sshPort: number, hostKeys: boolean, o: { n: number; warmup?: string }): Promise<BurstFigures> {
  const BURST = o.n;
  const s = await system(sim, { sshPort, hostKeys });
  const storeCalls = countStoreCalls(s.sys.store);
  const base = s.sys.apiUrl;
  const client = await Client.start();
  await sim.call('reset');
  const simCpu0 = await sim.call<NodeJS.CpuUsage>('cpu');
  const clientCpu0 = await client.call<NodeJS.CpuUsage>({ cmd: 'cpu' });
  const cpu0 = process.cpuUsage();
  const threads0 = threadCpuMs();
  const io0 = syscalls();
  const { ids, latencies, totalMs: total } = await client.call<{ ids: string[]; latencies: number[]; totalMs: number }>({ cmd: 'burst', base, n: BURST });
  const cpu1 = process.cpuUsage(cpu0);
  // Release all, then wait until the store has no node and the cloud no server.
  const r0 = performance.now();
  await client.call({ cmd: 'release', base, ids });
  await waitFor('all nodes gone', async () => (await s.sys.store.listNodes()).length === 0 && (await sim.call<number>('count')) === 0, 120_000, 5);
  const gone = performance.now() - r0;
  const cpu2 = process.cpuUsage(cpu0);
  const threads = threadCpuMs();
  const io = syscalls();
  const clientCpu = await client.call<NodeJS.CpuUsage>({ cmd: 'cpu' });
  client.stop();
  const stats = await sim.call<{ total: number; calls: Record<string, number> }>('stats');
  const simCpuNow = await sim.call<NodeJS.CpuUsage>('cpu');
  const userSys = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
  console.log(`\n## ${o.warmup ? `Warm-up ${o.warmup}: ` : ''}${BURST} one-node requests at once, host-key scanning ${hostKeys ? 'on' : 'off'} (boot ${BOOT_MS} ms, delete ${DELETE_MS} ms, 2 providers)${o.warmup ? ': while V8 still compiles the hot paths' : ''}`);
  console.log(`all fulfilled in ${(total / 1000).toFixed(2)} s: ${(BURST / (total / 1000)).toFixed(0)} nodes/s; latency p50 ${ms(pct(latencies, 50))}, p95 ${ms(pct(latencies, 95))}, max ${ms(Math.max(...latencies))}`);
  console.log(`release → every server gone: ${(gone / 1000).toFixed(2)} s (${((gone - DELETE_MS) / 1000).toFixed(2)} s beyond the simulated delete)`);
  console.log(`CPU of the system process (API + launcher + store) per node: ${(userSys(cpu1) / BURST).toFixed(2)} ms to fulfil, ${(userSys(cpu2) / BURST).toFixed(2)} ms for the whole lifecycle (user ${(cpu2.user / 1000 / BURST).toFixed(2)}, kernel ${(cpu2.system / 1000 / BURST).toFixed(2)}; main thread ${((threads.main - threads0.main) / BURST).toFixed(2)}, other threads ${((threads.others - threads0.others) / BURST).toFixed(2)})`);
  console.log(`system calls of the system process per node: ${((io.reads - io0.reads) / BURST).toFixed(1)} reads, ${((io.writes - io0.writes) / BURST).toFixed(1)} writes (sockets, files, pipes)`);
  console.log(`CPU of the scheduler (its own process: ${BURST} requests, long polls, releases) per node: ${((userSys(clientCpu) - userSys(clientCpu0)) / BURST).toFixed(2)} ms`);
  console.log(`CPU of the simulator (cloud + SSH servers) per node: ${((userSys(simCpuNow) - userSys(simCpu0)) / BURST).toFixed(2)} ms`);
  const allMs = (userSys(cpu2) + userSys(clientCpu) - userSys(clientCpu0) + userSys(simCpuNow) - userSys(simCpu0)) / BURST;
  console.log(`CPU of the three processes together per node lifecycle: ${allMs.toFixed(2)} ms (this machine's ${availableParallelism()} cores: at most ${(availableParallelism() * 1000 / allMs).toFixed(0)} lifecycles/s)`);
  console.log(`reconcile passes: ${s.sys.launcher.passes}`);
  console.log(`store calls per node: ${[...storeCalls].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / BURST).toFixed(2)}`).join(', ')}`);
  console.log(`cloud API calls: ${stats.total} for ${BURST} node lifecycles = ${(stats.total / BURST).toFixed(2)} per node`);
  console.log(`  ${Object.entries(stats.calls).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  await stop(s);
  return {
    scan: hostKeys, nodesPerS: BURST / (total / 1000), fulfilMs: userSys(cpu1) / BURST, lifecycleMs: userSys(cpu2) / BURST,
    mainMs: (threads.main - threads0.main) / BURST, othersMs: (threads.others - threads0.others) / BURST, allMs,
  };
}

/** Medians of repeated bursts (BENCH_REPEAT), by scanning on and off: this machine's runs vary by ±30 %. */
function printMedians(runs: BurstFigures[]): void {
  const median = (xs: number[]) => { const v = [...xs].sort((a, b) => a - b); return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2; };
  for (const scan of [true, false]) {
    const rs = runs.filter((r) => r.scan === scan);
    if (rs.length < 2) continue;
    const f = (k: keyof Omit<BurstFigures, 'scan'>, digits: number) => `${median(rs.map((r) => r[k])).toFixed(digits)} (${rs.map((r) => r[k].toFixed(digits)).join(', ')})`;
    console.log(`\n## Medians of ${rs.length} bursts, host-key scanning ${scan ? 'on' : 'off'}`);
    console.log(`nodes/s ${f('nodesPerS', 0)}; CPU of the system per node: ${f('fulfilMs', 2)} ms to fulfil, ${f('lifecycleMs', 2)} ms for the whole lifecycle, main thread ${f('mainMs', 2)}, other threads ${f('othersMs', 2)}; all three processes ${f('allMs', 2)} ms`);
  }
}

/** Read and write system calls of this process so far (/proc/self/io: sockets, files, pipes). */
function syscalls(): { reads: number; writes: number } {
  const io = readFileSync('/proc/self/io', 'utf8');
  const field = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(io)?.[1] ?? NaN);
  return { reads: field('syscr'), writes: field('syscw') };
}

/** CPU time (ms) of this process's main thread and of its other threads (GC helpers, libuv's pool), from /proc/self/task. */
function threadCpuMs(): { main: number; others: number } {
  let main = 0;
  let others = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    let ms = 0;
    try { ms = procCpuMs(Number(tid), `/proc/self/task/${tid}/stat`); } catch { continue; } // the thread ended
    if (Number(tid) === process.pid) main += ms; else others += ms;
  }
  return { main, others };
}

/** A figure from /proc/PID/status (VmRSS, VmHWM), in KiB. */
function procStatus(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** CPU time (user + system) of a process so far, in ms, from /proc/PID/stat. */
function procCpuMs(pid: number, path = `/proc/${pid}/stat`): number {
  const stat = readFileSync(path, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (100/s)
}

/**
 * `nodepool run` as an operator starts it, in its own process (so the RSS is the system's alone,
 * not the benchmark's or tsx's compiler cache): first idle with min-ready 0, then min-ready raised
 * to n by rewriting the configuration file (the system reloads it), until n nodes are ready.
 */
async function rss(sim: Sim, sshPort: number, n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'np-bench-rss-'));
  const path = join(dir, 'nodepool.yaml');
  const yaml = (minReady: number) => configYaml({ sshPort, hostKeys: false, minReady, maxServers: Math.ceil(n / 2) + 10, port: 0 })
    .replace('store: {path: state.sqlite}', `store: {path: ${join(dir, 'state.sqlite')}}\nreload-interval: 0.5`);
  writeFileSync(path, yaml(0));
  const args = [...(process.env.BENCH_SYSTEM_ARGS ?? '').split(' ').filter(Boolean), join(import.meta.dirname, '../bin/nodepool.js'), '-c', path, 'run'];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, OS_CLIENT_CONFIG_FILE: sim.cloudsYaml, NODEPOOL_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const log = process.env.BENCH_LOG ? createWriteStream(process.env.BENCH_LOG) : null;
  let apiUrl = '';
  let head = '';
  child.stdout!.on('data', (d: Buffer) => {
    log?.write(d);
    if (apiUrl) return;
    head += d.toString();
    apiUrl = /API listening at (\S+)/.exec(head)?.[1] ?? '';
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const db = () => new Database(join(dir, 'state.sqlite'), { readonly: true, fileMustExist: true });
  try {
    await waitFor('the system to start', async () => { try { db().close(); return true; } catch { return false; } }, 60_000, 100);
    await new Promise((r) => setTimeout(r, 3000));
    const idleRss = procStatus(child.pid!, 'VmRSS');
    const ready = () => { const d = db(); try { return (d.prepare("select count(*) as c from nodes where state = 'ready'").get() as { c: number }).c; } finally { d.close(); } };
    writeFileSync(path, yaml(n));
    const t0 = performance.now();
    await waitFor(`${n} ready nodes`, async () => ready() >= n, Number(process.env.BENCH_FILL_TIMEOUT ?? 900) * 1000, Math.max(200, n / 50));
    const took = performance.now() - t0;
    const filledRss = procStatus(child.pid!, 'VmRSS');
    const cpu0 = procCpuMs(child.pid!);
    // Idle with the fleet ready: what the system still does on its own (server lists, passes).
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const idleCpu = procCpuMs(child.pid!) - cpu0;
    const kib = procStatus(child.pid!, 'VmRSS');
    const peak = procStatus(child.pid!, 'VmHWM');
    const metrics = await (await fetch(`${apiUrl}/metrics`)).text();
    const gauge = (name: string) => Number(new RegExp(`^nodepool_${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN) / 2 ** 20;
    const heap = `V8 heap ${gauge('nodejs_heap_size_used_bytes').toFixed(0)} MiB used of ${gauge('nodejs_heap_size_total_bytes').toFixed(0)}, external ${gauge('nodejs_external_memory_bytes').toFixed(0)} MiB`;
    if (process.env.BENCH_SNAPSHOT) {
      // With BENCH_SYSTEM_ARGS='--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR': a heap snapshot
      // of the full fleet, for bench/heap-top.ts.
      child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, Number(process.env.BENCH_SNAPSHOT) * 1000));
    }
    // A stale or missing bundle runs the sources through tsx, whose compiler and caches add ~35 MiB.
    const code = freshBundle(new URL('../', import.meta.url)) ? 'the bundle dist/nodepool.mjs' : 'the TypeScript sources through tsx, the bundle being stale: `npm run build` for the figures of an installed system';
    console.log(`\n## ${n} ready nodes (\`nodepool run\` in its own process, running ${code}; host-key scanning off, simulator SSH off)`);
    console.log(`RSS before any node ${(idleRss / 1024).toFixed(0)} MiB; min-ready ${n} reached in ${(took / 1000).toFixed(1)} s (${(n / (took / 1000)).toFixed(0)} nodes/s); RSS then ${(filledRss / 1024).toFixed(0)} MiB, after ${IDLE_S} s idle ${(kib / 1024).toFixed(0)} MiB (peak ${(peak / 1024).toFixed(0)} MiB); ${((kib - idleRss) / n).toFixed(1)} KiB per node above the idle system; ${heap}; idle CPU ${(idleCpu / IDLE_S).toFixed(1)} ms/s`);
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'np-bench-sim-'));
  const sshPort = 20000 + Math.floor(Math.random() * 20000);
  console.log(`# nodepool-ts benchmark — ${new Date().toISOString()}, Node ${process.version}`);
  const withSsh = await Sim.start(dir, true, sshPort);
  try {
    if (only.includes('overhead')) await overhead(withSsh, sshPort);
    if (only.includes('burst')) {
      // A system runs for weeks: its CPU per node is the compiled code's. The warm-ups' figures
      // (V8's compiler threads at work: 2 ms per node more in the first burst of a process, still
      // 0.5 in the third) are printed, not the ones to quote.
      if (WARMUP > 0) for (let i = 0; i < WARMUP_BURSTS; i++) await burst(withSsh, sshPort, i % 2 === 0, { n: WARMUP, warmup: `${i + 1}/${WARMUP_BURSTS}` });
      const runs: BurstFigures[] = [];
      for (let i = 0; i < REPEAT; i++) for (const scan of SCAN) runs.push(await burst(withSsh, sshPort, scan, { n: BURST }));
      printMedians(runs);
    }
  } finally {
    await withSsh.call('stop');
  }
  if (only.includes('rss')) {
    for (const n of RSS_SIZES) {
      const noSsh = await Sim.start(dir, false, sshPort);
      try { await rss(noSsh, sshPort, n); } finally { await noSsh.call('stop'); }
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

await main();
