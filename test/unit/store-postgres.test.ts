import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PgStore } from '../../src/store/postgres/pg-store.ts';
import { createPool } from '../../src/store/postgres/connect.ts';
import { MIGRATIONS, MigrationNeededError, migrate, type Migration } from '../../src/store/postgres/migrations.ts';
import { newNodeRecord, newRequestRecord } from '../../src/store/records.ts';
import type { StoreEvent } from '../../src/store/store.ts';
import { emptyDatabase, postgresSkipReason, sqlOn, testDatabase, type TestDatabase } from '../support/postgres.ts';
import { storeContract } from './store-contract.ts';
import { imageContract } from './store-images-contract.ts';
import { gateContract } from './store-gate-contract.ts';

const skip = await postgresSkipReason();
if (skip) test(`postgres store: ${skip}`, { skip }, () => {});

let db: TestDatabase;
before(async () => { if (!skip) db = await testDatabase('np_store'); });
after(async () => { await db?.drop(); });

storeContract('postgres', async () => {
  await sqlOn(db.url, 'TRUNCATE nodes, requests, state_changes, launchers, provider_states');
  const store = await PgStore.open({ url: db.url, max: 4 });
  return { store, another: () => PgStore.open({ url: db.url, max: 4 }), done: () => store.close() };
}, skip ?? false);

imageContract('postgres', async () => {
  await sqlOn(db.url, 'TRUNCATE image_builds, image_uploads, image_flags, state_changes');
  const store = await PgStore.open({ url: db.url, max: 4 });
  return { store, another: () => PgStore.open({ url: db.url, max: 4 }), done: () => store.close() };
}, skip ?? false);

gateContract('postgres', async () => {
  await sqlOn(db.url, 'TRUNCATE gate_items, gate_events, gate_autoholds, gate_leases');
  const store = await PgStore.open({ url: db.url, max: 4 });
  return { store, another: () => PgStore.open({ url: db.url, max: 4 }), done: () => store.close() };
}, skip ?? false);

const pgTest = (title: string, fn: () => Promise<void>) => test(`postgres: ${title}`, { skip: skip || false }, fn);

pgTest("another process's changes reach this process's listeners through LISTEN/NOTIFY, once each", async () => {
  const api = await PgStore.open({ url: db.url, max: 2, listen: true });
  const launcher = await PgStore.open({ url: db.url, max: 2, listen: true });
  try {
    const heard: StoreEvent[] = [];
    const got = new Promise<void>((resolve) => launcher.subscribe((e) => { heard.push(e); if (e.state === 'pending') resolve(); }));
    const req = newRequestRecord({ labels: ['l'], requestor: 'ci', now: 1 });
    await api.insertRequest(req, 'api');
    await api.updateRequest(req.id, { state: 'pending' }, 'api');
    await got;
    const row = { provider: null, leaseOwner: null, leaseExpires: null };
    assert.deepEqual(heard, [{ kind: 'request', id: req.id, state: 'requested', row }, { kind: 'request', id: req.id, state: 'pending', row }]);
    // The writer hears its own change once (at once, not again through NOTIFY).
    const own: string[] = [];
    api.subscribe((e) => own.push(e.state));
    await api.updateRequest(req.id, { state: 'failed' }, 'api');
    // Listen before the other process writes: its NOTIFY may arrive before `updateRequest` returns.
    const heardOther = new Promise<void>((resolve) => api.subscribe((e) => { if (e.kind === 'request' && e.state === '') resolve(); }));
    await launcher.updateRequest(req.id, { reason: 'seen' }, 'l');
    await heardOther;
    assert.deepEqual(own, ['failed', '']);
  } finally {
    await api.close();
    await launcher.close();
  }
});

pgTest("an announcement carries the row facts a launcher decides relevance on: provider, label and lease of a node; provider and lease of a request", async () => {
  const writer = await PgStore.open({ url: db.url, max: 2 });
  const other = await PgStore.open({ url: db.url, max: 2, listen: true });
  try {
    const heard: StoreEvent[] = [];
    const node = newNodeRecord({ label: 'jammy', provider: 'cloud-b', pool: 'main', connectionPort: 22, username: 'zuul', now: 1 });
    const req = newRequestRecord({ labels: ['jammy'], requestor: 'ci', now: 1 });
    const gone = new Promise<void>((resolve) => other.subscribe((e) => { heard.push(e); if (e.state === 'gone') resolve(); }));
    await writer.insertNode({ ...node, leaseOwner: 'launcher-1', leaseExpires: 5000 }, 'launcher-1');
    await writer.insertRequest(req, 'api');
    await writer.updateRequest(req.id, { state: 'pending', provider: 'cloud-b', pool: 'main', leaseOwner: 'launcher-1', leaseExpires: 6000 }, 'launcher-1', { states: ['requested'] });
    await writer.updateNode(node.id, { state: 'ready', leaseOwner: null, leaseExpires: null }, 'launcher-1');
    await writer.writeAll([{ table: 'nodes', id: node.id, patch: { leaseOwner: 'launcher-2', leaseExpires: 7000 } }], 'launcher-2');
    await writer.removeNode(node.id, 'launcher-2');
    await gone;
    const facts = { provider: 'cloud-b', label: 'jammy' };
    assert.deepEqual(heard, [
      { kind: 'node', id: node.id, state: 'building', row: { ...facts, leaseOwner: 'launcher-1', leaseExpires: 5000 } },
      { kind: 'request', id: req.id, state: 'requested', row: { provider: null, leaseOwner: null, leaseExpires: null } },
      { kind: 'request', id: req.id, state: 'pending', row: { provider: 'cloud-b', leaseOwner: 'launcher-1', leaseExpires: 6000 } },
      { kind: 'node', id: node.id, state: 'ready', row: { ...facts, leaseOwner: null, leaseExpires: null } },
      { kind: 'node', id: node.id, state: '', row: { ...facts, leaseOwner: 'launcher-2', leaseExpires: 7000 } },
      { kind: 'node', id: node.id, state: 'gone', row: { ...facts, leaseOwner: 'launcher-2', leaseExpires: 7000 } },
    ]);
  } finally {
    await writer.close();
    await other.close();
  }
});

pgTest("a subscriber scoped to some providers hears all of their changes, and of another provider's only those that may change where a request goes", async () => {
  const writer = await PgStore.open({ url: db.url, max: 2 });
  const scopedStore = await PgStore.open({ url: db.url, max: 2, listen: true });
  const wholeStore = await PgStore.open({ url: db.url, max: 2, listen: true });
  try {
    const scoped: string[] = [];
    const whole: string[] = [];
    const names = new Map<string, string>();
    const seen = (list: string[], done: () => void) => (e: StoreEvent) => {
      list.push(`${names.get(e.id)}:${e.state}`);
      if (e.id === names.get('end')) done();
    };
    const req = newRequestRecord({ labels: ['jammy'], requestor: 'ci', now: 1 });
    const b = newNodeRecord({ label: 'jammy', provider: 'cloud-b', pool: 'main', connectionPort: 22, username: 'zuul', now: 1, allocatedTo: req.id });
    const a = newNodeRecord({ label: 'jammy', provider: 'cloud-a', pool: 'main', connectionPort: 22, username: 'zuul', now: 1, allocatedTo: req.id });
    const end = newRequestRecord({ labels: ['jammy'], requestor: 'ci', now: 2 });
    names.set(req.id, 'request').set(b.id, 'b').set(a.id, 'a').set(end.id, 'end').set('end', end.id);
    const scopedDone = new Promise<void>((resolve) => scopedStore.subscribe(seen(scoped, resolve), { providers: ['cloud-a'] }));
    const wholeDone = new Promise<void>((resolve) => wholeStore.subscribe(seen(whole, resolve)));
    // Beside a subscriber that hears everything, a scoped one of the same store hears as above.
    const besideWhole: string[] = [];
    const besideDone = new Promise<void>((resolve) => wholeStore.subscribe(seen(besideWhole, resolve), { providers: ['cloud-a'] }));
    await Promise.all([scopedStore.listening(), wholeStore.listening()]);

    await writer.insertRequest(req, 'api');
    await writer.updateRequest(req.id, { state: 'pending', provider: 'cloud-b', pool: 'main' }, 'l');
    for (const n of [b, a]) {
      await writer.insertNode(n, 'l');
      await writer.updateNode(n.id, { step: 'creating', launchStartedAt: 2 }, 'l');
      await writer.updateNode(n.id, { state: 'ready', step: null }, 'l');
      await writer.updateNode(n.id, { state: 'in-use' }, 'l');
    }
    await writer.updateRequest(req.id, { state: 'fulfilled', holderExpires: 100 }, 'l');
    await writer.updateRequest(req.id, { holderExpires: 200 }, 'api');
    for (const n of [b, a]) {
      await writer.updateNode(n.id, { state: 'used' }, 'api');
      await writer.updateNode(n.id, { state: 'deleting' }, 'l');
      await writer.updateNode(n.id, { allocatedTo: null }, 'l');
      await writer.updateNode(n.id, { comment: 'deleting an unassigned node' }, 'l');
      await writer.removeNode(n.id, 'l');
    }
    await writer.insertRequest(end, 'api');
    await Promise.all([scopedDone, wholeDone, besideDone]);

    const life = (n: string) => [`${n}:building`, `${n}:`, `${n}:ready`, `${n}:in-use`];
    const end_ = (n: string) => [`${n}:used`, `${n}:deleting`, `${n}:`, `${n}:`, `${n}:gone`];
    const all = ['request:requested', 'request:pending', ...life('b'), ...life('a'), 'request:fulfilled', 'request:', ...end_('b'), ...end_('a'), 'end:requested'];
    assert.deepEqual(whole, all);
    // Of cloud-b's node: its insert, its move out of building, its release from the request, its
    // delete; not its booting step or a comment (no state moved), nor in-use, used and deleting while
    // assigned. Of the request claimed for cloud-b: every state, not its holder's heartbeat.
    assert.deepEqual(scoped, [
      'request:requested', 'request:pending', 'b:building', 'b:ready', ...life('a'), 'request:fulfilled',
      'b:', 'b:gone', ...end_('a'), 'end:requested',
    ]);
    assert.deepEqual(besideWhole, scoped);
  } finally {
    await writer.close();
    await scopedStore.close();
    await wholeStore.close();
  }
});

pgTest('a write whose row facts would pass the 8,000-byte NOTIFY limit is announced without them', async () => {
  const writer = await PgStore.open({ url: db.url, max: 2 });
  const other = await PgStore.open({ url: db.url, max: 2, listen: true });
  try {
    const node = newNodeRecord({ label: 'jammy', provider: 'p'.repeat(9000), pool: 'main', connectionPort: 22, username: 'zuul', now: 1 });
    const heard = new Promise<StoreEvent>((resolve) => other.subscribe((e) => { if (e.id === node.id) resolve(e); }));
    await writer.insertNode(node, 'launcher-1');
    assert.deepEqual(await heard, { kind: 'node', id: node.id, state: 'building' });
  } finally {
    await writer.close();
    await other.close();
  }
});

pgTest('a listener whose connection is killed listens again and hears later changes', async () => {
  const watcher = await PgStore.open({ url: db.url, max: 1, listen: true, applicationName: 'np-test-watcher' });
  const writer = await PgStore.open({ url: db.url, max: 1 });
  try {
    await sqlOn(db.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'np-test-watcher:listen' AND datname = current_database()");
    const req = newRequestRecord({ labels: ['l'], requestor: 'ci', now: 1 });
    const heard = new Promise<void>((resolve) => watcher.subscribe((e) => { if (e.id === req.id) resolve(); }));
    // Changes announced while nobody listened are lost (the readers' timers cover them); keep
    // writing until the listener is back.
    const writing = setInterval(() => { void writer.updateRequest(req.id, { reason: String(Date.now()) }, 'w').catch(() => {}); }, 50);
    await writer.insertRequest(req, 'api');
    await heard;
    clearInterval(writing);
  } finally {
    await watcher.close();
    await writer.close();
  }
});

pgTest('a starting process migrates an empty database, and refuses one with a newer breaking migration', async () => {
  const empty = await emptyDatabase();
  try {
    const store = await PgStore.open({ url: empty.url, max: 1 });
    await store.close();
    const applied = await sqlOn(empty.url, 'SELECT id FROM schema_migrations ORDER BY id');
    assert.deepEqual(applied.rows.map((r) => r.id), MIGRATIONS.map((m) => m.id));

    // A newer release added a column (not breaking): this release keeps working beside it.
    const next = MIGRATIONS.length + 1;
    await sqlOn(empty.url, 'ALTER TABLE nodes ADD COLUMN cost integer');
    await sqlOn(empty.url, 'INSERT INTO schema_migrations (id, name, breaking, applied_at) VALUES ($1, $2, false, 0)', [next, 'future column']);
    const still = await PgStore.open({ url: empty.url, max: 1 });
    await still.close();

    await sqlOn(empty.url, 'INSERT INTO schema_migrations (id, name, breaking, applied_at) VALUES ($1, $2, true, 0)', [next + 1, 'future rename']);
    await assert.rejects(PgStore.open({ url: empty.url, max: 1 }), /newer than this release knows/);
  } finally {
    await empty.drop();
  }
});

pgTest('a breaking migration waits for `nodepool migrate`; one that is not runs at start', async () => {
  const empty = await emptyDatabase();
  const pool = createPool({ url: empty.url, max: 1 });
  try {
    await migrate(pool, { mode: 'start' });
    const additive: Migration = { id: MIGRATIONS.length + 1, name: 'an index', breaking: false, sql: 'CREATE INDEX nodes_label ON nodes (label)' };
    const rename: Migration = { id: MIGRATIONS.length + 2, name: 'a rename', breaking: true, sql: 'ALTER TABLE nodes RENAME COLUMN az TO zone' };
    assert.deepEqual(await migrate(pool, { mode: 'start', migrations: [...MIGRATIONS, additive] }), [additive.id]);
    await assert.rejects(migrate(pool, { mode: 'start', migrations: [...MIGRATIONS, additive, rename] }), MigrationNeededError);
    assert.deepEqual(await migrate(pool, { mode: 'all', migrations: [...MIGRATIONS, additive, rename] }), [rename.id]);
  } finally {
    await pool.end();
    await empty.drop();
  }
});
