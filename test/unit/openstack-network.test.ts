import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCloudError } from '../../providers/errors.ts';
import { descriptionToTags, tagsToDescription } from '../../providers/openstack/floating-ips.ts';
import type { OpenStackProvider } from '../../providers/openstack/index.ts';
import { call, login, until } from './cloudsim-support.ts';
import { simWithDriver } from './openstack-sim-support.ts';

const OURS = { nodepool_provider_name: 'alpha', nodepool_node_id: '0000000001', nodepool_launcher: 'host-1' };

async function boot(p: OpenStackProvider, o: { network?: boolean; bootVolumeGb?: number } = {}): Promise<string> {
  const image = (await p.catalog.findImage('cirros'))!;
  const net = (await p.catalog.findNetwork('private'))!;
  const { id } = await p.createServer({ name: 'n', flavorId: '1', imageId: image.id, networkIds: o.network === false ? [] : [net.id], metadata: {}, tags: [] });
  return id;
}

test('our tags ride in the floating IP description, and only a description made of them is ours', () => {
  assert.equal(tagsToDescription(OURS), 'nodepool_launcher=host-1 nodepool_node_id=0000000001 nodepool_provider_name=alpha');
  assert.deepEqual(descriptionToTags(tagsToDescription(OURS)), OURS);
  assert.deepEqual(descriptionToTags('samples'), {}, 'the recorded floating IP is not ours');
  assert.deepEqual(descriptionToTags(''), {});
  assert.deepEqual(descriptionToTags('a=1 free text'), {});
  assert.throws(() => tagsToDescription({ k: 'two words' }), (e: unknown) => isCloudError(e, 'config'));
  assert.throws(() => tagsToDescription({ k: 'x'.repeat(300) }), /holds 255/);
});

test('a floating IP is allocated with our tags, attached to a server, seen as its public address, listed and released', async (t) => {
  const { p, cloud } = await simWithDriver(t, { floatingIpNovaDelayMs: 50 });
  const external = (await p.catalog.findNetwork('public'))!;
  assert.equal(external.external, true);
  const server = await boot(p);
  await cloud.waitForStatus(server, 'ACTIVE');

  const fip = await p.floatingIps.create(external.id, OURS);
  assert.deepEqual([fip.networkId, fip.portId, fip.status, fip.tags], [external.id, null, 'DOWN', OURS]);
  assert.equal(cloud.inventory().floatingIps[0].description, tagsToDescription(OURS), 'written by the allocating call itself');

  const attached = await p.floatingIps.attach(fip.id, server);
  const port = cloud.inventory().ports.find((x) => x.deviceId === server)!;
  assert.deepEqual([attached.portId, attached.fixedAddress, attached.address], [port.id, port.ip, fip.address]);
  const view = await until(async () => {
    const s = await p.getServer(server);
    return s?.publicIpv4 === fip.address ? s : undefined;
  }, 5000, 'the floating address in the server view');
  assert.equal(view.privateIpv4, port.ip);

  // Floating IPs we did not make are listed too, without tags.
  const other = await p.floatingIps.create(external.id, {});
  const listed = await p.floatingIps.list();
  assert.deepEqual(listed.map((f) => [f.id, f.tags]).sort(), [[fip.id, OURS], [other.id, {}]].sort());

  await p.floatingIps.delete(fip.id);
  await p.floatingIps.delete(fip.id);
  assert.deepEqual((await p.floatingIps.list()).map((f) => f.id), [other.id]);
});

test('attaching a floating IP to a server that has no port yet is a transient error', async (t) => {
  const { p, cloud } = await simWithDriver(t);
  const external = (await p.catalog.findNetwork('public'))!;
  const server = await boot(p, { network: false });
  await cloud.waitForStatus(server, 'ACTIVE');
  const fip = await p.floatingIps.create(external.id, OURS);
  await assert.rejects(p.floatingIps.attach(fip.id, server), (e: unknown) => isCloudError(e, 'transient') && /has no port/.test((e as Error).message));
  const network = (await p.catalog.findNetwork('private'))!;
  await assert.rejects(p.floatingIps.attach(fip.id, server, network.id), /on network/);
});

test('a port left DOWN by a deleted server is found among the DOWN ports Nova made, and deleted', async (t) => {
  const { p, cloud } = await simWithDriver(t, { faults: { leakPorts: true } });
  const kept = await boot(p);
  const gone = await boot(p);
  await Promise.all([kept, gone].map((id) => cloud.waitForStatus(id, 'ACTIVE')));
  await p.deleteServer(gone);
  await cloud.waitForStatus(gone, 'DELETED');

  const all = await p.ports.list();
  assert.deepEqual(all.map((x) => x.deviceOwner), ['compute:nova', 'compute:nova']);
  const down = await p.ports.list({ status: 'DOWN' });
  assert.equal(down.length, 1);
  assert.equal(down[0].deviceId, gone);
  const servers = new Set((await p.listServers()).map((s) => s.id));
  assert.ok(!servers.has(down[0].deviceId), 'its server does not exist: a leak');

  await p.ports.delete(down[0].id);
  await p.ports.delete(down[0].id);
  assert.deepEqual((await p.ports.list()).map((x) => x.deviceId), [kept]);
});

test('volumes are listed with their metadata and attachments, and deleted; an attached one is refused', async (t) => {
  const { p, cloud, sim } = await simWithDriver(t);
  const image = (await p.catalog.findImage('cirros'))!;
  // A volume of ours made through the API, and a server booted from volume.
  const s = await login(sim, 'alpha');
  const made = (await call('POST', `${s.volume}/volumes`, { token: s.token, body: { volume: { size: 1, name: 'ours', metadata: OURS } } })).body;
  const bdm = [{ boot_index: 0, uuid: image.id, source_type: 'image', destination_type: 'volume', volume_size: 2, delete_on_termination: true }];
  const server = (await call('POST', `${s.compute}/servers`, {
    token: s.token, mv: '2.79', body: { server: { name: 'bfv', flavorRef: '1', networks: 'none', block_device_mapping_v2: bdm } },
  })).body.server.id as string;
  await cloud.waitForStatus(server, 'ACTIVE');

  const volumes = await p.volumes.list();
  const ours = volumes.find((v) => v.id === made.volume.id)!;
  assert.deepEqual([ours.name, ours.sizeGb, ours.metadata, ours.attachedTo], ['ours', 1, OURS, []]);
  const boot = volumes.find((v) => v.id !== made.volume.id)!;
  assert.deepEqual([boot.status, boot.attachedTo, boot.name], ['in-use', [server], '']);

  await assert.rejects(p.volumes.delete(boot.id), (e: unknown) => isCloudError(e, 'config') && (e as { status?: number }).status === 400);
  await until(async () => ((await p.volumes.list()).find((v) => v.id === ours.id)?.status === 'available' ? true : undefined), 5000, 'available');
  await p.volumes.delete(ours.id);
  await until(async () => ((await p.volumes.list()).some((v) => v.id === ours.id) ? undefined : true), 5000, 'the volume gone');
  await p.volumes.delete(ours.id);
});

test('getLimits counts the servers other users run in the project', async (t) => {
  const { p } = await simWithDriver(t, { unmanagedServers: { count: 3, flavor: 'm1.small' }, quota: { instances: 5 } });
  assert.deepEqual(await p.getLimits(), { maxInstances: 5, maxCores: 20, maxRam: 51200, instancesUsed: 3, coresUsed: 3, ramUsed: 6144 });
  const servers = await p.listServers();
  assert.equal(servers.length, 3);
  assert.ok(servers.every((s) => s.state === 'active' && Object.keys(s.metadata).length === 0), 'listed, but none carries our tags');
});

test('Neutron quota refusals reach the launcher as quota errors', async (t) => {
  const { p, cloud } = await simWithDriver(t);
  const external = (await p.catalog.findNetwork('public'))!;
  cloud.setNetworkQuota({ floatingip: 0 });
  await assert.rejects(p.floatingIps.create(external.id, OURS), (e: unknown) => isCloudError(e, 'quota') && (e as { status?: number }).status === 409);
});
