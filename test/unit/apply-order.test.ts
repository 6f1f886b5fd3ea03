import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Action } from '../../src/launcher/actions.ts';
import { applySideBySide, thisPass } from '../../src/launcher/apply-order.ts';

// A pass's actions: side by side where they touch different records, in plan order where they
// share one, and never more than the limit at once.

const claim = (requestId: string, allocate: string[] = []): Action => ({ type: 'claim-request', requestId, provider: 'p', pool: 'main', allocate, launch: [] });
const fulfil = (requestId: string, nodeIds: string[]): Action => ({ type: 'fulfill-request', requestId, nodeIds });
const del = (nodeId: string): Action => ({ type: 'delete-node', nodeId, reason: 'test' });

/** Runs the actions; each one's store write "answers" only when the test says so. */
function recorder() {
  const started: string[] = [];
  const finished: string[] = [];
  const pending = new Map<string, () => void>();
  let running = 0;
  let most = 0;
  const name = (a: Action) => `${a.type}:${'requestId' in a ? a.requestId : 'nodeId' in a ? a.nodeId : ''}`;
  const run = async (a: Action) => {
    const n = name(a);
    started.push(n);
    running++;
    most = Math.max(most, running);
    await new Promise<void>((resolve) => pending.set(n, resolve));
    running--;
    finished.push(n);
  };
  /** Lets the first started action that is still waiting answer. */
  const answer = async (n: string) => {
    for (let i = 0; i < 20 && !pending.has(n); i++) await new Promise((r) => setImmediate(r));
    const resolve = pending.get(n);
    assert.ok(resolve, `${n} never started (started: ${started.join(', ')})`);
    pending.delete(n);
    resolve();
    await new Promise((r) => setImmediate(r));
  };
  return { run, answer, started, finished, most: () => most, waiting: () => [...pending.keys()] };
}

test('actions on different requests wait for their store writes side by side, up to the limit', async () => {
  const r = recorder();
  const actions = Array.from({ length: 6 }, (_, i) => claim(`r${i}`));
  const done = applySideBySide(actions, 4, r.run);
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(r.started, ['claim-request:r0', 'claim-request:r1', 'claim-request:r2', 'claim-request:r3'], 'four at once, oldest first');
  await r.answer('claim-request:r2');
  assert.equal(r.started.at(-1), 'claim-request:r4', 'the next starts as soon as one of them is done');
  for (const n of ['claim-request:r0', 'claim-request:r1', 'claim-request:r3', 'claim-request:r4', 'claim-request:r5']) await r.answer(n);
  await done;
  assert.equal(r.most(), 4);
  assert.equal(r.finished.length, 6);
});

test('an action waits for the earlier actions on its request or its nodes, in plan order', async () => {
  const r = recorder();
  // r1's claim takes node n1; r1's fulfilment must follow it, and so must n1's delete (another
  // record's action in between runs at once).
  const actions = [claim('r1', ['n1']), claim('r2'), fulfil('r1', ['n1']), del('n1'), del('n9')];
  const done = applySideBySide(actions, 16, r.run);
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(r.started, ['claim-request:r1', 'claim-request:r2', 'delete-node:n9']);
  await r.answer('claim-request:r1');
  assert.deepEqual(r.started.slice(3), ['fulfill-request:r1'], 'the fulfilment after its claim; the delete of n1 still waits for it');
  await r.answer('fulfill-request:r1');
  assert.deepEqual(r.started.slice(4), ['delete-node:n1']);
  for (const n of ['claim-request:r2', 'delete-node:n9', 'delete-node:n1']) await r.answer(n);
  await done;
  assert.deepEqual(r.finished.indexOf('fulfill-request:r1') < r.finished.indexOf('delete-node:n1'), true);
});

test('a pass starts its first claims and launches only; every other action of the plan it applies', () => {
  const launch = (i: number): Action => ({ type: 'launch', label: `l${i}`, provider: 'p', pool: 'main' });
  const plan = [fulfil('r0', ['n0']), claim('r1'), launch(1), claim('r2'), del('n5'), claim('r3'), fulfil('r4', ['n4'])];
  const applied = thisPass(plan, 2);
  assert.deepEqual(applied, [fulfil('r0', ['n0']), claim('r1'), launch(1), del('n5'), fulfil('r4', ['n4'])]);
  assert.deepEqual(thisPass(plan, 10), plan);
});
