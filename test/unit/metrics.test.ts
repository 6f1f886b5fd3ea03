import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics/metrics.ts';
import { OutcomeWatcher } from '../../src/metrics/outcomes.ts';
import { percentile, Sampler } from '../../src/metrics/sampler.ts';
import { addNode, apiHarness } from './api-helpers.ts';
import { newNodeRecord } from '../../src/store/records.ts';
import { liveSource } from '../../src/status/launcher-live.ts';

/** Prometheus scrapes /metrics; a dashboard plots the sampler's points. */

const config = loadConfig(new URL('../../nodepool.example.yaml', import.meta.url).pathname);

/** The value of one sample line of the exposition text, by metric name and exact labels. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('/metrics counts nodes by provider, label and state from the store, with every configured series present', async () => {
  const h = apiHarness();
  await h.store.publishProviderStates('l1', [{
    provider: 'sim-east', health: 'healthy', reason: null, since: h.clock.now, room: null, labelCosts: {}, pausedUntil: {}, leaked: { instances: 2 }, calls: [], updatedAt: h.clock.now,
  }]);
  const live = liveSource({ store: h.store, staleAfterMs: 15_000, now: () => h.clock.now });
  const metrics = new Metrics({ store: h.store, config, live });
  await h.app.close();
  const { buildApiApp } = await import('../../src/api/app.ts');
  h.app = buildApiApp({ store: h.store, logger: silentLogger(), requestLeaseTimeoutMs: 600_000, metrics });
  await addNode(h.store, { label: 'ubuntu-jammy', provider: 'sim-east', now: h.clock.now });
  await addNode(h.store, { label: 'ubuntu-jammy', provider: 'sim-east', state: 'in-use', now: h.clock.now });
  await h.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { labels: ['ubuntu-jammy'], requestor: 'zuul' } });
  const res = await h.app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
  const text = res.body;
  assert.equal(value(text, 'nodepool_nodes{provider="sim-east",label="ubuntu-jammy",state="ready"}'), 1);
  assert.equal(value(text, 'nodepool_nodes{provider="sim-east",label="ubuntu-jammy",state="in-use"}'), 1);
  assert.equal(value(text, 'nodepool_nodes{provider="sim-west",label="ubuntu-jammy",state="building"}'), 0);
  assert.equal(value(text, 'nodepool_provider_max_servers{provider="sim-east"}'), 20);
  assert.equal(value(text, 'nodepool_requests{state="requested"}'), 1);
  assert.equal(value(text, 'nodepool_provider_quota_used{provider="sim-east",resource="instances"}'), 2);
  assert.equal(value(text, 'nodepool_provider_leaked_total{provider="sim-east",resource="instances"}'), 2);
  assert.match(text, /^nodepool_process_cpu_seconds_total /m);
  await h.app.close();
  await h.close();
});

test('a burst of launches is counted from a few reads of the store, not one per change', async () => {
  const h = apiHarness();
  const metrics = new Metrics({ store: h.store, config });
  const reads = { rows: 0, calls: 0 };
  const store = h.store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const m of ['getNode', 'listNodes', 'getRequest', 'listRequests']) {
    const f = store[m]!.bind(h.store);
    store[m] = async (...a: unknown[]) => { reads.calls++; const r = await f(...a); reads.rows += Array.isArray(r) ? r.length : 1; return r; };
  }
  const watcher = new OutcomeWatcher(h.store, metrics);
  const stop = watcher.start();
  const t0 = h.clock.now;
  const nodes = Array.from({ length: 200 }, () => newNodeRecord({ label: 'ubuntu-jammy', provider: 'sim-east', pool: 'main', connectionPort: 22, username: 'zuul', now: t0 }));
  await Promise.all(nodes.map((n) => h.store.insertNode({ ...n, launchStartedAt: t0 }, 'launcher')));
  await watcher.settled();
  await Promise.all(nodes.map((n) => h.store.updateNode(n.id, { state: 'ready', stateTime: t0 + 30_000, az: 'nova' }, 'launcher')));
  await watcher.settled();
  stop();
  const { body: text } = await metrics.render();
  assert.equal(value(text, 'nodepool_launch_total{provider="sim-east",label="ubuntu-jammy",az="nova",result="ready"}'), 200);
  assert.equal(reads.rows, 400, 'each node read once as building and once as ready');
  assert.ok(reads.calls <= 4, `${reads.calls} reads for 400 changes`);
  await h.close();
});

test('launch results, request waits and cloud calls are counted as they happen', async () => {
  const h = apiHarness();
  const metrics = new Metrics({ store: h.store, config });
  const watcher = new OutcomeWatcher(h.store, metrics);
  const stop = watcher.start();
  const t0 = h.clock.now;
  // A launch that succeeds after 42 s, one whose create was refused (its record removed), one that failed after booting.
  const ok = newNodeRecord({ label: 'ubuntu-jammy', provider: 'sim-east', pool: 'main', connectionPort: 22, username: 'zuul', now: t0 });
  const refused = newNodeRecord({ label: 'ubuntu-noble', provider: 'sim-east', pool: 'main', connectionPort: 22, username: 'zuul', now: t0 });
  const broken = newNodeRecord({ label: 'ubuntu-jammy', provider: 'sim-west', pool: 'main', connectionPort: 22, username: 'zuul', now: t0 });
  for (const n of [ok, refused, broken]) await h.store.insertNode({ ...n, launchStartedAt: t0 }, 'launcher');
  // The create call is a round trip to the cloud: its answer comes after the insert was seen.
  await watcher.settled();
  await h.store.updateNode(ok.id, { state: 'ready', stateTime: t0 + 42_000, az: 'nova' }, 'launcher');
  await h.store.removeNode(refused.id, 'launcher');
  await h.store.updateNode(broken.id, { state: 'failed', stateTime: t0 + 90_000 }, 'launcher');
  const req = (await h.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { labels: ['ubuntu-jammy'], requestor: 'zuul' } })).json();
  await h.store.updateRequest(req.id, { state: 'fulfilled', fulfilledAt: h.clock.now + 7_000, stateTime: h.clock.now + 7_000 }, 'launcher');
  metrics.cloudCall({ provider: 'sim-east', service: 'nova', method: 'POST', status: 202, seconds: 0.03 });
  metrics.cloudCall({ provider: 'sim-east', service: 'nova', method: 'GET', status: null, seconds: 30 });
  await watcher.settled();
  stop();

  const { body: text } = await metrics.render();
  assert.equal(value(text, 'nodepool_launch_total{provider="sim-east",label="ubuntu-jammy",az="nova",result="ready"}'), 1);
  assert.equal(value(text, 'nodepool_launch_total{provider="sim-east",label="ubuntu-noble",az="",result="failed"}'), 1);
  assert.equal(value(text, 'nodepool_launch_total{provider="sim-west",label="ubuntu-jammy",az="",result="failed"}'), 1);
  assert.equal(value(text, 'nodepool_launch_duration_seconds_bucket{le="45",provider="sim-east",label="ubuntu-jammy",result="ready"}'), 1);
  assert.equal(value(text, 'nodepool_launch_duration_seconds_bucket{le="30",provider="sim-east",label="ubuntu-jammy",result="ready"}'), 0);
  assert.equal(value(text, 'nodepool_requests_done_total{state="fulfilled"}'), 1);
  assert.equal(value(text, 'nodepool_request_wait_seconds_sum{state="fulfilled"}'), 7);
  assert.equal(value(text, 'nodepool_task_total{provider="sim-east",service="nova",method="POST",status="202"}'), 1);
  assert.equal(value(text, 'nodepool_task_total{provider="sim-east",service="nova",method="GET",status="none"}'), 1);
  assert.equal(watcher.takeLaunchFailures(), 2);
  assert.equal(watcher.takeLaunchFailures(), 0);
  await h.close();
});

test('the sampler stores a point of every series each interval, wait times only when requests were served, and forgets old points', async () => {
  const h = apiHarness();
  let failures = 3;
  const sampler = new Sampler({ store: h.store, logger: silentLogger(), intervalMs: 60_000, retentionMs: 3600_000, launchFailures: () => { const f = failures; failures = 0; return f; } });
  const t = h.clock.now;
  await addNode(h.store, { now: t });
  await addNode(h.store, { state: 'building', now: t });
  const waits = [2, 4, 6, 8, 100];
  for (const w of waits) {
    const r = (await h.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { labels: ['x'], requestor: 'zuul' } })).json();
    await h.store.updateRequest(r.id, { state: 'fulfilled', createdAt: t - w * 1000 - 10_000, fulfilledAt: t - 10_000 }, 'launcher');
  }
  await h.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { labels: ['x'], requestor: 'zuul' } });

  const first = await sampler.sampleOnce(t);
  assert.deepEqual(
    [first['requests.waiting'], first['requests.wait_p50'], first['requests.wait_p95'], first['nodes.ready'], first['nodes.building'], first['nodes.in-use'], first['launch.failures']],
    [1, 6, 100, 1, 1, 0, 3],
  );
  // A minute later nothing was fulfilled: no wait-time point (a gap in the plot, not a zero).
  const second = await sampler.sampleOnce(t + 60_000);
  assert.equal('requests.wait_p50' in second, false);
  assert.equal(second['launch.failures'], 0);

  const view = (await h.app.inject({ method: 'GET', url: '/api/v1/series?hours=1' })).json();
  assert.deepEqual(view.series['requests.waiting'], [[t, 1]]);
  assert.deepEqual(view.series['requests.wait_p95'], [[t, 100]]);

  await sampler.sampleOnce(t + 3600_000 + 30_000);
  const kept = await h.store.listSamples(0);
  assert.deepEqual([...new Set(kept.map((s) => s.at))], [t + 60_000, t + 3600_000 + 30_000]);
  assert.equal(percentile([1, 2, 3, 4], 50), 2);
  await h.close();
});

test('the status page and its files are served without a token, cached briefly', async () => {
  const h = apiHarness({ access: { tokens: [{ name: 'ops', role: 'admin', hash: `sha256:${'0'.repeat(64)}` }], readPublic: false } });
  const page = await h.app.inject({ method: 'GET', url: '/' });
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /^text\/html/);
  assert.match(page.body, /<title>nodepool status<\/title>/);
  for (const f of ['app.js', 'plot.js', 'style.css']) assert.equal((await h.app.inject({ method: 'GET', url: `/status/${f}` })).statusCode, 200);
  assert.equal((await h.app.inject({ method: 'GET', url: '/status/../../package.json' })).statusCode, 404);
  // The data behind it follows api.read-public like every read.
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/series' })).statusCode, 401);
  await h.close();
});
