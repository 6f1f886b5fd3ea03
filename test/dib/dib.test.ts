import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { imageWorld, until } from '../integration/image-helpers.ts';

// Opt-in (`npm run test:dib`): a real disk-image-create builds `debian-minimal vm nodepool-base`
// from images/elements, and the builder uploads it to two simulated clouds. Needs root,
// Debian's python3-diskimage-builder, sudo, qemu-utils and Debian's mirror. Measured here: 213 s
// for the first build, 115 s once diskimage-builder's cache (~/.cache/image-create) holds the base system.

const has = (cmd: string) => { try { execFileSync('sh', ['-c', `command -v ${cmd}`]); return true; } catch { return false; } };
const missing = !has('disk-image-create') ? 'disk-image-create is not installed (apt-get install python3-diskimage-builder)'
  : !has('sudo') ? 'sudo is missing' : process.getuid?.() !== 0 ? 'needs root' : false;

// Without device-mapper (containers), kpartx cannot map partitions: build a disk without a
// partition table instead. Enough to check the elements; such a disk does not boot.
const NO_PARTITIONS = `
- local_loop:
    name: image0
- mkfs:
    base: image0
    name: mkfs_root
    label: cloudimg-rootfs
    mount:
      mount_point: /
      fs_type: ext4
      fstab:
        options: "defaults"
        fsck-passno: 1`;
const deviceMapper = existsSync('/dev/mapper/control') && (() => { try { execFileSync('dmsetup', ['version'], { stdio: 'ignore' }); return true; } catch { return false; } })();

test('disk-image-create builds debian-minimal with our base element, and the builder uploads it with its checksum', { skip: missing, timeout: 30 * 60_000 }, async (t) => {
  const env: Record<string, string> = {
    DIB_DISTRIBUTION_MIRROR: 'http://deb.debian.org/debian',
    DIB_DEBIAN_SECURITY_MIRROR: 'http://deb.debian.org/debian-security',
    DIB_DEBIAN_SECURITY_SUBPATH: '-security',
  };
  if (!deviceMapper) env.DIB_BLOCK_DEVICE_CONFIG = NO_PARTITIONS;
  const w = await imageWorld({
    dibCmd: 'disk-image-create', elements: ['debian-minimal', 'vm', 'nodepool-base'], release: 'bookworm',
    extra: `build-timeout: 1500\nenv-vars: ${JSON.stringify(env)}`,
  });
  t.after(() => w.close());
  const started = Date.now();
  await w.builder.start();
  const build = await until(w.store, 'the build ended', async () => (await w.store.listBuilds({ states: ['ready', 'failed'] }))[0], 25 * 60_000);
  const log = readFileSync(build.logPath!, 'utf8');
  assert.equal(build.state, 'ready', `${build.reason}\n${log.slice(-3000)}`);
  t.diagnostic(`disk-image-create took ${Math.round((build.stateTime - started) / 1000)} s`);
  for (const step of ['50-nodepool-user completed', '60-nodepool-sshd completed', '80-nodepool-manifest completed']) assert.ok(log.includes(step), step);
  const file = build.files[0];
  assert.equal(file.format, 'qcow2');
  assert.equal(readFileSync(`${file.path}.sha256`, 'utf8').split(/\s+/)[0], file.sha256);
  const ups = await until(w.store, 'uploads to both clouds', async () => {
    const u = await w.store.listUploads({ states: ['ready'] });
    return u.length === 2 && u;
  }, 5 * 60_000);
  for (const u of ups) {
    const img = w.sim.cloud(u.provider).images().find((i) => i.id === u.externalId)!;
    assert.deepEqual([img.status, img.size, img.checksum], ['active', file.size, file.md5]);
  }
});
