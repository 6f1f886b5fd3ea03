import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isCloudError } from '../../providers/errors.ts';
import { endpointFor } from '../../providers/openstack/catalog.ts';
import type { CatalogService } from '../../providers/openstack/schemas.ts';
import { loadSample } from './openstack-replay.ts';

const recordedCatalog = (): CatalogService[] =>
  (loadSample('keystone-auth-tokens-password-201').response.body as any).token.catalog;

const q = { cloud: 'samples', region: 'RegionOne', iface: 'public' as const };

describe('endpoints from the recorded catalog', () => {
  test('Nova is used as listed (its URL carries /v2.1); Glance and Neutron get /v2 and /v2.0', () => {
    const catalog = recordedCatalog();
    assert.equal(endpointFor(catalog, 'compute', q), 'http://127.0.0.1:8774/v2.1');
    assert.equal(endpointFor(catalog, 'image', q), 'http://127.0.0.1:9292/v2');
    assert.equal(endpointFor(catalog, 'network', q), 'http://127.0.0.1:9696/v2.0');
  });

  test('a service the cloud does not have is a configuration error naming what was looked for', () => {
    assert.throws(() => endpointFor(recordedCatalog(), 'block-storage', q), (e: unknown) =>
      isCloudError(e, 'config') && /block-storage or volumev3/.test(e.message) && /cloud samples/.test(e.message));
  });

  test('a region the catalog does not list is a configuration error naming the regions it has', () => {
    assert.throws(() => endpointFor(recordedCatalog(), 'compute', { ...q, region: 'RegionTwo' }), (e: unknown) =>
      isCloudError(e, 'config') && /region RegionTwo/.test(e.message) && /RegionOne/.test(e.message));
  });
});

describe('endpoint choice by region and interface', () => {
  const ep = (iface: string, region: string, url: string) => ({ interface: iface, region_id: region, region, url });
  const catalog: CatalogService[] = [
    { type: 'compute', endpoints: [
      ep('public', 'east', 'https://east.example.com:8774/v2.1/'),
      ep('internal', 'east', 'http://nova.east.internal:8774/v2.1'),
      ep('public', 'west', 'https://west.example.com/compute/v2.1/6a1e0b'),
    ] },
    { type: 'image', endpoints: [ep('public', 'west', 'https://west.example.com/image/v2/'), ep('public', 'east', 'https://east.example.com:9292')] },
    { type: 'network', endpoints: [ep('public', 'west', 'https://west.example.com/network/v2.0')] },
    { type: 'volumev3', endpoints: [ep('public', 'west', 'https://west.example.com/volume/v3/6a1e0b')] },
  ];

  test('the region picks among the public endpoints', () => {
    assert.equal(endpointFor(catalog, 'compute', { cloud: 'c', region: 'west', iface: 'public' }), 'https://west.example.com/compute/v2.1/6a1e0b');
    assert.equal(endpointFor(catalog, 'compute', { cloud: 'c', region: 'east', iface: 'public' }), 'https://east.example.com:8774/v2.1');
  });

  test('the interface picks internal endpoints when clouds.yaml asks for them', () => {
    assert.equal(endpointFor(catalog, 'compute', { cloud: 'c', region: 'east', iface: 'internal' }), 'http://nova.east.internal:8774/v2.1');
    assert.throws(() => endpointFor(catalog, 'image', { cloud: 'c', region: 'east', iface: 'internal' }), (e: unknown) => isCloudError(e, 'config'));
  });

  test('without a region the first endpoint with the interface is used', () => {
    assert.equal(endpointFor(catalog, 'image', { cloud: 'c', iface: 'public' }), 'https://west.example.com/image/v2');
  });

  test('versions already in the URL are kept; Cinder is found under volumev3', () => {
    assert.equal(endpointFor(catalog, 'network', { cloud: 'c', region: 'west', iface: 'public' }), 'https://west.example.com/network/v2.0');
    assert.equal(endpointFor(catalog, 'block-storage', { cloud: 'c', region: 'west', iface: 'public' }), 'https://west.example.com/volume/v3/6a1e0b');
  });

  test('an empty catalog (an unscoped token) says so', () => {
    assert.throws(() => endpointFor([], 'compute', { cloud: 'c', iface: 'public' }), (e: unknown) =>
      isCloudError(e, 'config') && /scoped to a project/.test(e.message));
  });
});
