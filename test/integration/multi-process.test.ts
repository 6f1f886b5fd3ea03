import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api } from './helpers.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { postgresSkipReason, sqlOn, testDatabase, type TestDatabase } from '../support/postgres.ts';
import { soakSize } from '../support/soak.ts';

// Many processes on one PostgreSQL: three launchers and two API servers fulfil concurrent
// requests exactly once (promises 2, 3 and 6): requests of mixed labels and sizes (1.8 nodes
// each) on two simulated clouds of Nova's default quota (10 instances each), so the launchers
// compete for every slot. 200 requests in `npm test` (about 30 s of the run on 2 cores), 500 in
// `npm run test:soak`.

const COUNT = soakSize(200, 500);

const skip = await postgresSkipReason();
let db: TestDatabase;
before(async () => { if (!skip) db = await testDatabase('np_multi'); });
after(async () => { await db?.drop(); });

const YAML = ({ sshPort }: { sshPort: number }) => {
  const label = (name: string, image: string) => `{name: ${name}, flavor-name: m1.tiny, cloud-image: ${image}, connection-port: ${sshPort}, host-key-checking: false}`;
  return `
labels: [{name: jammy}, {name: noble}]
providers:
  - name: east
    driver: openstack
    cloud: mp-east
    list-interval: 0.1
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}, {name: noble, image-name: ubuntu-24.04}]
    pools:
      - {name: main, max-servers: 10, networks: [private], labels: [${label('jammy', 'jammy')}, ${label('noble', 'noble')}]}
  - name: west
    driver: openstack
    cloud: mp-west
    list-interval: 0.1
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools:
      - {name: main, max-servers: 10, networks: [private], labels: [${label('jammy', 'jammy')}]}
`;
};

const SHAPES = [['jammy'], ['jammy', 'jammy'], ['noble'], ['jammy', 'noble'], ['jammy', 'jammy', 'jammy']];

/** Waits (long-poll after long-poll) until the request is no longer open. */
async function settled(base: string, id: string, deadline: number): Promise<any> {
  for (;;) {
    const got = await api(base, 'GET', `/api/v1/requests/${id}?wait=30`);
    if (got.body.state !== 'requested' && got.body.state !== 'pending') return got.body;
    if (Date.now() > deadline) return got.body;
  }
}

test(`three launchers and two API servers fulfil ${COUNT} concurrent requests, each exactly once, from one provider, with no node given twice`, { skip: skip || false, timeout: 420_000 }, async (t) => {
  let cluster: Cluster | null = null;
  try {
    cluster = await startCluster({ dbUrl: db.url, clouds: ['mp-east', 'mp-west'], bootDelay: 0.2, yaml: YAML });
    await Promise.all(['l1', 'l2', 'l3'].map((n) => cluster!.launcher(n, ['--lease', '5'])));
    const apis = await Promise.all(['api1', 'api2'].map((n) => cluster!.api(n)));

    const started = Date.now();
    const created = await Promise.all(Array.from({ length: COUNT }, (_, i) =>
      api(apis[i % 2].url, 'POST', '/api/v1/requests', { labels: SHAPES[i % SHAPES.length], requestor: `ci-${i % 7}` })));
    assert.ok(created.every((c) => c.status === 201));

    // Each request is waited for on the other API server, then released at once.
    const deadline = Date.now() + 300_000;
    const seen = new Map<string, string>();
    const results = await Promise.all(created.map(async (c, i) => {
      const body = await settled(apis[(i + 1) % 2].url, c.body.id, deadline);
      if (body.state === 'fulfilled') {
        for (const n of body.nodes) {
          assert.equal(seen.get(n.id), undefined, `node ${n.id} given to ${seen.get(n.id)} and ${body.id}`);
          seen.set(n.id, body.id);
        }
        await api(apis[i % 2].url, 'POST', `/api/v1/requests/${body.id}/release`, { state: 'used' });
      }
      return body;
    }));
    const took = (Date.now() - started) / 1000;

    for (const [i, r] of results.entries()) {
      assert.equal(r.state, 'fulfilled', `request ${i}: ${JSON.stringify(r)}`);
      assert.deepEqual(r.nodes.map((n: any) => n.label), SHAPES[i % SHAPES.length]);
      assert.equal(new Set(r.nodes.map((n: any) => n.provider)).size, 1, `request ${r.id} spans providers`);
    }
    // The audit log: each request claimed (requested → pending) and fulfilled exactly once.
    const audit = await sqlOn(db.url, `SELECT id, count(*) FILTER (WHERE to_state = 'fulfilled')::int AS fulfilled,
      count(*) FILTER (WHERE to_state = 'pending')::int AS claimed FROM state_changes WHERE kind = 'request' GROUP BY id`);
    assert.equal(audit.rows.length, COUNT);
    assert.ok(audit.rows.every((r) => r.fulfilled === 1 && r.claimed === 1), JSON.stringify(audit.rows.filter((r) => r.fulfilled !== 1 || r.claimed !== 1)));
    const claimers = await sqlOn(db.url, `SELECT "by", count(*)::int AS n FROM state_changes WHERE kind = 'request' AND to_state = 'pending' GROUP BY "by" ORDER BY "by"`);
    t.diagnostic(`${COUNT} requests (${seen.size} nodes) in ${took.toFixed(1)} s; claimed by ${claimers.rows.map((r) => `${r.by}: ${r.n}`).join(', ')}`);
    assert.ok(claimers.rows.length >= 2, 'the work is shared between launchers');

    // The launchers are registered with their heartbeat.
    const { execFileSync } = await import('node:child_process');
    const listed = JSON.parse(execFileSync(process.execPath, [import.meta.dirname + '/../../bin/nodepool.js', '-c', cluster.configPath, 'launcher', 'list', '--json'], { encoding: 'utf8' }));
    assert.deepEqual(listed.map((l: any) => [l.name, l.state, l.providers]), [['l1', 'up', ['east', 'west']], ['l2', 'up', ['east', 'west']], ['l3', 'up', ['east', 'west']]]);

    // Every released node is deleted: nothing is left in either cloud.
    const { eventually } = await import('./helpers.ts');
    await eventually('every server deleted', async () => (await cluster!.servers('mp-east')).length + (await cluster!.servers('mp-west')).length === 0, 60_000, 200);
  } finally {
    await cluster?.stop();
  }
});
