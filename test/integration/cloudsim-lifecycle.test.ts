import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import {
  call, keys, login, newKeyPair, sample, sshExec, startSim, until, type Session,
} from '../unit/cloudsim-support.ts';

async function ids(s: Session) {
  const images = (await call('GET', `${s.image}/v2/images?name=cirros`, { token: s.token })).body.images;
  const nets = (await call('GET', `${s.network}/v2.0/networks?name=private`, { token: s.token })).body.networks;
  return { image: images[0].id as string, network: nets[0].id as string };
}

/** At 2.79 unless `mv` is null (no header: Nova answers at 2.1). */
function getServer(s: Session, id: string, mv: string | null = '2.79') {
  return call('GET', `${s.compute}/servers/${id}`, { token: s.token, mv: mv ?? undefined });
}

async function waitStatus(s: Session, id: string, status: string) {
  return until(async () => {
    const res = await getServer(s, id);
    return res.body.server?.status === status ? res.body.server : undefined;
  }, 10_000, `server ${id} ${status}`);
}

test('a server boots, answers SSH with its own host key in its scratch dir, and is gone after delete', async (t) => {
  const sim = await startSim(t, { clouds: [{ name: 'alpha', bootDelayMs: 300, deleteDelayMs: 150, sshPort: 2022, addressBase: '127.150' }] });
  const s = await login(sim, 'alpha');
  const { image, network } = await ids(s);
  const client = newKeyPair();
  assert.equal((await call('POST', `${s.compute}/os-keypairs`, { token: s.token, mv: '2.79', body: { keypair: { name: 'ci', public_key: client.public } } })).status, 201);
  const since = new Date(Date.now() - 1000).toISOString();

  const created = await call('POST', `${s.compute}/servers`, {
    token: s.token, mv: '2.79',
    body: { server: { name: 'node-1', imageRef: image, flavorRef: '1', key_name: 'ci', networks: [{ uuid: network }], metadata: { pool: 'p1' }, tags: ['samples', 'pool-node'] } },
  });
  assert.equal(created.status, 202);
  const id = created.body.server.id;
  assert.equal(created.headers.get('location'), `${s.compute}/servers/${id}`);
  assert.equal(created.body.server.adminPass.length, 12);

  // Right after the 202: BUILD from the build request, no addresses, tags as sent.
  const build = (await getServer(s, id)).body.server;
  assert.equal(build.status, 'BUILD');
  assert.equal(build['OS-EXT-STS:task_state'], 'scheduling');
  assert.deepEqual(build.addresses, {});
  assert.deepEqual(build.tags, ['samples', 'pool-node']);
  assert.equal(build.hostId, '');
  assert.equal('security_groups' in build, false);

  const active = await waitStatus(s, id, 'ACTIVE');
  const node = sim.cloud('alpha').server(id)!;
  const ip = node.addresses[0].ip;
  assert.match(ip, /^127\.150\.\d+\.\d+$/);
  assert.deepEqual(active.addresses, { private: [{ version: 4, addr: ip, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': node.addresses[0].mac }] });
  assert.deepEqual(active.tags, ['pool-node', 'samples']);
  assert.deepEqual(active.security_groups, [{ name: 'default' }]);
  assert.equal(active.key_name, 'ci');
  assert.deepEqual(active.metadata, { pool: 'p1' });

  const port = (await call('GET', `${s.network}/v2.0/ports?device_id=${id}`, { token: s.token })).body.ports;
  assert.equal(port.length, 1);
  assert.equal(port[0].device_owner, 'compute:nova');
  assert.equal(port[0].fixed_ips[0].ip_address, ip);

  // SSH: the host key is pinned, the command runs in the node's scratch directory.
  assert.match(node.hostKey!, /^ssh-ed25519 AAAA[\w+/=]+$/);
  const ran = await sshExec({ host: ip, port: 2022, privateKey: client.private, hostKey: node.hostKey!, command: 'pwd; echo hi > made; echo warn >&2; exit 3' });
  assert.deepEqual(ran, { stdout: `${node.scratchDir}\n`, stderr: 'warn\n', code: 3 });
  assert.equal((await sshExec({ host: ip, port: 2022, privateKey: client.private, hostKey: node.hostKey!, command: 'cat made' })).stdout, 'hi\n');
  const stranger = newKeyPair();
  await assert.rejects(sshExec({ host: ip, port: 2022, privateKey: stranger.private, hostKey: node.hostKey!, command: 'true' }), /authentication methods failed/);
  const otherHost = newKeyPair().public;
  await assert.rejects(sshExec({ host: ip, port: 2022, privateKey: client.private, hostKey: otherHost, command: 'true' }), /verification failed/i);

  assert.deepEqual(keys(build), keys(sample('nova-servers-show-200-build-network').response.body.server));
  assert.deepEqual(keys(active), keys(sample('nova-servers-show-200-active-network').response.body.server));
  assert.deepEqual(keys(port[0]), keys(sample('neutron-ports-list-200-by-device').response.body.ports[0]));

  // Delete: task_state deleting at once, SSH down, then DELETED, then 404.
  assert.equal((await call('DELETE', `${s.compute}/servers/${id}`, { token: s.token, mv: '2.79' })).status, 204);
  const deleting = (await getServer(s, id)).body.server;
  assert.equal(deleting.status, 'ACTIVE');
  assert.equal(deleting['OS-EXT-STS:task_state'], 'deleting');
  await assert.rejects(sshExec({ host: ip, port: 2022, privateKey: client.private, hostKey: node.hostKey!, command: 'true' }), /ECONNREFUSED/);
  await sim.cloud('alpha').waitForStatus(id, 'DELETED');
  const gone = await until(async () => {
    const res = await getServer(s, id);
    return res.status === 404 ? res : undefined;
  }, 10_000, '404 after delete');
  assert.deepEqual(gone.body, { itemNotFound: { code: 404, message: `Instance ${id} could not be found.` } });
  assert.deepEqual((await call('GET', `${s.network}/v2.0/ports?device_id=${id}`, { token: s.token })).body.ports, []);

  // Only a client asking what changed still sees it, as DELETED.
  const changed = await call('GET', `${s.compute}/servers/detail?changes-since=${since}`, { token: s.token, mv: '2.79' });
  assert.deepEqual(changed.body.servers.map((x: any) => [x.id, x.status]), [[id, 'DELETED']]);
  assert.deepEqual((await call('GET', `${s.compute}/servers/detail`, { token: s.token, mv: '2.79' })).body.servers, []);
  const recorded = sample('nova-servers-detail-200-changes-since').response.body.servers.find((x: any) => x.status === 'DELETED');
  assert.deepEqual(keys(changed.body.servers[0]), keys(recorded));
});

test('a server without networks is ACTIVE with no addresses; 2.1 and 2.79 shapes differ as Nova', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const { image } = await ids(s);
  const created = await call('POST', `${s.compute}/servers`, { token: s.token, mv: '2.79', body: { server: { name: 'none', imageRef: image, flavorRef: '1', networks: 'none' } } });
  const id = created.body.server.id;
  const at279 = await waitStatus(s, id, 'ACTIVE');
  assert.deepEqual(at279.addresses, {});
  assert.deepEqual(at279.flavor, { vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0, original_name: 'm1.tiny', extra_specs: {} });
  const at21 = (await getServer(s, id, null)).body.server;
  assert.deepEqual(at21.flavor.id, '1');
  assert.equal('tags' in at21, false);
  assert.equal(sim.cloud('alpha').server(id)!.hostKey, null, 'no address, no SSH');
  assert.deepEqual(keys(at279), keys(sample('nova-servers-show-200-active').response.body.server));
  assert.deepEqual(keys(at21), keys(sample('nova-servers-show-200-v2.1').response.body.server));
  assert.deepEqual(keys(at21.flavor), keys(sample('nova-servers-show-200-v2.1').response.body.server.flavor));
  assert.deepEqual(keys(created.body.server), keys(sample('nova-servers-create-202').response.body.server));
});

test('injected boot failures end in ERROR with a fault; a hung boot stays in BUILD', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const { image } = await ids(s);
  const cloud = sim.cloud('alpha');
  const boot = async (name: string) =>
    (await call('POST', `${s.compute}/servers`, { token: s.token, mv: '2.79', body: { server: { name, imageRef: image, flavorRef: '1', networks: 'none' } } })).body.server.id as string;

  cloud.failNextBoots(1);
  cloud.hangNextBoots(1);
  const failed = await boot('fails');
  const hung = await boot('hangs');
  const fine = await boot('fine');
  const error = await waitStatus(s, failed, 'ERROR');
  assert.deepEqual({ code: error.fault.code, message: error.fault.message }, { code: 500, message: 'No valid host was found. ' });
  assert.equal('details' in error.fault, false);
  assert.equal('progress' in error, false);
  assert.equal(error['OS-EXT-STS:vm_state'], 'error');
  await waitStatus(s, fine, 'ACTIVE');
  const stuck = (await getServer(s, hung)).body.server;
  assert.equal(stuck.status, 'BUILD', 'booted before the one that went ACTIVE, still building');
  assert.equal(stuck['OS-EXT-STS:task_state'], 'spawning');

  cloud.failNextBoots(1, { code: 413, message: 'Quota exceeded for instances: Requested 1, but already used 1 of 1 instances' });
  const recheck = await waitStatus(s, await boot('loser'), 'ERROR');
  assert.equal(recheck.fault.code, 413);
  // ERROR and BUILD servers count against quota.
  assert.equal((await call('GET', `${s.compute}/limits`, { token: s.token, mv: '2.79' })).body.limits.absolute.totalInstancesUsed, 4);
  assert.equal((await call('DELETE', `${s.compute}/servers/${failed}`, { token: s.token, mv: '2.79' })).status, 204);
  assert.equal((await call('DELETE', `${s.compute}/servers/${hung}`, { token: s.token, mv: '2.79' })).status, 204);
  await cloud.waitForStatus(hung, 'DELETED');
  assert.deepEqual(keys(error), keys(sample('nova-servers-show-200-error').response.body.server));
  assert.deepEqual(keys(error.fault), keys(sample('nova-servers-show-200-error').response.body.server.fault));
});

test('lists are newest first, filter like Nova and page with a next link on a full page', async (t) => {
  // The servers stay in BUILD for the whole test, so the status filter does not race the boot on a loaded machine.
  const sim = await startSim(t, { clouds: [{ name: 'alpha', ssh: false, bootDelayMs: 60_000 }] });
  const s = await login(sim, 'alpha');
  const { image } = await ids(s);
  const made: string[] = [];
  for (const [name, tags] of [['web-1', ['a', 'b']], ['web-2', ['a']], ['db-1', ['b']]] as const) {
    const res = await call('POST', `${s.compute}/servers`, { token: s.token, mv: '2.79', body: { server: { name, imageRef: image, flavorRef: '1', networks: 'none', tags } } });
    made.push(res.body.server.id);
  }
  const list = (q: string) => call('GET', `${s.compute}/servers/detail${q}`, { token: s.token, mv: '2.79' }).then((r) => r.body);
  const names = async (q: string) => (await list(q)).servers.map((x: any) => x.name);
  assert.deepEqual(await names(''), ['db-1', 'web-2', 'web-1']);
  assert.deepEqual(await names('?name=^web'), ['web-2', 'web-1']);
  assert.deepEqual(await names('?tags=a,b'), ['web-1']);
  assert.deepEqual(await names('?tags-any=b'), ['db-1', 'web-1']);
  assert.deepEqual(await names('?not-tags-any=a'), ['db-1']);
  assert.deepEqual(await names('?status=ACTIVE'), []);
  assert.deepEqual(await names('?status=BUILD'), ['db-1', 'web-2', 'web-1']);

  const first = await list('?limit=2');
  assert.deepEqual(first.servers.map((x: any) => x.name), ['db-1', 'web-2']);
  assert.equal(first.servers_links[0].href, `${s.compute}/servers/detail?limit=2&marker=${made[1]}`);
  const second = await call('GET', first.servers_links[0].href, { token: s.token, mv: '2.79' });
  assert.deepEqual(second.body.servers.map((x: any) => x.name), ['web-1']);
  assert.equal(second.body.servers_links, undefined, 'a short page ends the listing');
  const brief = await call('GET', `${s.compute}/servers`, { token: s.token, mv: '2.79' });
  assert.deepEqual(keys(brief.body.servers[0]), ['id', 'links', 'name']);
  const badMarker = await call('GET', `${s.compute}/servers/detail?marker=nope`, { token: s.token, mv: '2.79' });
  assert.deepEqual(badMarker.body, { badRequest: { code: 400, message: 'marker [nope] not found' } });
  assert.deepEqual(keys(first), keys(sample('nova-servers-detail-200-paginated').response.body));
});

test('metadata and tags of a server change through their sub-resources', async (t) => {
  const sim = await startSim(t, { clouds: [{ name: 'alpha', ssh: false, bootDelayMs: 200 }] });
  const s = await login(sim, 'alpha');
  const { image } = await ids(s);
  const id = (await call('POST', `${s.compute}/servers`, { token: s.token, mv: '2.79', body: { server: { name: 'm', imageRef: image, flavorRef: '1', networks: 'none', metadata: { a: '1' } } } })).body.server.id;
  const url = `${s.compute}/servers/${id}`;
  const o = { token: s.token, mv: '2.79' };

  const early = await call('PUT', `${url}/tags/x`, o);
  assert.equal(early.status, 409);
  assert.equal(early.body.conflictingRequest.message, `Cannot 'update tag' instance ${id} while it is in vm_state building`);
  await waitStatus(s, id, 'ACTIVE');

  const put = await call('PUT', `${url}/metadata/state`, { ...o, body: { meta: { state: 'ready' } } });
  assert.deepEqual([put.status, put.body], [200, { meta: { state: 'ready' } }]);
  assert.deepEqual((await call('GET', `${url}/metadata`, o)).body, { metadata: { a: '1', state: 'ready' } });
  assert.equal((await call('PUT', `${url}/metadata/other`, { ...o, body: { meta: { state: 'x' } } })).body.badRequest.message, 'Request body and URI mismatch');

  const tagged = await call('PUT', `${url}/tags/pool-node`, o);
  assert.equal(tagged.status, 201);
  assert.equal(tagged.headers.get('location'), `${url}/tags/pool-node`);
  assert.equal(tagged.headers.get('content-type'), 'text/html; charset=UTF-8');
  assert.equal((await call('PUT', `${url}/tags/pool-node`, o)).status, 204);
  assert.deepEqual((await call('PUT', `${url}/tags`, { ...o, body: { tags: ['z', 'pool-node'] } })).body, { tags: ['pool-node', 'z'] });
  assert.deepEqual((await call('GET', `${url}/tags`, o)).body, { tags: ['pool-node', 'z'] });
  assert.equal((await call('GET', `${url}/tags`, { token: s.token, mv: '2.25' })).status, 404, 'tags need 2.26');
  assert.deepEqual((await call('GET', `${url}/os-server-password`, o)).body, { password: '' });
});

test('with sshDelayMs a node resets SSH connections for a while after ACTIVE, like a guest still booting', async (t) => {
  const sim = await startSim(t, { clouds: [{ name: 'alpha', bootDelayMs: 20, sshDelayMs: 400, sshPort: 2022, addressBase: '127.153' }] });
  const s = await login(sim, 'alpha');
  const { image, network } = await ids(s);
  const id = (await call('POST', `${s.compute}/servers`, { token: s.token, mv: '2.79', body: { server: { name: 'slow', imageRef: image, flavorRef: '1', networks: [{ uuid: network }] } } })).body.server.id;
  const node = await sim.cloud('alpha').waitForStatus(id, 'ACTIVE');
  const key = newKeyPair();
  const exec = () => sshExec({ host: node.addresses[0].ip, port: 2022, privateKey: key.private, hostKey: node.hostKey!, command: 'echo ready' });
  await assert.rejects(exec(), /ECONNRESET|Connection lost/);
  const ok = await until(() => exec().then((r) => r, () => undefined), 10_000, 'SSH after the delay');
  assert.equal(ok.stdout, 'ready\n');
});

test('closing the simulator in the middle of boots leaves no listener behind', async (t) => {
  const sim = await startSim(t, { clouds: [{ name: 'alpha', bootDelayMs: 0, sshPort: 2022, addressBase: '127.154' }] });
  const s = await login(sim, 'alpha');
  const { image, network } = await ids(s);
  await Promise.all(Array.from({ length: 20 }, (_, i) =>
    call('POST', `${s.compute}/servers`, { token: s.token, mv: '2.79', body: { server: { name: `n${i}`, imageRef: image, flavorRef: '1', networks: [{ uuid: network }] } } })));
  await sim.close();
  for (let c = 1; c <= 20; c++) {
    await assert.rejects(new Promise((resolve, reject) => {
      const sock = net.connect({ host: `127.154.0.${c}`, port: 2022 }, () => {
        sock.destroy();
        resolve(undefined);
      });
      sock.on('error', reject);
    }), /ECONNREFUSED/);
  }
});
