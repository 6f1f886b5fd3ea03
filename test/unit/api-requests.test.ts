import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { addNode, apiHarness, fulfil, LEASE_MS } from './api-helpers.ts';
import { createLogger } from '../../src/log.ts';

const ask = (labels: unknown, extra: Record<string, unknown> = {}) =>
  ({ method: 'POST' as const, url: '/api/v1/requests', payload: { labels, requestor: 'zuul-check', ...extra } });

test('a scheduler asks for two nodes and gets a request id to wait on', async () => {
  const h = apiHarness();
  const res = await h.app.inject(ask(['ubuntu-jammy', 'ubuntu-jammy'], { priority: 50, tenant: 'openstack' }));
  assert.equal(res.statusCode, 201);
  const view = res.json();
  assert.equal(res.headers.location, `/api/v1/requests/${view.id}`);
  assert.equal(view.state, 'requested');
  assert.deepEqual(view.labels, ['ubuntu-jammy', 'ubuntu-jammy']);
  assert.equal(view.priority, 50);
  assert.equal(view.tenant, 'openstack');
  assert.deepEqual(view.nodes, []);
  assert.equal(view.created_at, new Date(h.clock.now).toISOString());
  assert.equal(view.lease_expires_at, null);

  const again = await h.app.inject({ method: 'GET', url: `/api/v1/requests/${view.id}` });
  assert.deepEqual(again.json(), view);
  const defaults = (await h.app.inject(ask(['centos-9-stream']))).json();
  assert.deepEqual([defaults.priority, defaults.tenant], [100, null]);
  await h.close();
});

test('a malformed request is refused with 400 naming the exact field', async () => {
  const h = apiHarness();
  const cases: [unknown, string, RegExp][] = [
    [{ requestor: 'ci' }, 'labels', /labels is required/],
    [{ labels: ['ubuntu-jammy', 7], requestor: 'ci' }, 'labels[1]', /expected string/],
    [{ label: ['ubuntu-jammy'], labels: ['ubuntu-jammy'], requestor: 'ci' }, 'label', /unknown field/],
    [{ labels: [], requestor: 'ci' }, 'labels', /at least one/],
    [{ labels: ['ubuntu-jammy', ''], requestor: 'ci' }, 'labels[1]', /empty/],
    [{ labels: Array(51).fill('ubuntu-jammy'), requestor: 'ci' }, 'labels', /at most 50 nodes per request \(api.max-nodes-per-request\)/],
    [{ labels: ['ubuntu-jammy'], requestor: 'ci', priority: 1.5 }, 'priority', /integer|int/],
    [{ labels: ['ubuntu-jammy'] }, 'requestor', /requestor is required/],
  ];
  for (const [payload, field, message] of cases) {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/requests', payload: payload as object });
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
    const { error } = res.json();
    assert.equal(error.code, 400);
    assert.equal(error.field, field, JSON.stringify(payload));
    assert.match(error.message, message);
  }
  const noBody = await h.app.inject({ method: 'POST', url: '/api/v1/requests' });
  assert.equal(noBody.json().error.field, 'labels');
  const badJson = await h.app.inject({
    method: 'POST', url: '/api/v1/requests', headers: { 'content-type': 'application/json' }, payload: '{"labels": [',
  });
  assert.equal(badJson.statusCode, 400);
  assert.equal(badJson.json().error.code, 400);
  assert.equal((await h.store.listRequests()).length, 0);
  await h.close();
});

test('a long-poll answers as soon as the launcher fulfils the request, with the nodes in label order', async () => {
  const h = apiHarness();
  const req = (await h.app.inject(ask(['ubuntu-jammy', 'centos-9-stream']))).json();
  const started = Date.now();
  const waiting = h.app.inject({ method: 'GET', url: `/api/v1/requests/${req.id}?wait=30` });
  const launcher = new Promise<void>((resolve) => setTimeout(async () => { await fulfil(h.store, req, h.clock.now); resolve(); }, 100));
  const res = await waiting;
  await launcher;
  assert.ok(Date.now() - started < 5000, 'answered long before the wait ran out');
  assert.equal(res.statusCode, 200);
  const view = res.json();
  assert.equal(view.state, 'fulfilled');
  assert.equal(view.provider, 'sim-east');
  assert.equal(view.lease_expires_at, new Date(h.clock.now + LEASE_MS).toISOString());
  assert.deepEqual(view.nodes.map((n: { label: string }) => n.label), ['ubuntu-jammy', 'centos-9-stream']);
  const node = view.nodes[0];
  assert.equal(node.connection_type, 'ssh');
  assert.equal(node.connection_port, 2022);
  assert.equal(node.username, 'zuul');
  assert.match(node.host_keys[0], /^ssh-ed25519 AAAA/);
  assert.match(node.interface_ip, /^127\./);
  assert.equal(node.state, 'in-use');
  await h.close();
});

test('a long-poll also sees a request fulfilled by another process, by re-reading the store', async () => {
  const h = apiHarness();
  const req = (await h.app.inject(ask(['ubuntu-jammy']))).json();
  const other = new SqliteStore(h.dbPath);
  const waiting = h.app.inject({ method: 'GET', url: `/api/v1/requests/${req.id}?wait=30` });
  setTimeout(() => void fulfil(other, req, h.clock.now), 50);
  assert.equal((await waiting).json().state, 'fulfilled');
  await other.close();
  await h.close();
});

test('a long-poll that runs out of time answers 200 with the request as it is', async () => {
  const h = apiHarness();
  const req = (await h.app.inject(ask(['ubuntu-jammy']))).json();
  await h.store.updateRequest(req.id, { state: 'pending' }, 'test-launcher');
  const started = Date.now();
  const res = await h.app.inject({ method: 'GET', url: `/api/v1/requests/${req.id}?wait=0.3` });
  assert.ok(Date.now() - started >= 290);
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().state, 'pending');
  assert.deepEqual(res.json().nodes, []);
  await h.close();
});

test('unknown requests answer 404, and a wait out of range answers 400', async () => {
  const h = apiHarness();
  for (const [method, url] of [
    ['GET', '/api/v1/requests/nope'], ['GET', '/api/v1/requests/nope?wait=5'], ['DELETE', '/api/v1/requests/nope'],
    ['POST', '/api/v1/requests/nope/heartbeat'],
  ] as const) {
    const res = await h.app.inject({ method, url });
    assert.equal(res.statusCode, 404, url);
    assert.deepEqual(res.json(), { error: { code: 404, message: 'request nope not found' } });
  }
  const release = await h.app.inject({ method: 'POST', url: '/api/v1/requests/nope/release', payload: { state: 'used' } });
  assert.equal(release.statusCode, 404);
  const tooLong = await h.app.inject({ method: 'GET', url: '/api/v1/requests/nope?wait=301' });
  assert.equal(tooLong.statusCode, 400);
  assert.equal(tooLong.json().error.field, 'wait');
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/nowhere' })).statusCode, 404);
  await h.close();
});

test('canceling a pending request returns the nodes set aside for it to the pool', async () => {
  const h = apiHarness();
  const req = (await h.app.inject(ask(['ubuntu-jammy', 'ubuntu-jammy']))).json();
  await h.store.updateRequest(req.id, { state: 'pending', provider: 'sim-east' }, 'test-launcher');
  const ready = await addNode(h.store, { state: 'ready', allocatedTo: req.id, now: h.clock.now });
  const building = await addNode(h.store, { state: 'building', allocatedTo: req.id, now: h.clock.now });
  const someoneElses = await addNode(h.store, { state: 'ready', allocatedTo: 'other-request', now: h.clock.now });

  const res = await h.app.inject({ method: 'DELETE', url: `/api/v1/requests/${req.id}` });
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().state, 'canceled');
  assert.equal((await h.store.getNode(ready.id))?.allocatedTo, null);
  assert.equal((await h.store.getNode(building.id))?.allocatedTo, null);
  assert.equal((await h.store.getNode(building.id))?.state, 'building');
  assert.equal((await h.store.getNode(someoneElses.id))?.allocatedTo, 'other-request');

  const twice = await h.app.inject({ method: 'DELETE', url: `/api/v1/requests/${req.id}` });
  assert.equal(twice.statusCode, 409);
  assert.match(twice.json().error.message, /already canceled/);
  await h.close();
});

test('canceling a fulfilled request releases its nodes as used', async () => {
  const h = apiHarness();
  const req = (await h.app.inject(ask(['ubuntu-jammy']))).json();
  const [node] = await fulfil(h.store, req, h.clock.now);
  const res = await h.app.inject({ method: 'DELETE', url: `/api/v1/requests/${req.id}` });
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().state, 'fulfilled');
  assert.equal(res.json().lease_expires_at, null);
  assert.equal((await h.store.getNode(node!.id))?.state, 'used');
  await h.close();
});

test('releasing a finished job turns its nodes used, or holds them for debugging', async () => {
  const h = apiHarness();
  const first = (await h.app.inject(ask(['ubuntu-jammy', 'ubuntu-jammy']))).json();
  const firstNodes = await fulfil(h.store, first, h.clock.now);
  const used = await h.app.inject({ method: 'POST', url: `/api/v1/requests/${first.id}/release`, payload: { state: 'used' } });
  assert.equal(used.statusCode, 200);
  assert.equal(used.json().lease_expires_at, null);
  for (const n of firstNodes) assert.equal((await h.store.getNode(n.id))?.state, 'used');
  const again = await h.app.inject({ method: 'POST', url: `/api/v1/requests/${first.id}/release`, payload: { state: 'used' } });
  assert.equal(again.statusCode, 409);

  const second = (await h.app.inject(ask(['ubuntu-jammy']))).json();
  const [held] = await fulfil(h.store, second, h.clock.now);
  const hold = await h.app.inject({ method: 'POST', url: `/api/v1/requests/${second.id}/release`, payload: { state: 'hold' } });
  assert.equal(hold.statusCode, 200);
  const node = await h.store.getNode(held!.id);
  assert.equal(node?.state, 'hold');
  assert.equal(node?.holdReason, `held by zuul-check for request ${second.id}`);

  const third = (await h.app.inject(ask(['ubuntu-jammy']))).json();
  const early = await h.app.inject({ method: 'POST', url: `/api/v1/requests/${third.id}/release`, payload: { state: 'used' } });
  assert.equal(early.statusCode, 409);
  assert.match(early.json().error.message, /is requested/);
  const badState = await h.app.inject({ method: 'POST', url: `/api/v1/requests/${third.id}/release`, payload: { state: 'deleted' } });
  assert.equal(badState.statusCode, 400);
  assert.equal(badState.json().error.field, 'state');
  await h.close();
});

test('a heartbeat extends the lease on the nodes; after it expired the nodes are gone for good', async () => {
  const h = apiHarness();
  const req = (await h.app.inject(ask(['ubuntu-jammy']))).json();
  await fulfil(h.store, req, h.clock.now);
  h.clock.now += LEASE_MS / 2;
  const beat = await h.app.inject({ method: 'POST', url: `/api/v1/requests/${req.id}/heartbeat` });
  assert.equal(beat.statusCode, 200);
  assert.deepEqual(beat.json(), { id: req.id, lease_expires_at: new Date(h.clock.now + LEASE_MS).toISOString() });
  assert.equal((await h.store.getRequest(req.id))?.holderExpires, h.clock.now + LEASE_MS);

  h.clock.now += LEASE_MS + 1;
  const late = await h.app.inject({ method: 'POST', url: `/api/v1/requests/${req.id}/heartbeat` });
  assert.equal(late.statusCode, 409);
  assert.match(late.json().error.message, /lease expired; nodes were returned/);
  await h.close();
});

test('the request list filters by state', async () => {
  const h = apiHarness();
  const a = (await h.app.inject(ask(['ubuntu-jammy']))).json();
  h.clock.now += 1000;
  const b = (await h.app.inject(ask(['ubuntu-jammy']))).json();
  await fulfil(h.store, b, h.clock.now);
  const all = (await h.app.inject({ method: 'GET', url: '/api/v1/requests' })).json();
  assert.deepEqual(all.requests.map((r: { id: string }) => r.id), [a.id, b.id]);
  const done = (await h.app.inject({ method: 'GET', url: '/api/v1/requests?state=fulfilled' })).json();
  assert.deepEqual(done.requests.map((r: { id: string }) => r.id), [b.id]);
  assert.equal(done.requests[0].nodes.length, 1);
  const bad = await h.app.inject({ method: 'GET', url: '/api/v1/requests?state=done' });
  assert.equal(bad.json().error.field, 'state[0]');
  await h.close();
});

test('a long-poll stops waiting when its client hangs up, and when the API shuts down', async () => {
  const h = apiHarness();
  const req = (await h.app.inject(ask(['ubuntu-jammy']))).json();
  let subscribed!: () => void;
  let unsubscribed!: () => void;
  const onSubscribe = new Promise<void>((r) => { subscribed = r; });
  const onUnsubscribe = new Promise<void>((r) => { unsubscribed = r; });
  const subscribe = h.store.subscribe.bind(h.store);
  h.store.subscribe = (listener) => {
    const off = subscribe(listener);
    subscribed();
    return () => { unsubscribed(); return off(); };
  };

  const url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const client = new AbortController();
  const hangingUp = fetch(`${url}/api/v1/requests/${req.id}?wait=60`, { signal: client.signal }).catch(() => 'aborted');
  await onSubscribe;
  client.abort();
  assert.equal(await hangingUp, 'aborted');
  await onUnsubscribe;

  const started = Date.now();
  const waiting = h.app.inject({ method: 'GET', url: `/api/v1/requests/${req.id}?wait=60` });
  await new Promise((r) => setImmediate(r));
  await h.close();
  const res = await waiting;
  assert.ok(Date.now() - started < 5000, 'shutdown did not wait for the long-poll to run out');
  assert.equal(res.json().state, 'requested');
});

test('each API request is logged once, as it is answered: method, path, status, time and the request id the client was given', async () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (l: string) => { lines.push(JSON.parse(l)); } } });
  const h = apiHarness({ logger });
  const res = await h.app.inject(ask(['ubuntu-jammy']));
  assert.equal(res.statusCode, 201);
  const missing = await h.app.inject({ method: 'GET', url: '/api/v1/requests/no-such-request?wait=0' });
  assert.equal(missing.statusCode, 404);
  const access = lines.filter((l) => l.msg === 'request completed');
  assert.deepEqual(access.map((l) => [l.method, l.url, l.status, l.reqId]), [
    ['POST', '/api/v1/requests', 201, res.headers['x-request-id']],
    ['GET', '/api/v1/requests/no-such-request?wait=0', 404, missing.headers['x-request-id']],
  ]);
  for (const l of access) assert.equal(typeof l.ms, 'number');
  assert.equal(lines.filter((l) => l.msg === 'incoming request').length, 0, 'one line per request, not two');
  await h.close();
});

test('fifty long-polls at once end when each request is fulfilled, with no MaxListenersExceededWarning on stderr', async () => {
  const h = apiHarness();
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  try {
    const reqs = await Promise.all(Array.from({ length: 50 }, async () => (await h.app.inject(ask(['ubuntu-jammy']))).json()));
    const waits = reqs.map((r) => h.app.inject({ method: 'GET', url: `/api/v1/requests/${r.id}?wait=30` }));
    await new Promise((r) => setTimeout(r, 100));
    for (const r of reqs) await fulfil(h.store, r, h.clock.now);
    const answers = await Promise.all(waits);
    assert.deepEqual(new Set(answers.map((a) => a.json().state)), new Set(['fulfilled']));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), []);
  } finally {
    process.off('warning', onWarning);
    await h.close();
  }
});
