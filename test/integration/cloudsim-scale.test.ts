import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, login, newKeyPair, sshExec, startSim, until, type Session } from '../unit/cloudsim-support.ts';

/** Runs `fn` over `items` with at most `width` in flight. */
async function pool<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

async function bootMany(s: Session, n: number, networks: unknown): Promise<string[]> {
  const img = (await call('GET', `${s.image}/v2/images?name=cirros`, { token: s.token })).body.images[0].id;
  return pool(Array.from({ length: n }, (_, i) => i), 50, async (i) => {
    const res = await call('POST', `${s.compute}/servers`, { token: s.token, mv: '2.79', body: { server: { name: `n${i}`, imageRef: img, flavorRef: '1', networks } } });
    assert.equal(res.status, 202);
    return res.body.server.id as string;
  });
}

test('500 servers boot at once and each answers an SSH scan at its own address', async (t) => {
  const sim = await startSim(t, {
    clouds: [{ name: 'alpha', bootDelayMs: 200, deleteDelayMs: 50, sshPort: 2022, addressBase: '127.152', quota: { instances: -1, cores: -1, ram: -1 } }],
  });
  const s = await login(sim, 'alpha');
  const net = (await call('GET', `${s.network}/v2.0/networks?name=private`, { token: s.token })).body.networks[0].id;
  const key = newKeyPair();
  const ids = await bootMany(s, 500, [{ uuid: net }]);
  const cloud = sim.cloud('alpha');
  // One listing per poll, as an economical client does. The deadline allows for a loaded machine.
  await until(async () => {
    const list = await call('GET', `${s.compute}/servers/detail?status=ACTIVE&limit=1000`, { token: s.token, mv: '2.79' });
    return list.body.servers.length === 500 ? true : undefined;
  }, 60_000, '500 ACTIVE servers', 200);
  const nodes = ids.map((id) => cloud.server(id)!);
  assert.equal(new Set(nodes.map((n) => n.addresses[0].ip)).size, 500, 'every server has its own address');
  const outputs = await pool(nodes, 50, (n) =>
    sshExec({ host: n.addresses[0].ip, port: 2022, privateKey: key.private, hostKey: n.hostKey!, command: 'basename "$PWD"' }));
  assert.deepEqual(outputs.map((o) => o.stdout.trim()), ids);
});

test('10,000 servers without SSH boot, list in pages of 1000 and delete', async (t) => {
  const sim = await startSim(t, {
    clouds: [{ name: 'alpha', ssh: false, bootDelayMs: 100, deleteDelayMs: 50, quota: { instances: -1, cores: -1, ram: -1 } }],
  });
  const s = await login(sim, 'alpha');
  const net = (await call('GET', `${s.network}/v2.0/networks?name=private`, { token: s.token })).body.networks[0].id;
  const img = (await call('GET', `${s.image}/v2/images?name=cirros`, { token: s.token })).body.images[0].id;
  // Ten requests of 1,000 each (max_count) keep the test's own HTTP client out of the measure.
  await Promise.all(Array.from({ length: 10 }, async (_, i) => {
    const res = await call('POST', `${s.compute}/servers`, {
      token: s.token, mv: '2.79', body: { server: { name: `batch${i}`, imageRef: img, flavorRef: '1', networks: [{ uuid: net }], min_count: 1000, max_count: 1000 } },
    });
    assert.equal(res.status, 202);
  }));
  const cloud = sim.cloud('alpha');
  const ids = cloud.servers().map((x) => x.id);
  assert.equal(new Set(ids).size, 10_000);
  await until(() => (cloud.servers().every((x) => x.status === 'ACTIVE') ? true : undefined), 60_000, 'all ACTIVE', 100);

  let url: string | undefined = `${s.compute}/servers/detail`;
  let seen = 0;
  let pages = 0;
  while (url) {
    const page: { body: any } = await call('GET', url, { token: s.token, mv: '2.79' });
    seen += page.body.servers.length;
    pages++;
    url = page.body.servers_links?.[0]?.href;
  }
  assert.equal(seen, 10_000);
  assert.equal(pages, 11, 'ten full pages, each with a next link, then an empty one');

  await pool(ids, 50, async (id) => assert.equal((await call('DELETE', `${s.compute}/servers/${id}`, { token: s.token })).status, 204));
  await until(() => (cloud.servers().length === 0 ? true : undefined), 60_000, 'all deleted', 100);
});
