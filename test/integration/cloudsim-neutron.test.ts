import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootActive, call, keys, login, newKeyPair, sample, sshExec, startSim, until } from '../unit/cloudsim-support.ts';

const externalNetwork = async (s: { network: string; token: string }) =>
  (await call('GET', `${s.network}/v2.0/networks?router:external=true`, { token: s.token })).body.networks[0].id as string;

test('a floating IP is allocated, associated, shown by Nova after the network-changed delay, reaches its server, and is released while associated', async (t) => {
  const sim = await startSim(t, {
    clouds: [{ name: 'alpha', bootDelayMs: 50, deleteDelayMs: 30, sshPort: 2022, addressBase: '127.152', floatingAddressBase: '127.252', floatingIpNovaDelayMs: 800 }],
  });
  const s = await login(sim, 'alpha');
  const id = await bootActive(sim, s, 'alpha');
  const node = sim.cloud('alpha').server(id)!;
  const publicNet = await externalNetwork(s);

  const created = await call('POST', `${s.network}/v2.0/floatingips`, {
    token: s.token, body: { floatingip: { floating_network_id: publicNet, description: 'nodepool_node_id=0000000001' } },
  });
  assert.equal(created.status, 201);
  const fip = created.body.floatingip;
  assert.equal(fip.status, 'DOWN');
  assert.equal(fip.port_id, null);
  assert.equal(fip.port_details, null);
  assert.equal(fip.description, 'nodepool_node_id=0000000001');
  assert.match(fip.floating_ip_address, /^127\.252\.\d+\.\d+$/);

  const port = (await call('GET', `${s.network}/v2.0/ports?device_id=${id}`, { token: s.token })).body.ports[0];
  const associated = await call('PUT', `${s.network}/v2.0/floatingips/${fip.id}`, { token: s.token, body: { floatingip: { port_id: port.id } } });
  assert.equal(associated.status, 200);
  const a = associated.body.floatingip;
  assert.equal(a.port_id, port.id);
  assert.equal(a.fixed_ip_address, node.addresses[0].ip);
  assert.ok(a.router_id);
  assert.equal(a.status, 'DOWN', 'no L3 agent, as in the recorded cloud');
  assert.deepEqual([a.port_details.device_id, a.port_details.device_owner, a.port_details.mac_address], [id, 'compute:nova', port.mac_address]);
  assert.equal(a.revision_number, 1);

  // Nova's cache hears of it later: first only the fixed address, then the floating one after it.
  const addresses = async () => (await call('GET', `${s.compute}/servers/${id}`, { token: s.token, mv: '2.79' })).body.server.addresses.private;
  assert.deepEqual((await addresses()).map((x: any) => x['OS-EXT-IPS:type']), ['fixed']);
  const both = await until(async () => {
    const list = await addresses();
    return list.length === 2 ? list : undefined;
  }, 5000, 'the floating address in Nova');
  assert.deepEqual(both[1], { version: 4, addr: fip.floating_ip_address, 'OS-EXT-IPS:type': 'floating', 'OS-EXT-IPS-MAC:mac_addr': port.mac_address });

  // The floating address reaches the server, like the real NAT would.
  const client = newKeyPair();
  const viaFip = () => sshExec({ host: fip.floating_ip_address, port: 2022, privateKey: client.private, hostKey: node.hostKey!, command: 'echo via-fip' });
  assert.equal((await viaFip()).stdout, 'via-fip\n');

  const list = async (q: string) => (await call('GET', `${s.network}/v2.0/floatingips${q}`, { token: s.token })).body.floatingips.map((x: any) => x.id);
  assert.deepEqual(await list(`?port_id=${port.id}`), [fip.id]);
  assert.deepEqual(await list(`?floating_network_id=${publicNet}&status=DOWN`), [fip.id]);
  assert.deepEqual(await list('?status=ACTIVE'), []);
  assert.deepEqual(await list(`?port_id=${fip.id}`), []);

  // Same keys in the same order as recorded (the create answer puts project_id after status).
  assert.deepEqual(Object.keys(fip), Object.keys(sample('neutron-floatingips-create-201').response.body.floatingip));
  assert.deepEqual(Object.keys(a), Object.keys(sample('neutron-floatingips-update-200-associate').response.body.floatingip));
  assert.deepEqual(keys(a.port_details), keys(sample('neutron-floatingips-update-200-associate').response.body.floatingip.port_details));

  // Released while still associated: 204, then 404 in Neutron's words; the address stops answering.
  const deleted = await call('DELETE', `${s.network}/v2.0/floatingips/${fip.id}`, { token: s.token });
  assert.equal(deleted.status, 204);
  assert.equal(deleted.text, '');
  const missing = await call('GET', `${s.network}/v2.0/floatingips/${fip.id}`, { token: s.token });
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, { NeutronError: { type: 'FloatingIPNotFound', message: `Floating IP ${fip.id} could not be found`, detail: '' } });
  await assert.rejects(viaFip(), /ECONNREFUSED/);
  assert.deepEqual((await addresses()).map((x: any) => x['OS-EXT-IPS:type']), ['fixed']);
  assert.deepEqual(sim.cloud('alpha').inventory().floatingIps, []);
});

test('floating IPs: 409 OverQuota at the quota as recorded, 400 on a network that is not external, 404 on an unknown one', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const publicNet = await externalNetwork(s);
  sim.cloud('alpha').setNetworkQuota({ floatingip: 1 });
  const create = (network: string) => call('POST', `${s.network}/v2.0/floatingips`, { token: s.token, body: { floatingip: { floating_network_id: network } } });
  assert.equal((await create(publicNet)).status, 201);
  const over = await create(publicNet);
  assert.equal(over.status, 409);
  assert.deepEqual(over.body, { NeutronError: { type: 'OverQuota', message: "Quota exceeded for resources: ['floatingip'].", detail: '' } });
  assert.deepEqual(over.body, sample('neutron-floatingips-create-409-quota').response.body);

  sim.cloud('alpha').setNetworkQuota({ floatingip: -1 });
  const privateNet = (await call('GET', `${s.network}/v2.0/networks?name=private`, { token: s.token })).body.networks[0].id;
  assert.equal((await create(privateNet)).status, 400);
  assert.equal((await create('00000000-0000-4000-8000-000000000000')).body.NeutronError.type, 'NetworkNotFound');
});

test('ports: listed by device, owner and status; with leaked ports a deleted server leaves its port DOWN; delete is 204', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const cloud = sim.cloud('alpha');
  const kept = await bootActive(sim, s, 'alpha', { name: 'kept' });
  const gone = await bootActive(sim, s, 'alpha', { name: 'gone' });
  const leaky = await bootActive(sim, s, 'alpha', { name: 'leaky' });
  const ports = async (q: string) => (await call('GET', `${s.network}/v2.0/ports${q}`, { token: s.token })).body.ports;

  assert.equal((await ports('?device_owner=compute:nova')).length, 3);
  await call('DELETE', `${s.compute}/servers/${gone}`, { token: s.token, mv: '2.79' });
  await cloud.waitForStatus(gone, 'DELETED');
  assert.deepEqual(await ports(`?device_id=${gone}`), [], 'Nova deletes the ports it made');

  await cloud.patchFaults({ leakPorts: true });
  await call('DELETE', `${s.compute}/servers/${leaky}`, { token: s.token, mv: '2.79' });
  await cloud.waitForStatus(leaky, 'DELETED');
  const [leaked] = await ports(`?device_id=${leaky}`);
  assert.deepEqual([leaked.status, leaked.device_owner, leaked.device_id], ['DOWN', 'compute:nova', leaky]);
  assert.deepEqual((await ports('?status=DOWN')).map((p: any) => p.id), [leaked.id]);
  assert.deepEqual((await ports('?device_owner=compute:nova&status=ACTIVE')).map((p: any) => p.device_id), [kept]);
  assert.deepEqual(cloud.injected(), { 'port leak': 1 });
  assert.deepEqual(cloud.inventory().ports.map((p) => [p.deviceId, p.status]).sort(), [[kept, 'ACTIVE'], [leaky, 'DOWN']].sort());

  assert.equal((await call('DELETE', `${s.network}/v2.0/ports/${leaked.id}`, { token: s.token })).status, 204);
  const again = await call('DELETE', `${s.network}/v2.0/ports/${leaked.id}`, { token: s.token });
  assert.equal(again.status, 404);
  assert.equal(again.body.NeutronError.type, 'PortNotFound');
});

test('the port quota: Neutron answers 409 OverQuota, Nova refuses the boot with 403, both as recorded', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  await bootActive(sim, s, 'alpha');
  sim.cloud('alpha').setNetworkQuota({ port: 0 });
  const privateNet = (await call('GET', `${s.network}/v2.0/networks?name=private`, { token: s.token })).body.networks[0].id;
  const created = await call('POST', `${s.network}/v2.0/ports`, { token: s.token, body: { port: { network_id: privateNet, name: 'samples-port' } } });
  assert.equal(created.status, 409);
  assert.deepEqual(created.body, { NeutronError: { type: 'OverQuota', message: "Quota exceeded for resources: ['port'].", detail: '' } });
  await assert.rejects(bootActive(sim, s, 'alpha'), /403 .*"The number of defined ports: 1 is over the limit: 0"/);
  await bootActive(sim, s, 'alpha', { network: false });
  assert.deepEqual(created.body, sample('neutron-ports-create-409-quota').response.body);
  assert.equal(sample('nova-servers-create-403-port-quota').response.body.forbidden.message, 'The number of defined ports: 1 is over the limit: 0');
});

test('tags on floating IPs and ports answer with the API reference codes and filter lists', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const publicNet = await externalNetwork(s);
  const mk = async () => (await call('POST', `${s.network}/v2.0/floatingips`, { token: s.token, body: { floatingip: { floating_network_id: publicNet } } })).body.floatingip.id;
  const [one, two] = [await mk(), await mk()];
  const base = `${s.network}/v2.0/floatingips/${one}/tags`;

  const added = await call('PUT', `${base}/nodepool_provider_name=alpha`, { token: s.token });
  assert.deepEqual([added.status, added.text], [201, '']);
  assert.equal((await call('PUT', `${base}/nodepool_provider_name=alpha`, { token: s.token })).status, 201, 'adding it again is no error');
  assert.equal((await call('GET', `${base}/nodepool_provider_name=alpha`, { token: s.token })).status, 204);
  assert.equal((await call('GET', `${base}/other`, { token: s.token })).status, 404);
  const replaced = await call('PUT', base, { token: s.token, body: { tags: ['a', 'b'] } });
  assert.deepEqual([replaced.status, replaced.body], [200, { tags: ['a', 'b'] }]);
  assert.equal((await call('PUT', `${base}/${'x'.repeat(61)}`, { token: s.token })).status, 400, 'at most 60 characters');
  assert.equal((await call('PUT', base, { token: s.token, body: { tags: ['a,b'] } })).status, 400);

  const ids = async (q: string) => (await call('GET', `${s.network}/v2.0/floatingips?${q}`, { token: s.token })).body.floatingips.map((f: any) => f.id);
  assert.deepEqual(await ids('tags=a,b'), [one]);
  assert.deepEqual(await ids('not-tags-any=a'), [two]);
  assert.equal((await call('DELETE', `${base}/a`, { token: s.token })).status, 204);
  assert.deepEqual((await call('GET', base, { token: s.token })).body, { tags: ['b'] });
  assert.equal((await call('DELETE', base, { token: s.token })).status, 204);
  assert.deepEqual(await ids('tags-any=a,b'), []);

  const id = await bootActive(sim, s, 'alpha');
  const port = (await call('GET', `${s.network}/v2.0/ports?device_id=${id}`, { token: s.token })).body.ports[0];
  assert.equal((await call('PUT', `${s.network}/v2.0/ports/${port.id}/tags/nodepool`, { token: s.token })).status, 201);
  assert.deepEqual((await call('GET', `${s.network}/v2.0/ports?tags=nodepool`, { token: s.token })).body.ports.map((p: any) => p.id), [port.id]);
});
