import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestRecord } from '../../src/model.ts';
import { newRequestRecord } from '../../src/store/records.ts';
import type { Store, StoreEvent } from '../../src/store/store.ts';
import { waitWhileOpen } from '../../src/api/wait.ts';

// Long-polls on many requests at once, over a store that counts its subscriptions and reads.

function countingStore(rows: Map<string, RequestRecord>) {
  const listeners = new Set<(e: StoreEvent) => void>();
  const reads = new Map<string, number>();
  const store = {
    async getRequest(id: string) { reads.set(id, (reads.get(id) ?? 0) + 1); return rows.get(id) ?? null; },
    subscribe(l: (e: StoreEvent) => void) { listeners.add(l); return () => { listeners.delete(l); }; },
  } as unknown as Store;
  const emit = (e: StoreEvent) => { for (const l of [...listeners]) l(e); };
  return { store, listeners, reads, emit };
}

test('500 waits share one store subscription; a change wakes only its own request, a claim wakes none, and the last wait to end unsubscribes', async () => {
  const rows = new Map<string, RequestRecord>();
  for (let i = 0; i < 500; i++) {
    const r = newRequestRecord({ labels: ['jammy'], requestor: 'ci', now: 0 });
    rows.set(r.id, r);
  }
  const ids = [...rows.keys()];
  assert.equal(ids.length, 500);
  const s = countingStore(rows);
  const done = new Map<string, Promise<RequestRecord | null>>();
  for (const id of ids) done.set(id, waitWhileOpen(s.store, id, { waitMs: 60_000, pollMs: 60_000 }));
  await new Promise((r) => setImmediate(r));
  assert.equal(s.listeners.size, 1, 'one subscription for every wait');
  const readsBefore = new Map(s.reads);

  const [first, second] = ids as [string, string];
  rows.set(first, { ...rows.get(first)!, state: 'pending' });
  s.emit({ kind: 'request', id: first, state: 'pending' });
  await new Promise((r) => setImmediate(r));
  assert.equal(s.reads.get(first), readsBefore.get(first), 'claimed, still open: not read again');

  rows.set(second, { ...rows.get(second)!, state: 'fulfilled' });
  s.emit({ kind: 'request', id: second, state: 'fulfilled' });
  assert.equal((await done.get(second))!.state, 'fulfilled');
  for (const id of ids.slice(2)) assert.equal(s.reads.get(id), readsBefore.get(id), 'the other waits are not woken');

  for (const id of ids) {
    if (id === second) continue;
    rows.set(id, { ...rows.get(id)!, state: 'canceled' });
    s.emit({ kind: 'request', id, state: 'canceled' });
  }
  for (const id of ids) assert.notEqual((await done.get(id))!.state, 'requested');
  assert.equal(s.listeners.size, 0, 'no subscription left once every wait ended');
});

test('changes no event announced are found by one poll for all the waits: one query a poll, a read only for the requests that closed', async () => {
  const rows = new Map<string, RequestRecord>();
  for (let i = 0; i < 200; i++) {
    const r = newRequestRecord({ labels: ['jammy'], requestor: 'ci', now: 0 });
    rows.set(r.id, r);
  }
  const ids = [...rows.keys()];
  const s = countingStore(rows);
  let polls = 0;
  (s.store as unknown as { listRequests: (f: { ids: string[] }) => Promise<RequestRecord[]> }).listRequests = async (f) => {
    polls++;
    return f.ids.map((id) => rows.get(id)).filter((r): r is RequestRecord => r !== undefined);
  };
  const done = new Map<string, Promise<RequestRecord | null>>();
  for (const id of ids) done.set(id, waitWhileOpen(s.store, id, { waitMs: 60_000, pollMs: 30 }));
  await new Promise((r) => setImmediate(r));
  const readsBefore = new Map(s.reads);

  // Written by another process: no event reaches this one.
  const [fulfilled, removed] = ids as [string, string];
  rows.set(fulfilled, { ...rows.get(fulfilled)!, state: 'fulfilled' });
  rows.delete(removed);
  assert.equal((await done.get(fulfilled))!.state, 'fulfilled');
  assert.equal(await done.get(removed), null, 'a request gone from the store ends its wait');
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(polls >= 2, `the poll ran (${polls} times)`);
  for (const id of ids.slice(2)) assert.equal(s.reads.get(id), readsBefore.get(id), 'a request still open is not read on its own');
  assert.ok(polls < 20, `one query a poll for all 198 waits, not one each (${polls} queries)`);

  for (const id of ids.slice(2)) {
    rows.set(id, { ...rows.get(id)!, state: 'canceled' });
    s.emit({ kind: 'request', id, state: 'canceled' });
  }
  for (const id of ids.slice(2)) assert.equal((await done.get(id))!.state, 'canceled');
  const after = polls;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(polls, after, 'no poll once every wait ended');
});

test('a wait reads its request once while nothing changes, and once more when a change is announced during that first read', async () => {
  const quiet = newRequestRecord({ labels: ['jammy'], requestor: 'ci', now: 0 });
  const racing = newRequestRecord({ labels: ['jammy'], requestor: 'ci', now: 0 });
  const rows = new Map([[quiet.id, quiet], [racing.id, racing]]);
  const s = countingStore(rows);
  const quietDone = waitWhileOpen(s.store, quiet.id, { waitMs: 60_000, pollMs: 60_000 });
  await new Promise((r) => setImmediate(r));
  assert.equal(s.reads.get(quiet.id), 1, 'no second read of an unchanged request');

  // The first read answers with the row as it was; the change lands (and is announced) meanwhile.
  const read = s.store.getRequest.bind(s.store);
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  (s.store as unknown as { getRequest: (id: string) => Promise<RequestRecord | null> }).getRequest = async (id) => {
    const row = await read(id);
    if (id === racing.id && s.reads.get(id) === 1) await gate;
    return row;
  };
  const racingDone = waitWhileOpen(s.store, racing.id, { waitMs: 60_000, pollMs: 60_000 });
  await new Promise((r) => setImmediate(r));
  rows.set(racing.id, { ...racing, state: 'fulfilled' });
  s.emit({ kind: 'request', id: racing.id, state: 'fulfilled' });
  release();
  assert.equal((await racingDone)!.state, 'fulfilled', 'the change made during the first read is not missed');
  assert.equal(s.reads.get(racing.id), 2);

  rows.set(quiet.id, { ...quiet, state: 'canceled' });
  s.emit({ kind: 'request', id: quiet.id, state: 'canceled' });
  assert.equal((await quietDone)!.state, 'canceled');
  assert.equal(s.reads.get(quiet.id), 2, 'one read to answer the change');
});
