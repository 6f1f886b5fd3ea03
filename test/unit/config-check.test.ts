import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkConfigFile, type CheckOptions } from '../../src/config/check.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
// The operator types a relative path; the report repeats it as typed.
const rel = (p: string) => relative(process.cwd(), join(root, p));

/** An empty folder, removed when this file's tests are done. */
const made: string[] = [];
const empty = () => { const d = mkdtempSync(join(tmpdir(), 'np-check-')); made.push(d); return d; };
after(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });
/** A machine with no clouds.yaml anywhere, or with the one given. */
const machine = (cloudsFile?: string): CheckOptions => ({
  clouds: { env: cloudsFile ? { OS_CLIENT_CONFIG_FILE: cloudsFile } : {}, cwd: empty(), home: empty(), siteDirs: [] },
});
const fixtureClouds = machine(join(root, 'test/fixtures/config/valid/clouds.yaml'));

test('checking the example says what it holds', () => {
  // Its clouds are simulated: no clouds.yaml is needed.
  const result = checkConfigFile(rel('nodepool.example.yaml'), machine());
  assert.equal(result.ok, true);
  assert.deepEqual(result.errors, []);
  assert.equal(result.text, `${rel('nodepool.example.yaml')}: OK (4 labels, 3 providers, 3 pools, gate: 3 pipelines, 5 jobs, 4 projects)`);
});

test('checking a broken file lists each error on its own line', () => {
  const file = rel('test/fixtures/config/broken/unknown-key.yaml');
  const result = checkConfigFile(file);
  assert.equal(result.ok, false);
  assert.equal(
    result.text,
    [
      `${file}: 1 error`,
      `${file}:12:9: providers[0].pools[0].max-server: unknown key "max-server" (did you mean "max-servers"?)`,
    ].join('\n'),
  );
});

test('warnings do not fail a check, and are printed after the summary', () => {
  const file = rel('test/fixtures/config/valid/nodepool-compat.yaml');
  const result = checkConfigFile(file, fixtureClouds);
  assert.equal(result.ok, true);
  const lines = result.text.split('\n');
  assert.equal(lines[0], `${file}: OK (2 labels, 1 provider, 1 pool)`);
  assert.equal(lines.length, 1 + result.warnings.length);
  assert.ok(lines.slice(1).every((l) => l.includes(': warning: ')));
});

test('a file that does not exist fails the check instead of throwing', () => {
  const result = checkConfigFile('no-such-nodepool.yaml');
  assert.equal(result.ok, false);
  assert.equal(result.text, 'no-such-nodepool.yaml: 1 error\nno-such-nodepool.yaml: cannot read: no such file');
});

test('a provider whose cloud is in no clouds.yaml fails the check, naming the provider, its line and where clouds.yaml was looked for', () => {
  const file = rel('test/fixtures/config/valid/minimal.yaml');
  const where = machine();
  const result = checkConfigFile(file, where);
  assert.equal(result.ok, false);
  const lines = result.text.split('\n');
  assert.equal(lines[0], `${file}: 1 error`);
  const cwd = where.clouds!.cwd!;
  assert.equal(lines[1], `${file}:8:12: providers[0].cloud: provider "rax-dfw": cloud "rax" is not defined in clouds.yaml or by OS_* variables ` +
    `(no clouds are defined; looked in: ${cwd}/{clouds,secure}.{yaml,yml,json}, ${where.clouds!.home}/.config/openstack/{clouds,secure}.{yaml,yml,json}); ` +
    'add it to clouds.yaml, or list it under cloud-sim.clouds to have the built-in simulator serve it');
  // With the cloud in clouds.yaml, the same file is fine.
  assert.equal(checkConfigFile(file, fixtureClouds).ok, true);
});

test('a misspelt cloud is not served by the simulator: only the clouds cloud-sim.clouds names are', () => {
  const dir = empty();
  const example = readFileSync(join(root, 'nodepool.example.yaml'), 'utf8');
  const file = join(dir, 'nodepool.yaml');
  writeFileSync(file, example.replace('cloud: sim-west', 'cloud: sim-wset').replace('images-dir: state/images', `images-dir: ${dir}/images`)
    .replace('gate: gate.example.yaml', `gate: ${join(root, 'gate.example.yaml')}`));
  const result = checkConfigFile(file, machine());
  assert.equal(result.ok, false);
  assert.match(result.text, /providers\[1\]\.cloud: provider "sim-west": cloud "sim-wset" is not defined in clouds\.yaml/);
  // The simulated cloud no provider names any more is pointed out too.
  assert.match(result.text, /:\d+:\d+: warning: cloud-sim\.clouds\[1\]: no provider names cloud "sim-west"/);
});

test('cloud-sim.enabled, the old switch, is refused with what replaced it', () => {
  const dir = empty();
  const file = join(dir, 'nodepool.yaml');
  writeFileSync(file, 'cloud-sim:\n  enabled: auto\n');
  const result = checkConfigFile(file, machine());
  assert.equal(result.ok, false);
  assert.match(result.text, /:2:12: cloud-sim\.enabled: no longer used: the simulator serves only the clouds listed in cloud-sim\.clouds \(none by default\)/);
});
