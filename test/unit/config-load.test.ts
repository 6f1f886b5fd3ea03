import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfig, validateConfigText } from '../../src/config/load.ts';
import { ConfigError } from '../../src/config/errors.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = join(root, 'test/fixtures/config');

test('the example configuration loads, with its store beside it and every default filled in', () => {
  const config = loadConfig(join(root, 'nodepool.example.yaml'));

  assert.equal(config.path, join(root, 'nodepool.example.yaml'));
  assert.equal(config.store.path, join(root, 'state/nodepool.sqlite'));
  assert.deepEqual(config.labels.map((l) => [l.name, l.minReady, l.maxReadyAge]), [
    ['ubuntu-jammy', 2, 0],
    ['ubuntu-noble', 1, 3600],
    ['centos-9-stream', 0, 0],
    ['vendor-gpu', 0, 0],
  ]);

  const [east, west, lab] = config.providers;
  assert.equal(lab.driver, 'static');
  assert.equal(lab.pools[0].maxServers, 4, 'three hosts, one of them with two slots');
  assert.deepEqual(lab.staticPools?.[0].nodes.map((n) => [n.connectionPort, n.maxParallelJobs, n.username]), [[2201, 1, 'zuul'], [2202, 1, 'zuul'], [2203, 2, 'zuul']]);
  assert.equal(east.bootTimeout, 120);
  assert.equal(west.bootTimeout, 60, 'Nodepool default');
  assert.equal(west.launchTimeout, 3600);
  assert.equal(west.refreshInterval, 10);
  assert.equal(west.fullRefreshInterval, 60);
  assert.equal(west.computeMicroversion, '2.79');
  assert.equal(west.cloudImages[0].imageName, 'ubuntu-22.04');
  assert.deepEqual(config.diskimages?.map((d) => d.name), ['ubuntu-jammy', 'ubuntu-noble', 'centos-9-stream']);

  const noble = east.pools[0].labels[1];
  assert.equal(noble.minRam, 2048);
  assert.equal(noble.flavorName, undefined);
  assert.equal(noble.connectionPort, 2022);
  assert.equal(noble.username, 'zuul');
  assert.equal(noble.hostKeyChecking, true);
  assert.deepEqual(noble.instanceProperties, {});
  assert.equal(east.pools[0].priority, 100);
  assert.deepEqual(east.pools[0].availabilityZones, []);

  assert.deepEqual(config.api, { listen: '127.0.0.1', port: 8022, requestLeaseTimeout: 600, maxNodesPerRequest: 50, readPublic: true, tokens: [] });
  assert.deepEqual(config.cloudSim, { clouds: ['sim-east', 'sim-west'], port: 0, bootDelay: 1, deleteDelay: 0.5, sshPort: 2022 });
});

test('a pool label takes its login from the cloud image, and the image id stands for its name', () => {
  const config = loadConfig(join(fixtures, 'valid/minimal.yaml'));
  const image = config.providers[0].cloudImages[0];
  assert.equal(image.imageName, '7c1e9a2b-3f4d-4c1e-9a2b-3f4d4c1e9a2b');

  const label = config.providers[0].pools[0].labels[0];
  assert.equal(label.username, 'debian');
  assert.equal(label.connectionPort, 2222);
  assert.equal(config.store.path, join(fixtures, 'valid/nodepool.sqlite'));
});

test('a config written in memory keeps its store path as written and has no file', () => {
  const config = parseConfig('store:\n  path: /var/lib/nodepool/np.sqlite\n', 'inline.yaml');
  assert.equal(config.path, null);
  assert.equal(config.store.path, '/var/lib/nodepool/np.sqlite');
  assert.deepEqual(config.labels, []);
});

test('an empty file is an empty configuration', () => {
  const config = parseConfig('', 'empty.yaml');
  assert.deepEqual(config.providers, []);
  assert.equal(config.api.port, 8022);
});

test('a Nodepool configuration with sections not used yet loads, and says what it ignores', () => {
  const { config, errors, warnings } = validateConfigText(
    readFileSync(join(fixtures, 'valid/nodepool-compat.yaml'), 'utf8'),
    'nodepool-compat.yaml',
  );
  assert.deepEqual(errors, []);
  assert.ok(config);
  assert.deepEqual(config.providers[0].pools[0].labels[0].instanceProperties, { team: 'infra', build: '42' });
  assert.deepEqual(
    warnings.map((w) => w.path),
    [
      'webapp',
      'zookeeper-servers',
      'diskimages[0].python-path',
      'labels[1].name',
    ],
  );
  // Quota keys are real now: they load into the configuration.
  assert.equal(config.providers[0].pools[0].maxCores !== undefined, true);
  assert.match(warnings[3].message, /"ubuntu-focal" is not served by any pool/);
});

test('a microversion written as a number is refused with the reason', () => {
  assert.throws(
    () => parseConfig('providers:\n  - name: p\n    driver: openstack\n    cloud: c\n    compute-microversion: 2.10\n', 'p.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.issues[0].path, 'providers[0].compute-microversion');
      assert.equal(e.issues[0].line, 5);
      assert.match(e.issues[0].message, /quoted string/);
      return true;
    },
  );
});

test('complete server lists come no more often than the lists between them', () => {
  const provider = (extra: string) => parseConfig(`providers:\n  - name: p\n    driver: openstack\n    cloud: c\n${extra}`, 'inline.yaml').providers[0];
  assert.equal(provider('    full-refresh-interval: 30\n').fullRefreshInterval, 30);
  assert.equal(provider('    refresh-interval: 120\n').fullRefreshInterval, 120, 'the default 60 s is below refresh-interval');
  assert.throws(() => provider('    full-refresh-interval: 0\n'), /full-refresh-interval/);
});
