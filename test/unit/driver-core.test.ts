import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeCloud } from '../../providers/fake/index.ts';
import type { CreateServerSpec, ProviderAdapter } from '../../providers/provider.ts';
import { loadConfig } from '../../src/config/load.ts';
import { Launcher } from '../../src/launcher/launcher.ts';
import { silentLogger } from '../../src/log.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { newRequestRecord } from '../../src/store/records.ts';

// A driver that implements the core of the contract and nothing else: no catalog, no floating
// IPs, ports, volumes or images. The launcher must still launch its nodes, hand them out and
// delete them, passing the configured flavor, image and network names as they are.

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'config', 'valid', 'fake.yaml');

/** The core only, over an in-memory cloud; every create call's spec is kept. */
function coreOnlyDriver(name: string, cloud: FakeCloud, creates: CreateServerSpec[]): ProviderAdapter {
  let calls = 0;
  const call = <T>(fn: () => T): Promise<T> => {
    calls++;
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return {
    name,
    listServers: (opts) => call(() => cloud.list(opts?.changesSince)),
    createServer: (spec) => call(() => { creates.push(spec); return cloud.create(spec); }),
    getServer: (id) => call(() => cloud.live().find((s) => s.id === id) ?? null),
    deleteServer: (id) => call(() => cloud.delete(id)),
    getLimits: () => call(() => cloud.usage()),
    callCount: () => calls,
    close: () => Promise.resolve(),
  };
}

async function until<T>(store: Store, what: string, check: () => Promise<T | null | undefined | false>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a driver with only the core runs a node from launch to ready to in-use to delete, given the configured names', async () => {
  const config = loadConfig(FIXTURE);
  config.providers = config.providers.filter((p) => p.name === 'fake-east');
  config.labels.find((l) => l.name === 'fast')!.minReady = 1;
  const cloud = new FakeCloud({ activeAfterLists: 1, goneAfterLists: 2 });
  const creates: CreateServerSpec[] = [];
  const driver = coreOnlyDriver('fake-east', cloud, creates);
  assert.deepEqual(Object.keys(driver).filter((k) => ['catalog', 'floatingIps', 'ports', 'volumes', 'images'].includes(k)), [], 'no extension');
  const logger = silentLogger();
  const store = await openStore(config.store);
  const launcher = new Launcher({ config, store, adapters: new Map([['fake-east', driver]]), logger, name: 'core-launcher', leaseMs: 5000 });
  await launcher.start();
  try {
    // min-ready: a node is launched and becomes ready with no request.
    const ready = await until(store, 'a ready node', async () => (await store.listNodes()).find((n) => n.state === 'ready'));
    assert.equal(creates.length, 1);
    assert.deepEqual({ flavor: creates[0].flavorId, image: creates[0].imageId, networks: creates[0].networkIds },
      { flavor: 'small', image: 'fake-image', networks: ['private'] }, 'the names from nodepool.yaml, unresolved');
    assert.equal(creates[0].metadata.nodepool_node_id, ready.id);

    const r = newRequestRecord({ labels: ['fast'], requestor: 'ci', now: Date.now() });
    await store.insertRequest(r, 'test');
    const done = await until(store, 'the request fulfilled', async () => {
      const x = await store.getRequest(r.id);
      return x?.state === 'fulfilled' ? x : null;
    });
    assert.equal(done.provider, 'fake-east');
    const node = (await store.getNode(ready.id))!;
    assert.equal(node.state, 'in-use');

    // The requestor is done: the server is deleted and the record goes once the cloud lists it gone.
    assert.ok(await store.updateNode(node.id, { state: 'used' }, 'test', { states: ['in-use'] }));
    await until(store, 'the node record to go', async () => !(await store.getNode(node.id)));
    assert.equal(cloud.live().some((s) => s.id === node.serverId), false, 'its server is gone');
    assert.ok(driver.callCount() > 0);
  } finally {
    await launcher.stop();
    await store.close();
  }
});
