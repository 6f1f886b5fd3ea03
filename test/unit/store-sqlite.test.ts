import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
import { newNodeRecord } from '../../src/store/records.ts';
import { storeContract } from './store-contract.ts';
import { imageContract } from './store-images-contract.ts';
import { gateContract } from './store-gate-contract.ts';

function tmpStore(): { store: SqliteStore; path: string; done: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'np-store-'));
  const path = join(dir, 'np.sqlite');
  const store = new SqliteStore(path);
  return { store, path, done: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
}

storeContract('sqlite', async () => {
  const { store, path, done } = tmpStore();
  return { store, another: async () => new SqliteStore(path), done };
});

imageContract('sqlite', async () => {
  const { store, path, done } = tmpStore();
  return { store, another: async () => new SqliteStore(path), done };
});

gateContract('sqlite', async () => {
  const { store, path, done } = tmpStore();
  return { store, another: async () => new SqliteStore(path), done };
});

test('sqlite: a store written by a newer release is refused, not modified', async () => {
  const { store, path, done } = tmpStore();
  await store.close();
  const db = new Database(path);
  db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(MIGRATIONS.length + 1, 'future', 0);
  db.close();
  assert.throws(() => new SqliteStore(path), /newer than this release knows/);
  await done();
});

test('sqlite: nodes written before pools were counted by triggers still count against max-servers after the upgrade', async () => {
  const { store: first, path, done } = tmpStore();
  const node = () => newNodeRecord({ label: 'ubuntu-jammy', provider: 'p1', pool: 'main', connectionPort: 22, username: 'zuul', now: 1000 });
  const nodes = [node(), node(), node()];
  for (const n of nodes) assert.equal(await first.insertNode(n, 'l0'), true);
  await first.close();
  // The file as a release before migration 7 left it: the same nodes, no counts table (nor what came after).
  const db = new Database(path);
  db.exec(`DROP TRIGGER pool_node_counts_insert; DROP TRIGGER pool_node_counts_delete; DROP TRIGGER pool_node_counts_move;
    DROP TABLE pool_node_counts; DROP TABLE provider_states; DELETE FROM schema_migrations WHERE id >= 7;`);
  db.close();
  const store = new SqliteStore(path);
  try {
    assert.equal(await store.insertNode(node(), 'l0', { maxServers: 4 }), true);
    assert.equal(await store.insertNode(node(), 'l0', { maxServers: 4 }), false, 'the three older nodes count');
    await store.removeNode(nodes[0].id, 'l0');
    assert.equal(await store.insertNode(node(), 'l0', { maxServers: 4 }), true, 'a removed one frees its slot');
  } finally {
    await store.close();
    await done().catch(() => {});
  }
});
