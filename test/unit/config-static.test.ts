import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, validateConfigText } from '../../src/config/load.ts';
import { ConfigError } from '../../src/config/errors.ts';

// The static driver's block of nodepool.yaml (providers/static/schema.ts): Nodepool's keys
// accepted, and every mistake reported at its line, naming the field.

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/config');

test('a static provider with Nodepool\'s keys loads beside another driver, one pool slot per parallel job', () => {
  const config = loadConfig(join(fixtures, 'valid/static.yaml'));
  const lab = config.providers.find((p) => p.name === 'vendor-lab')!;
  assert.equal(lab.driver, 'static');
  assert.deepEqual(lab.staticPools, [{
    name: 'main', priority: 100, nodes: [
      {
        name: 'host1.lab.example', labels: ['vendor-gpu'], username: 'zuul', connectionPort: 22, maxParallelJobs: 1, pythonPath: '/usr/bin/python3',
        hostKeyChecking: true, hostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'],
      },
      { name: '192.0.2.10', labels: ['vendor-arm'], username: 'zuul', connectionPort: 2222, maxParallelJobs: 2, pythonPath: 'auto', hostKeyChecking: false, hostKeys: [] },
    ],
  }]);
  assert.equal(lab.pools[0].maxServers, 3);
  assert.deepEqual(lab.pools[0].labels.map((l) => l.name), ['vendor-gpu', 'vendor-arm']);
  assert.equal(config.providers.find((p) => p.name === 'fake-east')!.driver, 'fake');
});

test('every mistake of a static provider is reported at its line, naming the field', () => {
  const file = join(fixtures, 'broken/static.yaml');
  const lines = readFileSync(file, 'utf8').split('\n');
  const lineOf = (snippet: string, nth = 1) => {
    let seen = 0;
    return lines.findIndex((l) => l.includes(snippet) && ++seen === nth) + 1;
  };
  let issues: { path: string; line: number; message: string }[] = [];
  try {
    loadConfig(file);
    assert.fail('loaded');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    issues = e.issues;
  }
  const at = (path: string) => {
    const found = issues.filter((i) => i.path === path);
    assert.equal(found.length, 1, `one issue at ${path} in ${JSON.stringify(issues, null, 1)}`);
    return found[0];
  };
  const node = (i: number, key: string) => `providers[0].pools[0].nodes[${i}].${key}`;
  assert.deepEqual(at(node(0, 'labels[0]')), { ...at(node(0, 'labels[0]')), line: lineOf('vendor-gpx'), message: 'label "vendor-gpx" is not defined in labels (did you mean "vendor-gpu"?)' });
  assert.equal(at(node(0, 'max-parallel-jobs')).message, 'must be at least 1, found 0');
  assert.equal(at(node(0, 'conection-port')).message, 'unknown key "conection-port" (did you mean "connection-port"?)');
  const twice = at(node(1, 'name'));
  assert.equal(twice.line, lineOf('name: host1.lab.example', 2));
  assert.match(twice.message, new RegExp(`^host "host1.lab.example" port 22 is listed twice in this provider .*\\(first at line ${lineOf('name: host1.lab.example')}\\)$`));
  const key = at(node(1, 'host-key[0]'));
  assert.equal(key.line, lineOf('AAAAB3NzaC1yc2E'));
  assert.match(key.message, /^must be a host key in known_hosts form/);
  assert.match(at(node(2, 'host-key-checking')).message, /pinned host-key would never be checked/);
  assert.equal(at(node(3, 'name')).message, 'must be a host name or an IP address');
  assert.equal(at(node(3, 'labels')).message, 'must name at least one label');
  assert.equal(at(node(3, 'connection-type')).message, 'expected "ssh", found "winrm"');
  assert.equal(at('providers[0].pools[1].nodes').message, 'must list at least one host');
  assert.equal(issues.length, 10);
});

test('a driver naming no driver is reported with the three there are, and the rest of the entry is still checked', () => {
  const text = 'providers:\n  - name: lab\n    driver: statik\n    pools:\n      - name: main\n        max-server: 2\n';
  const { errors } = validateConfigText(text, 'x.yaml');
  assert.deepEqual(errors.map((e) => `${e.line}: ${e.path}: ${e.message}`), [
    '2: providers[0].cloud: missing required key "cloud"',
    '3: providers[0].driver: expected "openstack" or "fake" or "static", found "statik"',
    '6: providers[0].pools[0].max-server: unknown key "max-server" (did you mean "max-servers"?)',
  ]);
});

test('a key of another driver on a static provider says so, rather than suggesting itself', () => {
  const text = `labels:
  - name: gpu
providers:
  - name: lab
    driver: static
    refresh-interval: 5
    pools:
      - name: main
        nodes:
          - {name: 127.0.0.1, labels: [gpu], host-key-checking: false}
`;
  const result = validateConfigText(text, 'nodepool.yaml');
  const issue = result.errors.find((i) => i.path === 'providers[0].refresh-interval');
  assert.ok(issue, JSON.stringify(result.errors));
  assert.equal(issue.line, 6);
  assert.equal(issue.message, 'unknown key "refresh-interval" (a key of another driver, not of this one)');
});
