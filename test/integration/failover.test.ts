import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually } from './helpers.ts';
import { startCluster, type Cluster } from './cluster.ts';
import type { Proc } from './proc.ts';
import { postgresSkipReason, sqlOn, testDatabase, type TestDatabase } from '../support/postgres.ts';
import { soakSize } from '../support/soak.ts';

// Promise 6 across processes: every lock is a lease that expires, so the work of a launcher that
// dies (SIGKILL) or is cut off from PostgreSQL is taken over by another, and the one cut off stops
// acting on the leases it can no longer renew.

/** Rounds of six requests, each followed by a SIGKILL: 3 in `npm test`, 10 in `npm run test:soak`. */
const KILL_ROUNDS = soakSize(3, 10);

const skip = await postgresSkipReason();
let db: TestDatabase;
before(async () => { if (!skip) db = await testDatabase('np_failover'); });
after(async () => { await db?.drop(); });

const YAML = (cloud: string) => ({ sshPort }: { sshPort: number }) => `
labels: [{name: jammy}]
providers:
  - name: ${cloud}
    driver: openstack
    cloud: ${cloud}
    list-interval: 0.1
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools:
      - {name: main, max-servers: 10, networks: [private], labels: [{name: jammy, flavor-name: m1.tiny, cloud-image: jammy, connection-port: ${sshPort}}]}
`;

async function fulfilled(base: string, id: string): Promise<any> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const got = await api(base, 'GET', `/api/v1/requests/${id}?wait=20`);
    if ((got.body.state !== 'requested' && got.body.state !== 'pending') || Date.now() > deadline) return got.body;
  }
}

/** Every request fulfilled and claimed once, and no node in two requests. */
async function assertExactlyOnce(bodies: any[]): Promise<void> {
  const owner = new Map<string, string>();
  for (const b of bodies) {
    assert.equal(b.state, 'fulfilled', JSON.stringify(b));
    for (const n of b.nodes) {
      assert.equal(owner.get(n.id), undefined, `node ${n.id} in two requests`);
      owner.set(n.id, b.id);
    }
  }
  const audit = await sqlOn(db.url, `SELECT id FROM state_changes WHERE kind = 'request' AND id = ANY($1)
    GROUP BY id HAVING count(*) FILTER (WHERE to_state = 'fulfilled') <> 1`, [bodies.map((b) => b.id)]);
  assert.deepEqual(audit.rows, []);
}

/** Once quiet, the cloud holds exactly the servers of the store's nodes (promise 1). */
async function cloudMatchesStore(cluster: Cluster, cloud: string): Promise<void> {
  await eventually('cloud and store agree', async () => {
    const nodes = (await sqlOn(db.url, 'SELECT server_id FROM nodes WHERE provider = $1', [cloud])).rows.map((r) => r.server_id).sort();
    const servers = (await cluster.servers(cloud)).map((s) => s.id).sort();
    return JSON.stringify(nodes) === JSON.stringify(servers);
  }, 60_000, 200);
}

test('launchers killed with SIGKILL at random moments, again and again: every request fulfilled once, nothing leaked', { skip: skip || false, timeout: soakSize(240_000, 480_000) }, async (t) => {
  let cluster: Cluster | null = null;
  try {
    cluster = await startCluster({ dbUrl: db.url, clouds: ['kill-a'], bootDelay: 0.8, yaml: YAML('kill-a') });
    const { url } = await cluster.api('api1');
    let seq = 0;
    const live: Proc[] = [];
    const startOne = async () => { live.push(await cluster!.launcher(`k${++seq}`, ['--lease', '2'])); };
    await startOne();
    await startOne();
    const ids: string[] = [];
    const kills: number[] = [];
    for (let round = 0; round < KILL_ROUNDS; round++) {
      for (let i = 0; i < 6; i++) ids.push((await api(url, 'POST', '/api/v1/requests', { labels: i % 3 ? ['jammy'] : ['jammy', 'jammy'], requestor: 'kill' })).body.id);
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 1300));
      const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0];
      victim.child.kill('SIGKILL');
      await victim.exited;
      kills.push(Date.now());
      await startOne();
    }
    // Each released as soon as it is fulfilled: the pool has room for 10 nodes, the requests ask for 8 a round.
    const bodies = await Promise.all(ids.map(async (id) => {
      const body = await fulfilled(url, id);
      if (body.state === 'fulfilled') await api(url, 'POST', `/api/v1/requests/${id}/release`, { state: 'used' });
      return body;
    }));
    await assertExactlyOnce(bodies);
    // Requests the killed launchers had claimed were finished by others.
    const takenOver = await sqlOn(db.url, `SELECT count(DISTINCT id)::int AS n FROM state_changes WHERE kind = 'request' AND to_state = 'fulfilled'
      AND id IN (SELECT id FROM state_changes WHERE kind = 'request' AND to_state = 'pending' AND "by" <> ALL($1))`, [live.map((p) => p.name)]);
    t.diagnostic(`${kills.length} kills, ${ids.length} requests; ${takenOver.rows[0].n} claimed by a launcher that was later killed`);
    await cloudMatchesStore(cluster, 'kill-a');
    await eventually('every server deleted', async () => (await cluster!.servers('kill-a')).length === 0, 60_000, 200);
  } finally {
    await cluster?.stop();
  }
});

test('a launcher cut off from PostgreSQL stops acting once its leases lapse; another takes its work over; back, it does not overwrite it', { skip: skip || false, timeout: 180_000 }, async () => {
  const role = `np_part_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  await sqlOn(db.url, `CREATE ROLE ${role} LOGIN`);
  await sqlOn(db.url, `GRANT ALL ON SCHEMA public TO ${role}; GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
  let cluster: Cluster | null = null;
  try {
    // Boots long enough that the cut comes while they are still booting, even on a loaded machine.
    cluster = await startCluster({ dbUrl: db.url, clouds: ['part-a'], bootDelay: 8, yaml: YAML('part-a') });
    const cutUrl = new URL(db.url);
    cutUrl.username = role;
    const cut = await cluster.launcher('cut', ['--lease', '2'], cluster.configWithUrl(cutUrl.toString(), 'cut.yaml'));
    const { url } = await cluster.api('api1');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await api(url, 'POST', '/api/v1/requests', { labels: ['jammy'], requestor: 'part' })).body.id);
    await eventually('the launcher to claim every request', async () =>
      (await sqlOn(db.url, `SELECT count(*)::int AS n FROM requests WHERE lease_owner = 'cut' AND state = 'pending'`)).rows[0].n === ids.length, 20_000);
    await eventually('a server booting for every request', async () =>
      (await sqlOn(db.url, `SELECT count(*)::int AS n FROM nodes WHERE state = 'building' AND server_id IS NOT NULL`)).rows[0].n === ids.length, 20_000, 50);

    // The partition while they boot (starting another launcher first can take longer than the
    // boots on a loaded machine): no new connection for its role, and its open ones killed.
    await sqlOn(db.url, `ALTER ROLE ${role} NOLOGIN`);
    await sqlOn(db.url, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
    const cutAt = Date.now();
    await Promise.all([cluster.launcher('other', ['--lease', '2']), cut.waitFor(/not acting until the store answers/, 20_000)]);

    const bodies = await Promise.all(ids.map((id) => fulfilled(url, id)));
    await assertExactlyOnce(bodies);
    const byOther = await sqlOn(db.url, `SELECT count(*)::int AS n FROM state_changes WHERE kind = 'request' AND to_state = 'fulfilled' AND "by" = 'other'`);
    assert.equal(byOther.rows[0].n, ids.length, 'the other launcher finished the requests');

    // Healed: it renews what is still its own and leaves alone what was taken over.
    await sqlOn(db.url, `ALTER ROLE ${role} LOGIN`);
    await cut.waitFor(/acting again/, 30_000);
    const healedAt = Date.now();
    await eventually('quiet after healing', async () => (await sqlOn(db.url, `SELECT count(*)::int AS n FROM nodes WHERE state = 'building'`)).rows[0].n === 0, 20_000);
    const late = await sqlOn(db.url, `SELECT kind, id, to_state, at FROM state_changes WHERE "by" = 'cut' AND at > $1`, [cutAt]);
    assert.deepEqual(late.rows, [], 'no write by the cut-off launcher after the partition');
    // Nor a cloud call: no server it created after its last lease ran out.
    const itsLate = (await cluster.servers('part-a')).filter((s) => s.metadata.nodepool_launcher === 'cut' && Date.parse(s.created ?? '') > cutAt + 2000);
    assert.deepEqual(itsLate, []);
    await cloudMatchesStore(cluster, 'part-a');
    assert.ok(healedAt > cutAt);
    for (const id of ids) await api(url, 'POST', `/api/v1/requests/${id}/release`, { state: 'used' });
  } finally {
    await cluster?.stop();
    await sqlOn(db.url, `DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`).catch(() => {});
  }
});
