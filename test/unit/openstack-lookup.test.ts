import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { isCloudError } from '../../providers/errors.ts';
import type { OpenStackProvider } from '../../providers/openstack/index.ts';
import { createOpenStackProvider } from '../../providers/openstack/index.ts';
import { ReplayCloud, loadSample } from './openstack-replay.ts';

const T0 = Date.parse('2026-11-26T11:35:08Z');
const IMAGE_ID = '7723cd5e-b995-433c-9ef2-57a1ccddc537';
const PRIVATE_NET = '55b1b21f-8519-4d91-9fa2-88198abfe589';

describe('images and networks by name or id', () => {
  let cloud: ReplayCloud;
  let p: OpenStackProvider;
  before(async () => { cloud = await ReplayCloud.start(); });
  after(async () => { await p?.close(); await cloud.stop(); });
  beforeEach(async () => {
    await p?.close();
    cloud.reset();
    cloud.reply('keystone-auth-tokens-password-201');
    p = createOpenStackProvider({ name: 'samples', credentials: cloud.credentials(), now: () => T0 });
  });

  describe('Glance', () => {
    test('an image is found by exact name, asking for JSON (Glance answers HTML otherwise)', async () => {
      cloud.reply('glance-images-list-200-by-name');
      assert.deepEqual(await p.catalog.findImage('samples-image'), { id: IMAGE_ID, name: 'samples-image', status: 'active' });
      const [get] = cloud.received('GET', '/image/');
      assert.equal(get.pathname, '/image/v2/images');
      assert.deepEqual(get.query, { name: 'samples-image' });
      assert.equal(get.headers.accept, 'application/json');
    });

    test('no image of that name is null', async () => {
      cloud.reply('glance-images-list-200-by-name-empty');
      assert.equal(await p.catalog.findImage('samples-image'), null);
    });

    test('an image that is not active yet (queued) is not offered', async () => {
      const queued = loadSample('glance-images-show-200-queued').response.body as any;
      cloud.reply('glance-images-list-200-by-name', { body: (b) => ({ ...b, images: [{ ...queued, name: 'samples-image' }] }) });
      assert.equal(await p.catalog.findImage('samples-image'), null);
    });

    test('of two active images with one name the newest is used', async () => {
      cloud.reply('glance-images-list-200-by-name', {
        body: (b) => ({ ...b, images: [b.images[0], { ...b.images[0], id: 'newer', created_at: '2026-11-26T12:00:00Z' }] }),
      });
      assert.equal((await p.catalog.findImage('samples-image'))?.id, 'newer');
    });

    test('an id is looked up directly', async () => {
      cloud.reply('glance-images-show-200-active');
      assert.deepEqual(await p.catalog.findImage(IMAGE_ID), { id: IMAGE_ID, name: 'samples-image', status: 'active' });
      assert.equal(cloud.received('GET', '/image/').length, 1);
    });

    test('an id Glance does not know falls back to a name search', async () => {
      cloud.reply('glance-images-show-404');
      cloud.route('GET', '/image/v2/images', (req) => cloud.answerFrom(loadSample('glance-images-list-200-by-name-empty'), req));
      assert.equal(await p.catalog.findImage(IMAGE_ID), null);
      assert.deepEqual(cloud.received('GET', '/image/').map((r) => r.pathname), [`/image/v2/images/${IMAGE_ID}`, '/image/v2/images']);
    });

    test('Glance pages are followed through `next`', async () => {
      const page = loadSample('glance-images-list-200-by-name');
      const image = (page.response.body as any).images[0];
      cloud.route('GET', '/image/v2/images', (req) => {
        const second = req.query.marker === 'a';
        const body = second
          ? { images: [{ ...image, id: 'b', status: 'active' }], first: '/v2/images?name=samples-image&limit=1' }
          : { images: [{ ...image, id: 'a', status: 'deleted' }], first: '/v2/images?name=samples-image&limit=1', next: '/v2/images?name=samples-image&limit=1&marker=a' };
        return { status: 200, body };
      });
      assert.equal((await p.catalog.findImage('samples-image'))?.id, 'b');
      assert.deepEqual(cloud.received('GET', '/image/').map((r) => r.query), [
        { name: 'samples-image' }, { name: 'samples-image', limit: '1', marker: 'a' },
      ]);
    });
  });

  describe('Neutron', () => {
    // Neutron filters by name itself; the recorded list is every network the member sees.
    const networksByName = () => {
      const all = loadSample('neutron-networks-list-200');
      cloud.route('GET', '/network/v2.0/networks', (req) => {
        const a = cloud.answerFrom(all, req);
        return { ...a, body: { networks: (a.body as any).networks.filter((n: any) => !req.query.name || n.name === req.query.name) } };
      });
    };

    test('a network is found by name', async () => {
      networksByName();
      assert.deepEqual(await p.catalog.findNetwork('private'), { id: PRIVATE_NET, name: 'private', external: false });
      assert.deepEqual(await p.catalog.findNetwork('public'), { id: '8d9b57eb-2630-41ef-947f-643bbb317e28', name: 'public', external: true });
      assert.equal(await p.catalog.findNetwork('nope'), null);
      assert.deepEqual(cloud.received('GET', '/network/').map((r) => r.query.name), ['private', 'public', 'nope']);
    });

    test('a network is found by id', async () => {
      const net = (loadSample('neutron-networks-list-200').response.body as any).networks[0];
      cloud.route('GET', `/network/v2.0/networks/${PRIVATE_NET}`, () => ({ status: 200, body: { network: net } }));
      assert.deepEqual(await p.catalog.findNetwork(PRIVATE_NET), { id: PRIVATE_NET, name: 'private', external: false });
    });

    test('an unknown id falls back to the name', async () => {
      const missing = loadSample('neutron-floatingips-show-404');
      cloud.route('GET', `/network/v2.0/networks/${PRIVATE_NET}`, (req) => cloud.answerFrom(missing, req));
      networksByName();
      assert.equal(await p.catalog.findNetwork(PRIVATE_NET), null);
    });

    test('two networks of one name are a configuration error', async () => {
      const all = loadSample('neutron-networks-list-200');
      cloud.route('GET', '/network/v2.0/networks', (req) => {
        const nets = (cloud.answerFrom(all, req).body as any).networks;
        return { status: 200, body: { networks: [nets[0], { ...nets[0], id: 'other-id' }] } };
      });
      await assert.rejects(p.catalog.findNetwork('private'), (e: unknown) => isCloudError(e, 'config') && /2 networks are named private/.test(e.message));
    });
  });
});
