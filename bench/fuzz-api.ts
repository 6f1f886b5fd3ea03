/**
 * `npm run fuzz:api`: the hostile-input corpus (test/support/hostile-inputs.ts, seed FUZZ_SEED,
 * default 14) sent over HTTP to a real `nodepool run` of the example configuration (its store,
 * images and simulator SSH port moved to a scratch folder), one call at a time, while the
 * process's RSS is read from /proc every 100 ms. The start figure is taken once the system has
 * settled (its min-ready nodes booted, RSS steady).
 *
 * Reports the answers by status, any 5xx, every oversized input that was not refused with
 * 400/413 naming its limit, /healthz at the end, and RSS at the start (after a warm-up of
 * ordinary calls), its peak, and at the end, by family of input. Exit status 1 when a 5xx was
 * seen, an oversized input got through, or RSS ended more than FUZZ_RSS_SLACK_MB (50) above
 * its start.
 *
 * Measured (seed 14, 2,418 calls; 2-core machine shared with other work): before the limits,
 * RSS 178 MB at start, 388 MB at its peak (400,000-deep nesting in bodies under fastify's 1 MiB
 * default), 280 MB at the end (+102 MB), 426 oversized inputs answered 201/400/404 or 413
 * without naming a limit; after, 177 MB, peak 179 MB, 155 MB at the end, every oversized input
 * refused with 400/413/431 naming its limit, no 5xx. Again with the nodes' SSH reachable (their
 * connection-port moved with the simulator's): 184 MB at start, peak 185 MB, 151 MB at the end.
 * The example's gate is left out.
 *
 * Options (environment): FUZZ_SEED=14  FUZZ_SCALE=1  FUZZ_RSS_SLACK_MB=50  FUZZ_ROOT=<a checkout>
 * (FUZZ_ROOT runs another checkout's `nodepool run`, e.g. an older commit, to compare.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostileCalls, refusedForItsSize, sendHostile, type Family } from '../test/support/hostile-inputs.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 14);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const SLACK_MB = Number(process.env.FUZZ_RSS_SLACK_MB ?? 50);
const ROOT = process.env.FUZZ_ROOT ?? join(import.meta.dirname, '..');

function exampleConfig(dir: string): string {
  // The simulator's SSH port and the labels' connection-port move together, or no node would answer its host-key scan.
  const sshPort = 20000 + Math.floor(Math.random() * 20000);
  const at = (p: string) => join(ROOT, p);
  const text = readFileSync(at('nodepool.example.yaml'), 'utf8')
    .replace('dib-cmd: images/bin/placeholder-image', `dib-cmd: ${at('images/bin/placeholder-image')}`)
    .replace('elements-dir: images/elements', `elements-dir: ${at('images/elements')}`)
    .replace('images-dir: state/images', `images-dir: ${join(dir, 'images')}`)
    .replace('path: state/nodepool.sqlite', `path: ${join(dir, 'nodepool.sqlite')}`)
    .replace('port: 8022', 'port: 0')
    .replaceAll('ssh-port: 2022', `ssh-port: ${sshPort}`)
    .replaceAll('connection-port: 2022', `connection-port: ${sshPort}`)
    // The node API is what this sends hostile input to; the gate (and its Gerrit simulator on
    // fixed ports) stays out; the webhook has a body limit of its own (src/gate/web.ts).
    .replace(/^gate: .*$/m, '');
  const file = join(dir, 'nodepool.yaml');
  writeFileSync(file, text);
  return file;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const send = sendHostile;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'np-fuzz-'));
  const child = spawn(process.execPath, [join(ROOT, 'bin/nodepool.js'), 'run', '--config', exampleConfig(dir)], {
    cwd: dir, env: { ...process.env, NODEPOOL_LOG_LEVEL: process.env.NODEPOOL_LOG_LEVEL ?? 'info' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /API listening at (\S+)/.exec(out);
      if (m) { out = ''; resolve(m[1]!); }
      else if (out.length > 1e6) out = out.slice(-1000);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`nodepool run exited (${code}): ${stderr}`)));
  });
  const pid = child.pid!;
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, rssMb(pid)); }, 100);
  try {
    // The system first boots its min-ready nodes and builds its images: the start figure is taken
    // once that is done (RSS steady within 5 MB for 10 s, at most 120 s) and ordinary calls were served.
    const settled = Date.now() + 120_000;
    const window: number[] = [];
    while (Date.now() < settled) {
      window.push(rssMb(pid));
      if (window.length > 10) window.shift();
      if (window.length === 10 && Math.max(...window) - Math.min(...window) < 5) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (let i = 0; i < 200; i++) {
      await send(base, { family: 'wrong-type', what: 'warm-up', method: 'GET', path: '/api/v1/requests', headers: {}, body: () => undefined, oversized: false });
      await send(base, { family: 'wrong-type', what: 'warm-up', method: 'GET', path: '/node-list', headers: {}, body: () => undefined, oversized: false });
    }
    // One family after another, so that what each does to RSS shows in its own line.
    const all = hostileCalls(SEED, SCALE);
    const families = [...new Set(all.map((c) => c.family))];
    const calls = families.flatMap((f) => all.filter((c) => c.family === f));
    const start = rssMb(pid);
    let overallPeak = start;
    console.log(`nodepool run at ${base} (pid ${pid}); ${calls.length} hostile calls, seed ${SEED}; RSS at start ${start.toFixed(0)} MB`);
    const statuses = new Map<number, number>();
    const fiveXX: string[] = [];
    const through: string[] = [];
    const byFamily = new Map<Family, { calls: number; rssBefore: number; rssAfter: number; peak: number }>();
    const t0 = Date.now();
    for (const c of calls) {
      const a = await send(base, c);
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      if (a.status >= 500) fiveXX.push(`${c.method} ${c.path.slice(0, 60)} [${c.what}]: ${a.status} ${a.message}`);
      if (c.oversized && !refusedForItsSize(a)) through.push(`${c.method} ${c.path.slice(0, 60)} [${c.what}]: ${a.status} ${a.message.slice(0, 120)}`);
      let f = byFamily.get(c.family);
      if (!f) {
        f = { calls: 0, rssBefore: rssMb(pid), rssAfter: 0, peak: 0 };
        byFamily.set(c.family, f);
        peak = f.rssBefore;
      }
      f.calls++;
      f.rssAfter = rssMb(pid);
      f.peak = Math.max(f.peak, f.rssAfter, peak);
      overallPeak = Math.max(overallPeak, f.peak);
    }
    const health = await send(base, { family: 'wrong-type', what: 'health', method: 'GET', path: '/healthz', headers: {}, body: () => undefined, oversized: false });
    // Let the collector run as it would on an idle process before the last reading.
    await new Promise((r) => setTimeout(r, 2000));
    const end = rssMb(pid);
    console.log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s; answers: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s || 'closed'}: ${n}`).join(', ')}`);
    console.log('family          calls  RSS before  after  peak (MB)');
    for (const [f, v] of byFamily) {
      console.log(`${f.padEnd(15)} ${String(v.calls).padStart(5)}  ${v.rssBefore.toFixed(0).padStart(10)}  ${v.rssAfter.toFixed(0).padStart(5)}  ${v.peak.toFixed(0).padStart(5)}`);
    }
    console.log(`/healthz: ${health.status}; RSS start ${start.toFixed(0)} MB, peak ${overallPeak.toFixed(0)} MB, end ${end.toFixed(0)} MB (${end - start >= 0 ? '+' : ''}${(end - start).toFixed(0)} MB)`);
    for (const l of fiveXX.slice(0, 20)) console.log(`5xx: ${l}`);
    for (const l of through.slice(0, 20)) console.log(`not refused with its limit: ${l}`);
    const ok = fiveXX.length === 0 && through.length === 0 && health.status === 200 && end - start <= SLACK_MB;
    console.log(ok ? 'OK' : `FAILED: ${fiveXX.length} 5xx, ${through.length} oversized inputs not refused, RSS +${(end - start).toFixed(0)} MB (slack ${SLACK_MB})`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    clearInterval(sampler);
    // A clean stop first; if the process has not ended 20 s later, it is killed.
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const late = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(late);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
