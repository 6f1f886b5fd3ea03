import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/config/errors.ts';
import type { ConfigIssue } from '../../src/config/errors.ts';

const broken = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/config/broken');

/** Every issue of a broken fixture; the fixture must not load. */
function issuesOf(name: string): { issues: ConfigIssue[]; message: string; lineOf: (snippet: string, nth?: number) => number } {
  const file = join(broken, name);
  const lines = readFileSync(file, 'utf8').split('\n');
  // Lines are found by their text, so the fixtures can be read without counting.
  const lineOf = (snippet: string, nth = 1) => {
    let seen = 0;
    const i = lines.findIndex((l) => l.includes(snippet) && ++seen === nth);
    assert.ok(i >= 0, `"${snippet}" is in ${name}`);
    return i + 1;
  };
  try {
    loadConfig(file);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return { issues: e.issues, message: e.message, lineOf };
  }
  assert.fail(`${name} loaded`);
}

function only(issues: ConfigIssue[], path: string): ConfigIssue {
  const found = issues.filter((i) => i.path === path);
  assert.equal(found.length, 1, `one issue at ${path} in ${JSON.stringify(issues, null, 1)}`);
  return found[0];
}

test('a value of the wrong type is reported at the value, with what was expected', () => {
  const { issues, lineOf } = issuesOf('wrong-type.yaml');
  assert.equal(issues.length, 3);

  const minReady = only(issues, 'labels[0].min-ready');
  assert.equal(minReady.line, lineOf('min-ready: two'));
  assert.equal(minReady.column, 16);
  assert.equal(minReady.message, 'expected a number, found "two"');

  const maxServers = only(issues, 'providers[0].pools[0].max-servers');
  assert.equal(maxServers.line, lineOf('max-servers: -1'));
  assert.equal(maxServers.message, 'must be at least 0, found -1');

  const port = only(issues, 'api.port');
  assert.equal(port.line, lineOf('port: "8022"'));
});

test('a missing required key is reported at the mapping it belongs in', () => {
  const { issues, lineOf } = issuesOf('missing-key.yaml');
  const cloud = only(issues, 'providers[0].cloud');
  assert.equal(cloud.line, lineOf('- name: sim'));
  assert.equal(cloud.message, 'missing required key "cloud"');
});

test('a typo in a key is an unknown key, reported at the key with the key it meant', () => {
  const { issues, lineOf } = issuesOf('unknown-key.yaml');
  assert.equal(issues.length, 1, 'the typo is not also reported as a missing max-servers');
  const typo = only(issues, 'providers[0].pools[0].max-server');
  assert.equal(typo.line, lineOf('max-server: 4'));
  assert.equal(typo.column, 9);
  assert.equal(typo.message, 'unknown key "max-server" (did you mean "max-servers"?)');
});

test('a pool label must name a defined label and cloud image, once per pool', () => {
  const { issues, lineOf } = issuesOf('unknown-references.yaml');
  assert.equal(issues.length, 3);

  const label = only(issues, 'providers[0].pools[0].labels[1].name');
  assert.equal(label.line, lineOf('- name: ubuntu-jamy'));
  assert.equal(label.message, 'label "ubuntu-jamy" is not defined in labels (did you mean "ubuntu-jammy"?)');

  const image = only(issues, 'providers[0].pools[0].labels[2].cloud-image');
  assert.equal(image.line, lineOf('cloud-image: centos-9-stream'));
  assert.match(image.message, /cloud-image "centos-9-stream" is not defined in providers\[0\]\.cloud-images \(defined: ubuntu-jammy\)/);

  const twice = only(issues, 'providers[0].pools[0].labels[2].name');
  // The 3rd and 4th `- name: ubuntu-jammy`: after the top-level label and the cloud image.
  assert.equal(twice.line, lineOf('- name: ubuntu-jammy', 4));
  assert.equal(twice.message, `label "ubuntu-jammy" is defined twice in this pool (first at line ${lineOf('- name: ubuntu-jammy', 3)})`);
});

test('a pool label gives exactly one of flavor-name and min-ram', () => {
  const { issues, lineOf } = issuesOf('flavor-choice.yaml');
  const both = only(issues, 'providers[0].pools[0].labels[0].min-ram');
  assert.equal(both.line, lineOf('min-ram: 2048'));
  assert.equal(both.message, 'give either flavor-name or min-ram, not both');

  const neither = only(issues, 'providers[0].pools[0].labels[1]');
  assert.equal(neither.line, lineOf('- name: large', 2));
  assert.equal(neither.message, 'needs flavor-name or min-ram to choose a flavor');
});

test('labels, providers and the pools of a provider have unique names', () => {
  const { issues, lineOf } = issuesOf('duplicate-names.yaml');
  assert.deepEqual(
    issues.map((i) => [i.path, i.line]),
    [
      ['labels[1].name', lineOf('- name: ubuntu-jammy', 2)],
      ['providers[0].pools[1].name', lineOf('- name: main', 2)],
      ['providers[1].name', lineOf('- name: sim', 2)],
    ],
  );
  assert.equal(issues[2].message, `provider "sim" is defined twice (first at line ${lineOf('- name: sim')})`);
});

test('a YAML syntax error is reported at its line, and nothing is checked past it', () => {
  const { issues, lineOf } = issuesOf('syntax-error.yaml');
  assert.equal(issues.length, 1, 'no schema errors from a guessed tree');
  assert.equal(issues[0].line, lineOf('  cloud: sim'));
  assert.equal(issues[0].message, 'YAML: All mapping items must start at the same column');
});

test('a key given twice in one mapping is a YAML error at the second one', () => {
  const { issues, lineOf } = issuesOf('duplicate-key.yaml');
  assert.equal(issues.length, 1);
  assert.equal(issues[0].line, lineOf('cloud: sim-2'));
  assert.equal(issues[0].message, 'YAML: Map keys must be unique');
});

test('every problem in a file is reported at once, in the order of the file', () => {
  const { issues, message, lineOf } = issuesOf('many-errors.yaml');
  assert.deepEqual(
    issues.map((i) => [i.path, i.line]),
    [
      ['labels[0].min-ready', lineOf('min-ready: -2')],
      ['providers[0].driver', lineOf('driver: openstak')],
      ['providers[0].boot-timout', lineOf('boot-timout: 120')],
      ['providers[0].pools[0].labels[0].cloud-image', lineOf('cloud-image: ubuntu-noble')],
    ],
  );
  const file = join(broken, 'many-errors.yaml');
  const lines = message.split('\n');
  assert.equal(lines[0], `${file}: 4 errors`);
  assert.equal(lines[2], `  ${file}:${lineOf('driver: openstak')}:13: providers[0].driver: expected "openstack" or "fake" or "static", found "openstak"`);
});
