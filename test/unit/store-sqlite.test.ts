import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
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
