import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, keys, login, newKeyPair, sample, startSim, type Session } from './cloudsim-support.ts';

async function ids(s: Session) {
  const images = (await call('GET', `${s.image}/v2/images?name=cirros`, { token: s.token })).body.images;
  const nets = (await call('GET', `${s.network}/v2.0/networks?name=private`, { token: s.token })).body.networks;
  return { image: images[0].id as string, network: nets[0].id as string };
}

test('Nova echoes the microversion it answers at, and refuses versions it does not have', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const at = async (headers: Record<string, string>) => call('GET', `${s.compute}/flavors`, { token: s.token, headers });

  const modern = await at({ 'OpenStack-API-Version': 'compute 2.79' });
  assert.equal(modern.headers.get('openstack-api-version'), 'compute 2.79');
  assert.equal(modern.headers.get('x-openstack-nova-api-version'), '2.79');
  assert.equal(modern.headers.get('vary'), 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
  assert.equal(modern.headers.get('x-compute-request-id'), modern.headers.get('x-openstack-request-id'));
  assert.equal(modern.headers.get('content-type'), 'application/json');
  assert.equal((await at({ 'X-OpenStack-Nova-API-Version': '2.60' })).headers.get('openstack-api-version'), 'compute 2.60');
  assert.equal((await at({})).headers.get('x-openstack-nova-api-version'), '2.1');
  assert.equal((await at({ 'OpenStack-API-Version': 'compute latest' })).headers.get('x-openstack-nova-api-version'), '2.93');

  const tooNew = await at({ 'OpenStack-API-Version': 'compute 2.94' });
  assert.equal(tooNew.status, 406);
  assert.deepEqual(tooNew.body, { computeFault: { code: 406, message: 'Version 2.94 is not supported by the API. Minimum is 2.1 and maximum is 2.93.' } });
  assert.equal(tooNew.headers.get('openstack-api-version'), null);
  const garbled = await at({ 'OpenStack-API-Version': 'compute two' });
  assert.equal(garbled.status, 400);
  assert.match(garbled.body.badRequest.message, /^API Version String two is of invalid format/);

  // Version documents: the root lists v2.0 and v2.1; the endpoint itself is v2.1 at 2.1.
  const root = await call('GET', s.compute.replace(/\/v2\.1$/, '/'));
  assert.deepEqual(root.body.versions.map((v: any) => [v.id, v.version]), [['v2.0', ''], ['v2.1', '2.93']]);
  const doc = await call('GET', `${s.compute}/`);
  assert.equal(doc.body.version.min_version, '2.1');
  assert.equal(doc.headers.get('openstack-api-version'), 'compute 2.1');
  assert.deepEqual(keys(doc.body.version), keys(sample('nova-version-v2.1-200').response.body.version));
  assert.deepEqual(keys(root.body.versions[1]), keys(sample('nova-versions-200').response.body.versions[1]));
});

test('flavors and limits have the shapes of the microversion asked for', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const detail = await call('GET', `${s.compute}/flavors/detail`, { token: s.token, mv: '2.79' });
  assert.deepEqual(detail.body.flavors.map((f: any) => f.name), ['m1.tiny', 'm1.small', 'm1.medium', 'm1.large', 'm1.xlarge']);
  assert.equal(detail.body.flavors_links, undefined, 'a short page has no next link');
  const old = await call('GET', `${s.compute}/flavors/detail`, { token: s.token });
  assert.equal(old.body.flavors[0].swap, '', 'before 2.75 no swap is ""');
  assert.equal(old.body.flavors[0].extra_specs, undefined);

  // A full page gets a next link, even the last one; the page after it is empty.
  const page = await call('GET', `${s.compute}/flavors?limit=5`, { token: s.token, mv: '2.79' });
  const next = page.body.flavors_links[0];
  assert.equal(next.rel, 'next');
  assert.equal(next.href, `${s.compute}/flavors?limit=5&marker=5`);
  assert.deepEqual((await call('GET', next.href, { token: s.token })).body.flavors, []);

  const limits = await call('GET', `${s.compute}/limits`, { token: s.token, mv: '2.79' });
  assert.deepEqual(limits.body.limits.rate, []);
  assert.equal(limits.body.limits.absolute.maxTotalInstances, 10);
  assert.equal(limits.body.limits.absolute.maxTotalCores, 20);
  assert.equal(limits.body.limits.absolute.maxTotalRAMSize, 51200);
  assert.deepEqual(keys(detail.body.flavors[0]), keys(sample('nova-flavors-detail-200').response.body.flavors[0]));
  assert.deepEqual(keys(limits.body.limits.absolute), keys(sample('nova-limits-200').response.body.limits.absolute));
});

test('a bad boot request gets the 400 Nova gives, and nothing is created', async (t) => {
  const sim = await startSim(t, {
    clouds: [{ name: 'alpha', ssh: false, images: [{ name: 'cirros' }, { name: 'queued', status: 'queued' }, { name: 'big', minDisk: 50 }] }],
  });
  const s = await login(sim, 'alpha');
  const { image, network } = await ids(s);
  const imageId = async (name: string) => (await call('GET', `${s.image}/v2/images?name=${name}`, { token: s.token })).body.images[0].id;
  const boot = (server: unknown, mv = '2.79') => call('POST', `${s.compute}/servers`, { token: s.token, mv, body: typeof server === 'string' ? server : { server } });
  const base = { name: 'n', imageRef: image, flavorRef: '1', networks: 'none' };

  const cases: [unknown, string][] = [
    ['{"server": {"name": "samples-malformed", "flavorRef": "42",', 'Malformed request body'],
    [{ name: 'samples-no-networks', imageRef: image, flavorRef: '1' },
      `Invalid input for field/attribute server. Value: {'name': 'samples-no-networks', 'imageRef': '${image}', 'flavorRef': '1'}. 'networks' is a required property`],
    [{ ...base, flavorRef: 'no-such-flavor' }, 'Flavor no-such-flavor could not be found.'],
    [{ ...base, imageRef: '00000000-0000-4000-8000-000000000000' }, 'Can not find requested image'],
    [{ ...base, imageRef: await imageId('queued') }, `Image ${await imageId('queued')} is not active.`],
    [{ ...base, imageRef: await imageId('big') },
      "Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is 1073741824 bytes, minimum size is 53687091200 bytes."],
    [{ ...base, key_name: 'nope' }, 'Invalid key_name provided.'],
    [{ ...base, availability_zone: 'elsewhere' }, 'The requested availability zone is not available'],
    [{ ...base, networks: [{ uuid: '00000000-0000-4000-8000-000000000000' }] }, 'Network 00000000-0000-4000-8000-000000000000 could not be found.'],
    [{ ...base, metadata: { a: 1 } }, "Invalid input for field/attribute a. Value: 1. 1 is not of type 'string'"],
    [{ ...base, tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, 'Invalid input for field/attribute tags.'],
    [{ ...base, tags: ['a/b'] }, "Invalid input for field/attribute 0. Value: a/b. 'a/b' does not match '^[^,/]*$'"],
  ];
  for (const [server, message] of cases) {
    const res = await boot(server);
    assert.equal(res.status, 400, message);
    assert.ok(res.body.badRequest.message.startsWith(message), `${res.body.badRequest.message} / ${message}`);
    assert.equal(res.body.badRequest.code, 400);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=UTF-8');
    assert.equal(res.headers.get('openstack-api-version'), 'compute 2.79', 'Nova errors carry the microversion');
  }
  const oldTags = await boot({ ...base, tags: ['a'] }, '2.51');
  assert.equal(oldTags.body.badRequest.message, `Invalid input for field/attribute server. Value: {'name': 'n', 'imageRef': '${image}', 'flavorRef': '1', 'networks': 'none', 'tags': ['a']}. Additional properties are not allowed ('tags' was unexpected)`);
  const tooMuchMetadata = await boot({ ...base, metadata: Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v'])) });
  assert.deepEqual(tooMuchMetadata.body, { forbidden: { code: 403, message: 'Maximum number of metadata items exceeds 128' } });
  // Before 2.37 networks may be left out: the project's one usable network is taken.
  assert.equal((await boot({ name: 'old', imageRef: image, flavorRef: '1' }, '2.36')).status, 202);
  assert.equal((await boot({ ...base, networks: [{ uuid: network }] })).status, 202);
  assert.equal(sim.cloud('alpha').servers().length, 2);

  for (const name of ['malformed-json', 'missing-networks', 'unknown-flavor', 'unknown-image', 'image-not-active', 'image-min-disk']) {
    const recorded = sample(`nova-servers-create-400-${name}`).response;
    assert.deepEqual(keys(recorded.body.badRequest), ['code', 'message']);
  }
  assert.equal(sample('nova-servers-create-400-missing-networks').response.body.badRequest.message.replace(/Value: \{.*\}\./, 'Value: X.'),
    "Invalid input for field/attribute server. Value: X. 'networks' is a required property");
});

test('quota is checked when the boot is asked for: 403 with the exact Nova message', async (t) => {
  const sim = await startSim(t, { clouds: [{ name: 'alpha', ssh: false, bootDelayMs: 10_000 }] });
  const s = await login(sim, 'alpha');
  const { image } = await ids(s);
  const boot = (extra: Record<string, unknown> = {}) =>
    call('POST', `${s.compute}/servers`, { token: s.token, mv: '2.79', body: { server: { name: 'q', imageRef: image, flavorRef: '1', networks: 'none', ...extra } } });
  const cloud = sim.cloud('alpha');

  cloud.setQuota({ instances: 2 });
  assert.equal((await boot()).status, 202);
  assert.equal((await boot()).status, 202);
  const over = await boot();
  assert.equal(over.status, 403);
  assert.deepEqual(over.body, { forbidden: { code: 403, message: 'Quota exceeded for instances: Requested 1, but already used 2 of 2 instances' } });
  assert.equal((await boot({ min_count: 3, max_count: 3 })).body.forbidden.message, 'Quota exceeded for instances: Requested 3, but already used 2 of 2 instances');
  assert.equal(cloud.servers().length, 2, 'nothing was created');

  cloud.setQuota({ instances: 10, cores: 3 });
  assert.equal((await boot({ flavorRef: '3' })).body.forbidden.message, 'Quota exceeded for cores: Requested 2, but already used 2 of 3 cores');
  cloud.setQuota({ cores: -1, ram: 2000 });
  assert.equal((await boot({ flavorRef: '2' })).body.forbidden.message, 'Quota exceeded for ram: Requested 2048, but already used 1024 of 2000 ram');

  // max_count boots as many as fit (at least min_count), named name-1, name-2...
  cloud.setQuota({ instances: 4, ram: -1 });
  assert.equal((await boot({ name: 'many', min_count: 1, max_count: 5 })).status, 202);
  assert.deepEqual(cloud.servers().map((x) => x.name).filter((n) => n.startsWith('many')), ['many-1', 'many-2']);
  const limits = await call('GET', `${s.compute}/limits`, { token: s.token, mv: '2.79' });
  assert.equal(limits.body.limits.absolute.totalInstancesUsed, 4);
  assert.equal(limits.body.limits.absolute.maxTotalInstances, 4);

  for (const f of ['instances-quota', 'cores-quota', 'ram-quota', 'instances-quota-min-count']) {
    assert.match(sample(`nova-servers-create-403-${f}`).response.body.forbidden.message, /^Quota exceeded for \w+: Requested \d+, but already used \d+ of \d+ \w+$/);
  }
});

test('keypairs are imported, listed, shown and deleted', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const pub = newKeyPair().public;
  const made = await call('POST', `${s.compute}/os-keypairs`, { token: s.token, mv: '2.79', body: { keypair: { name: 'ci', public_key: pub } } });
  assert.equal(made.status, 201);
  assert.match(made.body.keypair.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  assert.equal(made.body.keypair.type, 'ssh');
  const again = await call('POST', `${s.compute}/os-keypairs`, { token: s.token, mv: '2.79', body: { keypair: { name: 'ci', public_key: pub } } });
  assert.deepEqual(again.body, { conflictingRequest: { code: 409, message: "Key pair 'ci' already exists." } });
  const bad = await call('POST', `${s.compute}/os-keypairs`, { token: s.token, mv: '2.79', body: { keypair: { name: 'x', public_key: 'ssh-rsa nonsense' } } });
  assert.equal(bad.body.badRequest.message, 'Keypair data is invalid: failed to generate fingerprint');
  const required = await call('POST', `${s.compute}/os-keypairs`, { token: s.token, mv: '2.92', body: { keypair: { name: 'gen' } } });
  assert.equal(required.status, 400, 'since 2.92 Nova no longer generates keys');

  const list = await call('GET', `${s.compute}/os-keypairs`, { token: s.token, mv: '2.79' });
  assert.deepEqual(list.body.keypairs.map((k: any) => k.keypair.name), ['ci']);
  assert.equal((await call('GET', `${s.compute}/os-keypairs/ci`, { token: s.token, mv: '2.79' })).body.keypair.public_key, pub);
  assert.equal((await call('DELETE', `${s.compute}/os-keypairs/ci`, { token: s.token, mv: '2.79' })).status, 204);
  const missing = await call('GET', `${s.compute}/os-keypairs/ci`, { token: s.token, mv: '2.79' });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.itemNotFound.message, `Keypair ci not found for user ${sim.cloud('alpha').credentials.userId}`);
});
