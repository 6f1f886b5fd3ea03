import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { isCloudError } from '../../providers/errors.ts';
import { simWithDriver } from './openstack-sim-support.ts';

// The Glance part of the OpenStack driver against the simulator: what the builder does to upload.

const data = Buffer.alloc(300 * 1024, 7);
const md5 = createHash('md5').update(data).digest('hex');
const source = () => ({ size: data.length, open: () => Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]) });

test('an image is created with our properties, its data streamed in, and it turns active with the data\'s checksum', async (t) => {
  const { p, cloud } = await simWithDriver(t);
  const { id } = await p.images.create({
    name: 'jammy-0001', diskFormat: 'qcow2', containerFormat: 'bare', tags: ['nodepool'],
    properties: { nodepool_provider_name: 'alpha', nodepool_upload_id: 'u-1' },
  });
  assert.equal((await p.images.get(id))?.status, 'queued');
  await p.images.upload(id, source());
  const img = await p.images.get(id);
  assert.deepEqual([img?.status, img?.size, img?.checksum, img?.tags], ['active', data.length, md5, ['nodepool']]);
  assert.equal(img?.properties.nodepool_upload_id, 'u-1');
  assert.equal(img?.properties.disk_format, undefined, 'core fields are not properties');

  const ours = await p.images.list({ tag: 'nodepool', properties: { nodepool_provider_name: 'alpha' } });
  assert.deepEqual(ours.map((i) => i.id), [id], 'the public images carry no tag of ours');
  assert.deepEqual(await p.images.list({ tag: 'nodepool', properties: { nodepool_provider_name: 'beta' } }), []);

  await p.images.delete(id);
  assert.equal(await p.images.get(id), null);
  await p.images.delete(id);
  assert.equal(cloud.images().filter((i) => i.tags.includes('nodepool')).length, 0);
});

test('a connection dropped mid-upload fails the call and leaves the image queued, ready for a delete', async (t) => {
  const { p, cloud } = await simWithDriver(t);
  const { id } = await p.images.create({ name: 'x', diskFormat: 'raw', containerFormat: 'bare', tags: ['nodepool'], properties: {} });
  cloud.dropNextUploads(1, 64 * 1024);
  await assert.rejects(p.images.upload(id, source()), (err) => isCloudError(err, 'transient'));
  assert.equal((await p.images.get(id))?.status, 'queued');
  await p.images.upload(id, source());
  assert.equal((await p.images.get(id))?.status, 'active', 'the next try goes through');
});
