import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerCache } from '../../src/launcher/server-cache.ts';
import { silentLogger } from '../../src/log.ts';
import { simWithDriver } from './openstack-sim-support.ts';

// The launcher's cached server list against the simulator: what a complete list and a
// changes-since list tell it, and what they do not.

test('a server a changes-since list shows DELETED is remembered as gone, with the time that list was sent', async (t) => {
  const { p, cloud } = await simWithDriver(t, { bootDelayMs: 10, deleteDelayMs: 10 });
  let clock = Date.now();
  const cache = new ServerCache(p, { now: () => clock, logger: silentLogger(), fullIntervalMs: 60_000 });
  const flavor = (await p.catalog.listFlavors()).find((f) => f.name === 'm1.small')!;
  const image = (await p.catalog.findImage('ubuntu-22.04'))!;
  const { id } = await p.createServer({ name: 'np-x', flavorId: flavor.id, imageId: image.id, networkIds: [], metadata: {}, tags: [] });
  await cloud.waitForStatus(id, 'ACTIVE', 5000);
  await cache.refresh(true);
  assert.equal(cache.view.servers.get(id)?.state, 'active');
  assert.equal(cache.view.gone.size, 0);

  await p.deleteServer(id);
  await cloud.waitForStatus(id, 'DELETED', 5000);
  clock += 1000;
  const sentAt = clock;
  await cache.refresh(false);
  assert.equal(cache.view.servers.has(id), false);
  assert.equal(cache.view.gone.get(id), sentAt);
  assert.equal(cache.view.refreshedAt, sentAt);

  // Another incremental list later keeps the first sighting; after ten minutes it is forgotten.
  clock += 1000;
  await cache.refresh(false);
  assert.equal(cache.view.gone.get(id), sentAt);
  clock += 10 * 60_000 + 1;
  await cache.refresh(true);
  assert.equal(cache.view.gone.has(id), false);
});
