import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Build, BuildResult, ChangeRef, Item } from '../../src/gate/model.ts';
import { planPipeline, type Action, type PlanInput } from '../../src/gate/planner.ts';

/**
 * The queue planner as a story: items enter a gate queue, builds finish, one fails, one ahead
 * merges. Each step is the planner's answer to the state the scheduler would hold then.
 */

function change(n: number, project = 'org/app'): ChangeRef {
  return {
    connection: 'gerrit', project, branch: 'master', number: n, patchset: 1, ref: `refs/changes/0${n}/${n}/1`, revision: `rev${n}`,
    changeId: `I${n}`, subject: `change ${n}`, url: `http://g/c/${project}/+/${n}`, owner: 'dev', message: '',
  };
}

function item(id: string, n: number, o: Partial<Item> = {}): Item {
  return {
    id, pipeline: 'gate', queue: 'integrated', seq: n, state: 'active', change: change(n), needs: [], enqueuedAt: n,
    buildset: null, result: null, reason: null, reportedAt: null, updatedAt: n, ...o,
  };
}

function build(id: string, o: Partial<Build> = {}): Build {
  return { id, job: id.split('-')[0]!, voting: true, state: 'waiting', result: null, requestId: null, nodes: [], startedAt: null, endedAt: null, logUrl: null, error: null, held: false, ...o };
}

/** An item prepared on `base`, with these builds. */
function ready(it: Item, base: string[], builds: Build[]): Item {
  return { ...it, buildset: { id: `bs-${it.id}`, base, state: 'ready', commits: {}, files: [], conflict: null, builds, createdAt: 0 } };
}

const done = (id: string, result: BuildResult, o: Partial<Build> = {}) => build(id, { state: 'done', result, ...o });

function plan(items: Item[], o: Partial<PlanInput> = {}): Action[] {
  return planPipeline({ manager: 'dependent', items, mergedItems: new Set(), mergedChanges: new Set(), freeSlots: 10, ...o }).actions;
}

test('a dependent queue prepares each item on top of the ones ahead of it', () => {
  assert.deepEqual(plan([item('a', 1), item('b', 2), item('c', 3)]), [
    { type: 'prepare', itemId: 'a', base: [] },
    { type: 'prepare', itemId: 'b', base: ['a'] },
    { type: 'prepare', itemId: 'c', base: ['a', 'b'] },
  ]);
});

test('builds start in queue order while slots are free', () => {
  const items = [
    ready(item('a', 1), [], [build('unit-a'), build('lint-a')]),
    ready(item('b', 2), ['a'], [build('unit-b')]),
  ];
  const r = planPipeline({ manager: 'dependent', items, mergedItems: new Set(), mergedChanges: new Set(), freeSlots: 2 });
  assert.deepEqual(r.actions, [{ type: 'start', itemId: 'a', buildId: 'unit-a' }, { type: 'start', itemId: 'a', buildId: 'lint-a' }]);
  assert.equal(r.freeSlots, 0);
});

test('builds start while the workspace is still being prepared, so their nodes are asked for meanwhile; a conflict starts none', () => {
  const merging = { ...item('a', 1), buildset: { id: 'bs', base: [], state: 'merging' as const, commits: {}, files: [], conflict: null, builds: [build('unit-a')], createdAt: 0 } };
  assert.deepEqual(plan([merging]), [{ type: 'start', itemId: 'a', buildId: 'unit-a' }]);
  const conflict = { ...merging, buildset: { ...merging.buildset, state: 'conflict' as const, conflict: 'x' } };
  assert.deepEqual(plan([conflict]).map((a) => a.type), ['report']);
});

test('a failing item: those behind restart without it; it is reported once its builds are done and it is at the head', () => {
  const a = ready(item('a', 1), [], [build('unit-a', { state: 'running' })]);
  const bRunning = ready(item('b', 2), ['a'], [done('unit-b', 'FAILURE'), build('lint-b', { state: 'running' })]);
  const c = ready(item('c', 3), ['a', 'b'], [build('unit-c', { state: 'running' })]);
  // b failed one voting job: c is prepared again on a alone; b keeps running its other job.
  assert.deepEqual(plan([a, bRunning, c]), [{ type: 'prepare', itemId: 'c', base: ['a'] }]);
  // b's last build ends; a is still being tested (b's failure may be a's fault): b waits.
  const bDone = ready(item('b', 2), ['a'], [done('unit-b', 'FAILURE'), done('lint-b', 'SUCCESS')]);
  const c2 = ready(item('c', 3), ['a'], [build('unit-c', { state: 'running' })]);
  assert.deepEqual(plan([a, bDone, c2]), []);
  // a merged: b is at the head and reported.
  assert.deepEqual(plan([bDone, c2], { mergedItems: new Set(['a']) }), [{ type: 'report', itemId: 'b', result: 'FAILURE', reason: 'unit: FAILURE' }]);
});

test('a non-voting failure never blocks', () => {
  const a = ready(item('a', 1), [], [done('unit-a', 'SUCCESS'), done('tempest-a', 'FAILURE', { voting: false })]);
  const b = ready(item('b', 2), ['a'], [done('unit-b', 'SUCCESS')]);
  assert.deepEqual(plan([a, b]), [{ type: 'report', itemId: 'a', result: 'SUCCESS', reason: null }]);
});

test('an item merges only after its base has merged, and the merge of the head re-bases nothing', () => {
  const bComplete = ready(item('b', 2), ['a'], [done('unit-b', 'SUCCESS')]);
  const aReporting = { ...ready(item('a', 1), [], [done('unit-a', 'SUCCESS')]), state: 'reporting' as const, result: 'SUCCESS' as const };
  // a is being reported (merging): b waits, and stays on top of it.
  assert.deepEqual(plan([aReporting, bComplete]), []);
  // a merged and left the queue: b's base is met.
  assert.deepEqual(plan([bComplete], { mergedItems: new Set(['a']) }), [{ type: 'report', itemId: 'b', result: 'SUCCESS', reason: null }]);
});

test('an item ahead that leaves unmerged (dequeued, or its submit failed) re-bases those behind', () => {
  const c = ready(item('c', 3), ['a', 'b'], [build('unit-c', { state: 'running' })]);
  assert.deepEqual(plan([item('a', 1, { buildset: ready(item('a', 1), [], []).buildset }), c]), [
    { type: 'report', itemId: 'a', result: 'SUCCESS', reason: null },
    { type: 'prepare', itemId: 'c', base: ['a'] },
  ]);
});

test('a merge conflict at the head is reported as one, at once', () => {
  const a = { ...item('a', 1), buildset: { id: 'bs', base: [], state: 'conflict' as const, commits: {}, files: [], conflict: 'README: both modified', builds: [], createdAt: 0 } };
  const b = ready(item('b', 2), ['a'], [build('unit-b', { state: 'running' })]);
  assert.deepEqual(plan([a, b]), [
    { type: 'report', itemId: 'a', result: 'MERGE_CONFLICT', reason: 'README: both modified' },
    { type: 'prepare', itemId: 'b', base: [] },
  ]);
});

test('Depends-On: met by an item ahead or a merged change; otherwise the item fails with the reason', () => {
  const a = ready(item('a', 1), [], [build('unit-a', { state: 'running' })]);
  const needsA = ready(item('b', 2, { needs: [change(1)] }), ['a'], [build('unit-b', { state: 'running' })]);
  assert.deepEqual(plan([a, needsA]), []);
  const needsMerged = ready(item('b', 2, { needs: [change(7)] }), [], [build('unit-b', { state: 'running' })]);
  assert.deepEqual(plan([needsMerged], { mergedChanges: new Set([7]) }), []);
  // a fails: b can no longer merge.
  const aFailed = ready(item('a', 1), [], [done('unit-a', 'FAILURE'), build('lint-a', { state: 'running' })]);
  assert.deepEqual(plan([aFailed, needsA]), [{
    type: 'report', itemId: 'b', result: 'FAILURE', reason: 'depends on change 1,1, which is neither merged nor ahead of it in the queue',
  }]);
});

test('an independent pipeline tests every item alone and reports each when done', () => {
  const items = [item('a', 1, { queue: 'a' }), ready(item('b', 2, { queue: 'b' }), [], [done('unit-b', 'TIMED_OUT')])];
  assert.deepEqual(plan(items, { manager: 'independent' }), [
    { type: 'prepare', itemId: 'a', base: [] },
    { type: 'report', itemId: 'b', result: 'FAILURE', reason: 'unit: TIMED_OUT' },
  ]);
});
