import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSystem, type System } from '../../src/run.ts';
import { silentLogger } from '../../src/log.ts';
import { api, eventually, randomSshPort, scratch, writeConfig } from './helpers.ts';

// A slow cloud, as a real Nova under a burst is: POST /servers answered after 3-8 s (measured on a
// Zed cloud: 3.0-8.5 s), creates spaced by `rate`, and a pool of one server whose boots all fail.
// The simulator's admin API counts the creates, as an operator of the cloud would see them.

let sys: System;
let tmp: ReturnType<typeof scratch>;

before(async () => {
  tmp = scratch();
  const port = randomSshPort();
  // `slow`: complete server lists every second, so several are sent while each create is in flight.
  // `tiny`: room for one server, two attempts per node.
  sys = await startSystem({
    config: writeConfig(tmp.dir, `
labels: [{name: jammy}, {name: doomed}]
providers:
  - name: slow
    driver: openstack
    cloud: slow
    rate: 1
    refresh-interval: 1
    list-interval: 0.2
    boot-timeout: 30
    launch-timeout: 60
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools:
      - name: main
        max-servers: 10
        networks: [private]
        labels: [{name: jammy, flavor-name: m1.small, cloud-image: jammy, connection-port: ${port}}]
  - name: tiny
    driver: openstack
    cloud: tiny
    refresh-interval: 1
    list-interval: 0.2
    launch-retries: 2
    cloud-images: [{name: doomed, image-name: ubuntu-22.04}]
    pools:
      - name: main
        max-servers: 1
        networks: [private]
        labels: [{name: doomed, flavor-name: m1.small, cloud-image: doomed, connection-port: ${port}}]
api: {listen: 127.0.0.1, port: 0}
store: {path: state.sqlite}
cloud-sim: {clouds: [slow, tiny], boot-delay: 0.5, delete-delay: 0.5, ssh-port: ${port}}
`),
    logger: silentLogger(), env: {},
  });
});

after(async () => {
  await sys?.stop();
  tmp?.done();
});

/** Calls by route, from the simulator's admin API. */
async function cloudCalls(cloud: string): Promise<Record<string, number>> {
  const res = await fetch(`${sys.sim!.url}/${cloud}/sim/stats`);
  return (await res.json()).calls;
}

async function request(labels: string[]): Promise<string> {
  return (await api(sys.apiUrl, 'POST', '/api/v1/requests', { labels, requestor: 'ci' })).body.id;
}

async function settled(id: string, waitS: number): Promise<any> {
  return (await api(sys.apiUrl, 'GET', `/api/v1/requests/${id}?wait=${waitS}`)).body;
}

test('with creates answered after 3-8 s and spaced by rate, every node is created once and none is judged vanished', async () => {
  const cloud = sys.sim!.cloud('slow');
  await cloud.setFaults({ seed: 13, latency: [{ service: 'nova', method: 'POST', route: '/servers', ms: 3000, jitterMs: 5000 }] });
  // What the store records of each node's server, to check each node is gone only once its server is.
  const serverOf = new Map<string, string>();
  const goneEarly: string[] = [];
  const unsubscribe = sys.store.subscribe((e) => {
    if (e.kind !== 'node') return;
    if (e.state === 'gone') {
      const server = serverOf.get(e.id);
      const status = server ? cloud.server(server)?.status : undefined;
      if (status !== undefined && status !== 'DELETED') goneEarly.push(`${e.id} (${status})`);
    } else {
      void sys.store.getNode(e.id).then((n) => { if (n?.serverId) serverOf.set(n.id, n.serverId); });
    }
  });
  try {
    const ids = [await request(['jammy', 'jammy', 'jammy']), await request(['jammy'])];
    for (const id of ids) {
      const r = await settled(id, 60);
      assert.equal(r.state, 'fulfilled', JSON.stringify(r));
    }
    assert.equal((await cloudCalls('slow'))['nova POST /servers'], 4, 'one create per node');
    const failures = (await Promise.all((await sys.store.listNodes({ provider: 'slow' })).map((n) => sys.store.listChanges('node', n.id))))
      .flat().filter((c) => c.to === 'failed');
    assert.deepEqual(failures, []);

    for (const id of ids) await api(sys.apiUrl, 'POST', `/api/v1/requests/${id}/release`, { state: 'used' });
    await eventually('every node of the slow cloud gone', async () => (await sys.store.listNodes({ provider: 'slow' })).length === 0, 30_000);
    assert.deepEqual(goneEarly, [], 'a node is gone only once the cloud shows its server gone');
    assert.equal(cloud.servers().filter((s) => s.status !== 'DELETED').length, 0);
  } finally {
    unsubscribe();
    await cloud.setFaults({});
  }
});

test('on a full pool whose boots all fail, the attempts are counted across retries and the request fails after launch-retries with the reason', async () => {
  const cloud = sys.sim!.cloud('tiny');
  await cloud.setFaults({ boots: { errorRate: 1, fault: 'no-valid-host' } });
  try {
    const id = await request(['doomed']);
    const r = await settled(id, 60);
    assert.equal(r.state, 'failed', JSON.stringify(r));
    assert.equal(r.reason, 'launch of doomed in tiny failed after 2 attempts: server went to ERROR: 500 No valid host was found.');
    assert.equal((await cloudCalls('tiny'))['nova POST /servers'], 2, 'two creates: one per attempt');
    // The failed servers are deleted; nothing is left behind.
    await eventually('the failed nodes gone', async () => (await sys.store.listNodes({ provider: 'tiny' })).length === 0, 30_000);
    assert.equal(cloud.servers().filter((s) => s.status !== 'DELETED').length, 0);
  } finally {
    await cloud.setFaults({});
  }
});
