import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
import { newNodeRecord, newRequestRecord } from '../../src/store/records.ts';

function tmpStore(): { store: SqliteStore; path: string; done: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'np-store-'));
  const path = join(dir, 'np.sqlite');
  const store = new SqliteStore(path);
  return { store, path, done: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
}

test('a node written, updated under a condition, and removed leaves an audit trail', async () => {
  const { store, done } = tmpStore();
  const node = newNodeRecord({ label: 'ubuntu-jammy', provider: 'p1', pool: 'main', connectionPort: 22, username: 'zuul', now: 1000 });
  await store.insertNode(node, 'launcher-a');
  assert.equal((await store.getNode(node.id))?.state, 'building');

  assert.equal(await store.updateNode(node.id, { state: 'ready', hostKeys: ['ssh-ed25519 AAAA'] }, 'launcher-a', { states: ['building'] }), true);
  // A second writer that still believes the node is building loses.
  assert.equal(await store.updateNode(node.id, { state: 'failed' }, 'launcher-b', { states: ['building'] }), false);
  const ready = await store.getNode(node.id);
  assert.equal(ready?.state, 'ready');
  assert.deepEqual(ready?.hostKeys, ['ssh-ed25519 AAAA']);

  assert.equal(await store.removeNode(node.id, 'launcher-a', { states: ['ready'] }), true);
  assert.equal(await store.getNode(node.id), null);
  const trail = (await store.listChanges('node', node.id)).map((c) => `${c.from}->${c.to}`);
  assert.deepEqual(trail, ['null->building', 'building->ready', 'ready->gone']);
  await done();
});

test('a lease held by another process blocks a write until it expires', async () => {
  const { store, done } = tmpStore();
  const req = newRequestRecord({ labels: ['ubuntu-jammy'], requestor: 'ci', now: 1000 });
  await store.insertRequest(req, 'api');
  assert.equal(await store.updateRequest(req.id, { state: 'pending', leaseOwner: 'a', leaseExpires: 5000 }, 'a', { leaseFreeOr: { owner: 'a', now: 1000 } }), true);
  assert.equal(await store.updateRequest(req.id, { leaseOwner: 'b', leaseExpires: 9000 }, 'b', { leaseFreeOr: { owner: 'b', now: 4000 } }), false);
  assert.equal(await store.updateRequest(req.id, { leaseOwner: 'b', leaseExpires: 9000 }, 'b', { leaseFreeOr: { owner: 'b', now: 5001 } }), true);
  assert.equal((await store.getRequest(req.id))?.leaseOwner, 'b');
  await done();
});

test('only one of two requests can take the same unallocated node', async () => {
  const { store, done } = tmpStore();
  const node = newNodeRecord({ label: 'l', provider: 'p', pool: 'main', connectionPort: 22, username: 'zuul', now: 1 });
  await store.insertNode({ ...node, state: 'ready', step: null }, 't');
  const first = await store.updateNode(node.id, { allocatedTo: 'r1' }, 't', { states: ['ready'], unallocated: true });
  const second = await store.updateNode(node.id, { allocatedTo: 'r2' }, 't', { states: ['ready'], unallocated: true });
  assert.deepEqual([first, second], [true, false]);
  await done();
});

test('a store written by a newer release is refused, not modified', async () => {
  const { store, path, done } = tmpStore();
  await store.close();
  const db = new Database(path);
  db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(MIGRATIONS.length + 1, 'future', 0);
  db.close();
  assert.throws(() => new SqliteStore(path), /newer than this release knows/);
  await done();
});

test('listeners hear of every committed change', async () => {
  const { store, done } = tmpStore();
  const seen: string[] = [];
  store.subscribe((e) => seen.push(`${e.kind}:${e.state}`));
  const req = newRequestRecord({ labels: ['x'], requestor: 'ci', now: 1 });
  await store.insertRequest(req, 'api');
  await store.updateRequest(req.id, { state: 'failed', reason: 'unknown label x' }, 'l');
  assert.deepEqual(seen, ['request:requested', 'request:failed']);
  assert.equal((await store.listChanges('request', req.id))[1].reason, 'unknown label x');
  await done();
});
