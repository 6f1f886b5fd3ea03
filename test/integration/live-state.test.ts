import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually } from './helpers.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { postgresSkipReason, testDatabase, type TestDatabase } from '../support/postgres.ts';

// An operator runs `nodepool launcher` and `nodepool api` as separate processes against the
// simulator: the API, which has no launcher in it, shows the provider's health, the launcher
// that judged it, and that launcher's cloud calls on /metrics, as the launcher publishes them to
// the store. When the launcher stops cleanly, its state goes with it.

const skip = await postgresSkipReason();
let db: TestDatabase;
before(async () => { if (!skip) db = await testDatabase('np_live'); });
after(async () => { await db?.drop(); });

const YAML = (cloud: string) => ({ sshPort }: { sshPort: number }) => `
labels: [{name: jammy, min-ready: 1}]
providers:
  - name: east
    driver: openstack
    cloud: ${cloud}
    list-interval: 0.1
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools:
      - {name: main, max-servers: 2, networks: [private], labels: [{name: jammy, flavor-name: m1.tiny, cloud-image: jammy, connection-port: ${sshPort}, host-key-checking: false}]}
status: {publish-interval: 0.5}
`;

/** The value of one sample line of the exposition text, by metric name and exact labels. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function metricsOf(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

/** The story, on whichever store the cluster shares. */
async function seeLauncherStateThroughTheApi(cluster: Cluster): Promise<void> {
  await cluster.launcher('l1');
  const { url } = await cluster.api('api1');

  const east = await eventually('the API to show east as the launcher judges it', async () => {
    const rows = (await api(url, 'GET', '/provider-list?format=json')).body as Record<string, unknown>[];
    const row = rows.find((r) => r.provider === 'east');
    return row && row.health !== 'unknown' ? row : null;
  }, 60_000, 200);
  assert.equal(east.health, 'healthy');
  assert.equal(east.launcher, 'l1');
  assert.deepEqual(east.launchers, ['l1']);
  // The simulator's absolute limits were read by the launcher: the API knows the room too.
  assert.equal(typeof east.instances_limit, 'number');

  const summary = (await api(url, 'GET', '/api/v1/status')).body;
  assert.equal(summary.providers.find((p: { provider: string }) => p.provider === 'east').health, 'healthy');

  const text = await eventually('the launcher\'s cloud calls on the API\'s /metrics', async () => {
    const t = await metricsOf(url);
    return /^nodepool_launcher_task_total\{launcher="l1",provider="east",service="[a-z]+",method="GET",status="200"\} [1-9]/m.test(t) ? t : null;
  }, 30_000, 200);
  assert.equal(value(text, 'nodepool_launcher_provider_healthy{launcher="l1",provider="east",state="healthy"}'), 1);
  assert.equal(value(text, 'nodepool_provider_healthy{provider="east",state="healthy"}'), 1);
  assert.match(text, /^nodepool_launcher_task_seconds_total\{launcher="l1",provider="east",/m);
  assert.equal(value(text, 'nodepool_launcher_leaked_total{launcher="l1",provider="east",resource="instances"}'), 0);

  // A clean stop removes the launcher's rows: the API no longer trusts what it knew.
  const l1 = cluster.procs.find((p) => p.name === 'l1')!;
  l1.child.kill('SIGTERM');
  await l1.exited;
  // Gone, not merely stale (a stale row would still be listed, as state="unknown"); reads within
  // a second share one store read, so the answer may lag that much.
  await eventually('the launcher\'s rows to be removed', async () => !/^nodepool_launcher_provider_healthy\{launcher="l1"/m.test(await metricsOf(url)), 10_000, 200);
  const rows = (await api(url, 'GET', '/provider-list?format=json')).body as Record<string, unknown>[];
  assert.equal(rows.find((r) => r.provider === 'east')!.health, 'unknown');
}

test('PostgreSQL: an API process without a launcher shows the provider health and cloud calls a launcher process publishes', { skip: skip || false, timeout: 180_000 }, async () => {
  let cluster: Cluster | null = null;
  try {
    cluster = await startCluster({ dbUrl: db.url, clouds: ['live-pg'], bootDelay: 0.2, yaml: YAML('live-pg') });
    await seeLauncherStateThroughTheApi(cluster);
  } finally {
    await cluster?.stop();
  }
});

test('SQLite: a launcher process and an API process on one store file share the launcher state the same way', { timeout: 180_000 }, async () => {
  let cluster: Cluster | null = null;
  try {
    cluster = await startCluster({ dbUrl: '', storeYaml: 'store: {driver: sqlite, path: np.sqlite}', clouds: ['live-sq'], bootDelay: 0.2, yaml: YAML('live-sq') });
    await seeLauncherStateThroughTheApi(cluster);
  } finally {
    await cluster?.stop();
  }
});
