import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from './helpers.ts';
import { allocated, approve, change, items, reported, reports, run, startWorld, upload, type GateWorld } from './gate-helpers.ts';

/**
 * `nodepool gate` as a process of its own beside `nodepool run`'s API and launcher: killed with
 * SIGKILL while its queue runs, started again under the same name, it resumes: every change
 * ends reported exactly once, one approved while it was down is caught up through the REST
 * query API, and no node stays allocated. Then an operator drives it from the command line.
 */

const bin = new URL('../../bin/nodepool.js', import.meta.url).pathname;
let w: GateWorld;
let gate: ChildProcess | null = null;
let starts = 0;

function startGate(): ChildProcess {
  const out = openSync(join(w.dir, `gate-${++starts}.log`), 'w');
  const child = spawn(process.execPath, [bin, '-c', join(w.dir, 'nodepool.yaml'), 'gate', '--name', 'gate-test', '--port', '0'], {
    stdio: ['ignore', out, out], env: { ...process.env, NODEPOOL_LOG_LEVEL: 'info' },
  });
  return child;
}

function gateLog(): string {
  return Array.from({ length: starts }, (_, i) => readFileSync(join(w.dir, `gate-${i + 1}.log`), 'utf8')).join('\n---\n').slice(-4000);
}

const cli = (...args: string[]) => run(process.execPath, [bin, '-c', join(w.dir, 'nodepool.yaml'), ...args], { env: { ...process.env, NODEPOOL_LOG_LEVEL: 'silent' } });

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
    run:
      - shell: |
          sleep 4
          # A change with slow.txt runs long enough for an operator to look at it and dequeue it.
          if [ -f src/org/app/slow.txt ]; then sleep 60; fi
          ! grep -rq FAIL src/org/app --include='*.txt'
projects:
  - name: org/app
    queue: integrated
    gate: {jobs: [integration]}
`, { gateProcess: true });
  gate = startGate();
});
after(async () => {
  gate?.kill('SIGKILL');
  await w?.done();
});

test('kill -9 of the gate mid-queue: after a restart every change is reported once and no node stays allocated', async () => {
  try {
    await killAndResume();
  } catch (err) {
    console.log(gateLog());
    throw err;
  }
});

async function killAndResume(): Promise<void> {
  const changes = [];
  for (const n of [1, 2, 3]) changes.push(await upload(w, 'org/app', `app: change ${n}`, { [`f${n}.txt`]: `${n}\n` }));
  for (const c of changes) await approve(w, c.number);
  await eventually('all three running on nodes', async () => {
    const running = (await items(w)).filter((i) => i.buildset?.builds.some((b) => b.state === 'running'));
    return running.length === 3;
  }, 60_000, 100);
  gate!.kill('SIGKILL');
  await new Promise((r) => gate!.once('exit', r));
  assert.ok(await allocated(w) >= 3, 'the dead gate\'s nodes are still allocated');

  // While it is down: another change is approved (its event is lost with the stream).
  const late = await upload(w, 'org/app', 'app: change 4', { 'f4.txt': '4\n' });
  await approve(w, late.number);

  gate = startGate();
  for (const c of [...changes, late]) {
    await eventually(`change ${c.number} merged`, async () => (await change(w, c.number)).status === 'MERGED', 120_000, 200);
  }
  for (const c of [...changes, late]) {
    const [r, ...more] = await reports(w, c.number);
    assert.match(r!.message, /Build succeeded \(gate pipeline\)/);
    assert.deepEqual(more, [], `change ${c.number} reported once`);
  }
  await eventually('every node given back', async () => (await allocated(w)) === 0, 30_000);
  const outcomes = (await w.sys.store.gate.listEvents()).map((e) => [e.source, e.outcome]);
  assert.ok(outcomes.some(([source, outcome]) => source === 'catch-up:gerrit' && outcome === `enqueued ${late.number},1 into gate`), JSON.stringify(outcomes));
}

test('an operator enqueues, lists and dequeues with the CLI, and an autohold keeps a failed build\'s node', async () => {
  try {
    await operatorDrives();
  } catch (err) {
    console.log(gateLog());
    throw err;
  }
});

/** A CLI command that must fail with this exit code and a stderr matching `said`; its output is in the message when not. */
async function refused(args: string[], code: number, said: RegExp): Promise<void> {
  const err = await cli(...args).then(() => null, (e: { code?: number; stdout?: string; stderr?: string }) => e);
  assert.ok(err, `nodepool ${args.join(' ')} succeeded`);
  const out = `exit ${err.code}; stdout: ${err.stdout}; stderr: ${err.stderr}`;
  assert.equal(err.code, code, out);
  assert.match(err.stderr ?? '', said, out);
}

async function operatorDrives(): Promise<void> {
  const c = await upload(w, 'org/app', 'app: not approved yet', { 'slow.txt': 'g\n' });
  const enq = await cli('gate', 'enqueue', '--change', `${c.number},1`, '--pipeline', 'gate');
  assert.equal(enq.stdout.trim(), `enqueued ${c.number},1 into gate`);
  const status = JSON.parse((await cli('gate', 'status', '--json')).stdout);
  const queue = status.pipelines.find((p: any) => p.name === 'gate').change_queues.find((q: any) => q.name === 'integrated');
  assert.deepEqual(queue.heads[0].map((i: any) => i.id), [`${c.number},1`]);
  assert.match((await cli('gate', 'status')).stdout, new RegExp(`gate \\(dependent\\): 1 item\\n queue integrated\\n  ${c.number},1 +org/app`));
  const deq = await cli('gate', 'dequeue', '--change', `${c.number},1`, '--pipeline', 'gate');
  assert.equal(deq.stdout.trim(), `dequeued ${c.number},1 from gate`);
  await eventually('its node given back', async () => (await allocated(w)) === 0, 30_000);
  assert.deepEqual(await reports(w, c.number), []);

  await refused(['gate', 'enqueue', '--change', '999', '--pipeline', 'gate'], 1, /nodepool: change: cannot read change 999 from Gerrit: Gerrit answered 404/);
  await refused(['gate', 'enqueue', '--change', `${c.number}`, '--pipeline', 'chek'], 2, /pipeline: unknown pipeline "chek" \(pipelines: gate\)/);

  const hold = await cli('autohold', 'add', '--job', 'integration', '--project', 'org/app', '--reason', 'see why it fails');
  assert.match(hold.stdout, /^autohold \S+: the next 1 failed build\(s\) of integration in org\/app keep their nodes \(see why it fails\)/);
  const bad = await upload(w, 'org/app', 'app: FAIL', { 'bad.txt': 'FAIL\n' });
  await approve(w, bad.number);
  await reported(w, bad.number, 1, 60_000);
  const held = await eventually('the node held', async () => (await w.sys.store.listNodes({ states: ['hold'] }))[0]);
  assert.match(held.holdReason!, /see why it fails \(integration, change \d+,1\)/);
  // Held for the gate's hold-expiration (default a day), then deleted by the launcher.
  const day = held.holdExpires! - held.stateTime;
  assert.ok(Math.abs(day - 86_400_000) < 5_000, `held for ${day} ms`);
  assert.match((await cli("autohold", "list")).stdout, /\| org\/app +\| integration +\| +\| 1 +\| 1 +\| see why it fails +\|/);
}
