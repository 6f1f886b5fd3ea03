import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
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

test('a dashboard pages through the nodes with limit and after; an after that names no node is refused by name', async () => {
  const h = apiHarness();
  const made = [];
  for (let i = 0; i < 5; i++) made.push((await addNode(h.store, { now: h.clock.now + i })).id);
  const page = async (q: string) => (await h.app.inject({ method: 'GET', url: `/api/v1/nodes${q}` })).json();
  const first = await page('?limit=2');
  assert.deepEqual(first.nodes.map((n: { id: string }) => n.id), made.slice(0, 2));
  assert.equal(first.next, made[1]);
  const second = await page(`?limit=2&after=${first.next}`);
  assert.deepEqual(second.nodes.map((n: { id: string }) => n.id), made.slice(2, 4));
  const last = await page(`?limit=2&after=${second.next}`);
  assert.deepEqual(last.nodes.map((n: { id: string }) => n.id), made.slice(4));
  assert.equal(last.next, null, 'the last page says there is no more');
  assert.equal((await page('')).next, undefined, 'without limit the whole list, as before');

  const bad = await h.app.inject({ method: 'GET', url: '/api/v1/nodes?limit=2&after=0000000999' });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.field, 'after');
  assert.match(bad.json().error.message, /no node 0000000999/);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/nodes?limit=0' })).json().error.field, 'limit');
  await h.close();
});

test('listings read again when any process writes: a change made through another connection to the file shows at once', async () => {
  const h = apiHarness();
  const node = await addNode(h.store, { now: h.clock.now });
  const state = async () => (await h.app.inject({ method: 'GET', url: '/node-list?format=json' })).json()[0].state;
  assert.equal(await state(), 'ready');
  assert.equal(await state(), 'ready', 'asked again with nothing changed');
  // Another process (here: another connection to the same file) takes the node out.
  const other = new SqliteStore(h.dbPath);
  await other.updateNode(node.id, { state: 'hold', holdReason: 'debug' }, 'operator');
  await other.close();
  assert.equal(await state(), 'hold');
  // And this process's own writes, too.
  await h.store.updateNode(node.id, { state: 'ready', holdReason: null }, 'operator');
  assert.equal(await state(), 'ready');
  await h.close();
});

test('a large listing comes compressed (brotli, else gzip) to a client that accepts it, and as it is to one that does not', async () => {
  const h = apiHarness();
  for (let i = 0; i < 120; i++) await addNode(h.store, { now: h.clock.now + i });
  const plain = await h.app.inject({ method: 'GET', url: '/node-list', headers: { accept: 'application/json' } });
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.json().length, 120);
  const zipped = await h.app.inject({ method: 'GET', url: '/node-list', headers: { accept: 'application/json', 'accept-encoding': 'gzip, deflate' } });
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.match(String(zipped.headers.vary), /Accept-Encoding/);
  assert.ok(zipped.rawPayload.length * 4 < plain.rawPayload.length, `gzipped ${zipped.rawPayload.length} B against ${plain.rawPayload.length} B`);
  assert.deepEqual(JSON.parse(gunzipSync(zipped.rawPayload).toString('utf8')), plain.json());
  const br = await h.app.inject({ method: 'GET', url: '/node-list', headers: { accept: 'application/json', 'accept-encoding': 'gzip, deflate, br' } });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.deepEqual(JSON.parse(brotliDecompressSync(br.rawPayload).toString('utf8')), plain.json());
  const refused = await h.app.inject({ method: 'GET', url: '/api/v1/nodes', headers: { 'accept-encoding': 'gzip;q=0' } });
  assert.equal(refused.headers['content-encoding'], undefined);
  assert.equal(refused.json().nodes.length, 120);
  const v1 = await h.app.inject({ method: 'GET', url: '/api/v1/nodes', headers: { 'accept-encoding': 'gzip' } });
  assert.equal(v1.headers['content-encoding'], 'gzip');
  assert.equal(JSON.parse(gunzipSync(v1.rawPayload).toString('utf8')).nodes.length, 120);
  await h.close();
});
