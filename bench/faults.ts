/**
 * `npm run bench:faults`: clouds that fail. Two providers of 20 servers each under saturating demand
 * (more requests outstanding than room; each job holds its node 2 s):
 *  1. no faults: utilisation of max-servers (share of the pools' room in use, sampled every 50 ms);
 *  2. a fifth of all cloud calls failing (500/503/429) and a tenth of boots ending in "No valid host":
 *     utilisation, cloud API calls per node, requests failed;
 *  3. one provider taken offline mid-run: time until it is marked unhealthy, time until requests
 *     submitted after the cut are all served by the other, requests failed (must be 0).
 * The simulator runs in this process (boot 100 ms, delete 50 ms).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.ts';
import { startSystem, type System } from '../src/run.ts';

const ROOM = 40;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);

async function start(): Promise<{ sys: System; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'np-bench-faults-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const provider = (name: string) => `
  - name: ${name}
    driver: openstack
    cloud: ${name}
    list-interval: 0.02
    refresh-interval: 2
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools:
      - name: main
        max-servers: ${ROOM / 2}
        networks: [private]
        labels: [{name: jammy, flavor-name: m1.tiny, cloud-image: jammy, connection-port: ${port}}]`;
  writeFileSync(join(dir, 'nodepool.yaml'), `labels: [{name: jammy}]
providers:${provider('f-a')}${provider('f-b')}
api: {listen: 127.0.0.1, port: 0}
store: {path: state.sqlite}
cloud-sim: {clouds: [f-a, f-b], boot-delay: 0.1, delete-delay: 0.05, ssh-port: ${port}}
`);
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  const sys = await startSystem({ config: loadConfig(join(dir, 'nodepool.yaml')), logger, env: {} });
  for (const c of ['f-a', 'f-b']) sys.sim!.cloud(c).setQuota({ instances: -1, cores: -1, ram: -1 });
  return { sys, dir };
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(base + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  return r.json();
}

interface Run { fulfilled: number; failed: number; utilisation: number; byProvider: Record<string, number>; fulfilledAt: { at: number; provider: string; created: number }[] }

/** Keeps `outstanding` requests in flight for `seconds`; each fulfilled job holds its node 2 s. */
async function demand(sys: System, seconds: number, outstanding: number, during?: (t: number) => Promise<void>): Promise<Run> {
  const base = sys.apiUrl;
  const end = performance.now() + seconds * 1000;
  const run: Run = { fulfilled: 0, failed: 0, utilisation: 0, byProvider: {}, fulfilledAt: [] };
  const samples: number[] = [];
  const sampler = setInterval(() => {
    void sys.store.listNodes({ states: ['in-use'] }).then((n) => samples.push(n.length / ROOM));
  }, 50);
  const worker = async () => {
    while (performance.now() < end) {
      const created = performance.now();
      const req = await call(base, 'POST', '/api/v1/requests', { labels: ['jammy'], requestor: 'bench' });
      let r = await call(base, 'GET', `/api/v1/requests/${req.id}?wait=60`);
      while (r.state === 'requested' || r.state === 'pending') r = await call(base, 'GET', `/api/v1/requests/${req.id}?wait=60`);
      if (r.state !== 'fulfilled') { run.failed++; continue; }
      run.fulfilled++;
      run.byProvider[r.provider] = (run.byProvider[r.provider] ?? 0) + 1;
      run.fulfilledAt.push({ at: performance.now(), provider: r.provider, created });
      await new Promise((res) => setTimeout(res, 2000));
      await call(base, 'POST', `/api/v1/requests/${req.id}/release`, { state: 'used' });
    }
  };
  const t0 = performance.now();
  await Promise.all([...Array.from({ length: outstanding }, worker), during?.(t0)]);
  clearInterval(sampler);
  // Skip the first second (the pools filling up).
  const steady = samples.slice(20);
  run.utilisation = steady.reduce((a, b) => a + b, 0) / Math.max(1, steady.length);
  return run;
}

const pct = (x: number) => `${(100 * x).toFixed(0)} %`;

async function main(): Promise<void> {
  console.log(`# Clouds that fail — ${new Date().toISOString()}, ${SECONDS} s per scenario, ${ROOM} servers of room in 2 providers, 60 requests outstanding`);
  {
    const s = await start();
    const r = await demand(s.sys, SECONDS, 60);
    console.log(`\n## No faults\nutilisation of max-servers: ${pct(r.utilisation)}; ${r.fulfilled} requests fulfilled, ${r.failed} failed`);
    await s.sys.stop(); rmSync(s.dir, { recursive: true, force: true });
  }
  {
    const s = await start();
    for (const [i, c] of ['f-a', 'f-b'].entries()) {
      await s.sys.sim!.cloud(c).setFaults({ seed: 11 + i, errors: [{ rate: 0.2, answer: [500, 503, 429], retryAfterSeconds: 1 }], boots: { errorRate: 0.1, fault: 'no-valid-host' } });
      s.sys.sim!.cloud(c).resetStats();
    }
    const r = await demand(s.sys, SECONDS, 60);
    const calls = ['f-a', 'f-b'].reduce((a, c) => a + s.sys.sim!.cloud(c).stats().total, 0);
    console.log(`\n## A fifth of all calls failing, a tenth of boots "No valid host"\nutilisation: ${pct(r.utilisation)}; ${r.fulfilled} fulfilled, ${r.failed} failed; cloud API calls per fulfilled node: ${(calls / Math.max(1, r.fulfilled)).toFixed(2)}`);
    await s.sys.stop(); rmSync(s.dir, { recursive: true, force: true });
  }
  {
    const s = await start();
    let cut = 0;
    let unhealthyAfter = NaN;
    const r = await demand(s.sys, SECONDS, 60, async (t0) => {
      await new Promise((res) => setTimeout(res, (SECONDS * 1000) / 3));
      cut = performance.now();
      await s.sys.sim!.cloud('f-a').setOffline(true);
      while (performance.now() - t0 < SECONDS * 1000) {
        if (Number.isNaN(unhealthyAfter) && s.sys.launcher.providerStatus().find((p) => p.name === 'f-a')?.health === 'unhealthy') unhealthyAfter = performance.now() - cut;
        await new Promise((res) => setTimeout(res, 20));
      }
    });
    const after = r.fulfilledAt.filter((f) => f.created > cut);
    const waits = after.map((f) => f.at - f.created).sort((a, b) => a - b);
    const onA = after.filter((f) => f.provider === 'f-a').length;
    console.log(`\n## Provider f-a offline (connections reset) a third of the way in\nmarked unhealthy ${unhealthyAfter.toFixed(0)} ms after the cut; requests made after the cut: ${after.length} fulfilled (${onA} by f-a), wait p50 ${waits[Math.floor(waits.length / 2)]?.toFixed(0)} ms, max ${waits[waits.length - 1]?.toFixed(0)} ms; requests failed: ${r.failed}; utilisation (of both providers' room): ${pct(r.utilisation)}`);
    await s.sys.sim!.cloud('f-a').setOffline(false);
    await s.sys.stop(); rmSync(s.dir, { recursive: true, force: true });
  }
}

await main();
