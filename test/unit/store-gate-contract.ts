import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Item } from '../../src/gate/model.ts';
import type { StoreEvent } from '../../src/store/store.ts';
import type { ContractSubject } from './store-contract.ts';

/** The gate's records, the same on SQLite and PostgreSQL (store-sqlite.test.ts, store-postgres.test.ts). */

function item(id: string, seq: number, o: Partial<Item> = {}): Item {
  return {
    id, pipeline: 'gate', queue: 'integrated', seq, state: 'active', needs: [], enqueuedAt: seq, buildset: null, result: null, reason: null,
    reportedAt: null, updatedAt: seq,
    change: { connection: 'gerrit', project: 'org/app', branch: 'master', number: seq, patchset: 1, ref: `refs/changes/0${seq}/${seq}/1`, revision: 'abc', changeId: 'I1', subject: 's', url: 'u', owner: 'dev', message: 'm' },
    ...o,
  };
}

export function gateContract(name: string, open: () => Promise<ContractSubject>, skip?: string | false): void {
  const it = (title: string, fn: (s: ContractSubject) => Promise<void>) =>
    test(`${name}: ${title}`, { skip: skip || false }, async () => {
      const s = await open();
      try { await fn(s); } finally { await s.done(); }
    });

  it('gate items are written whole, replaced, listed in queue order and pruned once done', async ({ store, another }) => {
    const heard: StoreEvent[] = [];
    store.subscribe((e) => heard.push(e));
    await store.gate.saveItem(item('b', 2));
    await store.gate.saveItem(item('a', 1, { pipeline: 'check' }));
    const withBuilds = item('b', 2, {
      state: 'reporting', result: 'SUCCESS', updatedAt: 10,
      buildset: { id: 'bs', base: ['x'], state: 'ready', commits: { 'org/app': 'sha' }, files: ['f'], conflict: null, createdAt: 3, builds: [] },
    });
    await store.gate.saveItem(withBuilds);
    assert.deepEqual(await store.gate.getItem('b'), withBuilds);
    assert.deepEqual((await store.gate.listItems()).map((i) => i.id), ['a', 'b']);
    assert.deepEqual((await store.gate.listItems({ states: ['reporting'] })).map((i) => i.id), ['b']);
    assert.deepEqual((await store.gate.listItems({ pipeline: 'check' })).map((i) => i.id), ['a']);
    assert.deepEqual((await store.gate.listItems({ change: 2 })).map((i) => i.id), ['b']);
    assert.deepEqual((await store.gate.listItems({ limit: 1 })).map((i) => i.id), ['b']);
    assert.deepEqual(heard.filter((e) => e.kind === 'gate-item').map((e) => `${e.id}:${e.state}`), ['b:active', 'a:active', 'b:reporting']);
    // Another process reads the same rows.
    const other = await another();
    try {
      assert.equal((await other.gate.getItem('b'))?.buildset?.commits['org/app'], 'sha');
    } finally {
      await other.close();
    }
    await store.gate.saveItem({ ...withBuilds, state: 'done', updatedAt: 20 });
    assert.equal(await store.gate.pruneItems(15), 0);
    assert.equal(await store.gate.pruneItems(21), 1);
    assert.deepEqual((await store.gate.listItems()).map((i) => i.id), ['a']);
  });

  it('events queue up in order, are marked handled with their outcome, and are pruned', async ({ store }) => {
    const first = await store.gate.appendEvent('stream:gerrit', { type: 'patchset-created', change: { number: 1 } }, 100);
    const second = await store.gate.appendEvent('operator', { type: 'enqueue', change: '1,1' }, 101);
    assert.ok(second > first);
    assert.deepEqual((await store.gate.listEvents({ pending: true })).map((e) => e.seq), [first, second]);
    await store.gate.finishEvent(first, 'enqueued 1,1 into check', 150);
    const e = await store.gate.getEvent(first);
    assert.deepEqual(e, { seq: first, source: 'stream:gerrit', body: { type: 'patchset-created', change: { number: 1 } }, receivedAt: 100, processedAt: 150, outcome: 'enqueued 1,1 into check' });
    assert.deepEqual((await store.gate.listEvents({ pending: true })).map((x) => x.seq), [second]);
    assert.deepEqual((await store.gate.listEvents({ afterSeq: first })).map((x) => x.seq), [second]);
    assert.equal(await store.gate.pruneEvents(200), 1);
    assert.equal(await store.gate.getEvent(first), null);
  });

  it('an autohold holds as many failed builds as it says, no more', async ({ store }) => {
    await store.gate.insertAutohold({ id: 'h1', project: 'org/app', job: 'devstack', change: null, reason: 'flaky', count: 2, held: 0, nodeExpiration: 3600, createdAt: 5 });
    assert.equal(await store.gate.useAutohold('h1'), true);
    assert.equal(await store.gate.useAutohold('h1'), true);
    assert.equal(await store.gate.useAutohold('h1'), false);
    assert.deepEqual((await store.gate.listAutoholds()).map((h) => [h.id, h.held, h.count, h.nodeExpiration]), [['h1', 2, 2, 3600]]);
    assert.equal(await store.gate.removeAutohold('h1'), true);
    assert.equal(await store.gate.removeAutohold('h1'), false);
  });

  it('the scheduler lease is held by one owner until it expires or is given up', async ({ store }) => {
    assert.equal(await store.gate.claimLease('gate', 'g1', 1000, 0), true);
    assert.equal(await store.gate.claimLease('gate', 'g2', 1500, 500), false);
    assert.equal(await store.gate.claimLease('gate', 'g1', 2000, 900), true);
    assert.equal(await store.gate.claimLease('gate', 'g2', 3000, 2001), true);
    await store.gate.releaseLease('gate', 'g1');
    assert.equal(await store.gate.claimLease('gate', 'g1', 4000, 2500), false);
    await store.gate.releaseLease('gate', 'g2');
    assert.equal(await store.gate.claimLease('gate', 'g1', 4000, 2500), true);
  });
}
