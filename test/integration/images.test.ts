import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSystem, type System } from '../../src/run.ts';
import { silentLogger } from '../../src/log.ts';
import type { UploadRecord } from '../../src/model.ts';
import { api, randomSshPort, scratch, writeConfig } from './helpers.ts';
import { PLACEHOLDER_DIB, ROOT, until } from './image-helpers.ts';

// The whole system with its builder against two simulated clouds, driven by an operator at the
// `nodepool` command line and a scheduler asking for nodes: builds, uploads to both clouds, a
// check on a test node before an upload is used, a new build, a rollback, a failed check.

const tmp = scratch('np-images-');
const sshPort = randomSshPort();
const failMarker = join(tmp.dir, 'fail-check');
let sys: System;
let base: string;

before(async () => {
  const config = writeConfig(tmp.dir, `
labels: [{name: jammy}]
providers:
${['east', 'west'].map((p) => `  - name: ${p}
    driver: openstack
    cloud: ${p}
    list-interval: 0.02
    diskimages: [{name: jammy, meta: {hw_disk_bus: scsi}}]
    pools:
      - name: main
        max-servers: 6
        networks: [private]
        labels: [{name: jammy, flavor-name: m1.small, diskimage: jammy, connection-port: ${sshPort}}]`).join('\n')}
diskimages:
  - name: jammy
    elements: [ubuntu-minimal, vm, nodepool-base, devstack-cache]
    release: jammy
    dib-cmd: ${PLACEHOLDER_DIB}
    validation:
      command: test ! -e ${failMarker} && echo image looks right
      timeout: 20
elements-dir: ${join(ROOT, 'images/elements')}
images-dir: images
api: {listen: 127.0.0.1, port: 0}
store: {path: state/nodepool.sqlite}
cloud-sim: {clouds: [east, west], boot-delay: 0.1, delete-delay: 0.05, ssh-port: ${sshPort}}
`);
  sys = await startSystem({
    config, logger: silentLogger(), env: {},
    builder: { sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 25))), uploadBackoffMs: 100 },
  });
  base = sys.apiUrl;
});

after(async () => {
  await sys?.stop();
  tmp.done();
});

function nodepool(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/nodepool.js', '--url', base, ...args], { cwd: ROOT, env: { ...process.env, NODEPOOL_LOG_LEVEL: 'silent' } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

/** Both clouds hold a checked upload of `buildId` (or of the newest build). */
async function checkedEverywhere(buildId?: string): Promise<UploadRecord[]> {
  return until(sys.store, 'checked uploads in both clouds', async () => {
    const ups = (await sys.store.listUploads({ states: ['ready'] })).filter((u) => u.validation === 'passed' && (!buildId || u.buildId === buildId));
    const b = buildId ?? (await sys.store.listBuilds({ states: ['ready'] }))[0]?.id;
    const mine = ups.filter((u) => u.buildId === b);
    return new Set(mine.map((u) => u.provider)).size === 2 && mine;
  }, 20_000);
}

/** Asks for one node, returns the image its server booted from, and gives the node back. */
async function bootOne(): Promise<{ provider: string; imageId: string }> {
  const created = await api(base, 'POST', '/api/v1/requests', { labels: ['jammy'], requestor: 'ci' });
  const got = await api(base, 'GET', `/api/v1/requests/${created.body.id}?wait=20`);
  assert.equal(got.body.state, 'fulfilled', JSON.stringify(got.body));
  const node = (await api(base, 'GET', `/api/v1/nodes/${got.body.nodes[0].id}`)).body;
  const server = sys.sim!.cloud(node.provider).server(node.server_id)!;
  await api(base, 'POST', `/api/v1/requests/${created.body.id}/release`, { state: 'used' });
  return { provider: node.provider, imageId: server.imageId };
}

const uploadIn = (ups: UploadRecord[], provider: string) => ups.find((u) => u.provider === provider)!.externalId;

let first: UploadRecord[];
let second: UploadRecord[];

test('the first build is uploaded to both clouds, checked on a test node, and launches boot from it', async () => {
  first = await checkedEverywhere();
  // Each cloud holds the very bytes built: a qcow2 from qemu-img, or the stand-in's sparse file
  // on a machine without it (images/bin/placeholder-image); the clouds here only store and hash.
  const built = (await sys.store.getBuild(first[0].buildId))!.files.find((f) => f.format === 'qcow2')!;
  const onDisk = readFileSync(built.path);
  assert.equal(onDisk.length, built.size);
  assert.equal(createHash('md5').update(onDisk).digest('hex'), built.md5);
  for (const u of first) {
    const img = sys.sim!.cloud(u.provider).images().find((i) => i.id === u.externalId)!;
    assert.equal(img.status, 'active');
    assert.deepEqual([img.properties.nodepool_upload_id, img.properties.nodepool_build_id, img.properties.hw_disk_bus], [u.id, u.buildId, 'scsi']);
    assert.deepEqual([img.size, img.checksum], [built.size, built.md5], `${u.provider} holds the built file`);
  }
  // The test nodes were held while checked, then given back to be deleted.
  const held = (await sys.store.listNodes()).filter((n) => n.holdReason?.startsWith('validating'));
  assert.deepEqual(held, []);
  const boot = await bootOne();
  assert.equal(boot.imageId, uploadIn(first, boot.provider));
});

test('`image build --wait` follows the build and each upload, and new launches boot from the new build', async () => {
  const r = await nodepool('image', 'build', 'jammy', '--wait');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /build requested/);
  assert.match(r.stdout, /build \w+: (building|ready)/);
  assert.match(r.stdout, /east: .*validation passed/);
  assert.match(r.stdout, /west: .*validation passed/);
  second = await checkedEverywhere();
  assert.notEqual(second[0].buildId, first[0].buildId);
  const boot = await bootOne();
  assert.equal(boot.imageId, uploadIn(second, boot.provider));

  const listed = JSON.parse((await nodepool('image', 'list', '--json')).stdout);
  assert.deepEqual(listed.filter((u: { id: string }) => u.id === second[0].buildId).map((u: { provider: string }) => u.provider).sort(), ['east', 'west']);
  const builds = JSON.parse((await nodepool('dib-image', 'list', '--json')).stdout);
  assert.deepEqual(builds.map((b: { id: string; state: string }) => [b.id, b.state]), [[second[0].buildId, 'ready'], [first[0].buildId, 'ready']]);
  const log = await nodepool('image', 'logs', second[0].buildId);
  assert.match(log.stdout, /placeholder-image: elements ubuntu-minimal vm nodepool-base devstack-cache/);
  assert.match(log.stdout, /element devstack-cache: .*images\/elements\/devstack-cache/);
});

test('deleting the newest build rolls launches back to the previous one, and its images leave both clouds', async () => {
  const r = await nodepool('dib-image', 'delete', second[0].buildId);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /deleting/);
  const boot = await bootOne();
  assert.equal(boot.imageId, uploadIn(first, boot.provider));
  await until(sys.store, 'the build and its uploads gone', async () => !(await sys.store.getBuild(second[0].buildId)));
  for (const u of second) assert.ok(!sys.sim!.cloud(u.provider).images().some((i) => i.id === u.externalId));
});

test('an upload that fails its check is never used, and image list says why', async () => {
  await sys.store.setImageFlags('jammy', { paused: true }, 'test');
  writeFileSync(failMarker, 'broken on purpose\n');
  try {
    assert.equal((await nodepool('image', 'build', 'jammy')).code, 1, 'a paused image is not built');
    assert.equal((await nodepool('image', 'unpause', 'jammy')).code, 0);
    const r = await nodepool('image', 'build', 'jammy', '--wait');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /validation failed: check `test ! -e .*` exited 1/);
  } finally {
    rmSync(failMarker, { force: true });
  }
  const boot = await bootOne();
  assert.equal(boot.imageId, uploadIn(first, boot.provider), 'launches stay on the last checked build');
  const rows = JSON.parse((await nodepool('image-list', '--json')).stdout);
  const failed = rows.filter((u: { validation: string }) => u.validation === 'failed');
  assert.equal(failed.length, 2);
  assert.match(failed[0].reason, /validation failed/);
  const status = JSON.parse((await nodepool('image-status', '--json')).stdout);
  assert.equal(status[0].current_build, failed[0].id, 'the newest ready build, even unchecked, is the current build');
  assert.deepEqual(status[0].uploads.sort(), ['east:ready/failed', 'west:ready/failed']);
});
