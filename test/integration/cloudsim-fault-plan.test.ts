import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootActive, call, login, startSim, until } from '../unit/cloudsim-support.ts';

const admin = (url: string, cloud: string) => `${url}/${cloud}/sim`;

test('faults set through the admin endpoint are validated by field, in force at once, listed back, and never counted', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const faults = `${admin(sim.url, 'alpha')}/faults`;

  const initial = (await call('GET', faults)).body;
  assert.deepEqual({ ...initial, seed: 0 }, { errors: [], latency: [], offline: false, leakPorts: false, seed: 0 });
  assert.ok(Number.isInteger(initial.seed), 'a random seed is reported so a run can be repeated');

  const bad = await call('POST', faults, { body: { errors: [{ service: 'nova', rate: 1.5 }] } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /^errors\.0\.rate: /);
  assert.match((await call('POST', faults, { body: { errros: [] } })).body.error, /errros/);

  const set = await call('POST', faults, { body: { seed: 1, errors: [{ service: 'nova', method: 'get', route: '/flavors', rate: 1, answer: 503 }] } });
  assert.equal(set.status, 200);
  assert.deepEqual(set.body.errors, [{ service: 'nova', method: 'GET', route: '/flavors', rate: 1, answer: 503, retryAfterSeconds: 1 }]);
  assert.equal((await call('GET', `${s.compute}/flavors`, { token: s.token })).status, 503);
  assert.equal((await call('GET', `${s.compute}/limits`, { token: s.token })).status, 200, 'other routes are not touched');

  // PATCH replaces the keys it names and keeps the others.
  const patched = (await call('PATCH', faults, { body: { leakPorts: 0.5 } })).body;
  assert.deepEqual([patched.leakPorts, patched.errors.length, patched.seed], [0.5, 1, 1]);
  assert.equal((await call('DELETE', faults)).status, 204);
  assert.equal((await call('GET', `${s.compute}/flavors`, { token: s.token })).status, 200);

  const stats = (await call('GET', `${admin(sim.url, 'alpha')}/stats`)).body;
  assert.deepEqual(stats.injected, { 'nova 503': 1 });
  assert.equal(stats.calls['nova GET /flavors'], 2);
  assert.ok(!Object.keys(stats.calls).some((k) => k.includes('sim')), 'admin calls are not API calls');
  assert.equal((await call('DELETE', `${admin(sim.url, 'alpha')}/stats`)).status, 204);
  assert.deepEqual((await call('GET', `${admin(sim.url, 'alpha')}/stats`)).body, { total: 0, calls: {}, injected: {}, held: 0 });
  assert.equal((await call('GET', `${admin(sim.url, 'nope')}/faults`)).status, 404);
});

test('a 20% error rate with a fixed seed fails the same calls on every run, each in the service\'s own shape', async (t) => {
  const spec = { seed: 42, errors: [{ service: 'nova' as const, rate: 0.2, answer: [500, 503, 429, 'quota'] as (500 | 503 | 429 | 'quota')[], retryAfterSeconds: 3 }] };
  const sim = await startSim(t, { clouds: [{ name: 'one', ssh: false, faults: spec }, { name: 'two', ssh: false, faults: spec }] });
  const run = async (cloud: string) => {
    const s = await login(sim, cloud);
    const out: { status: number; body: any; retryAfter: string | null; mv: string | null }[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await call('GET', `${s.compute}/flavors`, { token: s.token, mv: '2.79' });
      out.push({ status: res.status, body: res.body, retryAfter: res.headers.get('retry-after'), mv: res.headers.get('openstack-api-version') });
    }
    return out;
  };
  const one = await run('one');
  const two = await run('two');
  assert.deepEqual(one.map((r) => r.status), two.map((r) => r.status), 'same seed, same calls: same failures');
  const failed = one.filter((r) => r.status !== 200);
  assert.ok(failed.length >= 5 && failed.length <= 20, `about 20% of 60 failed: ${failed.length}`);
  const injected = sim.cloud('one').injected();
  assert.equal(Object.values(injected).reduce((a, b) => a + b, 0), failed.length);
  for (const r of failed) {
    if (r.status === 429) assert.deepEqual([r.retryAfter, r.body.overLimit.code], ['3', 429]);
    else if (r.status === 403) {
      assert.match(r.body.forbidden.message, /^Quota exceeded for instances: Requested 1, but already used 0 of 10 instances$/);
      assert.equal(r.mv, 'compute 2.79', 'a quota refusal comes from Nova itself');
    } else assert.ok([500, 503].includes(r.status));
  }
  assert.ok(new Set(failed.map((r) => r.status)).size >= 3, 'the answers are mixed');
});

test('offline: connections reset, or calls left unanswered; the admin endpoint still answers and brings the cloud back', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const faults = `${admin(sim.url, 'alpha')}/faults`;

  await call('PATCH', faults, { body: { offline: 'reset' } });
  await assert.rejects(call('GET', `${s.compute}/flavors`, { token: s.token }), (err: Error) => (err.cause as NodeJS.ErrnoException).code === 'ECONNRESET');

  await call('PATCH', faults, { body: { offline: 'timeout' } });
  assert.equal((await call('GET', faults)).body.offline, 'timeout');
  const hanging = fetch(`${s.compute}/flavors`, { headers: { 'X-Auth-Token': s.token }, signal: AbortSignal.timeout(300) });
  await assert.rejects(hanging, { name: 'TimeoutError' });
  const heldUntilBack = fetch(`${s.compute}/flavors`, { headers: { 'X-Auth-Token': s.token } });
  await until(() => (sim.cloud('alpha').heldCalls() === 1 ? true : undefined), 5000, 'the call held');

  await sim.cloud('alpha').setOffline(false);
  // Its connection is dropped with the outage (a client may then try again, as fetch does).
  await heldUntilBack.then(() => undefined, () => undefined);
  assert.equal(sim.cloud('alpha').heldCalls(), 0);
  assert.equal((await call('GET', `${s.compute}/flavors`, { token: s.token })).status, 200);
});

test('latency is added to the matching calls', async (t) => {
  const sim = await startSim(t, { clouds: [{ name: 'alpha', ssh: false, faults: { latency: [{ service: 'neutron', ms: 150 }] } }] });
  const s = await login(sim, 'alpha');
  const started = Date.now();
  assert.equal((await call('GET', `${s.network}/v2.0/networks`, { token: s.token })).status, 200);
  assert.ok(Date.now() - started >= 150);
});

test('boots fail or hang by rate, deletes stick in deleting, and each is counted', async (t) => {
  const sim = await startSim(t, { clouds: [{ name: 'alpha', ssh: false, bootDelayMs: 30, deleteDelayMs: 20 }] });
  const s = await login(sim, 'alpha');
  const cloud = sim.cloud('alpha');
  const boot = async () => {
    const img = (await call('GET', `${s.image}/v2/images?name=cirros`, { token: s.token })).body.images[0].id;
    return (await call('POST', `${s.compute}/servers`, { token: s.token, mv: '2.79', body: { server: { name: 'n', imageRef: img, flavorRef: '1', networks: 'none' } } })).body.server.id as string;
  };

  await cloud.setFaults({ boots: { errorRate: 1, fault: 'quota' } });
  const lost = await cloud.waitForStatus(await boot(), 'ERROR');
  assert.deepEqual(lost.fault, { code: 413, message: 'Quota exceeded for instances: Requested 1, but already used 1 of 1 instances' });

  await cloud.setFaults({ boots: { hangRate: 1 } });
  const hung = await boot();
  await until(() => (cloud.server(hung)?.taskState === 'spawning' ? true : undefined), 5000, 'spawning');
  await assert.rejects(cloud.waitForStatus(hung, 'ACTIVE', 200), /did not reach ACTIVE/);

  await cloud.setFaults({ deletes: { stuckRate: 1 } });
  const stuck = await bootActive(sim, s, 'alpha', { network: false });
  assert.equal((await call('DELETE', `${s.compute}/servers/${stuck}`, { token: s.token, mv: '2.79' })).status, 204);
  await assert.rejects(cloud.waitForStatus(stuck, 'DELETED', 200), /did not reach DELETED/);
  assert.equal(cloud.inventory().servers.find((x) => x.id === stuck)?.taskState, 'deleting');
  assert.deepEqual(cloud.injected(), { 'boot error': 1, 'boot hang': 1, 'delete stuck': 1 });

  // Slow deletes take their time.
  await cloud.setFaults({ deletes: { delayMs: 250 } });
  const slow = await bootActive(sim, s, 'alpha', { network: false });
  const asked = Date.now();
  await call('DELETE', `${s.compute}/servers/${slow}`, { token: s.token, mv: '2.79' });
  await cloud.waitForStatus(slow, 'DELETED');
  assert.ok(Date.now() - asked >= 240);
});

test('servers of other users use part of the quota: listed, counted by GET /limits, and refusals count them', async (t) => {
  const sim = await startSim(t, { clouds: [{ name: 'alpha', ssh: false, bootDelayMs: 20, quota: { instances: 4 }, unmanagedServers: { count: 2, flavor: 'm1.small' } }] });
  const s = await login(sim, 'alpha');
  const limits = async () => (await call('GET', `${s.compute}/limits`, { token: s.token, mv: '2.79' })).body.limits.absolute;
  const a = await limits();
  assert.deepEqual([a.totalInstancesUsed, a.totalCoresUsed, a.totalRAMUsed], [2, 2, 4096]);

  const added = await call('POST', `${admin(sim.url, 'alpha')}/unmanaged-servers`, { body: { count: 1 } });
  assert.equal(added.status, 201);
  assert.equal(added.body.ids.length, 1);
  assert.equal((await call('POST', `${admin(sim.url, 'alpha')}/unmanaged-servers`, { body: { count: 1, flavor: 'm9.huge' } })).status, 400);
  const listed = (await call('GET', `${s.compute}/servers/detail`, { token: s.token, mv: '2.79' })).body.servers;
  assert.equal(listed.length, 3);
  assert.ok(listed.every((x: any) => x.status === 'ACTIVE' && x.user_id !== sim.cloud('alpha').credentials.userId && Object.keys(x.metadata).length === 0));

  await bootActive(sim, s, 'alpha', { network: false });
  const img = (await call('GET', `${s.image}/v2/images?name=cirros`, { token: s.token })).body.images[0].id;
  const refused = await call('POST', `${s.compute}/servers`, { token: s.token, mv: '2.79', body: { server: { name: 'n', imageRef: img, flavorRef: '1', networks: 'none' } } });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.forbidden.message, 'Quota exceeded for instances: Requested 1, but already used 4 of 4 instances');

  // Lowered mid-run, as an admin would.
  const q = (await call('POST', `${admin(sim.url, 'alpha')}/quotas`, { body: { compute: { instances: 2 }, network: { floatingip: 0 } } })).body;
  assert.deepEqual([q.compute.limit.instances, q.compute.used.instances, q.network.limit.floatingip], [2, 4, 0]);
  assert.equal((await limits()).maxTotalInstances, 2);
  assert.deepEqual(sim.cloud('alpha').inventory().servers.map((x) => x.unmanaged).sort(), [false, true, true, true]);
});

test('the inventory lists everything the cloud holds', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const server = await bootActive(sim, s, 'alpha');
  const publicNet = (await call('GET', `${s.network}/v2.0/networks?router:external=true`, { token: s.token })).body.networks[0].id;
  const fip = (await call('POST', `${s.network}/v2.0/floatingips`, { token: s.token, body: { floatingip: { floating_network_id: publicNet, description: 'mine' } } })).body.floatingip;
  const vol = (await call('POST', `${s.volume}/volumes`, { token: s.token, body: { volume: { size: 1, metadata: { k: 'v' } } } })).body.volume;
  const inv = (await call('GET', `${admin(sim.url, 'alpha')}/inventory`)).body;
  assert.deepEqual(Object.keys(inv), ['servers', 'ports', 'floatingIps', 'volumes', 'images', 'keypairs']);
  assert.deepEqual(inv.servers.map((x: any) => x.id), [server]);
  assert.deepEqual(inv.ports.map((p: any) => p.deviceId), [server]);
  assert.deepEqual(inv.floatingIps.map((f: any) => [f.id, f.description, f.portId]), [[fip.id, 'mine', null]]);
  assert.deepEqual(inv.volumes.map((v: any) => [v.id, v.metadata]), [[vol.id, { k: 'v' }]]);
  assert.ok(inv.images.some((i: any) => i.name === 'cirros' && i.ownedByProject === false));
});
