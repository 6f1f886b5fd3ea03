import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { Writable } from 'node:stream';
import { createLogger, silentLogger } from '../../src/log.ts';
import { runCloudSim } from '../../src/cloudsim/main.ts';
import { call, keys, login, newKeyPair, sample, sshExec, startSim } from '../unit/cloudsim-support.ts';

test('injected call failures use each service own error shape; 429 says when to retry', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const cloud = sim.cloud('alpha');

  cloud.failNextCalls({ method: 'GET', pathPattern: /\/servers\/detail$/, status: 429, count: 2, retryAfterSeconds: 7 });
  for (let i = 0; i < 2; i++) {
    const limited = await call('GET', `${s.compute}/servers/detail`, { token: s.token, mv: '2.79' });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    assert.deepEqual(limited.body, { overLimit: { code: 429, message: 'This request was rate-limited.' } });
    assert.equal(limited.headers.get('openstack-api-version'), null, 'refused before Nova read the microversion');
  }
  assert.equal((await call('GET', `${s.compute}/servers/detail`, { token: s.token, mv: '2.79' })).status, 200, 'only `count` calls fail');
  assert.equal((await call('GET', `${s.compute}/flavors`, { token: s.token })).status, 200);

  cloud.failNextCalls({ service: 'nova', status: 500, count: 1 });
  assert.equal((await call('GET', `${s.compute}/flavors`, { token: s.token })).body.computeFault.code, 500);
  cloud.failNextCalls({ service: 'nova', status: 503, count: 1 });
  assert.equal((await call('GET', `${s.compute}/flavors`, { token: s.token })).body.serviceUnavailable.code, 503);
  cloud.failNextCalls({ service: 'keystone', status: 503, count: 1 });
  const k = await call('POST', `${s.identity}/v3/auth/tokens`, { body: {} });
  assert.deepEqual(keys(k.body.error), ['code', 'message', 'title']);
  assert.equal(k.body.error.title, 'Service Unavailable');
  cloud.failNextCalls({ service: 'neutron', status: 500, count: 1 });
  assert.equal((await call('GET', `${s.network}/v2.0/networks`, { token: s.token })).body.NeutronError.type, 'HTTPInternalServerError');
  cloud.failNextCalls({ service: 'glance', status: 500, count: 1 });
  assert.equal((await call('GET', `${s.image}/v2/images`, { token: s.token })).body.code, '500 Internal Server Error');
});

test('an offline cloud resets every connection and its nodes stop answering SSH, until it is back', async (t) => {
  const sim = await startSim(t, { clouds: [{ name: 'alpha', bootDelayMs: 50, sshPort: 2022, addressBase: '127.151' }, { name: 'beta', ssh: false }] });
  const s = await login(sim, 'alpha');
  const client = newKeyPair();
  const alpha = sim.cloud('alpha');
  const net = (await call('GET', `${s.network}/v2.0/networks?name=private`, { token: s.token })).body.networks[0].id;
  const img = (await call('GET', `${s.image}/v2/images?name=cirros`, { token: s.token })).body.images[0].id;
  const id = (await call('POST', `${s.compute}/servers`, { token: s.token, mv: '2.79', body: { server: { name: 'n', imageRef: img, flavorRef: '1', networks: [{ uuid: net }] } } })).body.server.id;
  const node = await alpha.waitForStatus(id, 'ACTIVE');
  const exec = () => sshExec({ host: node.addresses[0].ip, port: 2022, privateKey: client.private, hostKey: node.hostKey!, command: 'echo up' });
  assert.equal((await exec()).stdout, 'up\n', 'without key_name any key is accepted');

  await alpha.setOffline(true);
  await assert.rejects(call('GET', `${s.compute}/servers/detail`, { token: s.token }), (err: Error) => {
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ECONNRESET');
    return true;
  });
  await assert.rejects(exec(), /ECONNREFUSED/);
  // Other clouds on the same port are unaffected.
  assert.equal((await login(sim, 'beta')).token.length > 0, true);

  await alpha.setOffline(false);
  assert.equal((await call('GET', `${s.compute}/servers/detail`, { token: s.token })).status, 200);
  assert.equal((await exec()).stdout, 'up\n');
});

test('stats count API calls by service, method and route', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const cloud = sim.cloud('alpha');
  await call('GET', `${s.compute}/servers/detail`, { token: s.token });
  await call('GET', `${s.compute}/servers/detail`, { token: s.token });
  await call('GET', `${s.compute}/servers/00000000-0000-4000-8000-000000000000`, { token: s.token });
  await call('GET', `${s.network}/v2.0/networks`, { token: s.token });
  await call('GET', `${s.compute}/no-such-thing`, { token: s.token });
  assert.deepEqual(cloud.stats(), {
    total: 6,
    calls: {
      'keystone POST /v3/auth/tokens': 1, 'nova GET /servers/detail': 2, 'nova GET /servers/{id}': 1,
      'neutron GET /v2.0/networks': 1, 'nova GET (unknown)': 1,
    },
  });
  cloud.resetStats();
  assert.deepEqual(cloud.stats(), { total: 0, calls: {} });
});

test('the log has a debug line per API call and an info line per server state change', async (t) => {
  const lines: any[] = [];
  const destination = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(chunk.toString())); done(); } });
  const sim = await startSim(t, { logger: createLogger({ level: 'debug', destination }), clouds: [{ name: 'alpha', ssh: false, bootDelayMs: 10 }] });
  const s = await login(sim, 'alpha');
  const img = (await call('GET', `${s.image}/v2/images?name=cirros`, { token: s.token })).body.images[0].id;
  const id = (await call('POST', `${s.compute}/servers`, { token: s.token, mv: '2.79', body: { server: { name: 'n', imageRef: img, flavorRef: '1', networks: 'none' } } })).body.server.id;
  await sim.cloud('alpha').waitForStatus(id, 'ACTIVE');
  const calls = lines.filter((l) => l.msg === 'api call').map((l) => [l.level, l.cloud, l.service, l.method, l.route, l.status]);
  assert.deepEqual(calls, [
    [20, 'alpha', 'keystone', 'POST', '/v3/auth/tokens', 201], [20, 'alpha', 'glance', 'GET', '/v2/images', 200], [20, 'alpha', 'nova', 'POST', '/servers', 202],
  ]);
  const changes = lines.filter((l) => l.msg === 'server state change').map((l) => [l.level, l.cloud, l.server, l.from, l.to]);
  assert.deepEqual(changes, [
    [30, 'alpha', id, 'none', 'BUILD(scheduling)'], [30, 'alpha', id, 'BUILD(scheduling)', 'BUILD(spawning)'], [30, 'alpha', id, 'BUILD(spawning)', 'ACTIVE'],
  ]);
  assert.ok(!lines.some((l) => JSON.stringify(l).includes(s.token)), 'tokens are never logged');
});

test('Glance answers 404 in JSON only to a client that accepts JSON, and takes uploads', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const versions = await call('GET', `${s.image}/`);
  assert.equal(versions.status, 300);
  assert.equal(versions.body.versions[0].id, 'v2.15');

  const missing = `${s.image}/v2/images/00000000-0000-4000-8000-000000000000`;
  const asJson = await call('GET', missing, { token: s.token });
  assert.equal(asJson.status, 404);
  assert.deepEqual(asJson.body, { message: 'No image found with ID 00000000-0000-4000-8000-000000000000<br /><br />\n\n\n', code: '404 Not Found', title: 'Not Found' });
  const asText = await call('GET', missing, { token: s.token, headers: { Accept: '*/*' } });
  assert.equal(asText.status, 404);
  assert.equal(asText.headers.get('content-type'), 'text/plain; charset=UTF-8');
  assert.equal(asText.text, '404 Not Found\n\nNo image found with ID 00000000-0000-4000-8000-000000000000\n\n   ');

  const page = await call('GET', `${s.image}/v2/images?limit=2`, { token: s.token });
  assert.equal(page.body.images.length, 2);
  assert.equal(page.body.next, `/v2/images?limit=2&marker=${page.body.images[1].id}`);
  assert.equal(page.body.first, '/v2/images?limit=2');

  const made = await call('POST', `${s.image}/v2/images`, { token: s.token, body: { name: 'built', disk_format: 'raw', container_format: 'bare', visibility: 'private', pool_image_build: '0001' } });
  assert.equal(made.status, 201);
  assert.equal(made.body.status, 'queued');
  assert.equal(made.body.pool_image_build, '0001');
  const data = Buffer.from('samples image bytes: any content will do for the fake driver\n');
  const up = await fetch(`${s.image}/v2/images/${made.body.id}/file`, { method: 'PUT', headers: { 'X-Auth-Token': s.token, 'Content-Type': 'application/octet-stream' }, body: data });
  assert.equal(up.status, 204);
  const shown = (await call('GET', `${s.image}/v2/images/${made.body.id}`, { token: s.token })).body;
  assert.deepEqual([shown.status, shown.size, shown.checksum], ['active', 61, 'af89f0584bfae46ff5626f18c6c1654a']);
  assert.equal((await call('DELETE', `${s.image}/v2/images/${made.body.id}`, { token: s.token })).status, 204);

  assert.deepEqual(keys(asJson.body), keys(sample('glance-images-show-404').response.body));
  assert.equal(asText.text.replace(/[0-9a-f-]{36}/, 'ID'), sample('glance-images-show-404-html').response.body.replace(/[0-9a-f-]{36}/, 'ID'));
  assert.deepEqual(keys(made.body), keys(sample('glance-images-create-201').response.body));
  assert.deepEqual(keys(shown), keys(sample('glance-images-show-200-active').response.body));
  assert.deepEqual(keys(page.body), keys(sample('glance-images-list-200-paginated').response.body));
});

test('Neutron lists networks with filters and pages, and answers NeutronError 404s', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const all = await call('GET', `${s.network}/v2.0/networks`, { token: s.token });
  assert.deepEqual(all.body.networks.map((n: any) => n.name).sort(), ['private', 'public']);
  assert.equal(all.body.networks_links, undefined, 'without limit Neutron returns everything');
  const external = await call('GET', `${s.network}/v2.0/networks?router:external=true`, { token: s.token });
  assert.deepEqual(external.body.networks.map((n: any) => n.name), ['public']);
  const page = await call('GET', `${s.network}/v2.0/networks?limit=1`, { token: s.token });
  assert.deepEqual(page.body.networks_links.map((l: any) => l.rel), ['next', 'previous']);
  const id = page.body.networks[0].id;
  assert.equal(page.body.networks_links[0].href, `${s.network}/v2.0/networks?limit=1&marker=${id}`);
  assert.equal((await call('GET', `${s.network}/v2.0/networks/${id}`, { token: s.token })).body.network.id, id);
  const missing = await call('GET', `${s.network}/v2.0/networks/00000000-0000-4000-8000-000000000000`, { token: s.token });
  assert.deepEqual(missing.body, { NeutronError: { type: 'NetworkNotFound', message: 'Network 00000000-0000-4000-8000-000000000000 could not be found.', detail: '' } });
  const subnets = await call('GET', `${s.network}/v2.0/subnets?network_id=${id}`, { token: s.token });
  assert.deepEqual(subnets.body.subnets.map((x: any) => x.id), [page.body.networks[0].subnets[0]]);
  assert.deepEqual((await call('GET', `${s.network}/v2.0/floatingips`, { token: s.token })).body, { floatingips: [] });
  const recorded = sample('neutron-networks-list-200').response.body.networks;
  for (const n of all.body.networks) assert.deepEqual(keys(n), keys(recorded.find((r: any) => r.name === n.name)));
  assert.deepEqual(keys(missing.body.NeutronError), keys(sample('neutron-floatingips-show-404').response.body.NeutronError));
});

test('runCloudSim serves the named clouds and writes a private clouds.yaml', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cloudsim-main-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'clouds.yaml');
  const sim = await runCloudSim({ host: '127.0.0.1', port: 0, clouds: ['east', 'west'], bootDelayMs: 10, deleteDelayMs: 10, sshPort: 2022, cloudsYamlPath: file, logger: silentLogger() });
  t.after(() => sim.close());
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const yaml = YAML.parse(await readFile(file, 'utf8'));
  assert.deepEqual(Object.keys(yaml.clouds), ['east', 'west']);
  assert.equal(yaml.clouds.west.auth.auth_url, `${sim.url}/west/identity`);
  assert.equal(yaml.clouds.west.identity_api_version, 3);
  const west = await login(sim, 'west');
  assert.equal(west.compute, `${sim.url}/west/compute/v2.1`);
  // A token of one cloud means nothing to another.
  const east = await login(sim, 'east');
  assert.equal((await call('GET', `${east.compute}/servers`, { token: west.token })).status, 401);
});
