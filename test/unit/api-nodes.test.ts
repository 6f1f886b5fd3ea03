import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addNode, apiHarness } from './api-helpers.ts';

test('an operator lists nodes, filtered by label, provider and state', async () => {
  const h = apiHarness();
  const jammy = await addNode(h.store, { label: 'ubuntu-jammy', provider: 'sim-east', now: h.clock.now });
  const noble = await addNode(h.store, { label: 'ubuntu-noble', provider: 'sim-west', state: 'building', now: h.clock.now + 1 });
  const ids = async (q: string) => (await h.app.inject({ method: 'GET', url: `/api/v1/nodes${q}` })).json().nodes.map((n: { id: string }) => n.id);
  assert.deepEqual(await ids(''), [jammy.id, noble.id]);
  assert.deepEqual(await ids('?label=ubuntu-noble'), [noble.id]);
  assert.deepEqual(await ids('?provider=sim-east'), [jammy.id]);
  assert.deepEqual(await ids('?state=building,ready'), [jammy.id, noble.id]);
  assert.deepEqual(await ids('?state=in-use'), []);

  h.clock.now += 3_723_000;
  const one = await h.app.inject({ method: 'GET', url: `/api/v1/nodes/${jammy.id}` });
  assert.equal(one.statusCode, 200);
  const row = one.json();
  assert.equal(row.state, 'ready');
  assert.equal(row.age, 3723);
  assert.equal(row.locked, 'unlocked');
  assert.equal(row.public_ipv4, jammy.interfaceIp, 'falls back to the interface address');
  assert.deepEqual(row.host_keys, jammy.hostKeys);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/nodes/nope' })).statusCode, 404);
  await h.close();
});

test('holding a ready node takes it out of the pool; a node claimed by a request cannot be taken', async () => {
  const h = apiHarness();
  const free = await addNode(h.store, { now: h.clock.now });
  const res = await h.app.inject({ method: 'POST', url: `/api/v1/nodes/${free.id}/hold`, payload: { reason: 'debug bug 123', expires: 3600 } });
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().state, 'hold');
  assert.equal(res.json().hold_reason, 'debug bug 123');
  assert.equal(res.json().hold_expires, new Date(h.clock.now + 3_600_000).toISOString());

  const claimed = await addNode(h.store, { allocatedTo: 'r1', now: h.clock.now });
  const refused = await h.app.inject({ method: 'POST', url: `/api/v1/nodes/${claimed.id}/hold`, payload: {} });
  assert.equal(refused.statusCode, 409);
  assert.match(refused.json().error.message, /allocated to request r1/);

  const building = await addNode(h.store, { state: 'building', now: h.clock.now });
  const early = await h.app.inject({ method: 'POST', url: `/api/v1/nodes/${building.id}/hold` });
  assert.equal(early.statusCode, 409);
  assert.match(early.json().error.message, /is building/);

  const inUse = await addNode(h.store, { state: 'in-use', allocatedTo: 'r2', now: h.clock.now });
  const held = await h.app.inject({ method: 'POST', url: `/api/v1/nodes/${inUse.id}/hold` });
  assert.equal(held.statusCode, 200, 'a running job keeps its node, which stays after the job');
  assert.equal(held.json().hold_reason, 'held by api');

  const bad = await h.app.inject({ method: 'POST', url: `/api/v1/nodes/${free.id}/hold`, payload: { expires: -1 } });
  assert.equal(bad.json().error.field, 'expires');
  assert.equal((await h.app.inject({ method: 'POST', url: '/api/v1/nodes/nope/hold' })).statusCode, 404);
  await h.close();
});

test('deleting a node marks it deleting for the launcher; twice is a conflict', async () => {
  const h = apiHarness();
  const node = await addNode(h.store, { state: 'hold', now: h.clock.now });
  const res = await h.app.inject({ method: 'DELETE', url: `/api/v1/nodes/${node.id}` });
  assert.equal(res.statusCode, 202);
  assert.equal(res.json().state, 'deleting');
  const changes = await h.store.listChanges('node', node.id);
  assert.deepEqual(changes.at(-1)?.by, 'api');

  const twice = await h.app.inject({ method: 'DELETE', url: `/api/v1/nodes/${node.id}` });
  assert.equal(twice.statusCode, 409);
  assert.deepEqual(twice.json(), { error: { code: 409, message: `node ${node.id} is already deleting` } });
  assert.equal((await h.app.inject({ method: 'DELETE', url: '/api/v1/nodes/nope' })).statusCode, 404);
  await h.close();
});
