import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newNodeRecord, newRequestRecord } from '../../src/store/records.ts';
import type { Store } from '../../src/store/store.ts';

/**
 * The store contract: what every implementation promises, run against SQLite and PostgreSQL
 * (store-sqlite.test.ts, store-postgres.test.ts). `open` gives a store on an empty database and a
 * way to open a second store object on the same database (another process, as far as the
 * implementation can tell).
 */
export interface ContractSubject {
  store: Store;
  another(): Promise<Store>;
  done(): Promise<void>;
}

const node = (o: { label?: string; provider?: string; pool?: string; now?: number } = {}) =>
  newNodeRecord({ label: o.label ?? 'ubuntu-jammy', provider: o.provider ?? 'p1', pool: o.pool ?? 'main', connectionPort: 22, username: 'zuul', now: o.now ?? 1000 });

export function storeContract(name: string, open: () => Promise<ContractSubject>, skip?: string | false): void {
  const it = (title: string, fn: (s: ContractSubject) => Promise<void>) =>
    test(`${name}: ${title}`, { skip: skip || false }, async () => {
      const s = await open();
      try { await fn(s); } finally { await s.done(); }
    });

  it('a node written, updated under a condition, and removed leaves an audit trail', async ({ store }) => {
    const n = node();
    assert.equal(await store.insertNode(n, 'launcher-a'), true);
    assert.equal((await store.getNode(n.id))?.state, 'building');

    assert.equal(await store.updateNode(n.id, { state: 'ready', hostKeys: ['ssh-ed25519 AAAA'] }, 'launcher-a', { states: ['building'] }), true);
    // A second writer that still believes the node is building loses.
    assert.equal(await store.updateNode(n.id, { state: 'failed' }, 'launcher-b', { states: ['building'] }), false);
    const ready = await store.getNode(n.id);
    assert.equal(ready?.state, 'ready');
    assert.deepEqual(ready?.hostKeys, ['ssh-ed25519 AAAA']);

    assert.equal(await store.removeNode(n.id, 'launcher-a', { states: ['ready'] }), true);
    assert.equal(await store.getNode(n.id), null);
    const trail = (await store.listChanges('node', n.id)).map((c) => `${c.from}->${c.to} by ${c.by}`);
    assert.deepEqual(trail, ['null->building by launcher-a', 'building->ready by launcher-a', 'ready->gone by launcher-a']);
  });

  it('every field of a node and a request reads back as written', async ({ store }) => {
    const n = { ...node(), serverId: 's-1', interfaceIp: '10.0.0.5', hostKeys: ['k1', 'k2'], leaseOwner: 'l', leaseExpires: 1_800_000_000_123, launchStartedAt: 1_800_000_000_000, createAnsweredAt: 1_800_000_004_500 };
    await store.insertNode(n, 't');
    assert.deepEqual(await store.getNode(n.id), n);
    const r = { ...newRequestRecord({ labels: ['a', 'b', 'a'], requestor: 'ci', now: 5, priority: 50, tenant: 'x' }), nodes: ['n1'], holderExpires: 99 };
    await store.insertRequest(r, 'api');
    assert.deepEqual(await store.getRequest(r.id), r);
  });

  it('a lease held by another process blocks a write until it expires', async ({ store }) => {
    const req = newRequestRecord({ labels: ['ubuntu-jammy'], requestor: 'ci', now: 1000 });
    await store.insertRequest(req, 'api');
    assert.equal(await store.updateRequest(req.id, { state: 'pending', leaseOwner: 'a', leaseExpires: 5000 }, 'a', { leaseFreeOr: { owner: 'a', now: 1000 } }), true);
    assert.equal(await store.updateRequest(req.id, { leaseOwner: 'b', leaseExpires: 9000 }, 'b', { leaseFreeOr: { owner: 'b', now: 4000 } }), false);
    assert.equal(await store.updateRequest(req.id, { leaseOwner: 'b', leaseExpires: 9000 }, 'b', { leaseFreeOr: { owner: 'b', now: 5001 } }), true);
    assert.equal((await store.getRequest(req.id))?.leaseOwner, 'b');
  });

  it('of many processes claiming one request at once, exactly one wins', async ({ store, another }) => {
    const other = await another();
    try {
      const req = newRequestRecord({ labels: ['l'], requestor: 'ci', now: 1 });
      await store.insertRequest(req, 'api');
      const claims = Array.from({ length: 12 }, (_, i) => (i % 2 ? store : other).updateRequest(
        req.id, { state: 'pending', leaseOwner: `l${i}`, leaseExpires: 10_000 }, `l${i}`, { states: ['requested'], leaseFreeOr: { owner: `l${i}`, now: 2 } }));
      const won = (await Promise.all(claims)).filter(Boolean).length;
      assert.equal(won, 1);
      assert.deepEqual((await store.listChanges('request', req.id)).map((c) => c.to), ['requested', 'pending']);
    } finally {
      await other.close();
    }
  });

  it('only one of two requests can take the same unallocated node', async ({ store }) => {
    const n = node({ now: 1 });
    await store.insertNode({ ...n, state: 'ready', step: null }, 't');
    const first = await store.updateNode(n.id, { allocatedTo: 'r1' }, 't', { states: ['ready'], unallocated: true });
    const second = await store.updateNode(n.id, { allocatedTo: 'r2' }, 't', { states: ['ready'], unallocated: true });
    assert.deepEqual([first, second], [true, false]);
  });

  it('a guarded insert never takes a pool past max-servers, even from two processes at once', async ({ store, another }) => {
    const other = await another();
    try {
      const inserts = Array.from({ length: 16 }, (_, i) => (i % 2 ? store : other).insertNode(node({ pool: 'small' }), `l${i % 2}`, { maxServers: 5 }));
      assert.equal((await Promise.all(inserts)).filter(Boolean).length, 5);
      // Nodes of other pools do not count against this one.
      assert.equal(await store.insertNode(node({ pool: 'other' }), 'l0', { maxServers: 5 }), true);
      const small = (await store.listNodes({ provider: 'p1' })).filter((n) => n.pool === 'small');
      assert.equal(small.length, 5);
      // A removed node frees its slot.
      await store.removeNode(small[0].id, 'l0');
      assert.equal(await store.insertNode(node({ pool: 'small' }), 'l0', { maxServers: 5 }), true);
      assert.equal(await store.insertNode(node({ pool: 'small' }), 'l0', { maxServers: 5 }), false);
    } finally {
      await other.close();
    }
  });

  it('an insert guarded for its server is refused while another node of the provider holds that server, even from two processes at once', async ({ store, another }) => {
    const other = await another();
    try {
      const slot = (n: ReturnType<typeof node>, serverId: string) => ({ ...n, serverId, step: 'scanning' as const });
      const inserts = Array.from({ length: 8 }, (_, i) => (i % 2 ? store : other).insertNode(slot(node(), 'host1:22/0'), `l${i % 2}`, { maxServers: 10, exclusiveServer: true }));
      assert.equal((await Promise.all(inserts)).filter(Boolean).length, 1, 'one node per server');
      // Another server, or the same server id in another provider, is free.
      assert.equal(await store.insertNode(slot(node(), 'host1:22/1'), 'l0', { maxServers: 10, exclusiveServer: true }), true);
      assert.equal(await store.insertNode(slot(node({ provider: 'p2' }), 'host1:22/0'), 'l0', { maxServers: 10, exclusiveServer: true }), true);
      // Once the node holding it is gone, the server takes a new node.
      const [holder] = (await store.listNodes({ provider: 'p1' })).filter((n) => n.serverId === 'host1:22/0');
      assert.equal(await store.removeNode(holder.id, 'l0'), true);
      assert.equal(await store.insertNode(slot(node(), 'host1:22/0'), 'l1', { maxServers: 10, exclusiveServer: true }), true);
    } finally {
      await other.close();
    }
  });

  it('a failed launch passes its slot in a full pool to its retry, once, with the failed node marked in the same write', async ({ store, another }) => {
    const other = await another();
    try {
      const failed = { ...node({ pool: 'one' }), allocatedTo: 'r1', step: 'booting' as const, serverId: 's-err' };
      assert.equal(await store.insertNode(failed, 'l0', { maxServers: 1 }), true);
      // The pool is full: a fresh launch is refused, the retry of the failed node is not.
      assert.equal(await store.insertNode(node({ pool: 'one' }), 'l0', { maxServers: 1 }), false);
      const retries = [1, 2].map(() => ({ ...node({ pool: 'one' }), allocatedTo: 'r1', attempt: 2 }));
      const cond = { states: ['building' as const] };
      const passed = await Promise.all(retries.map((r, i) => (i ? other : store).passSlot(
        failed.id, { state: 'failed', comment: 'server went to ERROR', allocatedTo: null }, cond, r, `l${i}`)));
      assert.deepEqual(passed.filter(Boolean).length, 1, 'only one retry takes the slot');
      const rows = await store.listNodes({ provider: 'p1' });
      assert.deepEqual(rows.map((n) => [n.state, n.attempt, n.allocatedTo]).sort(), [['building', 2, 'r1'], ['failed', 1, null]]);
      assert.deepEqual((await store.listChanges('node', failed.id)).map((c) => [c.to, c.reason]), [['building', null], ['failed', 'server went to ERROR']]);
      // Still full for everyone else while the failed server is deleted.
      assert.equal(await store.insertNode(node({ pool: 'one' }), 'l0', { maxServers: 1 }), false);
      // A failed node no longer failing (another launcher changed it) passes nothing.
      const winner = rows.find((n) => n.state === 'building')!;
      assert.equal(await store.passSlot(failed.id, { state: 'failed' }, cond, { ...node({ pool: 'one' }), attempt: 3 }, 'l0'), false);
      assert.equal((await store.listNodes({ provider: 'p1' })).length, 2);
      assert.equal((await store.getNode(winner.id))?.attempt, 2);
    } finally {
      await other.close();
    }
  });

  it('a batch of writes is written all together or not at all, and announced only when written', async ({ store, another }) => {
    const other = await another();
    try {
      const req = { ...newRequestRecord({ labels: ['ubuntu-jammy', 'ubuntu-jammy'], requestor: 'ci', now: 1000 }), state: 'pending' as const };
      await store.insertRequest(req, 'api');
      const a = { ...node(), state: 'ready' as const, allocatedTo: req.id };
      const b = { ...node(), state: 'ready' as const, allocatedTo: req.id };
      await store.insertNode(a, 'l');
      await store.insertNode(b, 'l');
      const heard: string[] = [];
      const stop = store.subscribe((e) => heard.push(`${e.kind}:${e.state}`));
      const fulfil = (s: Store) => s.writeAll([
        ...[a, b].map((n) => ({ table: 'nodes' as const, id: n.id, patch: { state: 'in-use' as const }, cond: { states: ['ready' as const], allocatedTo: req.id } })),
        { table: 'requests', id: req.id, patch: { state: 'fulfilled', nodes: [a.id, b.id] }, cond: { states: ['pending'] } },
      ], 'l');
      // An operator took node b meanwhile: nothing of the batch is written, nothing announced.
      assert.equal(await other.updateNode(b.id, { state: 'hold' }, 'operator', { states: ['ready'] }), true);
      assert.equal(await fulfil(store), false);
      assert.equal((await store.getNode(a.id))?.state, 'ready');
      assert.equal((await store.getRequest(req.id))?.state, 'pending');
      assert.deepEqual((await store.listChanges('node', a.id)).map((c) => c.to), ['ready']);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(heard.filter((h) => h !== 'node:hold'), []);
      // Back to ready: the whole batch is written, audited and announced.
      assert.equal(await other.updateNode(b.id, { state: 'ready' }, 'operator', { states: ['hold'] }), true);
      heard.length = 0;
      assert.equal(await fulfil(store), true);
      assert.deepEqual([(await store.getNode(a.id))?.state, (await store.getNode(b.id))?.state, (await store.getRequest(req.id))?.state], ['in-use', 'in-use', 'fulfilled']);
      assert.deepEqual((await store.listChanges('request', req.id)).map((c) => c.to), ['pending', 'fulfilled']);
      assert.deepEqual(heard.filter((h) => h !== 'node:ready').sort(), ['node:in-use', 'node:in-use', 'request:fulfilled']);
      stop();
      // An optional write whose condition is false is skipped; the rest is written.
      assert.equal(await store.writeAll([
        { table: 'requests', id: req.id, patch: { holderExpires: null }, cond: { states: ['fulfilled'] } },
        { table: 'nodes', id: a.id, patch: { state: 'used' }, cond: { states: ['in-use'] }, optional: true },
        { table: 'nodes', id: 'no-such-node', patch: { state: 'used' }, cond: { states: ['in-use'] }, optional: true },
      ], 'api'), true);
      assert.equal((await store.getNode(a.id))?.state, 'used');
    } finally {
      await other.close();
    }
  });

  it('lease renewal extends only the leases still held by their owner', async ({ store }) => {
    const mine = { ...node(), leaseOwner: 'a', leaseExpires: 100 };
    const taken = { ...node(), leaseOwner: 'a', leaseExpires: 100 };
    const req = { ...newRequestRecord({ labels: ['l'], requestor: 'ci', now: 1 }), leaseOwner: 'a', leaseExpires: 100 };
    await store.insertNode(mine, 'a');
    await store.insertNode(taken, 'a');
    await store.insertRequest(req, 'api');
    // b takes one node over once a's lease has run out; a's renewal must not take it back.
    assert.equal(await store.updateNode(taken.id, { leaseOwner: 'b', leaseExpires: 900 }, 'b', { leaseFreeOr: { owner: 'b', now: 200 } }), true);
    assert.equal(await store.renewLeases('a', 500), 2);
    assert.equal((await store.getNode(mine.id))?.leaseExpires, 500);
    assert.equal((await store.getRequest(req.id))?.leaseExpires, 500);
    assert.deepEqual([(await store.getNode(taken.id))?.leaseOwner, (await store.getNode(taken.id))?.leaseExpires], ['b', 900]);
  });

  it('lists filter by ids, states and allocation', async ({ store }) => {
    const a = node({ now: 1 });
    const b = { ...node({ now: 2 }), state: 'ready' as const, allocatedTo: 'r9' };
    const c = node({ now: 3, label: 'centos' });
    for (const n of [a, b, c]) await store.insertNode(n, 't');
    assert.deepEqual((await store.listNodes({ ids: [c.id, a.id, 'nope'] })).map((n) => n.id), [a.id, c.id]);
    assert.deepEqual((await store.listNodes({ states: ['ready'] })).map((n) => n.id), [b.id]);
    assert.deepEqual((await store.listNodes({ allocatedTo: 'r9' })).map((n) => n.id), [b.id]);
    assert.deepEqual((await store.listNodes({ label: 'centos' })).map((n) => n.id), [c.id]);
    const r1 = newRequestRecord({ labels: ['l'], requestor: 'ci', now: 1 });
    const r2 = { ...newRequestRecord({ labels: ['l'], requestor: 'ci', now: 2 }), state: 'fulfilled' as const, holderExpires: 50 };
    for (const r of [r1, r2]) await store.insertRequest(r, 'api');
    assert.deepEqual((await store.listRequests({ ids: [r2.id] })).map((r) => r.id), [r2.id]);
    assert.deepEqual((await store.listRequests({ withHolderLease: true })).map((r) => r.id), [r2.id]);
    assert.deepEqual((await store.listRequests({ limit: 1 })).map((r) => r.id), [r2.id]);
  });

  it('launchers register and renew their heartbeat', async ({ store }) => {
    const rec = { name: 'l1', host: 'h', pid: 42, version: '0.1.0', providers: ['p1', 'p2'], startedAt: 10, heartbeatAt: 10 };
    await store.upsertLauncher(rec);
    await store.upsertLauncher({ ...rec, heartbeatAt: 20 });
    await store.upsertLauncher({ ...rec, name: 'l0', providers: [] });
    assert.deepEqual(await store.listLaunchers(), [{ ...rec, name: 'l0', providers: [] }, { ...rec, heartbeatAt: 20 }]);
  });

  it("a launcher's provider states read back as published, every field, for any process; each publish replaces its rows and an empty one removes them", async ({ store, another }) => {
    const east = {
      provider: 'east', health: 'degraded', reason: '2 failures in a row, last: server list failed: 503', since: 1_800_000_000_000,
      room: { instances: 7, cores: Infinity, ram: 51_200 }, labelCosts: { 'main/jammy': { instances: 1, cores: 2, ram: 4096 } },
      pausedUntil: { main: 1_800_000_010_000 }, leaked: { instances: 3 },
      calls: [{ service: 'compute', method: 'GET', status: '200', count: 12, seconds: 0.75 }, { service: 'compute', method: 'POST', status: 'none', count: 1, seconds: 30 }],
      updatedAt: 1_800_000_001_000,
    };
    const west = { provider: 'west', health: 'healthy', reason: null, since: null, room: null, labelCosts: {}, pausedUntil: {}, leaked: {}, calls: [], updatedAt: 1_800_000_001_000 };
    await store.publishProviderStates('l1', [east, west]);
    await store.publishProviderStates('l2', [{ ...west, health: 'unhealthy', reason: 'timeouts' }]);
    const other = await another();
    try {
      assert.deepEqual(await other.listProviderStates(), [
        { launcher: 'l1', ...east }, { launcher: 'l1', ...west }, { launcher: 'l2', ...west, health: 'unhealthy', reason: 'timeouts' },
      ]);
      // l1 now serves east only, and it recovered: its west row goes, its east row is replaced.
      await other.publishProviderStates('l1', [{ ...east, health: 'healthy', reason: null, room: null, updatedAt: 1_800_000_006_000 }]);
      assert.deepEqual((await store.listProviderStates()).map((r) => `${r.launcher}/${r.provider}:${r.health}@${r.updatedAt}`),
        ['l1/east:healthy@1800000006000', 'l2/west:unhealthy@1800000001000']);
      // l2 stops cleanly.
      await store.publishProviderStates('l2', []);
      assert.deepEqual((await other.listProviderStates()).map((r) => r.launcher), ['l1']);
    } finally {
      await other.close();
    }
  });

  it('listeners hear of every committed change, and not of a write whose condition failed', async ({ store }) => {
    const seen: string[] = [];
    store.subscribe((e) => seen.push(`${e.kind}:${e.state}`));
    const req = newRequestRecord({ labels: ['x'], requestor: 'ci', now: 1 });
    await store.insertRequest(req, 'api');
    await store.updateRequest(req.id, { state: 'failed', reason: 'unknown label x' }, 'l');
    await store.updateRequest(req.id, { state: 'pending' }, 'l', { states: ['requested'] });
    assert.deepEqual(seen, ['request:requested', 'request:failed']);
    assert.equal((await store.listChanges('request', req.id))[1].reason, 'unknown label x');
  });
}
