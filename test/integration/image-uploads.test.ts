import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { UploadRecord } from '../../src/model.ts';
import { imageWorld, until } from './image-helpers.ts';

// The builder against two simulated clouds: uploads that fail in one cloud, uploads that leak,
// builds that hang. Each story starts the builder on a fresh store.

const ours = <T extends { tags: string[] }>(images: T[]) => images.filter((i) => i.tags.includes('nodepool'));

test('an upload cut off mid-stream leaves nothing behind in the cloud, and the next try succeeds', async (t) => {
  const w = await imageWorld();
  t.after(() => w.close());
  w.sim.cloud('east').dropNextUploads(1, 64 * 1024);
  const failedAt: { upload: UploadRecord; imagesThen: number }[] = [];
  w.store.subscribe((e) => {
    if (e.kind !== 'upload' || e.state !== 'failed') return;
    void w.store.getUpload(e.id).then((u) => { if (u) failedAt.push({ upload: u, imagesThen: ours(w.sim.cloud(u.provider).images()).length }); });
  });
  await w.builder.start();
  const ready = await until(w.store, 'ready uploads in both clouds', async () => {
    const ups = await w.store.listUploads({ states: ['ready'] });
    return ups.length === 2 && ups;
  });
  assert.equal(failedAt.length, 1);
  assert.equal(failedAt[0].upload.provider, 'east');
  assert.match(failedAt[0].upload.reason ?? '', /reset|socket|aborted|hang up|ECONN/i);
  assert.equal(failedAt[0].upload.externalId, null, 'the half-uploaded image was deleted before the upload was marked failed');
  assert.equal(failedAt[0].imagesThen, 0);
  for (const provider of ['east', 'west']) {
    const u = ready.find((x) => x.provider === provider)!;
    assert.deepEqual(ours(w.sim.cloud(provider).images()).map((i) => [i.id, i.status]), [[u.externalId, 'active']]);
    assert.equal(w.sim.cloud(provider).images().find((i) => i.id === u.externalId)?.properties.nodepool_upload_id, u.id);
  }
  // Its history goes once the retry worked.
  await until(w.store, 'the failed record dropped', async () => (await w.store.listUploads({ states: ['failed'] })).length === 0);
});

test('a provider failing every upload backs off on its own while the other provider is served at once', async (t) => {
  const w = await imageWorld();
  t.after(() => w.close());
  w.sim.cloud('east').failNextCalls({ service: 'glance', method: 'PUT', pathPattern: /\/file$/, status: 503, count: 1000 });
  const failures: number[] = [];
  w.store.subscribe((e) => { if (e.kind === 'upload' && e.state === 'failed') failures.push(Date.now()); });
  await w.builder.start();
  const west = await until(w.store, 'west ready', async () => (await w.store.listUploads({ provider: 'west', states: ['ready'] }))[0]);
  const build = (await w.store.getBuild(west.buildId))!;
  assert.ok(west.stateTime - build.stateTime < 2000, `west's upload took ${west.stateTime - build.stateTime} ms after the build`);
  await until(w.store, 'three failed uploads to east', async () => failures.length >= 3);
  const [a, b, c] = failures;
  assert.ok(c - b > b - a, `the gaps grow: ${b - a} ms, then ${c - b} ms`);
  assert.ok((await w.store.listUploads({ provider: 'east' })).every((u) => u.state === 'failed' || u.state === 'uploading'));
  assert.equal(ours(w.sim.cloud('east').images()).filter((i) => i.status === 'active').length, 0);
});

test('a leaked upload, tagged ours but unknown to the store, is deleted on the second sweep; other images stay', async (t) => {
  const w = await imageWorld();
  t.after(() => w.close());
  await w.builder.start();
  await until(w.store, 'both uploads ready', async () => (await w.store.listUploads({ states: ['ready'] })).length === 2);
  const east = w.adapters.get('east')!;
  const { id: leak } = await east.images.create({
    name: 'jammy-lost', diskFormat: 'qcow2', containerFormat: 'bare', tags: ['nodepool'],
    properties: { nodepool_provider_name: 'east', nodepool_upload_id: 'no-such-upload' },
  });
  const { id: foreign } = await east.images.create({ name: 'someone-elses', diskFormat: 'qcow2', containerFormat: 'bare', tags: [], properties: {} });
  assert.deepEqual(await w.builder.sweepLeaks(), []);
  assert.deepEqual(await w.builder.sweepLeaks(), [`east/${leak}`]);
  const left = w.sim.cloud('east').images().map((i) => i.id);
  assert.ok(!left.includes(leak));
  assert.ok(left.includes(foreign));
  assert.equal(ours(w.sim.cloud('east').images()).length, 1, 'the real upload stays');
});

test('a build that outlives its build-timeout is stopped and failed, and its outputs removed', async (t) => {
  const w = await imageWorld({ extra: 'build-timeout: 0.5\nenv-vars: {PLACEHOLDER_IMAGE_SLEEP: 30}' });
  t.after(() => w.close());
  const started = Date.now();
  await w.builder.start();
  const failed = await until(w.store, 'the build failed', async () => (await w.store.listBuilds({ states: ['failed'] }))[0]);
  assert.match(failed.reason ?? '', /build-timeout of 0.5 s passed/);
  assert.ok(Date.now() - started < 5000);
  assert.deepEqual(readdirSync(join(w.dir, 'images')).filter((f) => !f.startsWith('logs')), []);
  assert.deepEqual(await w.store.listUploads(), []);
});
