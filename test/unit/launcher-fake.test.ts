import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fakeCloud, resetFakeClouds, type FakeCloud } from '../../providers/fake/index.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/types.ts';
import { Launcher } from '../../src/launcher/launcher.ts';
import { silentLogger } from '../../src/log.ts';
import type { NodeRecord, RequestRecord } from '../../src/model.ts';
import { providerAdapters } from '../../src/provider-adapters.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { newRequestRecord } from '../../src/store/records.ts';
import { UNCLAIMED_MS } from '../../src/launcher/plan-claims.ts';

// The launcher and the applier through the fake driver: a configuration that says `driver: fake`,
// the adapters built by the same factory as in production, an in-memory store and an in-memory
// cloud that the tests make fail. Servers turn ACTIVE on the first list after their create call,
// so a launch takes a few passes, not a boot.

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'config', 'valid', 'fake.yaml');

interface World {
  config: Config;
  store: Store;
  launcher: Launcher;
  east: FakeCloud;
  west: FakeCloud;
  stop(): Promise<void>;
}

/** A launcher on the fake configuration; `only` keeps just those providers. */
async function world(o: {
  only?: string[]; quotaPauseMs?: number; edit?: (config: Config) => void; before?: (clouds: { east: FakeCloud; west: FakeCloud }) => void;
  /** The store the launcher is given, in place of the real one (which `World.store` stays). */
  wrap?: (store: Store) => Store;
  /** The providers the launcher serves (`--providers`); default every one. */
  providers?: string[];
  /** Written to the store before the launcher starts. */
  seed?: (store: Store) => Promise<void>;
} = {}): Promise<World> {
  resetFakeClouds();
  const config = loadConfig(FIXTURE);
  if (o.only) config.providers = config.providers.filter((p) => o.only!.includes(p.name));
  o.edit?.(config);
  const logger = silentLogger();
  const adapters = providerAdapters({ config, logger });
  const east = fakeCloud('east');
  const west = fakeCloud('west');
  o.before?.({ east, west });
  const store = await openStore(config.store);
  await o.seed?.(store);
  const launcher = new Launcher({ config, store: o.wrap ? o.wrap(store) : store, adapters, logger, name: 'fake-launcher', leaseMs: 5000, quotaPauseMs: o.quotaPauseMs, providers: o.providers });
  await launcher.start();
  return {
    config, store, launcher, east, west,
    async stop() {
      await launcher.stop();
      await store.close();
    },
  };
}

/** Waits (on store events, and every 20 ms for the cloud's side) until `check` holds; fails after `ms`. */
async function until<T>(w: World, what: string, check: () => Promise<T | null | undefined | false>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  let wake: () => void = () => {};
  const unsubscribe = w.store.subscribe(() => wake());
  try {
    for (;;) {
      const v = await check();
      if (v) return v;
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 20);
        wake = () => { clearTimeout(t); resolve(); };
      });
    }
  } finally {
    unsubscribe();
  }
}

async function ask(w: World, labels: string[]): Promise<string> {
  const r = newRequestRecord({ labels, requestor: 'ci', now: Date.now() });
  await w.store.insertRequest(r, 'test');
  return r.id;
}

function settled(w: World, id: string): Promise<RequestRecord> {
  return until(w, `request ${id} to be fulfilled or failed`, async () => {
    const r = await w.store.getRequest(id);
    return r && (r.state === 'fulfilled' || r.state === 'failed') ? r : null;
  });
}

async function nodesOf(w: World, provider?: string): Promise<NodeRecord[]> {
  return w.store.listNodes(provider ? { provider } : undefined);
}

test('a request is fulfilled by a server created with our tags, ACTIVE on the next list', async () => {
  const w = await world();
  try {
    const id = await ask(w, ['fast', 'fast']);
    const r = await settled(w, id);
    assert.equal(r.state, 'fulfilled');
    assert.equal(r.provider, 'fake-east', 'the pool with the lower priority number first');
    const nodes = await nodesOf(w);
    assert.deepEqual(nodes.map((n) => n.state), ['in-use', 'in-use']);
    const servers = w.east.live();
    assert.equal(servers.length, 2);
    for (const n of nodes) {
      const s = servers.find((x) => x.id === n.serverId)!;
      assert.equal(s.state, 'active');
      assert.equal(n.interfaceIp, s.privateIpv4);
      assert.deepEqual({ provider: s.metadata.nodepool_provider_name, node: s.metadata.nodepool_node_id }, { provider: 'fake-east', node: n.id });
    }
  } finally {
    await w.stop();
  }
});

/** Records every write of a node through the launcher's store: the inserted record, then each patch. */
function nodeWrites(writes: Map<string, Record<string, unknown>[]>) {
  return (store: Store): Store => new Proxy(store, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      if (key === 'insertNode') return (n: NodeRecord, ...rest: unknown[]) => { writes.set(n.id, [{ ...n }]); return f(n, ...rest); };
      if (key === 'updateNode') return (id: string, patch: Record<string, unknown>, ...rest: unknown[]) => { writes.get(id)?.push({ ...patch }); return f(id, patch, ...rest); };
      return f;
    },
  });
}

test('a node whose create call has room is written once before the call: inserted as creating, from the time the call goes out', async () => {
  const writes = new Map<string, Record<string, unknown>[]>();
  const w = await world({ only: ['fake-east'], wrap: nodeWrites(writes) });
  try {
    const r = await settled(w, await ask(w, ['fast']));
    assert.equal(r.state, 'fulfilled');
    const [node] = await nodesOf(w);
    const [inserted, ...patches] = writes.get(node.id)!;
    assert.deepEqual({ step: inserted.step, started: inserted.launchStartedAt }, { step: 'creating', started: inserted.createdAt });
    // The next write is the call's answer (the server id); none in between.
    assert.deepEqual(Object.keys(patches[0]).sort(), ['createAnsweredAt', 'serverId', 'step']);
    const created = Date.parse(w.east.live().find((s) => s.id === node.serverId)!.created!);
    assert.ok(node.launchStartedAt! <= created && created - node.launchStartedAt! < 1000, `call sent ${created - node.launchStartedAt!} ms after the recorded start`);
  } finally {
    await w.stop();
  }
});

test('a create call held by the rate gate writes its start again when it goes out', async () => {
  const writes = new Map<string, Record<string, unknown>[]>();
  const w = await world({ only: ['fake-east'], wrap: nodeWrites(writes), edit: (c) => { c.providers[0].rate = 1.2; } });
  try {
    const r = await settled(w, await ask(w, ['fast', 'fast']));
    assert.equal(r.state, 'fulfilled');
    const nodes = await nodesOf(w);
    const servers = w.east.live();
    const sentAt = (n: NodeRecord) => Date.parse(servers.find((s) => s.id === n.serverId)!.created!);
    const [first, second] = nodes.sort((a, b) => sentAt(a) - sentAt(b));
    assert.ok(sentAt(second) - sentAt(first) >= 1000, 'the gate spaced the two calls');
    // The second waited on the gate: its start is written again, and is not before its call.
    const again = writes.get(second.id)!.filter((p) => p.step === 'creating').slice(1);
    assert.equal(again.length, 1, JSON.stringify(writes.get(second.id)));
    assert.ok((again[0].launchStartedAt as number) - (writes.get(second.id)![0].launchStartedAt as number) >= 1000);
    assert.ok(second.launchStartedAt! <= sentAt(second) && sentAt(second) - second.launchStartedAt! < 1000);
  } finally {
    await w.stop();
  }
});

test('a pass claims its requests side by side: a slow store answers them together, not one after the other', async () => {
  // Each request write answers after 30 ms, like a busy PostgreSQL across a network.
  let inFlight = 0;
  let most = 0;
  const slow = (store: Store): Store => new Proxy(store, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (key !== 'updateRequest') return v.bind(target);
      return async (...args: unknown[]) => {
        inFlight++;
        most = Math.max(most, inFlight);
        try {
          await new Promise((r) => setTimeout(r, 30));
          return await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          inFlight--;
        }
      };
    },
  });
  const w = await world({ wrap: slow });
  try {
    // Written in one turn of the event loop, so that one pass sees all eight.
    const records = Array.from({ length: 8 }, (_, i) => newRequestRecord({ labels: ['fast'], requestor: 'ci', now: Date.now() + i }));
    await Promise.all(records.map((r) => w.store.insertRequest(r, 'test')));
    for (const r of records) assert.equal((await settled(w, r.id)).state, 'fulfilled');
    assert.ok(most >= 4, `at most ${most} request writes were waiting at once`);
  } finally {
    await w.stop();
  }
});

test('a launcher serving one provider claims there what the other provider cannot take, as its launcher published it or because none serves it', async () => {
  // fake-east (priority 1) is every launcher's first choice while it looks healthy; this launcher
  // serves fake-west. Each request is claimed well before UNCLAIMED_MS, the wait after which it
  // would be claimed here anyway.
  const state = (provider: string, health: string, updatedAt: number) => ({
    provider, health, reason: health === 'healthy' ? null : '3 failures in a row, last: server list failed: connection reset', since: updatedAt,
    room: null, labelCosts: {}, pausedUntil: {}, leaked: {}, calls: [], updatedAt,
  });
  for (const [what, seed] of [
    ['east unhealthy, as its launcher published', (store: Store) => store.publishProviderStates('east-launcher', [state('fake-east', 'unhealthy', Date.now())])],
    ['no launcher publishing for east lately', (store: Store) => store.publishProviderStates('east-launcher', [state('fake-east', 'healthy', Date.now() - 60_000)])],
  ] as const) {
    const w = await world({ providers: ['fake-west'], seed });
    try {
      const asked = Date.now();
      const r = await settled(w, await ask(w, ['fast']));
      assert.equal(r.state, 'fulfilled', what);
      assert.equal(r.provider, 'fake-west', what);
      assert.ok(Date.now() - asked < UNCLAIMED_MS, `${what}: fulfilled in ${Date.now() - asked} ms`);
    } finally {
      await w.stop();
    }
  }
});

test('a create that keeps failing is retried, then the request moves to another provider with its labels', async () => {
  const w = await world({ before: ({ east }) => east.failCreates({ kind: 'transient', status: 503 }, 2) });
  try {
    const r = await settled(w, await ask(w, ['fast']));
    assert.equal(r.state, 'fulfilled');
    assert.equal(r.provider, 'fake-west');
    assert.equal(w.east.calls.get('createServer'), 2, 'two attempts in east: the first retried, the second moved the request');
    assert.equal(w.west.live().length, 1);
  } finally {
    await w.stop();
  }
});

test('a create that fails on every attempt with nowhere to move fails the request after launch-retries', async () => {
  const w = await world({ only: ['fake-east'], before: ({ east }) => east.failCreates({ kind: 'config', status: 400, message: 'no such flavor' }, 5) });
  try {
    const r = await settled(w, await ask(w, ['fast']));
    assert.equal(r.state, 'failed');
    assert.match(r.reason ?? '', /launch of fast in fake-east failed after 2 attempts: create failed: config: no such flavor/);
    assert.equal(w.east.calls.get('createServer'), 2);
  } finally {
    await w.stop();
  }
});

test('a quota refusal pauses the pool and the request waits: it does not fail, nor use an attempt', async () => {
  const w = await world({ only: ['fake-east'], quotaPauseMs: 300, before: ({ east }) => east.failCreates({ kind: 'quota', status: 403, message: 'Quota exceeded for instances' }) });
  try {
    const id = await ask(w, ['fast']);
    const paused = await until(w, 'the pool to pause', async () => w.launcher.providerStatus().find((p) => p.name === 'fake-east' && p.paused.main));
    assert.ok(paused);
    assert.equal((await w.store.getRequest(id))!.state, 'pending');
    const r = await settled(w, id);
    assert.equal(r.state, 'fulfilled');
    const nodes = await nodesOf(w);
    assert.deepEqual(nodes.map((n) => [n.state, n.attempt]), [['in-use', 1]], 'the same node, still its first attempt');
    assert.equal(w.east.calls.get('createServer'), 2);
  } finally {
    await w.stop();
  }
});

test('a deleted node is kept, with its quota, until a server list shows its server gone', async () => {
  const w = await world({ only: ['fake-east'] });
  try {
    const r = await settled(w, await ask(w, ['fast']));
    const [node] = await nodesOf(w);
    const serverId = node.serverId!;
    // The requestor is done with it, and the cloud is slow to delete.
    w.east.holdDeletes = true;
    assert.ok(await w.store.updateNode(node.id, { state: 'used' }, 'test', { states: ['in-use'] }));
    await until(w, 'the delete call', async () => w.east.calls.get('deleteServer'));
    const lists = w.east.calls.get('listServers')!;
    await until(w, 'three more server lists', async () => w.east.calls.get('listServers')! >= lists + 3);
    // The cloud still lists the server (deleting): the record stays.
    assert.equal(w.east.live().find((s) => s.id === serverId)?.state, 'deleting');
    assert.equal((await w.store.getNode(node.id))?.state, 'deleting');
    w.east.holdDeletes = false;
    await until(w, 'the node record to go', async () => !(await w.store.getNode(node.id)));
    assert.equal(w.east.live().length, 0, 'the record went only once the server was gone');
    assert.equal(r.state, 'fulfilled');
  } finally {
    await w.stop();
  }
});

/** East lists only what changed between complete lists `seconds` apart. */
const completeEvery = (seconds: number) => (config: Config) => { config.providers.find((p) => p.name === 'fake-east')!.fullRefreshInterval = seconds; };

/**
 * A fulfilled node put back in the pool as ready (as if unassigned), then `remove` takes its
 * server away in the cloud: the node must go.
 */
async function readyNodeGoes(w: World, remove: (serverId: string) => void, what: string): Promise<void> {
  const r = await settled(w, await ask(w, ['fast']));
  assert.equal(r.state, 'fulfilled');
  const [node] = await nodesOf(w);
  assert.ok(await w.store.updateNode(node.id, { state: 'ready', allocatedTo: null, stateTime: Date.now() }, 'test', { states: ['in-use'] }));
  remove(node.serverId!);
  await until(w, what, async () => !(await w.store.getNode(node.id)));
}

test('a server deleted in the cloud by someone else is seen DELETED on a list of changes and its ready node is removed', async () => {
  // No complete list in the test's time: the list of changes since the last one must tell.
  const w = await world({ only: ['fake-east'], edit: completeEvery(600) });
  try {
    await readyNodeGoes(w, (id) => w.east.delete(id), 'the node of the deleted server to go');
    assert.equal(w.east.live().length, 0);
  } finally {
    await w.stop();
  }
});

test('a server lost by the cloud is seen missing on a complete list and its ready node is removed', async () => {
  const config = loadConfig(FIXTURE);
  assert.equal(config.labels.find((l) => l.name === 'fast')?.minReady, 0);
  // Lost without a trace (never listed DELETED): only a complete list can tell.
  const w = await world({ only: ['fake-east'], edit: completeEvery(1) });
  try {
    await readyNodeGoes(w, (id) => w.east.lose(id), 'the node of the lost server to go');
  } finally {
    await w.stop();
  }
});

/** East's servers stay in BUILD until the test sends them to ERROR (or lets them boot). */
const slowEast = (config: Config) => { config.providers.find((p) => p.name === 'fake-east')!.fake!['active-after-lists'] = 1_000_000; };

test('a server that goes to ERROR for want of capacity moves its request to the other provider', async () => {
  const w = await world({ edit: slowEast });
  try {
    const id = await ask(w, ['fast']);
    const [server] = await until(w, 'a server in east', async () => (w.east.live().length ? w.east.live() : null));
    w.east.breakServer(server.id, { code: 500, message: 'No valid host was found.', kind: 'capacity' });
    const r = await settled(w, id);
    assert.equal(r.state, 'fulfilled');
    assert.equal(r.provider, 'fake-west');
    // The failed node's server is deleted.
    await until(w, 'the delete of the failed server in east', async () => w.east.calls.get('deleteServer'));
  } finally {
    await w.stop();
  }
});

test('a server that goes to ERROR for quota is retried in its slot without using an attempt, and the pool pauses', async () => {
  const w = await world({ only: ['fake-east'], quotaPauseMs: 200, edit: slowEast });
  try {
    const id = await ask(w, ['fast']);
    const [server] = await until(w, 'a server in east', async () => (w.east.live().length ? w.east.live() : null));
    w.east.breakServer(server.id, { code: 413, message: 'Quota exceeded for instances', kind: 'quota' });
    const retry = await until(w, 'the retry node', async () => (await nodesOf(w)).find((n) => n.state === 'building' && n.id !== server.metadata.nodepool_node_id));
    assert.equal(retry.attempt, 1, 'a quota fault does not use an attempt');
    assert.equal((await w.store.getRequest(id))!.state, 'pending');
    assert.ok(w.launcher.providerStatus()[0].paused.main, 'the pool is paused');
    // Once the pause is over, the retry creates its server.
    await until(w, "the retry's server", async () => w.east.live().find((s) => s.metadata.nodepool_node_id === retry.id));
  } finally {
    await w.stop();
  }
});
