import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findLeakedResources, ResourceSweeper } from '../../src/launcher/resource-sweep.ts';
import type { FloatingIp, PortView, ProviderAdapter, VolumeView } from '../../providers/provider.ts';
import { silentLogger } from '../../src/log.ts';

const fip = (o: Partial<FloatingIp>): FloatingIp => ({ id: 'f', address: '203.0.113.5', networkId: 'pub', portId: null, fixedAddress: null, status: 'DOWN', tags: {}, created: null, ...o });
const port = (o: Partial<PortView>): PortView => ({ id: 'p', networkId: 'priv', deviceId: 's1', deviceOwner: 'compute:nova', status: 'ACTIVE', tags: [], created: null, ...o });
const vol = (o: Partial<VolumeView>): VolumeView => ({ id: 'v', name: 'v', status: 'available', sizeGb: 10, metadata: {}, attachedTo: [], created: null, ...o });

const base = { provider: 'east', knownNodes: new Set(['n-live']), servers: new Set(['s-live']), floatingIps: [], ports: [], volumes: [], cleanFloatingIps: false };

test('a floating IP with our tags whose node is gone is a leak; one of a live node or of someone else is not', () => {
  const found = findLeakedResources({ ...base, floatingIps: [
    fip({ id: 'gone', tags: { nodepool_provider_name: 'east', nodepool_node_id: 'n-dead' } }),
    fip({ id: 'live', tags: { nodepool_provider_name: 'east', nodepool_node_id: 'n-live' } }),
    fip({ id: 'other-provider', tags: { nodepool_provider_name: 'west', nodepool_node_id: 'n-dead' } }),
    fip({ id: 'someone-elses' }),
  ] });
  assert.deepEqual(found.map((s) => s.id), ['gone']);
});

test('with clean-floating-ips every floating IP not associated is cleaned, associated ones are kept', () => {
  const found = findLeakedResources({ ...base, cleanFloatingIps: true, floatingIps: [fip({ id: 'free' }), fip({ id: 'used', portId: 'p1' })] });
  assert.deepEqual(found.map((s) => s.id), ['free']);
});

test('a DOWN port Nova made for a server that is gone is a leak; ports of live servers and other owners are not', () => {
  const found = findLeakedResources({ ...base, ports: [
    port({ id: 'orphan', status: 'DOWN', deviceId: 's-dead' }),
    port({ id: 'live', status: 'DOWN', deviceId: 's-live' }),
    port({ id: 'router', status: 'DOWN', deviceId: 's-dead', deviceOwner: 'network:router_interface' }),
    port({ id: 'active', status: 'ACTIVE', deviceId: 's-dead' }),
  ] });
  assert.deepEqual(found.map((s) => s.id), ['orphan']);
});

test('a detached volume of ours whose node is gone is a leak; an attached one waits', () => {
  const tags = { nodepool_provider_name: 'east', nodepool_node_id: 'n-dead' };
  const found = findLeakedResources({ ...base, volumes: [vol({ id: 'free', metadata: tags }), vol({ id: 'attached', metadata: tags, attachedTo: ['s-dead'], status: 'in-use' }), vol({ id: 'theirs' })] });
  assert.deepEqual(found.map((s) => s.id), ['free']);
});

test('the sweeper asks only for the extensions a driver offers: ports alone are swept, on the second sighting', async () => {
  const deleted: string[] = [];
  const lists: string[] = [];
  const core: ProviderAdapter = {
    name: 'east',
    listServers: async () => [], createServer: async () => ({ id: 's' }), getServer: async () => null, deleteServer: async () => undefined,
    getLimits: async () => ({ maxInstances: -1, maxCores: -1, maxRam: -1, instancesUsed: 0, coresUsed: 0, ramUsed: 0 }),
    callCount: () => 0, close: async () => undefined,
  };
  const withPorts: ProviderAdapter = {
    ...core,
    ports: {
      list: async (filter) => { lists.push(`ports ${filter?.status}`); return [port({ id: 'orphan', status: 'DOWN', deviceId: 's-dead' })]; },
      delete: async (id) => { deleted.push(id); },
    },
  };
  const opts = { provider: 'east', cleanFloatingIps: true, logger: silentLogger() };
  await new ResourceSweeper(core, opts).sweep(new Set(), new Set());
  assert.deepEqual(lists, [], 'a driver with only the core is asked nothing');
  const sweeper = new ResourceSweeper(withPorts, opts);
  await sweeper.sweep(new Set(), new Set());
  assert.deepEqual(deleted, [], 'first sighting: noted only');
  await sweeper.sweep(new Set(), new Set());
  assert.deepEqual({ lists, deleted, counts: sweeper.deleted }, { lists: ['ports DOWN', 'ports DOWN'], deleted: ['orphan'], counts: { 'floating-ip': 0, port: 1, volume: 0 } });
});
