import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSystem } from '../../src/run.ts';
import { silentLogger } from '../../src/log.ts';
import { api, randomSshPort, scratch, writeConfig } from './helpers.ts';
import { postgresSkipReason, sqlOn, testDatabase, type TestDatabase } from '../support/postgres.ts';

// `nodepool run` on PostgreSQL: the one-process system needs nothing but `store.driver: postgres`.

const skip = await postgresSkipReason();
let db: TestDatabase;
before(async () => { if (!skip) db = await testDatabase('np_run'); });
after(async () => { await db?.drop(); });

test('the whole system in one process runs on PostgreSQL: migrated at start, registered, a request fulfilled', { skip: skip || false }, async () => {
  const tmp = scratch();
  const sshPort = randomSshPort();
  const config = writeConfig(tmp.dir, `
labels: [{name: jammy}]
providers:
  - name: pg-sim
    driver: openstack
    cloud: pg-sim
    list-interval: 0.05
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools:
      - {name: main, max-servers: 2, networks: [private], labels: [{name: jammy, flavor-name: m1.tiny, cloud-image: jammy, connection-port: ${sshPort}}]}
api: {listen: 127.0.0.1, port: 0}
store: {driver: postgres, url: '${db.url}'}
cloud-sim: {clouds: [pg-sim], boot-delay: 0.2, delete-delay: 0.1, ssh-port: ${sshPort}}
`);
  const sys = await startSystem({ config, logger: silentLogger(), env: {}, launcherName: 'one' });
  try {
    const created = await api(sys.apiUrl, 'POST', '/api/v1/requests', { labels: ['jammy', 'jammy'], requestor: 'ci' });
    const got = await api(sys.apiUrl, 'GET', `/api/v1/requests/${created.body.id}?wait=30`);
    assert.equal(got.body.state, 'fulfilled', JSON.stringify(got.body));
    assert.equal(got.body.nodes.length, 2);
    assert.deepEqual((await sys.store.listLaunchers()).map((l) => [l.name, l.providers]), [['one', ['pg-sim']]]);
    const inUse = await sqlOn(db.url, `SELECT count(*)::int AS n FROM nodes WHERE state = 'in-use' AND allocated_to = $1`, [created.body.id]);
    assert.equal(inUse.rows[0].n, 2);
  } finally {
    await sys.stop();
    tmp.done();
  }
});
