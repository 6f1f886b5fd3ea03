import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BuildRecord, UploadRecord } from '../../src/model.ts';
import type { StoreEvent } from '../../src/store/store.ts';
import type { ContractSubject } from './store-contract.ts';

/**
 * What every store promises about disk images (builds, uploads, flags), run against each
 * implementation like ./store-contract.ts.
 */

const build = (o: Partial<BuildRecord> & { id: string; createdAt: number }): BuildRecord => ({
  image: 'ubuntu-jammy', builder: 'b1', state: 'building', formats: ['qcow2'], files: [], logPath: `/var/log/${o.id}.log`,
  reason: null, leaseOwner: 'b1', leaseExpires: o.createdAt + 60_000, stateTime: o.createdAt, ...o,
});

const upload = (o: Partial<UploadRecord> & { id: string; buildId: string; provider: string; createdAt: number }): UploadRecord => ({
  image: 'ubuntu-jammy', state: 'uploading', format: 'qcow2', externalId: null, externalName: `ubuntu-jammy-${o.buildId}`, bytes: 0,
  size: 4096, validation: 'none', validationNode: null, reason: null, leaseOwner: 'b1', leaseExpires: o.createdAt + 60_000,
  stateTime: o.createdAt, ...o,
});

export function imageContract(name: string, open: () => Promise<ContractSubject>, skip?: string | false): void {
  const it = (title: string, fn: (s: ContractSubject) => Promise<void>) =>
    test(`${name}: ${title}`, { skip: skip || false }, async () => {
      const s = await open();
      try { await fn(s); } finally { await s.done(); }
    });

  it('a build goes building → ready with its files, reads back whole, and its state changes are audited', async ({ store }) => {
    const events: StoreEvent[] = [];
    const off = store.subscribe((e) => events.push(e));
    const b = build({ id: 'b-1', createdAt: 1000 });
    await store.insertBuild(b, 'b1');
    assert.deepEqual(await store.getBuild('b-1'), b);
    const files = [{ format: 'qcow2', path: '/img/ubuntu-jammy-b-1.qcow2', size: 4096, md5: 'a'.repeat(32), sha256: 'b'.repeat(64) }];
    assert.equal(await store.updateBuild('b-1', { state: 'ready', files, leaseOwner: null, leaseExpires: null, stateTime: 2000 }, 'b1', { states: ['building'] }), true);
    assert.equal(await store.updateBuild('b-1', { state: 'failed' }, 'b2', { states: ['building'] }), false, 'a writer that thinks it still builds loses');
    assert.deepEqual(await store.getBuild('b-1'), { ...b, state: 'ready', files, leaseOwner: null, leaseExpires: null, stateTime: 2000 });
    off();
    assert.deepEqual(events.map((e) => `${e.kind} ${e.id} ${e.state}`), ['build b-1 building', 'build b-1 ready']);
    assert.equal(await store.removeBuild('b-1', 'b1', { states: ['building'] }), false);
    assert.equal(await store.removeBuild('b-1', 'b1', { states: ['ready'] }), true);
    assert.equal(await store.getBuild('b-1'), null);
  });

  it('builds and uploads list newest first, filtered by image, state, builder, provider and build', async ({ store }) => {
    await store.insertBuild(build({ id: 'b-old', createdAt: 1000, state: 'ready' }), 'b1');
    await store.insertBuild(build({ id: 'b-new', createdAt: 3000 }), 'b1');
    await store.insertBuild(build({ id: 'c-1', createdAt: 2000, image: 'centos', builder: 'b2' }), 'b2');
    assert.deepEqual((await store.listBuilds()).map((b) => b.id), ['b-new', 'c-1', 'b-old']);
    assert.deepEqual((await store.listBuilds({ image: 'ubuntu-jammy', states: ['ready'] })).map((b) => b.id), ['b-old']);
    assert.deepEqual((await store.listBuilds({ builder: 'b2' })).map((b) => b.id), ['c-1']);
    await store.insertUpload(upload({ id: 'u-1', buildId: 'b-old', provider: 'east', createdAt: 1100 }), 'b1');
    await store.insertUpload(upload({ id: 'u-2', buildId: 'b-old', provider: 'west', createdAt: 1200, state: 'ready', externalId: 'g-2' }), 'b1');
    await store.insertUpload(upload({ id: 'u-3', buildId: 'b-new', provider: 'east', createdAt: 3100 }), 'b1');
    assert.deepEqual((await store.listUploads()).map((u) => u.id), ['u-3', 'u-2', 'u-1']);
    assert.deepEqual((await store.listUploads({ provider: 'east' })).map((u) => u.id), ['u-3', 'u-1']);
    assert.deepEqual((await store.listUploads({ buildId: 'b-old', states: ['ready'] })).map((u) => u.id), ['u-2']);
    assert.deepEqual(await store.getUpload('u-2'), upload({ id: 'u-2', buildId: 'b-old', provider: 'west', createdAt: 1200, state: 'ready', externalId: 'g-2' }));
  });

  it('an upload claimed under a lease is not taken by another builder until the lease runs out', async ({ store }) => {
    await store.insertUpload(upload({ id: 'u-1', buildId: 'b', provider: 'east', createdAt: 1000, state: 'ready', leaseOwner: null, leaseExpires: null }), 'b1');
    const claim = (by: string, now: number) => store.updateUpload('u-1', { validation: 'running', leaseOwner: by, leaseExpires: now + 1000 }, by,
      { states: ['ready'], leaseFreeOr: { owner: by, now } });
    assert.equal(await claim('b1', 1000), true);
    assert.equal(await claim('b2', 1500), false);
    assert.equal(await claim('b2', 2001), true);
    assert.equal((await store.getUpload('u-1'))?.leaseOwner, 'b2');
    assert.equal(await store.removeUpload('u-1', 'b2'), true);
    assert.equal(await store.getUpload('u-1'), null);
  });

  it('image flags: a row appears on the first order, and each order changes only what it names', async ({ store }) => {
    assert.deepEqual(await store.listImageFlags(), []);
    const requested = await store.setImageFlags('ubuntu-jammy', { buildRequestedAt: 5000 }, 'api');
    assert.equal(requested.paused, false);
    assert.equal(requested.buildRequestedAt, 5000);
    const paused = await store.setImageFlags('ubuntu-jammy', { paused: true, pausedReason: 'bad mirror' }, 'api');
    assert.deepEqual([paused.paused, paused.pausedReason, paused.buildRequestedAt], [true, 'bad mirror', 5000]);
    await store.setImageFlags('centos', { paused: true }, 'api');
    assert.deepEqual((await store.listImageFlags()).map((f) => [f.image, f.paused]), [['centos', true], ['ubuntu-jammy', true]]);
  });
}
