import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/log.ts';
import { CallTotals } from '../../src/metrics/call-totals.ts';
import { Metrics } from '../../src/metrics/metrics.ts';
import { liveSource, type LocalLauncher } from '../../src/status/launcher-live.ts';
import { mergeProviderStates } from '../../src/status/provider-state-merge.ts';
import { providerRows } from '../../src/status/providers.ts';
import { StatePublisher } from '../../src/status/state-publisher.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { ProviderStateRecord } from '../../src/store/store.ts';

/**
 * Launchers publish what they know of their providers; a process without them reads it. These
 * tell the story of an API server watching launchers that disagree, go quiet, and stop.
 */

const T = Date.UTC(2024, 0, 1, 12, 0, 0);
const STALE_MS = 15_000;

const row = (launcher: string, provider: string, o: Partial<ProviderStateRecord> = {}): ProviderStateRecord => ({
  launcher, provider, health: 'healthy', reason: null, since: T - 60_000, room: null, labelCosts: {}, pausedUntil: {},
  leaked: {}, calls: [], updatedAt: T, ...o,
});

test('two launchers serving one provider: the worst health wins and names its launcher; the room is the smallest read, pauses are united', () => {
  const merged = mergeProviderStates([
    row('l1', 'east', { room: { instances: 8, cores: 40, ram: Infinity }, pausedUntil: { main: T + 5_000 }, labelCosts: { 'main/jammy': { instances: 1, cores: 2, ram: 2048 } } }),
    row('l2', 'east', { health: 'degraded', reason: '2 failures in a row, last: server list failed: 503', since: T - 3_000, room: { instances: 6, cores: 48, ram: 8192 }, pausedUntil: { main: T + 9_000, big: T + 1_000 } }),
    row('l1', 'west', { updatedAt: T - 2_000 }),
  ], T, STALE_MS);
  const east = merged.get('east')!;
  assert.equal(east.health, 'degraded');
  assert.equal(east.reason, '2 failures in a row, last: server list failed: 503');
  assert.equal(east.since, T - 3_000);
  assert.equal(east.launcher, 'l2');
  assert.deepEqual(east.launchers, ['l1', 'l2']);
  assert.deepEqual(east.room, { instances: 6, cores: 40, ram: 8192 });
  assert.deepEqual([...east.pausedUntil], [['main', T + 9_000], ['big', T + 1_000]]);
  assert.deepEqual(east.labelCost.get('main/jammy'), { instances: 1, cores: 2, ram: 2048 });
  assert.equal(merged.get('west')!.health, 'healthy');

  // An unhealthy verdict outranks a degraded one, whoever wrote last.
  const worse = mergeProviderStates([row('l1', 'east', { health: 'unhealthy', reason: 'cool-down', updatedAt: T - 4_000 }), row('l2', 'east', { health: 'degraded' })], T, STALE_MS);
  assert.equal(worse.get('east')!.health, 'unhealthy');
  assert.equal(worse.get('east')!.launcher, 'l1');
});

test('a launcher that stopped publishing is not trusted: its rows are ignored beside a current one, and alone they show unknown with how long ago', () => {
  const quiet = row('l1', 'east', { health: 'unhealthy', reason: 'timeouts', updatedAt: T - 16_000, room: { instances: 1, cores: 1, ram: 1 }, pausedUntil: { main: T + 60_000 } });
  const beside = mergeProviderStates([quiet, row('l2', 'east')], T, STALE_MS).get('east')!;
  assert.equal(beside.health, 'healthy');
  assert.deepEqual(beside.launchers, ['l2']);
  assert.equal(beside.pausedUntil.size, 0);

  const alone = mergeProviderStates([quiet], T, STALE_MS).get('east')!;
  assert.equal(alone.health, 'unknown');
  assert.equal(alone.reason, 'stale: launcher l1 last published 16 s ago');
  assert.equal(alone.room, null);
  assert.equal(alone.launcher, 'l1');
  // Exactly at the limit it is still current (3 intervals of 5 s).
  assert.equal(mergeProviderStates([{ ...quiet, updatedAt: T - STALE_MS }], T, STALE_MS).get('east')!.health, 'unhealthy');

  // The provider list shows it so, with the launcher named in the detail columns.
  const config = { providers: [{ name: 'east', pools: [{ maxServers: 4 }] }] } as unknown as Parameters<typeof providerRows>[0];
  const [listed] = providerRows(config, [], new Map([['east', alone]]), T);
  assert.deepEqual([listed!.provider, listed!.health, listed!.launcher, listed!.paused], ['east', 'unknown', 'l1', []]);
});

function fakeLauncher(name: string): LocalLauncher & { onHealthChange(l: (p: string) => void): () => void; health: string; changed(): void } {
  const listeners = new Set<(p: string) => void>();
  const self = {
    name, health: 'healthy',
    providerStatus: () => [{ name: 'east', health: self.health, reason: self.health === 'healthy' ? null : 'timeouts', since: T, cloudRoom: { instances: 5, cores: Infinity, ram: 4096 }, paused: {}, backoff: {} }],
    providers: new Map([['east', { labelCost: new Map([['main/jammy', { instances: 1, cores: 1, ram: 1024 }]]) }]]),
    applier: { leaksDeletedBy: new Map([['east', 4]]) },
    onHealthChange(l: (p: string) => void) { listeners.add(l); return () => listeners.delete(l); },
    changed() { for (const l of listeners) l('east'); },
  };
  return self as unknown as ReturnType<typeof fakeLauncher>;
}

test('a launcher publishes its states at start, at once when a health changes, and removes them when it stops cleanly', async () => {
  const store = new SqliteStore(':memory:');
  const launcher = fakeLauncher('l1');
  const calls = new CallTotals();
  calls.record({ provider: 'east', service: 'compute', method: 'GET', status: 200, seconds: 0.25 });
  calls.record({ provider: 'east', service: 'compute', method: 'GET', status: 200, seconds: 0.5 });
  calls.record({ provider: 'east', service: 'compute', method: 'POST', status: null, seconds: 30 });
  let now = T;
  // An interval far longer than the test: only the start and the health change publish.
  const publisher = new StatePublisher({ store, launcher, calls, intervalMs: 3_600_000, logger: silentLogger(), now: () => now });
  try {
    publisher.start();
    await publisher.publish();
    const [first] = await store.listProviderStates();
    assert.deepEqual(first, {
      launcher: 'l1', provider: 'east', health: 'healthy', reason: null, since: T, room: { instances: 5, cores: Infinity, ram: 4096 },
      labelCosts: { 'main/jammy': { instances: 1, cores: 1, ram: 1024 } }, pausedUntil: {}, leaked: { instances: 4 },
      calls: [{ service: 'compute', method: 'GET', status: '200', count: 2, seconds: 0.75 }, { service: 'compute', method: 'POST', status: 'none', count: 1, seconds: 30 }],
      updatedAt: T,
    });
    now = T + 1_000;
    launcher.health = 'unhealthy';
    launcher.changed();
    await publisher.publish();
    const [second] = await store.listProviderStates();
    assert.deepEqual([second!.health, second!.reason, second!.updatedAt], ['unhealthy', 'timeouts', T + 1_000]);
  } finally {
    await publisher.stop();
  }
  assert.deepEqual(await store.listProviderStates(), []);
  await store.close();
});

test("an API process reads other launchers' published states; a launcher in the process is read from memory instead of its own rows", async () => {
  const store = new SqliteStore(':memory:');
  let now = T;
  await store.publishProviderStates('l1', [row('l1', 'east', { health: 'unhealthy', reason: 'old news', updatedAt: T - 1_000 })]);
  await store.publishProviderStates('l2', [row('l2', 'west', { health: 'degraded', reason: 'slow' })]);
  const apiOnly = liveSource({ store, staleAfterMs: STALE_MS, now: () => now, reuseMs: 0 });
  assert.deepEqual([...(await apiOnly.providers())].map(([p, l]) => `${p}:${l.health}:${l.launcher}`), ['east:unhealthy:l1', 'west:degraded:l2']);

  const local = liveSource({ store, local: { launcher: fakeLauncher('l1'), calls: null }, staleAfterMs: STALE_MS, now: () => now, reuseMs: 0 });
  assert.deepEqual([...(await local.providers())].map(([p, l]) => `${p}:${l.health}:${l.launcher}`), ['west:degraded:l2', 'east:healthy:l1']);

  // Reads close together share one store read (a /metrics scrape asks from several series at once).
  let reads = 0;
  const counting = liveSource({ store: { listProviderStates: async () => { reads++; return store.listProviderStates(); } }, staleAfterMs: STALE_MS, now: () => now });
  await Promise.all([counting.rows(), counting.providers(), counting.rows()]);
  now += 1_000;
  await counting.rows();
  assert.equal(reads, 2);
  await store.close();
});

/** The value of one sample line of the exposition text, by metric name and exact labels. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test("/metrics of a process without a launcher serves every launcher's calls, leaks and provider health from their published states", async () => {
  const store = new SqliteStore(':memory:');
  try {
    await store.publishProviderStates('l1', [row('l1', 'east', {
      leaked: { instances: 3 }, calls: [{ service: 'compute', method: 'GET', status: '200', count: 7, seconds: 1.5 }],
    })]);
    await store.publishProviderStates('l2', [row('l2', 'east', { health: 'degraded', reason: 'slow', updatedAt: T - 20_000, leaked: { instances: 1 } })]);
    const live = liveSource({ store, staleAfterMs: STALE_MS, now: () => T });
    const { body } = await new Metrics({ store, config: null, live, now: () => T }).render();
    assert.equal(value(body, 'nodepool_launcher_task_total{launcher="l1",provider="east",service="compute",method="GET",status="200"}'), 7);
    assert.equal(value(body, 'nodepool_launcher_task_seconds_total{launcher="l1",provider="east",service="compute",method="GET",status="200"}'), 1.5);
    assert.equal(value(body, 'nodepool_launcher_leaked_total{launcher="l1",provider="east",resource="instances"}'), 3);
    assert.equal(value(body, 'nodepool_launcher_provider_healthy{launcher="l1",provider="east",state="healthy"}'), 1);
    // l2 has been quiet for 20 s: its verdict is not trusted, here or in the provider's own series.
    assert.equal(value(body, 'nodepool_launcher_provider_healthy{launcher="l2",provider="east",state="unknown"}'), 1);
    assert.equal(value(body, 'nodepool_launcher_published_age_seconds{launcher="l2",provider="east"}'), 20);
    assert.equal(value(body, 'nodepool_provider_healthy{provider="east",state="healthy"}'), 1);
    assert.equal(value(body, 'nodepool_provider_leaked_total{provider="east",resource="instances"}'), 4);
  } finally {
    await store.close();
  }
});
