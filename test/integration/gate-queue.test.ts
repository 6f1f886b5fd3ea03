import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from './helpers.ts';
import { allocated, approve, branchLog, change, items, reported, startWorld, upload, type GateWorld } from './gate-helpers.ts';

/**
 * The gate pipeline: approved changes of two projects that share a queue are tested in order,
 * each on top of the ones ahead of it, all at once. The job checks it got exactly the
 * speculative state (every change ahead and its own, at the prepared commits), takes a few
 * seconds, and fails when the app carries a FAIL marker.
 */

let w: GateWorld;

before(async () => {
  w = await startWorld(`
pipelines:
  - name: gate
    manager: dependent
    trigger:
      gerrit:
        - event: comment-added
          approval: [{Workflow: 1}]
    require:
      gerrit:
        approval: [{Code-Review: 2}, {Workflow: 1}]
    success: {gerrit: {Verified: 2, submit: true}}
    failure: {gerrit: {Verified: -1}}
jobs:
  - name: integration
    nodeset: {nodes: [{name: controller, label: ubuntu-jammy}]}
    timeout: 120
    required-projects: [org/app, org/lib]
    run:
      - name: the speculative state
        shell: |
          set -e
          mkdir -p ~/logs
          cp ~/nodepool/changes ~/nodepool/commits ~/logs/
          while read project change rev; do
            git -C src/$project merge-base --is-ancestor $rev HEAD
          done < ~/nodepool/changes
          while read project commit; do
            test "$(git -C src/$project rev-parse HEAD)" = "$commit"
          done < ~/nodepool/commits
          sleep 3
          if grep -rq FAIL src/org/app --include='*.txt'; then echo "the app is broken"; exit 1; fi
projects:
  - name: org/app
    queue: integrated
    gate: {jobs: [integration]}
  - name: org/lib
    queue: integrated
    gate: {jobs: [integration]}
`);
});
after(async () => { await w?.done(); });

test('five changes in two projects, one Depends-On, the third fails: it is removed, the rest merge in order', async () => {
  const c1 = await upload(w, 'org/lib', 'lib: add helper', { 'helper.txt': 'helper\n' });
  const c2 = await upload(w, 'org/app', 'app: use helper', { 'use.txt': 'uses helper\n' }, `Depends-On: ${c1.url}`);
  const c3 = await upload(w, 'org/app', 'app: break it', { 'broken.txt': 'FAIL\n' });
  const c4 = await upload(w, 'org/lib', 'lib: docs', { 'docs.txt': 'docs\n' });
  const c5 = await upload(w, 'org/app', 'app: more', { 'more.txt': 'more\n' });
  for (const c of [c1, c2, c3, c4, c5]) await approve(w, c.number);

  // While they run, the queue is the five changes in order, each on top of those ahead.
  await eventually('all five queued', async () => (await items(w)).filter((i) => i.state === 'active').length === 5 || null);
  const queued = (await items(w)).filter((i) => i.pipeline === 'gate');
  assert.deepEqual(queued.map((i) => i.change.number), [c1, c2, c3, c4, c5].map((c) => c.number));
  assert.deepEqual(new Set(queued.map((i) => i.queue)), new Set(['integrated']));
  assert.deepEqual(queued[1]!.needs.map((n) => n.number), [c1.number]);

  for (const c of [c1, c2, c4, c5]) await eventually(`change ${c.number} merged`, async () => (await change(w, c.number)).status === 'MERGED', 90_000, 200);
  const [failed] = await reported(w, c3.number, 1, 60_000);
  assert.match(failed!.message, /^Patch Set 1: Verified-1\n\nBuild failed \(gate pipeline\)\.\n\nintegration: FAILURE/);
  assert.equal((await change(w, c3.number)).status, 'NEW');
  for (const c of [c1, c2, c4, c5]) {
    const [r] = await reported(w, c.number);
    assert.match(r!.message, /^Patch Set 1: Verified\+2\n\nBuild succeeded \(gate pipeline\)\.\n\n- integration \S+ : SUCCESS in \d+s/);
  }

  // The branches hold exactly the passing changes, in queue order.
  assert.deepEqual((await branchLog(w, 'org/lib')).map((l) => l.subject), ['Merge "lib: docs"', 'lib: add helper', 'Initial empty repository']);
  assert.deepEqual((await branchLog(w, 'org/app')).map((l) => l.subject), ['Merge "app: more"', 'app: use helper', 'Initial empty repository']);

  // The fourth and fifth were tested again without the third: the fifth's last run had the fourth
  // ahead of it (the first two ahead too, or already merged), never the third.
  const last5 = (await items(w)).find((i) => i.change.number === c5.number)!;
  const log5 = last5.buildset!.builds[0]!.logUrl!;
  const seen = (await (await fetch(`${log5}controller/changes`)).text()).trim().split('\n').map((l) => l.split(' ')[1]);
  assert.deepEqual(seen.slice(-2), [`${c4.number},1`, `${c5.number},1`]);
  assert.ok(!seen.includes(`${c3.number},1`));
  const requests = (await w.sys.store.listRequests()).filter((r) => r.requestor === 'gate');
  assert.ok(requests.length >= 7, `the fourth and fifth ran twice (${requests.length} node requests for 5 changes)`);
  await eventually('every node given back', async () => (await allocated(w)) === 0);
  assert.deepEqual((await items(w)).map((i) => [i.change.number, i.state, i.result]), [
    [c1.number, 'done', 'SUCCESS'], [c2.number, 'done', 'SUCCESS'], [c3.number, 'done', 'FAILURE'], [c4.number, 'done', 'SUCCESS'], [c5.number, 'done', 'SUCCESS'],
  ]);
});

test('a change that does not merge with the one ahead of it is reported as a merge conflict, not a job failure', async () => {
  const a = await upload(w, 'org/lib', 'lib: settings A', { 'settings.txt': 'A\n' });
  const b = await upload(w, 'org/lib', 'lib: settings B', { 'settings.txt': 'B\n' });
  await approve(w, a.number);
  await approve(w, b.number);
  const [r] = await reported(w, b.number, 1, 60_000);
  assert.match(r!.message, /^Patch Set 1: Verified-1\n\nMerge Failed\.\n\nThis change or one of its cross-repo dependencies was unable to be automatically merged/);
  assert.match(r!.message, /change \d+,1 does not merge into org\/lib master with the changes ahead of it \(conflicting files: settings\.txt\)/);
  assert.doesNotMatch(r!.message, /- integration/);
  await eventually('the first merged', async () => (await change(w, a.number)).status === 'MERGED', 60_000, 200);
  const item = (await items(w)).find((i) => i.change.number === b.number)!;
  assert.equal(item.result, 'MERGE_CONFLICT');
});
