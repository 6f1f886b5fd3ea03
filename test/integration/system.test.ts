import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSystem, type System } from '../../src/run.ts';
import { silentLogger } from '../../src/log.ts';
import { api, eventually, randomSshPort, scratch, sshRun, userKey, writeConfig } from './helpers.ts';

// The whole system in one process, against the built-in simulator over real HTTP and real SSH:
// what a scheduler and an operator see.

const tmp = scratch();
const sshPort = randomSshPort();
let sys: System;
let base: string;

before(async () => {
  const config = writeConfig(tmp.dir, `
labels:
  - name: ubuntu-jammy
    min-ready: 2
  - name: ubuntu-noble
providers:
  - name: sim-a
    driver: openstack
    cloud: sim-a
    boot-timeout: 20
    launch-timeout: 30
    list-interval: 0.02
    cloud-images:
      - {name: ubuntu-jammy, image-name: ubuntu-22.04, username: zuul}
      - {name: ubuntu-noble, image-name: ubuntu-24.04, username: zuul}
    pools:
      - name: main
        max-servers: 10
        networks: [private]
        labels:
          - {name: ubuntu-jammy, flavor-name: m1.small, cloud-image: ubuntu-jammy, connection-port: ${sshPort}}
          - {name: ubuntu-noble, min-ram: 2048, cloud-image: ubuntu-noble, connection-port: ${sshPort}}
  - name: sim-b
    driver: openstack
    cloud: sim-b
    list-interval: 0.02
    cloud-images:
      - {name: ubuntu-jammy, image-name: ubuntu-22.04}
    pools:
      - name: main
        max-servers: 10
        networks: [private]
        labels:
          - {name: ubuntu-jammy, flavor-name: m1.small, cloud-image: ubuntu-jammy, connection-port: ${sshPort}}
api: {listen: 127.0.0.1, port: 0}
store: {path: state/nodepool.sqlite}
cloud-sim: {clouds: [sim-a, sim-b], boot-delay: 0.2, delete-delay: 0.1, ssh-port: ${sshPort}}
`);
  sys = await startSystem({ config, logger: silentLogger(), env: {} });
  base = sys.apiUrl;
});

after(async () => {
  await sys?.stop();
  tmp.done();
});

const nodes = async (state?: string) => (await api<{ nodes: any[] }>(base, 'GET', '/api/v1/nodes')).body.nodes.filter((n) => !state || n.state === state);
const simServers = () => sys.simulated.flatMap((name) => sys.sim!.cloud(name).servers());

test('min-ready nodes of each label are booted and ready, spread over both providers', async () => {
  const ready = await eventually('two ready jammy nodes', async () => {
    const r = (await nodes('ready')).filter((n) => n.label === 'ubuntu-jammy');
    return r.length >= 2 && r;
  });
  assert.deepEqual(ready.map((n: any) => n.provider).sort(), ['sim-a', 'sim-b']);
  assert.ok(ready.every((n: any) => n.server_id && n.host_keys?.length === 1));
});

test('a two-node request is fulfilled from one provider and its nodes answer over SSH with the host key pinned', async () => {
  const created = await api(base, 'POST', '/api/v1/requests', { labels: ['ubuntu-jammy', 'ubuntu-jammy'], requestor: 'ci-1' });
  assert.equal(created.status, 201);
  const got = await api(base, 'GET', `/api/v1/requests/${created.body.id}?wait=30`);
  assert.equal(got.body.state, 'fulfilled', JSON.stringify(got.body));
  const [a, b] = got.body.nodes;
  assert.equal(a.provider, b.provider, 'all nodes of a request come from one provider');
  const key = userKey();
  for (const n of got.body.nodes) {
    const out = await sshRun({ host: n.interface_ip, port: n.connection_port, username: n.username, hostKey: n.host_keys[0], privateKey: key.private,
      command: `echo "$((6 * 7))" > answer && cat answer` });
    assert.deepEqual(out, { code: 0, stdout: '42\n' });
  }
  // A host key that is not the node's is refused.
  const wrong = got.body.nodes[1].host_keys[0] === a.host_keys[0] ? 'ssh-ed25519 AAAA' : got.body.nodes[1].host_keys[0];
  await assert.rejects(sshRun({ host: a.interface_ip, port: a.connection_port, username: 'zuul', hostKey: wrong, privateKey: key.private, command: 'true' }));

  // Released as used: the nodes are deleted and their servers leave the cloud; min-ready is met again.
  const serverIds = got.body.nodes.map((n: any) => n.id);
  const released = await api(base, 'POST', `/api/v1/requests/${created.body.id}/release`, { state: 'used' });
  assert.equal(released.status, 200);
  const theirServers = (await Promise.all(serverIds.map((id: string) => sys.store.getNode(id)))).map((n) => n?.serverId);
  await eventually('released nodes gone from the store and the cloud', async () => {
    const left = await Promise.all(serverIds.map((id: string) => sys.store.getNode(id)));
    const inCloud = simServers().filter((s: any) => theirServers.includes(s.id));
    return left.every((n) => n === null) && inCloud.length === 0;
  });
  const trail = (await sys.store.listChanges('node', serverIds[0])).map((c) => c.to);
  assert.deepEqual(trail.slice(-4), ['in-use', 'used', 'deleting', 'gone']);
  await eventually('min-ready topped up', async () => (await nodes('ready')).filter((n) => n.label === 'ubuntu-jammy').length >= 2);
});

test('a request for an unknown label fails with the reason', async () => {
  const created = await api(base, 'POST', '/api/v1/requests', { labels: ['fedora-40'], requestor: 'ci-1' });
  const got = await api(base, 'GET', `/api/v1/requests/${created.body.id}?wait=10`);
  assert.equal(got.body.state, 'failed');
  assert.match(got.body.reason, /unknown label: fedora-40/);
});

test('a launch that fails twice is retried and the request is still fulfilled', async () => {
  sys.sim!.cloud('sim-a').failNextBoots(2);
  const created = await api(base, 'POST', '/api/v1/requests', { labels: ['ubuntu-noble'], requestor: 'ci-2' });
  const got = await api(base, 'GET', `/api/v1/requests/${created.body.id}?wait=30`);
  assert.equal(got.body.state, 'fulfilled', JSON.stringify(got.body));
  const node = await sys.store.getNode(got.body.nodes[0].id);
  assert.equal(node?.attempt, 3);
  await api(base, 'POST', `/api/v1/requests/${created.body.id}/release`, { state: 'used' });
});

test('a launch that always fails fails the request with the reason and leaves no server behind', async () => {
  sys.sim!.cloud('sim-a').failNextBoots(3);
  const created = await api(base, 'POST', '/api/v1/requests', { labels: ['ubuntu-noble'], requestor: 'ci-3' });
  const got = await api(base, 'GET', `/api/v1/requests/${created.body.id}?wait=30`);
  assert.equal(got.body.state, 'failed');
  assert.match(got.body.reason, /failed after 3 attempts: server went to ERROR: 500 No valid host was found/);
  await eventually('failed servers deleted', async () =>
    simServers().every((s: any) => s.metadata?.nodepool_node_label !== 'ubuntu-noble') &&
    (await nodes()).every((n) => n.label !== 'ubuntu-noble'));
});

test('a held node is kept out of every pool until an operator deletes it', async () => {
  const [first] = await eventually('a ready node', async () => { const r = await nodes('ready'); return r.length > 0 && r; });
  const held = await api(base, 'POST', `/api/v1/nodes/${first.id}/hold`, { reason: 'debugging a flaky job' });
  assert.equal(held.status, 200);
  // The pool replaces it for min-ready, and a request does not get it.
  const created = await api(base, 'POST', '/api/v1/requests', { labels: ['ubuntu-jammy'], requestor: 'ci-4' });
  const got = await api(base, 'GET', `/api/v1/requests/${created.body.id}?wait=30`);
  assert.equal(got.body.state, 'fulfilled');
  assert.notEqual(got.body.nodes[0].id, first.id);
  assert.equal((await sys.store.getNode(first.id))?.state, 'hold');
  const del = await api(base, 'DELETE', `/api/v1/nodes/${first.id}`);
  assert.ok(del.status === 200 || del.status === 202, `delete answered ${del.status}`);
  await eventually('held node gone', async () => (await sys.store.getNode(first.id)) === null);
  await api(base, 'POST', `/api/v1/requests/${created.body.id}/release`, { state: 'used' });
});

test('nodes released as held with an expiry are kept that long, then deleted; an expiry with "used" is refused', async () => {
  const created = await api(base, 'POST', '/api/v1/requests', { labels: ['ubuntu-jammy'], requestor: 'ci-5' });
  const got = await api(base, 'GET', `/api/v1/requests/${created.body.id}?wait=30`);
  assert.equal(got.body.state, 'fulfilled');
  const refused = await api(base, 'POST', `/api/v1/requests/${created.body.id}/release`, { state: 'used', expires: 60 });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error.field, 'expires');
  assert.match(refused.body.error.message, /expires: only with state "hold"/);
  const before = Date.now();
  const held = await api(base, 'POST', `/api/v1/requests/${created.body.id}/release`, { state: 'hold', reason: 'look at it', expires: 2 });
  assert.equal(held.status, 200);
  const id = got.body.nodes[0].id;
  const node = (await sys.store.getNode(id))!;
  assert.equal(node.state, 'hold');
  assert.ok(node.holdExpires! >= before + 2000 && node.holdExpires! <= Date.now() + 2000, `hold expires at ${node.holdExpires}`);
  await eventually('the held node deleted when its hold expired', async () => (await sys.store.getNode(id)) === null, 20_000);
  assert.ok(Date.now() >= before + 2000, 'not before its expiry');
});

test('every server in the cloud belongs to a node in the store', async () => {
  await eventually('cloud and store agree', async () => {
    const known = new Set((await sys.store.listNodes()).map((n) => n.serverId));
    return simServers().every((s: any) => known.has(s.id));
  });
});
