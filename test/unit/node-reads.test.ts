import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { newNodeRecord } from '../../src/store/records.ts';
import { readNodes } from '../../src/store/node-reads.ts';
import { StoreMirror } from '../../src/launcher/mirror.ts';
import { Metrics } from '../../src/metrics/metrics.ts';

const T = 1_700_000_000_000;
const node = (state: 'building' | 'ready' = 'ready', o: { leaseOwner?: string } = {}) =>
  ({ ...newNodeRecord({ label: 'jammy', provider: 'p1', pool: 'main', connectionPort: 22, username: 'zuul', now: T, leaseOwner: o.leaseOwner ?? null, leaseExpires: o.leaseOwner ? T + 60_000 : null }), state });

/** A store on a file, with the count of its whole-fleet node reads (a complete list, or its copy of the fleet). */
function fileStore(): { store: SqliteStore; path: string; fullReads: () => number; done: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'np-reads-'));
  const path = join(dir, 'np.sqlite');
  const store = new SqliteStore(path);
  let reads = 0;
  const list = store.listNodes.bind(store);
  store.listNodes = async (f = {}) => { if (!f.ids) reads++; return list(f); };
  const fleet = store.readFleet.bind(store);
  store.readFleet = async () => { reads++; return fleet(); };
  return { store, path, fullReads: () => reads, done: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
}

test('the change token moves with every node or request write, in this process or another, and with nothing else', async () => {
  const { store, path, done } = fileStore();
  try {
    const t0 = store.changeToken();
    // What a running system writes while its fleet is idle: provider states, plot points.
    await store.publishProviderStates('l1', [{ provider: 'p1', health: 'healthy', reason: null, since: T, room: null, labelCosts: {}, pausedUntil: {}, leaked: {}, calls: [], updatedAt: T }]);
    await store.appendSamples(T, { 'nodes.ready': 0 });
    assert.equal(store.changeToken(), t0, 'provider states and plot points are not records');
    assert.equal(await store.renewLeases('l1', T + 1), 0);
    assert.equal(store.changeToken(), t0, 'a renewal that renewed nothing changed nothing');

    const n = node('building', { leaseOwner: 'l1' });
    await store.insertNode(n, 'test');
    const t1 = store.changeToken();
    assert.notEqual(t1, t0);
    assert.equal(await store.renewLeases('l1', T + 90_000), 1);
    const t2 = store.changeToken();
    assert.notEqual(t2, t1, 'a lease renewal changes a row without announcing it');
    await store.updateNode(n.id, { state: 'ready' }, 'test');
    const t3 = store.changeToken();
    assert.notEqual(t3, t2);

    const other = new SqliteStore(path);
    try {
      await other.publishProviderStates('l2', [{ provider: 'p1', health: 'healthy', reason: null, since: T, room: null, labelCosts: {}, pausedUntil: {}, leaked: {}, calls: [], updatedAt: T }]);
      assert.notEqual(store.changeToken(), t3, "another connection's commit may have changed anything");
    } finally {
      await other.close();
    }
  } finally {
    await done();
  }
});

test('readers of an unchanged fleet share one read; a write makes the next reader read again', async () => {
  const { store, fullReads, done } = fileStore();
  try {
    await store.insertNode(node(), 'test');
    const [a, b, c] = await Promise.all([readNodes(store), readNodes(store, { provider: 'p1' }), readNodes(store, { provider: 'p2' })]);
    assert.equal(fullReads(), 1, 'readers at once share one read');
    assert.equal(a.length, 1);
    assert.equal(b.length, 1);
    assert.equal(c.length, 0);
    await store.publishProviderStates('l1', []);
    assert.equal((await readNodes(store)).length, 1);
    assert.equal(fullReads(), 1, 'nothing but provider states written: still the same fleet');
    await store.insertNode(node(), 'test');
    assert.equal((await readNodes(store)).length, 2);
    assert.equal(fullReads(), 2);
  } finally {
    await done();
  }
});

test('a /metrics scrape reads the fleet once, and not at all when it has not changed', async () => {
  const { store, fullReads, done } = fileStore();
  try {
    await store.insertNode(node(), 'test');
    await store.insertNode(node('building'), 'test');
    const metrics = new Metrics({ store, config: null });
    const first = await metrics.registry.metrics();
    assert.match(first, /^nodepool_nodes\{provider="p1",label="jammy",state="ready"\} 1$/m);
    assert.match(first, /^nodepool_nodes\{provider="p1",label="jammy",state="building"\} 1$/m);
    assert.equal(fullReads(), 1, 'the node and quota series of one scrape share one read');
    await metrics.registry.metrics();
    assert.equal(fullReads(), 1, 'a second scrape of the same fleet reads nothing');
    await store.insertNode(node(), 'test');
    assert.match(await metrics.registry.metrics(), /^nodepool_nodes\{provider="p1",label="jammy",state="ready"\} 2$/m);
    assert.equal(fullReads(), 2);
  } finally {
    await done();
  }
});

test("the launcher's mirror skips its complete re-read while no record was written, and still finds a write it was not told of", async () => {
  const { store, path, fullReads, done } = fileStore();
  try {
    let now = T;
    const mirror = new StoreMirror(store, { now: () => now, fullIntervalMs: 10_000 });
    store.subscribe((e) => mirror.note(e));
    await store.insertNode(node(), 'test');
    assert.equal((await mirror.read()).nodes.length, 1);
    assert.equal(fullReads(), 1);
    now += 10_000;
    await mirror.read();
    assert.equal(fullReads(), 1, 'an idle fleet is not read again every interval');

    // Written through another connection: no event reaches this process's listeners.
    const other = new SqliteStore(path);
    try {
      await other.insertNode(node(), 'another process');
    } finally {
      await other.close();
    }
    now += 5_000;
    assert.equal((await mirror.read()).nodes.length, 1, 'between complete reads, only announced changes are read');
    now += 5_000;
    assert.equal((await mirror.read()).nodes.length, 2, 'the complete read at its interval finds the write');
    assert.equal(fullReads(), 2);
  } finally {
    await done();
  }
});
