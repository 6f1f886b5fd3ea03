import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootActive, call, login, startSim, until } from '../unit/cloudsim-support.ts';

test('a volume is created with metadata, turns available, is found by its metadata, and is deleted', async (t) => {
  // Long enough for the test to see each status on a loaded machine.
  const sim = await startSim(t, { clouds: [{ name: 'alpha', ssh: false, bootDelayMs: 50, volumeDelayMs: 400 }] });
  const s = await login(sim, 'alpha');
  assert.match(s.volume, new RegExp(`/alpha/volume/v3/${sim.cloud('alpha').credentials.projectId}$`));

  const created = await call('POST', `${s.volume}/volumes`, {
    token: s.token, body: { volume: { size: 2, name: 'scratch', metadata: { nodepool_provider_name: 'alpha', nodepool_node_id: '0000000007' } } },
  });
  assert.equal(created.status, 202);
  assert.equal(created.headers.get('openstack-api-version'), 'volume 3.0');
  assert.match(created.headers.get('x-openstack-request-id') ?? '', /^req-/);
  const v = created.body.volume;
  assert.deepEqual([v.status, v.size, v.name, v.bootable, v.attachments], ['creating', 2, 'scratch', 'false', []]);
  assert.deepEqual(v.metadata, { nodepool_provider_name: 'alpha', nodepool_node_id: '0000000007' });
  assert.match(v.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);

  const show = async () => (await call('GET', `${s.volume}/volumes/${v.id}`, { token: s.token })).body.volume;
  await until(async () => ((await show()).status === 'available' ? true : undefined), 5000, 'available');

  await call('POST', `${s.volume}/volumes`, { token: s.token, body: { volume: { size: 1, name: 'theirs' } } });
  const brief = (await call('GET', `${s.volume}/volumes`, { token: s.token })).body.volumes;
  assert.deepEqual(brief.map((x: any) => Object.keys(x).sort()), [['id', 'links', 'name'], ['id', 'links', 'name']]);
  assert.equal(brief[1].id, v.id, 'newest first');
  const byMeta = await call('GET', `${s.volume}/volumes/detail?metadata=${encodeURIComponent(JSON.stringify({ nodepool_provider_name: 'alpha' }))}`, { token: s.token });
  assert.deepEqual(byMeta.body.volumes.map((x: any) => x.id), [v.id]);
  const page = await call('GET', `${s.volume}/volumes/detail?limit=1`, { token: s.token });
  assert.equal(page.body.volumes.length, 1);
  assert.match(page.body.volumes_links[0].href, /marker=/);
  assert.deepEqual((await call('GET', `${s.volume}/volumes/detail?status=available&name=scratch`, { token: s.token })).body.volumes.map((x: any) => x.id), [v.id]);

  const merged = await call('POST', `${s.volume}/volumes/${v.id}/metadata`, { token: s.token, body: { metadata: { extra: 'x' } } });
  assert.equal(merged.body.metadata.extra, 'x');

  const deleted = await call('DELETE', `${s.volume}/volumes/${v.id}`, { token: s.token });
  assert.equal(deleted.status, 202);
  assert.equal((await show()).status, 'deleting');
  const gone = await until(async () => {
    const res = await call('GET', `${s.volume}/volumes/${v.id}`, { token: s.token });
    return res.status === 404 ? res : undefined;
  }, 5000, '404 after delete');
  assert.deepEqual(gone.body, { itemNotFound: { code: 404, message: `Volume ${v.id} could not be found.` } });
  assert.equal((await call('DELETE', `${s.volume}/volumes/${v.id}`, { token: s.token })).status, 404);
});

test('Cinder refuses over quota with 413 and Retry-After 0, and reports its limits', async (t) => {
  const sim = await startSim(t, { clouds: [{ name: 'alpha', ssh: false, volumeQuota: { volumes: 1, gigabytes: 5 } }] });
  const s = await login(sim, 'alpha');
  const create = (size: number) => call('POST', `${s.volume}/volumes`, { token: s.token, body: { volume: { size } } });
  const tooBig = await create(6);
  assert.equal(tooBig.status, 413);
  assert.equal(tooBig.headers.get('retry-after'), '0');
  assert.deepEqual(tooBig.body, {
    overLimit: {
      code: 413, retryAfter: '0',
      message: 'VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 6G, quota is 5G and 0G has been consumed.',
    },
  });
  assert.equal((await create(1)).status, 202);
  const second = await create(1);
  assert.equal(second.body.overLimit.message, "VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes'.");
  const limits = (await call('GET', `${s.volume}/limits`, { token: s.token })).body.limits.absolute;
  assert.deepEqual([limits.maxTotalVolumes, limits.totalVolumesUsed, limits.maxTotalVolumeGigabytes, limits.totalGigabytesUsed], [1, 1, 5, 1]);
  assert.equal((await create(0)).status, 400);
});

test('a server booted from volume holds it in-use; the volume goes with it, or stays available when asked to', async (t) => {
  const sim = await startSim(t, { clouds: [{ name: 'alpha', ssh: false, bootDelayMs: 30, deleteDelayMs: 20, volumeDelayMs: 20 }] });
  const s = await login(sim, 'alpha');
  const cloud = sim.cloud('alpha');
  const img = (await call('GET', `${s.image}/v2/images?name=cirros`, { token: s.token })).body.images[0].id;
  const bdm = (keep: boolean) => ({
    imageRef: '', block_device_mapping_v2: [{ boot_index: 0, uuid: img, source_type: 'image', destination_type: 'volume', volume_size: 3, delete_on_termination: !keep }],
  });
  const temporary = await bootActive(sim, s, 'alpha', { network: false, extra: bdm(false) });
  const kept = await bootActive(sim, s, 'alpha', { network: false, extra: bdm(true) });

  const server = (await call('GET', `${s.compute}/servers/${temporary}`, { token: s.token, mv: '2.79' })).body.server;
  const [attached] = server['os-extended-volumes:volumes_attached'];
  assert.equal(attached.delete_on_termination, true);
  const vol = (await call('GET', `${s.volume}/volumes/${attached.id}`, { token: s.token })).body.volume;
  assert.deepEqual([vol.status, vol.bootable, vol.size, vol.attachments[0].server_id], ['in-use', 'true', 3, temporary]);
  assert.equal((await call('DELETE', `${s.volume}/volumes/${vol.id}`, { token: s.token })).status, 400, 'an attached volume is not deleted');

  for (const id of [temporary, kept]) await call('DELETE', `${s.compute}/servers/${id}`, { token: s.token, mv: '2.79' });
  await Promise.all([temporary, kept].map((id) => cloud.waitForStatus(id, 'DELETED')));
  const left = await until(() => {
    const vols = cloud.inventory().volumes;
    return vols.length === 1 ? vols : undefined;
  }, 5000, 'the temporary volume gone');
  assert.deepEqual([left[0].status, left[0].attachedTo], ['available', null], 'the kept volume is left behind, detached');
});
