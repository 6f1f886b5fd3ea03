import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/config/errors.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/config');

test('a diskimage inherits its parent\'s elements and environment, and abstract parents are never built', () => {
  const config = loadConfig(join(fixtures, 'valid/diskimages.yaml'));
  assert.deepEqual(config.diskimages?.map((d) => d.name), ['ubuntu-jammy', 'centos-9-stream']);
  const [jammy, centos] = config.diskimages!;
  assert.deepEqual(jammy.elements, ['vm', 'nodepool-base', 'ubuntu-minimal', 'devstack-cache']);
  assert.deepEqual(jammy.envVars, { DIB_GRUB_TIMEOUT: '0', DIB_CHECKSUM: '0' }, 'the child\'s value wins');
  assert.equal(jammy.rebuildAge, 43200, 'from the parent');
  assert.equal(jammy.release, '22.04', 'YAML\'s number read as the text it was meant as');
  assert.deepEqual(jammy.formats, ['qcow2']);
  assert.equal(jammy.buildTimeout, 28800);
  assert.equal(jammy.validation?.timeout, 600);
  assert.equal(centos.rebuildAge, 86400);
  assert.deepEqual(centos.formats, ['raw', 'qcow2']);
  assert.equal(centos.dibCmd, 'disk-image-create', 'a bare command is looked up in PATH');
  assert.equal(centos.validation, undefined, 'no check unless asked for');
});

test('the builder\'s folders, a relative dib-cmd and the validation key are taken from the configuration\'s folder', () => {
  const file = join(fixtures, 'valid/diskimages.yaml');
  const config = loadConfig(file);
  const here = dirname(file);
  assert.equal(config.builder?.elementsDir, `${join(here, 'images/elements')}:/opt/more-elements`);
  assert.equal(config.builder?.imagesDir, '/var/lib/nodepool/dib');
  assert.equal(config.builder?.buildLogDir, '/var/lib/nodepool/dib/logs');
  assert.equal(config.builder?.buildLogRetention, 3);
  assert.equal(config.diskimages?.[0].dibCmd, `${join(here, 'bin/my-dib')} --verbose`);
  assert.equal(config.diskimages?.[0].validation?.privateKey, join(here, 'keys/validate'));
});

test('a diskimage label logs in as the image\'s user on the provider\'s port, and the provider\'s image settings load', () => {
  const [east] = loadConfig(join(fixtures, 'valid/diskimages.yaml')).providers;
  const [jammy, centos] = east.pools[0].labels;
  assert.equal(jammy.diskimage, 'ubuntu-jammy');
  assert.equal(jammy.cloudImage, undefined);
  assert.equal(jammy.username, 'zuul');
  assert.equal(jammy.connectionPort, 2222);
  assert.equal(centos.username, 'cloud-user');
  assert.equal(centos.connectionPort, 22);
  assert.equal(east.imageUploadTimeout, 1800);
  assert.deepEqual(east.diskimages, [
    { name: 'ubuntu-jammy', pause: false, meta: { hw_disk_bus: 'scsi', build: '7' }, connectionPort: 2222 },
    { name: 'centos-9-stream', pause: true, meta: {}, connectionPort: undefined },
  ]);
});

test('wrong image references are each reported where they are written', () => {
  const file = join(fixtures, 'broken/diskimages.yaml');
  let err: unknown;
  try { loadConfig(file); } catch (e) { err = e; }
  assert.ok(err instanceof ConfigError);
  const at = (path: string) => err.issues.filter((i) => i.path === path).map((i) => i.message);
  assert.match(at('diskimages[1].parent')[0]!, /parent chain loops: loop-a → loop-b → loop-a/);
  assert.match(at('diskimages[3].parent')[0]!, /parent "bsae" is not defined in diskimages \(did you mean "base"\?\)/);
  assert.match(at('providers[0].diskimages[0].name')[0]!, /"base" is abstract/);
  assert.match(at('providers[0].diskimages[1].name')[0]!, /"jammmy" is not defined in diskimages \(did you mean "jammy"\?\)/);
  assert.match(at('providers[0].pools[0].labels[0].diskimage')[0]!, /either cloud-image or diskimage, not both/);
  assert.match(at('providers[0].pools[0].labels[1]')[0]!, /needs cloud-image or diskimage/);
  assert.match(at('providers[0].pools[0].labels[2].diskimage')[0]!, /"focal" is not listed in providers\[0\]\.diskimages/);
});
