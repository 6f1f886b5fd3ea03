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

/** A store file as a release whose newest migration was `last` left it (open: the caller closes it). */
function fileAtMigration(path: string, last: number): Database.Database {
  const db = new Database(path);
  db.exec('CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  for (const m of MIGRATIONS.filter((x) => x.id <= last)) {
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(m.id, m.name, 0);
  }
  return db;
}

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
  const dir = mkdtempSync(join(tmpdir(), 'np-store-'));
  const path = join(dir, 'np.sqlite');
  try {
    // The file as a release at migration 6 left it, holding three nodes of pool p1/main.
    const db = fileAtMigration(path, 6);
    const old = db.prepare(`INSERT INTO nodes (id, label, provider, pool, state, hostname, connection_port, username, host_keys, attempt, created_at, state_time)
      VALUES (?, 'ubuntu-jammy', 'p1', 'main', 'ready', ?, 22, 'zuul', '[]', 1, 1000, 1000)`);
    for (const id of ['a', 'b', 'c']) old.run(id, `np-${id}`);
    db.close();
    const store = new SqliteStore(path);
    try {
      const node = () => newNodeRecord({ label: 'ubuntu-jammy', provider: 'p1', pool: 'main', connectionPort: 22, username: 'zuul', now: 1000 });
      assert.equal(await store.insertNode(node(), 'l0', { maxServers: 4 }), true);
      assert.equal(await store.insertNode(node(), 'l0', { maxServers: 4 }), false, 'the three older nodes count');
      await store.removeNode('a', 'l0');
      assert.equal(await store.insertNode(node(), 'l0', { maxServers: 4 }), true, 'a removed one frees its slot');
      assert.equal((await store.getNode('b'))?.pythonPath, null, 'an older node has no python-path');
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: the audit log written before migration 10 keeps each record\'s history, and new changes follow it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-store-'));
  const path = join(dir, 'np.sqlite');
  try {
    // The file as a release at migration 9 left it: one global sequence for every record's changes.
    const db = fileAtMigration(path, 9);
    db.exec(`INSERT INTO nodes (id, label, provider, pool, state, hostname, connection_port, username, host_keys, attempt, created_at, state_time)
      VALUES ('n1', 'ubuntu-jammy', 'p1', 'main', 'ready', 'np-n1', 22, 'zuul', '[]', 1, 1000, 1000)`);
    const audit = db.prepare('INSERT INTO state_changes (at, kind, id, from_state, to_state, by, reason) VALUES (?, ?, ?, ?, ?, ?, ?)');
    audit.run(1000, 'node', 'n1', null, 'building', 'l0', null);
    audit.run(1001, 'request', 'r1', null, 'requested', 'api', 'interleaved');
    audit.run(1002, 'node', 'n1', 'building', 'ready', 'l0', 'booted');
    db.close();
    const store = new SqliteStore(path);
    try {
      await store.updateNode('n1', { state: 'in-use', stateTime: 2000 }, 'l1', undefined, 'taken');
      await store.updateNode('n1', { state: 'used', stateTime: 2001 }, 'l1');
      const history = (await store.listChanges('node', 'n1')).map((c) => `${c.from ?? '-'}>${c.to} by ${c.by}${c.reason ? ` (${c.reason})` : ''}`);
      assert.deepEqual(history, ['->building by l0', 'building>ready by l0 (booted)', 'ready>in-use by l1 (taken)', 'in-use>used by l1']);
      assert.deepEqual((await store.listChanges('request', 'r1')).map((c) => c.reason), ['interleaved']);
    } finally {
      await store.close();
    }
    const after = new Database(path);
    const seqRows = after.prepare("SELECT count(*) AS n FROM sqlite_sequence WHERE name = 'state_changes'").get() as { n: number };
    assert.equal(seqRows.n, 0, 'a state change writes no AUTOINCREMENT row');
    after.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: writes asked for at once are committed together; one that fails undoes only itself, and each is announced once written', async () => {
  const { store, path, done } = tmpStore();
  // The pages written to the WAL since the last checkpoint: each commit writes every page it changed.
  const watcher = new Database(path);
  const walFrames = () => (watcher.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;
  try {
    const node = () => newNodeRecord({ label: 'ubuntu-jammy', provider: 'p1', pool: 'main', connectionPort: 22, username: 'zuul', now: 1000 });
    const nodes = Array.from({ length: 50 }, node);
    const heard: string[] = [];
    store.subscribe((e) => heard.push(`${e.kind}:${e.id}:${e.state}`));
    watcher.pragma('wal_checkpoint(TRUNCATE)');
    // Fifty inserts at once, one of them of an id already taken by another of them.
    const twin = { ...node(), id: nodes[7]!.id };
    const results = await Promise.allSettled([...nodes.map((n) => store.insertNode(n, 'l0', { maxServers: 100 })), store.insertNode(twin, 'l0')]);
    // One commit per insert wrote 354 pages here; one commit of all of them, 11.
    assert.ok(walFrames() < 50, `${walFrames()} pages written for 51 writes`);
    assert.deepEqual(results.slice(0, 50).map((r) => r.status === 'fulfilled' && r.value), nodes.map(() => true));
    assert.equal(results[50]!.status, 'rejected', 'the duplicate id fails');
    assert.equal((await store.listNodes()).length, 50);
    assert.deepEqual(heard, nodes.map((n) => `node:${n.id}:building`));
    // A pool's limit still holds within one commit: of 60 guarded inserts at once into a pool of 55, 5 are added.
    const more = await Promise.all(Array.from({ length: 10 }, () => store.insertNode(node(), 'l0', { maxServers: 55 })));
    assert.equal(more.filter(Boolean).length, 5);
    // Updates at once, each under its own condition: only those whose condition holds are written.
    const ups = await Promise.all(nodes.slice(0, 10).map((n, i) => store.updateNode(n.id, { state: 'ready', step: null }, 'l0', { states: [i % 2 ? 'building' : 'ready'] })));
    assert.deepEqual(ups, nodes.slice(0, 10).map((_, i) => i % 2 === 1));
    assert.deepEqual((await store.listNodes({ states: ['ready'] })).map((n) => n.id).sort(), nodes.slice(0, 10).filter((_, i) => i % 2).map((n) => n.id).sort());
    // A write asked for just before the close is committed, not lost.
    const last = store.updateNode(nodes[20]!.id, { state: 'ready', step: null }, 'l0');
    await store.close();
    assert.equal(await last, true);
    const reread = new Database(path, { readonly: true });
    assert.equal(reread.prepare('SELECT state FROM nodes WHERE id = ?').pluck().get(nodes[20]!.id), 'ready');
    reread.close();
  } finally {
    watcher.close();
    await done();
  }
});
