import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkConfigFile } from '../../src/config/check.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
// The operator types a relative path; the report repeats it as typed.
const rel = (p: string) => relative(process.cwd(), join(root, p));

test('checking the example says what it holds', () => {
  const result = checkConfigFile(rel('nodepool.example.yaml'));
  assert.equal(result.ok, true);
  assert.deepEqual(result.errors, []);
  assert.equal(result.text, `${rel('nodepool.example.yaml')}: OK (3 labels, 2 providers, 2 pools)`);
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
  const result = checkConfigFile(file);
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
