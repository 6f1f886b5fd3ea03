import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addNode, apiHarness, fulfil } from './api-helpers.ts';

test('/node-list answers a Nodepool-style text table to curl and JSON to a dashboard', async () => {
  const h = apiHarness();
  const node = await addNode(h.store, { now: h.clock.now - 90_000 });
  const text = await h.app.inject({ method: 'GET', url: '/node-list' });
  assert.equal(text.statusCode, 200);
  assert.match(text.headers['content-type'] as string, /^text\/plain/);
  assert.equal(text.headers['access-control-allow-origin'], '*');
  const lines = text.body.trimEnd().split('\n');
  assert.equal(lines.length, 5);
  assert.match(lines[0]!, /^\+-+\+/);
  assert.match(lines[1]!, /^\| ID +\| Provider +\| Label +\| Server ID +\| Public IPv4 +\| IPv6 +\| State +\| Age +\| Locked +\|$/);
  assert.ok(lines[3]!.includes(`| ${node.id} |`));
  assert.ok(lines[3]!.includes('| 00:00:01:30 |'));

  const json = await h.app.inject({ method: 'GET', url: '/node-list', headers: { accept: 'application/json' } });
  assert.match(json.headers['content-type'] as string, /^application\/json/);
  const [row] = json.json();
  assert.equal(row.id, node.id);
  assert.equal(row.age, 90);
  assert.equal(row.connection_port, 2022);
  assert.deepEqual(row.host_keys, node.hostKeys);

  const picked = await h.app.inject({ method: 'GET', url: '/node-list?format=json&fields=id,state' });
  assert.deepEqual(picked.json(), [{ id: node.id, state: 'ready' }]);
  const pickedText = await h.app.inject({ method: 'GET', url: '/node-list?fields=id,state' });
  assert.match(pickedText.body.split('\n')[1]!, /^\| ID +\| State +\|$/);
  const detail = await h.app.inject({ method: 'GET', url: '/node-list?detail=1' });
  assert.match(detail.body.split('\n')[1]!, /\| Hostname +\|.*\| Allocated To +\|/);
  const one = await h.app.inject({ method: 'GET', url: `/node-list?format=json&node_id=${node.id}` });
  assert.equal(one.json().length, 1);

  const unknown = await h.app.inject({ method: 'GET', url: '/node-list?fields=id,flavor' });
  assert.equal(unknown.statusCode, 400);
  assert.equal(unknown.json().error.field, 'fields');
  await h.close();
});

test('/request-list shows each request with its labels and nodes', async () => {
  const h = apiHarness();
  const req = (await h.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { labels: ['a', 'b'], requestor: 'zuul' } })).json();
  const nodes = await fulfil(h.store, req, h.clock.now);
  const [row] = (await h.app.inject({ method: 'GET', url: '/request-list?format=json' })).json();
  assert.deepEqual(
    { id: row.id, state: row.state, requestor: row.requestor, labels: row.labels, provider: row.provider, nodes: row.nodes },
    { id: req.id, state: 'fulfilled', requestor: 'zuul', labels: ['a', 'b'], provider: 'sim-east', nodes: nodes.map((n) => n.id) },
  );
  const text = (await h.app.inject({ method: 'GET', url: '/request-list' })).body;
  assert.match(text, /\| Request ID +\| Priority +\| State +\| Requestor +\| Labels +\| Provider +\| Nodes +\| Age +\| Reason +\|/);
  assert.ok(text.includes(`| ${nodes.map((n) => n.id).join(',')} |`));
  await h.close();
});

test('/healthz answers at once; /ready waits for the system, /label-list names the labels', async () => {
  let ready = false;
  const h = apiHarness({ isReady: () => ready, labels: () => ['ubuntu-noble', 'ubuntu-jammy'] });
  const health = await h.app.inject({ method: 'GET', url: '/healthz' });
  assert.deepEqual([health.statusCode, health.body], [200, 'OK']);
  assert.equal((await h.app.inject({ method: 'GET', url: '/ready' })).statusCode, 503);
  ready = true;
  assert.equal((await h.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
  const labels = await h.app.inject({ method: 'GET', url: '/label-list?format=json&fields=label' });
  assert.deepEqual(labels.json(), [{ label: 'ubuntu-jammy' }, { label: 'ubuntu-noble' }]);
  await h.close();
});

test('/node-list from its cache never shows a write, a lease run out or an age more than a second late', async () => {
  const h = apiHarness();
  try {
    const a = await addNode(h.store, { now: h.clock.now - 10_000 });
    const json = (extra: Record<string, string> = {}) => h.app.inject({ method: 'GET', url: '/node-list?format=json', headers: { 'accept-encoding': 'identity', ...extra } });
    const first = await json();
    assert.equal(first.json()[0].age, 10);
    h.clock.now += 400;
    assert.equal((await json()).body, first.body, 'unchanged store, same second: the same bytes');

    // A write by anyone: the next answer shows it.
    await h.store.updateNode(a.id, { leaseOwner: 'launcher-1', leaseExpires: h.clock.now + 300 }, 'test');
    const locked = (await json()).json();
    assert.equal(locked[0].locked, 'locked');

    // The lease runs out without a write: unlocked from that millisecond on.
    h.clock.now += 300;
    assert.equal((await json()).json()[0].locked, 'unlocked');

    // Ages: at most a second late.
    const at = (await json()).json()[0].age;
    h.clock.now += 1000;
    assert.equal((await json()).json()[0].age, at + 1);

    // Another encoding, another filter: their own bodies, each correct.
    const gz = await json({ 'accept-encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], undefined, 'one node is below the size worth compressing');
    assert.deepEqual((await h.app.inject({ method: 'GET', url: '/node-list?format=json&state=hold' })).json(), []);
    assert.equal((await json()).json().length, 1);
  } finally {
    await h.close();
  }
});
