import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { isCloudError } from '../../providers/errors.ts';
import type { CreateServerSpec } from '../../providers/provider.ts';
import type { OpenStackProvider } from '../../providers/openstack/index.ts';
import { createOpenStackProvider, classifyServerFault } from '../../providers/openstack/index.ts';
import { ReplayCloud, loadSample, type Received } from './openstack-replay.ts';

const T0 = Date.parse('2026-11-26T11:35:08Z');
const IMAGE = '7723cd5e-b995-433c-9ef2-57a1ccddc537';
const PRIVATE_NET = '55b1b21f-8519-4d91-9fa2-88198abfe589';

describe('Nova through the OpenStack driver', () => {
  let cloud: ReplayCloud;
  let p: OpenStackProvider;
  before(async () => { cloud = await ReplayCloud.start(); });
  after(async () => { await cloud.stop(); });
  beforeEach(async () => {
    await p?.close();
    cloud.reset();
    cloud.reply('keystone-auth-tokens-password-201');
    p = createOpenStackProvider({ name: 'samples', credentials: cloud.credentials(), now: () => T0 });
  });
  after(async () => { await p?.close(); });

  const novaCalls = (): Received[] => cloud.requests.filter((r) => r.pathname.startsWith('/compute/'));

  test('every Nova call asks for compute 2.79 unless told otherwise', async () => {
    cloud.reply('nova-flavors-detail-200');
    cloud.reply('nova-limits-200');
    await p.catalog.listFlavors();
    await p.getLimits();
    assert.equal(novaCalls().length, 2);
    for (const c of novaCalls()) assert.equal(c.headers['openstack-api-version'], 'compute 2.79');

    const other = createOpenStackProvider({ name: 'samples', credentials: cloud.credentials(), computeMicroversion: '2.60', now: () => T0 });
    await other.getLimits();
    assert.equal(novaCalls().at(-1)!.headers['openstack-api-version'], 'compute 2.60');
    await other.close();
  });

  test('flavors are listed with their size', async () => {
    cloud.reply('nova-flavors-detail-200');
    const flavors = await p.catalog.listFlavors();
    assert.equal(flavors.length, 6);
    assert.deepEqual(flavors.find((f) => f.name === 'm1.medium'), { id: '3', name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40 });
    assert.equal(novaCalls()[0].pathname, '/compute/v2.1/flavors/detail');
  });

  test('limits come from /limits, usage included', async () => {
    cloud.reply('nova-limits-200');
    assert.deepEqual(await p.getLimits(), { maxInstances: 10, maxCores: 20, maxRam: 51200, instancesUsed: 0, coresUsed: 0, ramUsed: 0 });
  });

  test('unlimited absolute limits stay -1', async () => {
    cloud.reply('nova-limits-200', { body: (b) => ({ limits: { ...b.limits, absolute: { ...b.limits.absolute, maxTotalCores: -1, maxTotalRAMSize: -1 } } }) });
    const limits = await p.getLimits();
    assert.equal(limits.maxCores, -1);
    assert.equal(limits.maxRam, -1);
  });

  describe('creating a server', () => {
    const spec = (over: Partial<CreateServerSpec> = {}): CreateServerSpec => ({
      name: 'samples-b', flavorId: '42', imageId: IMAGE, networkIds: [PRIVATE_NET],
      metadata: { pool_provider: 'samples', pool_node_id: '0000000002', pool_label: 'nano' },
      tags: ['samples', 'pool-node'], ...over,
    });

    test('on a network, with metadata and tags, sends the body the recorded boot sent and returns the id', async () => {
      const recorded = cloud.reply('nova-servers-create-202-network');
      const { id } = await p.createServer(spec());
      assert.equal(id, 'dc83e5bc-c64f-45ae-8485-718fa33f07e8');
      const post = cloud.received('POST', '/compute/v2.1/servers')[0];
      assert.deepEqual(post.body, recorded.request.body);
      assert.equal(post.headers['content-type'], 'application/json');
    });

    test('without a network, asks for "networks": "none" as the recorded boot did', async () => {
      const recorded = cloud.reply('nova-servers-create-202');
      const { id } = await p.createServer(spec({
        name: 'samples-a', networkIds: [], tags: [],
        metadata: { pool_provider: 'samples', pool_node_id: '0000000001', pool_label: 'nano' },
      }));
      assert.equal(id, '1c9ab6d1-ada6-4740-8afd-1a96a986c28f');
      assert.deepEqual(cloud.received('POST', '/compute/v2.1/servers')[0].body, recorded.request.body);
    });

    test('key name, user data (base64) and availability zone are passed on', async () => {
      cloud.reply('nova-servers-create-202-network');
      await p.createServer(spec({ keyName: 'ci-key', userdata: '#cloud-config\nhostname: n1\n', availabilityZone: 'nova' }));
      const server = (cloud.received('POST', '/compute/v2.1/servers')[0].body as any).server;
      assert.equal(server.key_name, 'ci-key');
      assert.equal(Buffer.from(server.user_data, 'base64').toString('utf8'), '#cloud-config\nhostname: n1\n');
      assert.equal(server.availability_zone, 'nova');
    });

    test('below 2.52 tags are left out of the body (metadata still carries ours)', async () => {
      cloud.reply('nova-servers-create-202-network');
      const old = createOpenStackProvider({ name: 'samples', credentials: cloud.credentials(), computeMicroversion: '2.36', now: () => T0 });
      await old.createServer(spec({ networkIds: [] }));
      const server = (cloud.received('POST', '/compute/v2.1/servers')[0].body as any).server;
      assert.equal(server.tags, undefined);
      // Before 2.37 "none" does not exist either.
      assert.equal(server.networks, undefined);
      assert.deepEqual(server.metadata, spec().metadata);
      await old.close();
    });

    test('over the instances quota is a quota error carrying the request id', async () => {
      cloud.reply('nova-servers-create-403-instances-quota');
      await assert.rejects(p.createServer(spec()), (e: unknown) => {
        assert.ok(isCloudError(e, 'quota'));
        assert.equal(e.status, 403);
        assert.equal(e.service, 'nova');
        assert.equal(e.requestId, 'req-4ce06d92-cc62-45f0-b848-6799c4cf3704');
        assert.match(e.message, /Quota exceeded for instances/);
        return true;
      });
    });

    test('an unknown flavor is a configuration error', async () => {
      cloud.reply('nova-servers-create-400-unknown-flavor');
      await assert.rejects(p.createServer(spec({ flavorId: 'no-such-flavor' })), (e: unknown) => isCloudError(e, 'config'));
    });
  });

  describe('reading a server', () => {
    const show = async (sample: string) => {
      const s = loadSample(sample);
      cloud.reply(sample);
      return p.getServer(s.request.path.split('/').pop()!);
    };

    test('right after the boot it is building, without addresses or zone', async () => {
      const v = await show('nova-servers-show-200-build');
      assert.equal(v?.state, 'building');
      assert.equal(v?.status, 'BUILD');
      assert.equal(v?.az, null);
      assert.deepEqual([v?.privateIpv4, v?.publicIpv4, v?.publicIpv6], [null, null, null]);
      assert.equal(v?.metadata.pool_node_id, '0000000001');
    });

    test('a network server still building keeps its tags in request order', async () => {
      const v = await show('nova-servers-show-200-build-network');
      assert.equal(v?.state, 'building');
      assert.deepEqual(v?.tags, ['samples', 'pool-node']);
    });

    test('an ACTIVE networks-none server has no address at all', async () => {
      const v = await show('nova-servers-show-200-active');
      assert.equal(v?.state, 'active');
      assert.equal(v?.az, 'nova');
      assert.equal(v?.privateIpv4, null);
      assert.equal(v?.publicIpv4, null);
    });

    test('an ACTIVE network server reports its fixed address; outside RFC 1918 it is also the one to reach', async () => {
      const v = await show('nova-servers-show-200-active-network');
      assert.equal(v?.state, 'active');
      assert.equal(v?.privateIpv4, '192.0.2.136');
      assert.equal(v?.publicIpv4, '192.0.2.136');
      assert.deepEqual(v?.tags, ['pool-node', 'samples']);
      assert.equal(v?.created, '2026-11-26T11:36:33Z');
      assert.equal(v?.updated, '2026-11-26T11:36:35Z');
    });

    test('a floating IP becomes the public address, the fixed one stays private', async () => {
      const v = await show('nova-servers-show-200-floating');
      assert.equal(v?.privateIpv4, '192.0.2.136');
      assert.equal(v?.publicIpv4, '198.51.100.31');
    });

    test('the 2.1 shape (no tags, flavor by id) reads the same when asked at 2.1', async () => {
      cloud.reply('nova-servers-show-200-v2.1');
      const v21 = createOpenStackProvider({ name: 'samples', credentials: cloud.credentials(), computeMicroversion: '2.1', now: () => T0 });
      const v = await v21.getServer('1c9ab6d1-ada6-4740-8afd-1a96a986c28f');
      assert.equal(v?.state, 'active');
      assert.deepEqual(v?.tags, []);
      assert.equal(v?.metadata.pool_label, 'nano');
      await v21.close();
    });

    test('an answer at another microversion than asked is a configuration error', async () => {
      // The recorded 2.1 answer to a request whose header was lost on the way.
      cloud.reply('nova-servers-show-200-v2.1');
      await assert.rejects(p.getServer('1c9ab6d1-ada6-4740-8afd-1a96a986c28f'), (e: unknown) =>
        isCloudError(e, 'config') && /answered at 2\.1/.test(e.message));
    });

    test('an ERROR server carries its fault, which classifies as capacity for NoValidHost', async () => {
      const v = await show('nova-servers-show-200-error');
      assert.equal(v?.state, 'error');
      assert.deepEqual(v?.fault, { code: 500, message: 'No valid host was found.', kind: 'capacity' });
      assert.equal(classifyServerFault(v!.fault!).kind, 'capacity');
    });

    test('a server being deleted is deleting, not active', async () => {
      const v = await show('nova-servers-show-200-deleting');
      assert.equal(v?.status, 'ACTIVE');
      assert.equal(v?.state, 'deleting');
    });

    test('a DELETED server and a 404 both read as gone', async () => {
      assert.equal(await show('nova-servers-show-200-deleted'), null);
      assert.equal(await show('nova-servers-show-404'), null);
      assert.equal(await show('nova-servers-show-404-unknown'), null);
    });

    test('a 404 that is not from Nova (an HTML page) is not taken for "gone"', async () => {
      cloud.route('GET', '/compute/v2.1/servers/abc', () => ({ status: 404, headers: { 'Content-Type': 'text/html' }, body: '<html><body>404 Not Found</body></html>' }));
      await assert.rejects(p.getServer('abc'), (e: unknown) => isCloudError(e, 'config'));
    });

    test('a body that does not match the server schema is fatal and says where', async () => {
      cloud.route('GET', '/compute/v2.1/servers/abc', (req) => {
        const a = cloud.answerFrom(loadSample('nova-servers-show-200-active'), req);
        return { ...a, body: { server: { ...(a.body as any).server, addresses: { private: [{ version: '4' }] } } } };
      });
      await assert.rejects(p.getServer('abc'), (e: unknown) =>
        isCloudError(e, 'fatal') && /server\.addresses\.private\.0\.(addr|version)/.test(e.message));
    });
  });

  describe('deleting a server', () => {
    test('204 is accepted', async () => {
      cloud.reply('nova-servers-delete-204');
      await p.deleteServer('1c9ab6d1-ada6-4740-8afd-1a96a986c28f');
      const del = cloud.received('DELETE', '/compute/v2.1/servers/');
      assert.equal(del.length, 1);
      assert.equal(del[0].pathname, '/compute/v2.1/servers/1c9ab6d1-ada6-4740-8afd-1a96a986c28f');
    });

    test('a server already gone (404) is not an error', async () => {
      const gone = loadSample('nova-servers-show-404');
      cloud.route('DELETE', '/compute/v2.1/servers/1c9ab6d1-ada6-4740-8afd-1a96a986c28f', (req) => cloud.answerFrom(gone, req));
      await p.deleteServer('1c9ab6d1-ada6-4740-8afd-1a96a986c28f');
    });

    test('a conflict (409) is transient', async () => {
      cloud.route('DELETE', '/compute/v2.1/servers/locked', () => ({
        status: 409, body: { conflictingRequest: { code: 409, message: "Cannot 'delete' instance locked while it is in task_state migrating" } },
      }));
      await assert.rejects(p.deleteServer('locked'), (e: unknown) => isCloudError(e, 'transient'));
    });
  });

  describe('listing servers', () => {
    test('the recorded list reads as two servers', async () => {
      cloud.reply('nova-servers-detail-200');
      const servers = await p.listServers();
      assert.equal(servers.length, 2);
      assert.equal(novaCalls().length, 1);
    });

    test('changes-since asks Nova for changes after a time and shows deleted servers as deleted', async () => {
      cloud.reply('nova-servers-detail-200-changes-since');
      const servers = await p.listServers({ changesSince: new Date('2026-11-26T11:36:30.250Z') });
      assert.deepEqual(novaCalls()[0].query, { 'changes-since': '2026-11-26T11:36:30Z' });
      assert.deepEqual(servers.map((s) => [s.name, s.state]), [['samples-error', 'error'], ['samples-b', 'active'], ['samples-a', 'deleted']]);
    });

    // A project with `total` servers behind a Nova whose max_limit is 2, adding a next link to
    // every full page as Nova does (and, to be sure we do not depend on it, to short ones too).
    const paginatedNova = (total: number, nextOnShortPages: boolean) => {
      const template = (loadSample('nova-servers-detail-200').response.body as any).servers[0];
      const all = Array.from({ length: total }, (_, i) => ({ ...template, id: `server-${i}`, name: `n${i}` }));
      cloud.route('GET', '/compute/v2.1/servers/detail', (req) => {
        const start = req.query.marker ? all.findIndex((s) => s.id === req.query.marker) + 1 : 0;
        const page = all.slice(start, start + 2);
        const body: any = { servers: page };
        if (page.length === 2 || (nextOnShortPages && page.length > 0)) {
          body.servers_links = [{ rel: 'next', href: `http://nova.internal:8774/v2.1/servers/detail?marker=${page.at(-1).id}` }];
        }
        return { status: 200, headers: { 'OpenStack-API-Version': req.headers['openstack-api-version'] }, body };
      });
    };

    test('full pages are followed to the empty page after the last', async () => {
      paginatedNova(4, false);
      const servers = await p.listServers();
      assert.deepEqual(servers.map((s) => s.name), ['n0', 'n1', 'n2', 'n3']);
      assert.deepEqual(novaCalls().map((c) => c.query.marker), [undefined, 'server-1', 'server-3']);
    });

    test('a short page ends the walk even with a next link', async () => {
      paginatedNova(5, true);
      const servers = await p.listServers();
      assert.equal(servers.length, 5);
      assert.equal(novaCalls().length, 3);
    });

    test('next links pointing at another host are followed on our endpoint', async () => {
      paginatedNova(3, false);
      await p.listServers();
      assert.ok(novaCalls().every((c) => c.pathname === '/compute/v2.1/servers/detail'));
    });

    test('the recorded page with a next link leads to the marker page', async () => {
      const first = cloud.reply('nova-servers-detail-200-paginated');
      cloud.route('GET', '/compute/v2.1/servers/detail', (req) => ({
        ...cloud.answerFrom(first, req), body: { servers: [] },
      }), { query: { limit: '1', marker: 'dc83e5bc-c64f-45ae-8485-718fa33f07e8' } });
      // The driver starts without a limit; make its first request the recorded one.
      cloud.route('GET', '/compute/v2.1/servers/detail', (req) => cloud.answerFrom(first, req), { query: {} });
      const servers = await p.listServers();
      assert.equal(servers.length, 1);
      assert.deepEqual(novaCalls().map((c) => c.query), [{}, { limit: '1', marker: 'dc83e5bc-c64f-45ae-8485-718fa33f07e8' }]);
    });
  });

  test('callCount counts every HTTP call, authentication included', async () => {
    cloud.reply('nova-limits-200');
    await p.getLimits();
    await p.getLimits();
    assert.equal(p.callCount(), 3);
  });
});
