import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { Launcher } from '../../src/launcher/launcher.ts';
import { silentLogger } from '../../src/log.ts';
import type { NodeRecord } from '../../src/model.ts';
import { providerAdapters } from '../../src/provider-adapters.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { newRequestRecord } from '../../src/store/records.ts';

// The static driver under two launchers sharing one SQLite file (two store objects, as two
// processes would have): the hosts' slots are only ever held by one node each, a host offering
// two labels is registered for the one a waiting request lacks, and released slots go to the
// requests that wait. Hosts are not scanned here (host-key-checking: false); the SSH side is in
// test/integration/static-driver.test.ts.

const YAML = `
labels:
  - name: gpu
  - name: arm
providers:
  - name: lab
    driver: static
    pools:
      - name: main
        nodes:
          - {name: 127.0.0.1, labels: [gpu, arm], connection-port: 2201, host-key-checking: false, max-parallel-jobs: 2}
          - {name: 127.0.0.2, labels: gpu, connection-port: 2202, host-key-checking: false, username: ci}
store: {path: nodepool.sqlite}
`;

/** Polls `fn` until it returns something; on timeout, fails with every request and node of the store. */
function waiter(store: Store) {
  return async <T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 10_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) {
        const seen = { requests: (await store.listRequests()).map((r) => [r.id, r.labels.join(), r.state, r.provider, r.nodes.join()]), nodes: (await store.listNodes()).map((n) => [n.id, n.label, n.state, n.serverId, n.allocatedTo, n.leaseOwner]) };
        assert.fail(`timed out waiting for ${what}: ${JSON.stringify(seen)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
}

test('two launchers on one store: one node per host slot, demand picks the label, released slots go to waiting requests', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-static-'));
  writeFileSync(join(dir, 'nodepool.yaml'), YAML);
  const config = loadConfig(join(dir, 'nodepool.yaml'));
  const logger = silentLogger();
  const stores: Store[] = [await openStore(config.store), await openStore(config.store)];
  const launchers = stores.map((store, i) => new Launcher({ config, store, adapters: providerAdapters({ config, logger }), logger, name: `l${i}`, leaseMs: 3000 }));
  const store = stores[0];
  const violations: string[] = [];
  const check = async () => {
    const all = await store.listNodes({ provider: 'lab' });
    const slots = all.map((n) => n.serverId);
    if (new Set(slots).size !== slots.length) violations.push(JSON.stringify(all.map((n) => [n.id, n.state, n.serverId])));
  };
  const unsubscribe = store.subscribe(() => { void check(); });
  const until = waiter(store);
  const ready = async () => (await store.listNodes({ provider: 'lab', states: ['ready'] }));
  let asked = 0;
  const ask = async (label: string) => {
    // A millisecond apart at least: requests are served oldest first.
    const r = newRequestRecord({ labels: [label], requestor: 'ci', now: Date.now() + asked++ });
    await store.insertRequest(r, 'test');
    return r.id;
  };
  const fulfilled = (id: string) => until(`request ${id} fulfilled`, async () => {
    const r = await store.getRequest(id);
    return r?.state === 'fulfilled' && (await store.getNode(r.nodes[0]))!;
  });
  try {
    await Promise.all(launchers.map((l) => l.start()));
    const first = await until('a ready node on each of the three slots', async () => { const r = await ready(); return r.length === 3 && r; });
    assert.deepEqual(first.map((n) => n.serverId).sort(), ['127.0.0.1:2201/0', '127.0.0.1:2201/1', '127.0.0.2:2202/0']);
    assert.ok(first.every((n) => n.label === 'gpu'), 'no request waits: each slot is registered for its first label');
    assert.equal(first.find((n) => n.serverId === '127.0.0.2:2202/0')!.username, 'ci', "each host's own login");

    // Only the first host offers arm: one of its gpu nodes is returned and registered again as arm.
    const arm = await ask('arm');
    const armNode: NodeRecord = await fulfilled(arm);
    assert.equal(armNode.label, 'arm');
    assert.match(armNode.serverId!, /^127\.0\.0\.1:2201\//);
    assert.equal(armNode.interfaceIp, '127.0.0.1');
    assert.equal(armNode.connectionPort, 2201);

    // Two slots left for four gpu requests: two are served, two wait.
    const gpu = [await ask('gpu'), await ask('gpu'), await ask('gpu'), await ask('gpu')];
    await until('two gpu requests fulfilled', async () => (await Promise.all(gpu.map((id) => store.getRequest(id)))).filter((r) => r?.state === 'fulfilled').length === 2);
    await new Promise((r) => setTimeout(r, 300));
    const states = (await Promise.all(gpu.map((id) => store.getRequest(id)))).map((r) => r!.state);
    assert.equal(states.filter((s) => s === 'fulfilled').length, 2, states.join());
    assert.ok(states.filter((s) => s !== 'fulfilled').every((s) => s === 'requested' || s === 'pending'), states.join());

    // Releasing the arm job hands its slot, as a gpu node now, to the oldest waiting request.
    await store.updateRequest(arm, { holderExpires: null }, 'test');
    await store.updateNode(armNode.id, { state: 'used' }, 'test', { states: ['in-use'] });
    const waiting = gpu[states.indexOf(states.find((s) => s !== 'fulfilled')!)];
    const handed = await fulfilled(waiting);
    assert.equal(handed.serverId, armNode.serverId);
    assert.equal(handed.label, 'gpu');
    assert.notEqual(handed.id, armNode.id);
    await check();
    assert.deepEqual(violations, [], 'no slot was ever held by two nodes');
  } finally {
    unsubscribe();
    await Promise.all(launchers.map((l) => l.stop()));
    await Promise.all(stores.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a request claimed on a host that then fails its check is given another ready host of the pool', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-static-'));
  writeFileSync(join(dir, 'nodepool.yaml'), YAML);
  const config = loadConfig(join(dir, 'nodepool.yaml'));
  const logger = silentLogger();
  const store = await openStore(config.store);
  const launcher = new Launcher({ config, store, adapters: providerAdapters({ config, logger }), logger, name: 'l0', leaseMs: 3000 });
  const until = waiter(store);
  try {
    await launcher.start();
    const [bad, ...good] = await until('a ready node on each of the three slots', async () => {
      const r = await store.listNodes({ provider: 'lab', states: ['ready'] });
      return r.length === 3 && r;
    });
    // As the launcher leaves it when the host it gave a claimed request fails its key check: the
    // node out of service (and no longer the request's), the request claimed for the pool with
    // no node.
    const r = { ...newRequestRecord({ labels: ['gpu'], requestor: 'ci', now: Date.now() }), state: 'pending' as const, provider: 'lab', pool: 'main' };
    await store.insertRequest(r, 'test');
    await store.updateNode(bad!.id, { state: 'failed', comment: 'host key mismatch' }, 'test');
    launcher.wake();
    const done = await until('the request fulfilled', async () => { const x = await store.getRequest(r.id); return x?.state === 'fulfilled' && x; });
    assert.equal(done.nodes.length, 1);
    assert.ok(good.some((n) => n.id === done.nodes[0]), `given ${done.nodes[0]}, one of the ready ones`);
  } finally {
    await launcher.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
