import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { NodepoolClient } from '../../src/client/client.ts';
import { keepLease } from '../../src/client/lease.ts';
import { RemoteError, UnavailableError } from '../../src/ops/errors.ts';
import { apiHarness, fulfil } from './api-helpers.ts';

/**
 * A scheduler's life with the node-request API through the typed client, against the real API
 * listening on a port over a real SQLite store; a launcher's part is played by `fulfil`.
 */

async function listening(opts: Parameters<typeof apiHarness>[0] = {}) {
  const h = apiHarness(opts);
  const url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  return { h, client: new NodepoolClient({ url }) };
}

test('ask for nodes, long-poll until fulfilled, renew the lease, release them as used', async () => {
  const { h, client } = await listening();
  try {
    const req = await client.createRequest({ labels: ['ubuntu-jammy', 'ubuntu-jammy'], requestor: 'gate' });
    assert.equal(req.state, 'requested');
    assert.equal(req.priority, 100);
    // The launcher fulfils it while the client waits.
    setTimeout(() => void fulfil(h.store, { id: req.id, labels: req.labels }, h.clock.now), 150);
    const started = Date.now();
    const done = await client.waitForRequest(req.id, { timeoutMs: 10_000 });
    assert.ok(Date.now() - started < 5_000, 'answered when fulfilled, not at the end of the wait');
    assert.equal(done.state, 'fulfilled');
    assert.equal(done.nodes.length, 2);
    assert.equal(done.nodes[0]!.connection_type, 'ssh');
    assert.match(done.nodes[0]!.host_keys[0]!, /^ssh-ed25519 /);

    const beat = await client.heartbeat(req.id);
    assert.equal(beat.id, req.id);
    assert.ok(Date.parse(beat.lease_expires_at) > h.clock.now);

    const released = await client.release(req.id, { state: 'used' });
    assert.equal(released.state, 'fulfilled');
    assert.deepEqual((await h.store.listNodes({ allocatedTo: req.id })).map((n) => n.state), ['used', 'used']);
    // The lease ended with the release: a heartbeat now is refused with the API's reason.
    await assert.rejects(client.heartbeat(req.id), (err: Error) => err instanceof RemoteError && err.httpStatus === 409 && /no longer holds/.test(err.message));
  } finally {
    await h.close();
  }
});

test('a wait that runs out returns the request still open; cancel ends it', async () => {
  const { h, client } = await listening();
  try {
    const req = await client.createRequest({ labels: ['ubuntu-noble'], requestor: 'gate', priority: 5 });
    const still = await client.waitForRequest(req.id, { timeoutMs: 300 });
    assert.equal(still.state, 'requested');
    const canceled = await client.cancelRequest(req.id);
    assert.equal(canceled.state, 'canceled');
    assert.deepEqual((await client.listRequests({ state: 'canceled' })).map((r) => r.id), [req.id]);
  } finally {
    await h.close();
  }
});

test('refusals carry the field; an unreachable API and an unreadable answer say so', async () => {
  const { h, client } = await listening();
  try {
    await assert.rejects(client.createRequest({ labels: [], requestor: 'gate' }),
      (err: Error) => err instanceof RemoteError && err.httpStatus === 400 && err.field === 'labels');
    await assert.rejects(client.getRequest('nope'), (err: Error) => err instanceof RemoteError && err.httpStatus === 404);
  } finally {
    await h.close();
  }
  const closed = await closedPort();
  await assert.rejects(new NodepoolClient({ url: `http://127.0.0.1:${closed}` }).getRequest('x'), (err: Error) =>
    err instanceof UnavailableError && err.message === `cannot reach the nodepool API at http://127.0.0.1:${closed}: connection refused (ECONNREFUSED)`);

  // Something that answers JSON, but not a request view.
  const other = Fastify();
  other.get('/api/v1/requests/:id', async () => ({ id: 'x', state: 'sleeping' }));
  const url = await other.listen({ host: '127.0.0.1', port: 0 });
  try {
    await assert.rejects(new NodepoolClient({ url }).getRequest('x'), (err: Error) =>
      err instanceof UnavailableError && /cannot read: state:/.test(err.message));
  } finally {
    await other.close();
  }
});

test('the lease keeper renews until stopped, and reports a lease taken back once', async () => {
  const { h, client } = await listening();
  try {
    const req = await client.createRequest({ labels: ['ubuntu-jammy'], requestor: 'gate' });
    await fulfil(h.store, { id: req.id, labels: req.labels }, h.clock.now);
    const first = (await h.store.getRequest(req.id))!.holderExpires!;
    h.clock.now += 1000;
    const lost: Error[] = [];
    const stop = keepLease({ client, requestId: req.id, everyMs: 40, onLost: (e) => lost.push(e) });
    await waitFor(async () => (await h.store.getRequest(req.id))!.holderExpires! > first);
    stop();
    await client.release(req.id, { state: 'used' });
    const stop2 = keepLease({ client, requestId: req.id, everyMs: 40, onLost: (e) => lost.push(e) });
    await waitFor(async () => lost.length === 1);
    await new Promise((r) => setTimeout(r, 150));
    stop2();
    assert.equal(lost.length, 1);
  } finally {
    await h.close();
  }
});

/** A port nothing listens on any more. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function waitFor(fn: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not reached');
}
