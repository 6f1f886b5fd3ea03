import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { api, eventually } from './helpers.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { postgresSkipReason, testDatabase, type TestDatabase } from '../support/postgres.ts';

// One launcher per provider (`nodepool launcher --providers`), as operators split them across
// machines, on one PostgreSQL. Every launcher plans with every provider so that only the launcher
// of the best pool claims a request; when that provider goes offline, its own launcher knows it
// and the other launcher must learn it too, or each leaves the request to the other.

const skip = await postgresSkipReason();
let db: TestDatabase;
before(async () => { if (!skip) db = await testDatabase('np_split'); });
after(async () => { await db?.drop(); });

const YAML = ({ sshPort }: { sshPort: number }) => {
  const pool = (max: number, priority: number) =>
    `{name: main, max-servers: ${max}, priority: ${priority}, networks: [private], labels: [{name: jammy, flavor-name: m1.tiny, cloud-image: jammy, connection-port: ${sshPort}, host-key-checking: false}]}`;
  const provider = (name: string, max: number, priority: number) => `
  - name: ${name}
    driver: openstack
    cloud: split-${name}
    list-interval: 0.1
    refresh-interval: 2
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools: [${pool(max, priority)}]`;
  // west is every launcher's first choice while it is healthy.
  return `labels: [{name: jammy}]\nproviders:${provider('east', 6, 2)}${provider('west', 6, 1)}\n`;
};

test('with one launcher per provider, requests go to the other provider while one is offline, though the offline one is preferred', { skip: skip || false, timeout: 240_000 }, async () => {
  let cluster: Cluster | null = null;
  try {
    cluster = await startCluster({ dbUrl: db.url, clouds: ['split-east', 'split-west'], bootDelay: 0.2, yaml: YAML });
    await cluster.launcher('le', ['--providers', 'east']);
    await cluster.launcher('lw', ['--providers', 'west']);
    const { url } = await cluster.api('api');
    const ask = async () => (await api(url, 'POST', '/api/v1/requests', { labels: ['jammy'], requestor: 'ci' })).body.id as string;
    const answer = async (id: string) => (await api(url, 'GET', `/api/v1/requests/${id}?wait=30`)).body;

    // Both up: once each launcher has read what the other published, the preferred provider serves.
    await eventually('a request served by west', async () => {
      const r = await answer(await ask());
      assert.equal(r.state, 'fulfilled', JSON.stringify(r));
      await api(url, 'POST', `/api/v1/requests/${r.id}/release`, { state: 'used' });
      return r.provider === 'west';
    }, 30_000, 200);

    // west goes offline (connections reset); its launcher judges it unhealthy and publishes that.
    const clouds = parse(readFileSync(join(cluster.dir, 'clouds.yaml'), 'utf8')) as { clouds: Record<string, { auth: { auth_url: string } }> };
    const admin = clouds.clouds['split-west']!.auth.auth_url.replace(/\/identity.*$/, '/sim/faults');
    const patched = await fetch(admin, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ offline: 'reset' }) });
    assert.equal(patched.status, 200, await patched.text());
    await eventually('west unhealthy, as the API shows it', async () =>
      (await api(url, 'GET', '/api/v1/providers/west')).body.provider?.health === 'unhealthy', 60_000, 200);

    const ids = await Promise.all(Array.from({ length: 4 }, ask));
    for (const id of ids) {
      let r = await answer(id);
      for (let i = 0; i < 2 && (r.state === 'requested' || r.state === 'pending'); i++) r = await answer(id);
      assert.equal(r.state, 'fulfilled', JSON.stringify(r));
      assert.equal(r.provider, 'east');
    }
  } finally {
    await cluster?.stop();
  }
});
