import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from './helpers.ts';
import { allocated, items, reported, sim, startWorld, upload, type GateWorld } from './gate-helpers.ts';

/**
 * Jobs as their authors see them: a three-node TripleO-style job where every node is told every
 * node's addresses and the undercloud logs in to the overcloud nodes over SSH; a job that runs
 * past its timeout; and the gate carrying on after bad input (an unreadable stream-events line,
 * an event for a project it does not know, a malformed webhook).
 */

let w: GateWorld;

before(async () => {
  w = await startWorld(`
pipelines:
  - name: check
    manager: independent
    trigger:
      gerrit:
        - event: patchset-created
    success: {gerrit: {Verified: 1}}
    failure: {gerrit: {Verified: -1}}
nodesets:
  - name: tripleo-3
    nodes:
      - {name: undercloud, label: centos-9-stream}
      - {name: overcloud-controller, label: centos-9-stream}
      - {name: overcloud-compute, label: centos-9-stream}
    groups:
      - {name: overcloud, nodes: [overcloud-controller, overcloud-compute]}
jobs:
  - name: tripleo-multinode
    nodeset: tripleo-3
    timeout: 120
    run:
      - name: every node knows every node
        hosts: [all]
        shell: |
          set -e
          for n in $NODEPOOL_NODES; do
            v=NODEPOOL_NODE_$(echo $n | tr a-z- A-Z_)_IP
            eval ip=\\$$v
            test -n "$ip"
            grep -q "\\"$ip\\"" nodepool/inventory.json
          done
          test "$(wc -l < nodepool/sub_nodes_private)" = 2
          test "$(cat nodepool/node_name)" = "$NODEPOOL_NODE_NAME"
      - name: the undercloud reaches the overcloud over SSH
        hosts: [undercloud]
        shell: |
          set -e
          mkdir -p logs
          for n in $NODEPOOL_GROUP_OVERCLOUD; do
            ssh -F "$HOME/.ssh/config" $n cat nodepool/node_name >> logs/reached
          done
          cat logs/reached
  - name: slow
    nodeset: {nodes: [{name: box, label: ubuntu-jammy}]}
    timeout: 3
    run: [sleep 60]
  - name: quick
    nodeset: {nodes: [{name: box, label: ubuntu-jammy}]}
    run: ['true']
projects:
  - name: org/tripleo
    check: {jobs: [tripleo-multinode, slow]}
  - name: org/app
    check: {jobs: [quick]}
`);
});
after(async () => { await w?.done(); });

test('a three-node job sees every node\'s addresses and SSHes from one node to another; a job past its timeout is TIMED_OUT', async () => {
  const c = await upload(w, 'org/tripleo', 'Deploy the overcloud', { 'deploy.sh': 'echo deploy\n' });
  const [r] = await reported(w, c.number, 1, 90_000);
  assert.match(r!.message, /^Patch Set 1: Verified-1\n\nBuild failed \(check pipeline\)\.\n\nslow: TIMED_OUT/);
  assert.match(r!.message, /\n- tripleo-multinode \S+ : SUCCESS in \d+s\n- slow \S+ : TIMED_OUT in \d+s\n/);
  const item = (await items(w)).find((i) => i.change.number === c.number)!;
  const tripleo = item.buildset!.builds.find((b) => b.job === 'tripleo-multinode')!;
  assert.deepEqual(tripleo.nodes.map((n) => n.name), ['undercloud', 'overcloud-controller', 'overcloud-compute']);
  assert.equal(new Set(tripleo.nodes.map((n) => n.provider)).size, 1);
  assert.equal(await (await fetch(`${tripleo.logUrl}undercloud/reached`)).text(), 'overcloud-controller\novercloud-compute\n');
  const inventory = await (await fetch(`${tripleo.logUrl}inventory.json`)).json() as { nodes: { name: string; private_ipv4: string; groups: string[] }[] };
  assert.deepEqual(inventory.nodes.map((n) => [n.name, n.groups]), [['undercloud', []], ['overcloud-controller', ['overcloud']], ['overcloud-compute', ['overcloud']]]);
  const slow = item.buildset!.builds.find((b) => b.job === 'slow')!;
  assert.equal(slow.result, 'TIMED_OUT');
  assert.match(await (await fetch(`${slow.logUrl}job-output.txt`)).text(), /TIMED OUT after 3 s/);
  // Its nodes were released as used: none stays allocated, none in use.
  await eventually('every node released', async () => (await allocated(w)) === 0 && !(await w.sys.store.listNodes({ states: ['in-use'] })).length);
  const requests = (await w.sys.store.listRequests()).filter((q) => q.requestor === 'gate');
  assert.deepEqual(requests.map((q) => q.labels.length).sort(), [1, 3]);
});

test('bad input is refused or skipped with a clear error, and the gate keeps running', async () => {
  // An unreadable line on the event stream.
  await sim(w, '/sim/stream', { line: '{"type": "patchset-created", "change": ' });
  await sim(w, '/sim/stream', { line: JSON.stringify({ type: 'patchset-created', change: { project: 'org/app', branch: 'master' }, patchSet: { number: 1 } }) });
  await eventually('two lines skipped', async () => w.sys.gate!.malformedLines === 2);
  // A change to a project the gate does not know.
  await sim(w, '/sim/projects', { name: 'org/unknown' });
  await upload(w, 'org/unknown', 'Something else', { 'x.txt': 'x\n' });
  const outcome = await eventually('the event handled', async () => {
    const events = await w.sys.store.gate.listEvents();
    return events.find((e) => e.outcome?.includes('org/unknown'))?.outcome;
  });
  assert.equal(outcome, 'ignored: project org/unknown is not in the gate configuration');
  // A webhook with a malformed event: 400 naming the field.
  const hook = await fetch(`${w.sys.apiUrl}/gate/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'comment-added', change: { project: 'org/app', branch: 'master', number: 'x' } }) });
  assert.equal(hook.status, 400);
  const body = await hook.json() as { error: { field: string; message: string } };
  assert.equal(body.error.field, 'change.number');
  assert.match(body.error.message, /^comment-added event: change\.number: expected number/);
  // The gate still works.
  const c = await upload(w, 'org/app', 'Still fine', { 'ok.txt': 'ok\n' });
  const [r] = await reported(w, c.number);
  assert.match(r!.message, /^Patch Set 1: Verified\+1\n\nBuild succeeded/);
});
