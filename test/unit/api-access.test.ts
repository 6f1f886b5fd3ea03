import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessFor, WRITE_ROUTES } from '../../src/api/auth.ts';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log.ts';
import { startApiRole } from '../../src/roles.ts';
import { hashToken, newToken } from '../../src/secrets/tokens.ts';
import { addNode, apiHarness, fulfil, type Harness } from './api-helpers.ts';

/**
 * An operator has given out three tokens: one to themselves (admin), one to the CI scheduler
 * `zuul` (requestor) and one to a dashboard (read). Each write answers 401 without a token and
 * 403 to a token whose role is too low, and goes through with the right one.
 */

const admin = newToken();
const zuul = newToken();
const other = newToken();
const dashboard = newToken();
const tokens = [
  { name: 'ops', role: 'admin' as const, hash: hashToken(admin) },
  { name: 'zuul', role: 'requestor' as const, hash: hashToken(zuul) },
  { name: 'third-party-ci', role: 'requestor' as const, hash: hashToken(other) },
  { name: 'grafana', role: 'read' as const, hash: hashToken(dashboard) },
];
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

function harness(readPublic = true): Harness {
  return apiHarness({ access: { tokens, readPublic } });
}

/** Everything a write needs to exist before it is called: a fulfilled request and a ready node. */
async function world(h: Harness) {
  const req = (await h.app.inject({ method: 'POST', url: '/api/v1/requests', headers: bearer(zuul), payload: { labels: ['ubuntu-jammy'], requestor: 'zuul' } })).json();
  await fulfil(h.store, req, h.clock.now);
  const node = await addNode(h.store, { now: h.clock.now });
  return { req, node };
}

type Write = { route: string; call: (w: Awaited<ReturnType<typeof world>>) => { method: 'POST' | 'DELETE'; url: string; payload?: object }; ok: number; weaker: string };

const WRITES: Write[] = [
  { route: 'POST /api/v1/requests', call: () => ({ method: 'POST', url: '/api/v1/requests', payload: { labels: ['ubuntu-jammy'], requestor: 'zuul' } }), ok: 201, weaker: dashboard },
  { route: 'POST /api/v1/requests/:id/heartbeat', call: (w) => ({ method: 'POST', url: `/api/v1/requests/${w.req.id}/heartbeat` }), ok: 200, weaker: dashboard },
  { route: 'POST /api/v1/requests/:id/release', call: (w) => ({ method: 'POST', url: `/api/v1/requests/${w.req.id}/release`, payload: { state: 'used' } }), ok: 200, weaker: dashboard },
  { route: 'DELETE /api/v1/requests/:id', call: (w) => ({ method: 'DELETE', url: `/api/v1/requests/${w.req.id}` }), ok: 200, weaker: dashboard },
  { route: 'POST /api/v1/nodes/:id/hold', call: (w) => ({ method: 'POST', url: `/api/v1/nodes/${w.node.id}/hold`, payload: { reason: 'debug' } }), ok: 200, weaker: zuul },
  { route: 'DELETE /api/v1/nodes/:id', call: (w) => ({ method: 'DELETE', url: `/api/v1/nodes/${w.node.id}` }), ok: 202, weaker: zuul },
  { route: 'POST /api/v1/providers/:name/erase', call: () => ({ method: 'POST', url: '/api/v1/providers/sim-gone/erase' }), ok: 200, weaker: zuul },
  // The image orders reach their route with an admin token, which answers that no such image exists here.
  { route: 'POST /api/v1/images/:name/build', call: () => ({ method: 'POST', url: '/api/v1/images/jammy/build' }), ok: 404, weaker: zuul },
  { route: 'POST /api/v1/images/:name/pause', call: () => ({ method: 'POST', url: '/api/v1/images/jammy/pause', payload: {} }), ok: 404, weaker: zuul },
  { route: 'POST /api/v1/images/:name/unpause', call: () => ({ method: 'POST', url: '/api/v1/images/jammy/unpause' }), ok: 404, weaker: zuul },
  { route: 'DELETE /api/v1/builds/:id', call: () => ({ method: 'DELETE', url: '/api/v1/builds/b1' }), ok: 404, weaker: zuul },
  { route: 'DELETE /api/v1/uploads/:id', call: () => ({ method: 'DELETE', url: '/api/v1/uploads/u1' }), ok: 404, weaker: zuul },
];

test('the access table names every write route, and this test calls each one; a write route it does not name needs admin', () => {
  const open = Object.keys(WRITE_ROUTES).filter((r) => WRITE_ROUTES[r]!.role === 'public');
  // The gate's webhook: Gerrit's sender carries no API token; the gate's webhook-token guards it (gate tests).
  assert.deepEqual(open, ['POST /gate/webhook']);
  assert.deepEqual(WRITES.map((w) => w.route).sort(), Object.keys(WRITE_ROUTES).filter((r) => !open.includes(r)).sort());
  assert.deepEqual(accessFor('POST', '/api/v1/some-new-write'), { role: 'admin' });
  assert.deepEqual(accessFor('GET', '/api/v1/some-new-read'), { role: 'read' });
});

for (const w of WRITES) {
  const role = WRITE_ROUTES[w.route]!.role;
  test(`${w.route}: 401 without a token, 401 with an unknown one, 403 below ${role}, ${w.ok} with ${role}`, async () => {
    const h = harness();
    const ws = await world(h);
    const call = w.call(ws);
    const none = await h.app.inject(call);
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="nodepool"');
    assert.match(none.json().error.message, new RegExp(`needs a token with role ${role}`));
    const unknown = await h.app.inject({ ...call, headers: bearer(newToken()) });
    assert.equal(unknown.statusCode, 401);
    const weaker = await h.app.inject({ ...call, headers: bearer(w.weaker) });
    assert.equal(weaker.statusCode, 403);
    assert.match(weaker.json().error.message, new RegExp(`needs ${role}`));
    // Nothing changed on the refused calls: the right token still finds everything in place.
    const right = await h.app.inject({ ...call, headers: bearer(role === 'admin' ? admin : zuul) });
    assert.equal(right.statusCode, w.ok, right.body);
    if (w.ok === 404) assert.match(right.json().error.message, /not found/);
    await h.close();
  });
}

test('a requestor token acts only on its own requests; an admin token on any', async () => {
  const h = harness();
  const { req } = await world(h);
  const asOther = await h.app.inject({ method: 'POST', url: '/api/v1/requests', headers: bearer(other), payload: { labels: ['ubuntu-jammy'], requestor: 'zuul' } });
  assert.equal(asOther.statusCode, 403);
  assert.match(asOther.json().error.message, /may only ask for nodes as requestor "third-party-ci"/);
  const heartbeat = await h.app.inject({ method: 'POST', url: `/api/v1/requests/${req.id}/heartbeat`, headers: bearer(other) });
  assert.equal(heartbeat.statusCode, 403);
  assert.match(heartbeat.json().error.message, /belongs to requestor "zuul"/);
  const missing = await h.app.inject({ method: 'DELETE', url: '/api/v1/requests/no-such-request', headers: bearer(other) });
  assert.equal(missing.statusCode, 404);
  const byAdmin = await h.app.inject({ method: 'POST', url: `/api/v1/requests/${req.id}/release`, headers: bearer(admin), payload: { state: 'used' } });
  assert.equal(byAdmin.statusCode, 200);
  await h.close();
});

test('status reads are public by default; with read-public off any token reads, none does not', async () => {
  for (const readPublic of [true, false]) {
    const h = harness(readPublic);
    const paths = ['/node-list', '/request-list', '/label-list', '/api/v1/nodes', '/api/v1/requests', '/api/v1/status'];
    for (const url of paths) {
      const anon = await h.app.inject({ method: 'GET', url });
      assert.equal(anon.statusCode, readPublic ? 200 : 401, url);
      const read = await h.app.inject({ method: 'GET', url, headers: bearer(dashboard) });
      assert.equal(read.statusCode, 200, url);
    }
    // Load balancers and the status page's files never need a token.
    assert.equal((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.equal((await h.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
    await h.close();
  }
});

test('a dashboard on another origin gets CORS on answers and on the preflight, and a short cache on status paths', async () => {
  const h = harness();
  const list = await h.app.inject({ method: 'GET', url: '/node-list', headers: { origin: 'https://grafana.example' } });
  assert.equal(list.headers['access-control-allow-origin'], '*');
  assert.equal(list.headers['cache-control'], 'public, max-age=5');
  assert.match(String(list.headers.vary), /Accept/);
  const preflight = await h.app.inject({ method: 'OPTIONS', url: '/api/v1/nodes/x/hold', headers: { origin: 'https://grafana.example', 'access-control-request-method': 'POST' } });
  assert.equal(preflight.statusCode, 204);
  assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);
  const refused = await h.app.inject({ method: 'DELETE', url: '/api/v1/nodes/x' });
  assert.equal(refused.statusCode, 401);
  assert.equal(refused.headers['access-control-allow-origin'], '*');
  assert.equal(refused.headers['cache-control'], undefined);
  await h.close();
});

test('an API started on its own (`nodepool api`) takes its tokens from the configuration', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-api-role-'));
  const file = join(dir, 'nodepool.yaml');
  writeFileSync(file, `api: {port: 0, tokens: [{name: ops, role: admin, hash: ${hashToken(admin)}}]}\nstore: {path: np.sqlite}\n`);
  const role = await startApiRole({ config: loadConfig(file), logger: silentLogger() });
  try {
    const anon = await fetch(`${role.url}/api/v1/nodes/x`, { method: 'DELETE' });
    assert.equal(anon.status, 401);
    const ops = await fetch(`${role.url}/api/v1/nodes/x`, { method: 'DELETE', headers: bearer(admin) });
    assert.equal(ops.status, 404);
    assert.equal((await fetch(`${role.url}/metrics`)).status, 200);
  } finally {
    await role.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no spelling of a token or of a path gets a write through without the right token', async () => {
  const h = harness();
  const ws = await world(h);
  const hashOf = tokens.find((t) => t.name === 'ops')!.hash;
  // Each of these carries the admin token (or something near it) somewhere other than a well-formed Bearer header.
  const variants: Record<string, string | string[]>[] = [
    { authorization: `Basic ${Buffer.from(`ops:${admin}`).toString('base64')}` },
    { authorization: 'Bearer' },
    { authorization: 'Bearer ' },
    { authorization: `Bearer ${admin}x` },
    { authorization: `Bearer ${admin.slice(0, -1)}` },
    { authorization: `Bearer ${admin.toUpperCase()}` },
    { authorization: `Bearer ${hashOf}` },
    { authorization: `Bearer ${hashOf.slice('sha256:'.length)}` },
    { authorization: `Token ${admin}` },
    { authorization: `Bearer ${admin} ${admin}` },
    { authorization: `Bearer ${dashboard}`, 'x-auth-token': admin },
    { 'x-auth-token': admin },
    { cookie: `token=${admin}` },
  ];
  for (const w of WRITES) {
    const call = w.call(ws);
    for (const headers of variants) {
      const res = await h.app.inject({ ...call, headers });
      assert.ok(res.statusCode === 401 || res.statusCode === 403, `${w.route} with ${JSON.stringify(headers).slice(0, 60)}: ${res.statusCode}`);
    }
    const inQuery = await h.app.inject({ ...call, url: `${call.url}?token=${admin}&access_token=${admin}` });
    assert.equal(inQuery.statusCode, 401, `${w.route} with the token in the query`);
    // Other spellings of the path reach the same route (and its check) or none.
    for (const url of [`${call.url}/`, call.url.replace('/api/v1/', '/api/v1//'), call.url.toUpperCase(), call.url.replace('/api/', '/api/./')]) {
      const res = await h.app.inject({ ...call, url });
      assert.ok([401, 404].includes(res.statusCode), `${call.method} ${url}: ${res.statusCode}`);
    }
  }
  // The scheme is case-insensitive (RFC 6750), and that is the only latitude.
  const lower = await h.app.inject({ method: 'POST', url: '/api/v1/providers/sim-gone/erase', headers: { authorization: `bearer ${admin}` } });
  assert.equal(lower.statusCode, 200);
  await h.close();
});
