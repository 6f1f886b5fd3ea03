import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkConfigFile } from '../../src/config/check.ts';
import { validateConfigText } from '../../src/config/load.ts';
import { loadGateFile } from '../../src/gate/config/load.ts';
import { scratch } from '../integration/helpers.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const rel = (p: string) => relative(process.cwd(), join(root, p));

test('a gate.yaml: jobs inherit from their parent, templates merge into projects, regexes compile', () => {
  const g = loadGateFile(rel('test/fixtures/gate/valid.yaml'));
  assert.deepEqual(g.pipelines.map((p) => [p.name, p.manager, p.priority]), [['check', 'independent', 100], ['gate', 'dependent', 50]]);
  const unit = g.jobs.get('unit')!;
  assert.equal(unit.timeoutMs, 600_000);
  assert.deepEqual(unit.nodeset.nodes, [{ name: 'controller', label: 'ubuntu-jammy' }]);
  assert.deepEqual(unit.postRun.map((s) => s.shell), ['tar -czf logs.tgz logs || true']);
  assert.deepEqual(unit.vars, { CI: 'true' });
  assert.ok(unit.files[0]!.test('src/app.py') && !unit.files[0]!.test('doc/x'));
  const multi = g.jobs.get('multinode')!;
  assert.equal(multi.voting, false);
  assert.deepEqual(multi.nodeset.groups, [{ name: 'overcloud', nodes: ['overcloud-0', 'overcloud-1'] }]);
  assert.deepEqual(multi.run, [{ name: 'deploy', shell: './deploy', hosts: ['undercloud'] }]);
  const app = g.projects.get('org/app')!;
  assert.deepEqual(app.pipelines.get('check'), [{ name: 'unit', voting: null }, { name: 'multinode', voting: null }]);
  assert.deepEqual(g.projects.get('org/lib')!.pipelines.get('gate'), [{ name: 'unit', voting: false }]);
  assert.equal(app.queue, 'integrated');
  const recheck = g.pipelines[0]!.triggers[1]!.comment[0]!;
  assert.ok(recheck.test('Patch Set 1:\n\nRECHECK'));
  assert.deepEqual(g.pipelines[1]!.require, [{ connection: 'gerrit', approval: [{ label: 'Code-Review', values: [2] }, { label: 'Workflow', values: [1] }], open: true }]);
  assert.deepEqual(g.pipelines[1]!.success, [{ connection: 'gerrit', labels: { Verified: 2 }, submit: true }]);
  assert.equal(g.connections[0]!.gitUrl, 'http://127.0.0.1:8080/{project}');
});

test('config check on a gate.yaml names every problem at its line', () => {
  const file = rel('test/fixtures/gate/broken.yaml');
  const r = checkConfigFile(file);
  assert.equal(r.ok, false);
  assert.deepEqual(r.text.split('\n'), [
    `${file}: 11 errors`,
    `${file}:7:14: pipelines[0].manager: expected "independent" or "dependent", found "independant"`,
    `${file}:9:7: pipelines[0].trigger.gerit: unknown connection "gerit" (connections: gerrit)`,
    `${file}:12:21: pipelines[0].trigger.gerit[1].comment: not a regular expression: Unterminated group`,
    `${file}:15:13: jobs[0].parent: unknown parent job "tox"`,
    `${file}:16:5: jobs[0].timout: unknown key "timout" (did you mean "timeout"?)`,
    `${file}:18:13: jobs[1].parent: parent chain of job "a" loops back to "a"`,
    `${file}:20:13: jobs[2].parent: parent chain of job "b" loops back to "b"`,
    `${file}:21:14: jobs[2].nodeset: unknown nodeset "missing"`,
    `${file}:24:17: projects[0].templates[0]: unknown project template "python"`,
    `${file}:25:5: projects[0].chek: unknown pipeline "chek" (pipelines: check)`,
    `${file}:28:20: projects[0].check.jobs[1]: unknown job "nope"`,
  ]);
});

test('nodepool.yaml names its gate.yaml; problems there are reported in that file', () => {
  const tmp = scratch('np-gatecfg-');
  try {
    writeFileSync(join(tmp.dir, 'gate.yaml'), 'connections:\n  - {name: gerrit, driver: gerrit, user: zuul}\njobs:\n  - name: j\n    voting: maybe\n');
    const r = validateConfigText('gate: gate.yaml\n', join(tmp.dir, 'nodepool.yaml'));
    assert.equal(r.config, null);
    assert.deepEqual(r.errors.map((e) => [e.file, e.line, e.path, e.message]), [[join(tmp.dir, 'gate.yaml'), 5, 'jobs[0].voting', 'expected true or false, found "maybe"']]);
    const missing = validateConfigText('gate: nowhere.yaml\n', join(tmp.dir, 'nodepool.yaml'));
    assert.deepEqual(missing.errors.map((e) => [e.line, e.message]), [[1, 'cannot read nowhere.yaml: no such file']]);
    const inline = validateConfigText('gate:\n  connections:\n    - {name: g, driver: gerrit, user: zuul}\n  pipelines:\n    - {name: check, manager: independent, trigger: {g: [{event: patchset-created}]}}\n', join(tmp.dir, 'nodepool.yaml'));
    assert.deepEqual(inline.errors, []);
    assert.equal(inline.config!.gate!.pipelines[0]!.name, 'check');
  } finally {
    tmp.done();
  }
});
