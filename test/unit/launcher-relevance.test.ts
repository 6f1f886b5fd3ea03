import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { relevance, type RelevanceContext } from '../../src/launcher/relevance.ts';
import type { StoreEvent, StoreEventRow } from '../../src/store/store.ts';
import { WakeGate } from '../../src/launcher/wake-gate.ts';
import type { Config } from '../../src/config/types.ts';
import type { Topology } from '../../src/launcher/topology.ts';

// Launcher "east-1" serves provider "east"; launcher "west-1" serves "west". Every launcher hears
// every change on a shared PostgreSQL; these are the changes that must, or need not, wake east-1.

const NOW = 100_000;
const east: RelevanceContext = { launcher: 'east-1', served: new Set(['east']), minReadyLabels: new Set(), sharedCapacity: false };
const node = (state: string, row: Partial<StoreEventRow>): StoreEvent =>
  ({ kind: 'node', id: 'n1', state, row: { provider: 'east', label: 'jammy', leaseOwner: null, leaseExpires: null, ...row } });
const request = (state: string, row: Partial<StoreEventRow>): StoreEvent =>
  ({ kind: 'request', id: 'r1', state, row: { provider: null, leaseOwner: null, leaseExpires: null, ...row } });

test('a change announced without its row facts wakes the launcher', () => {
  assert.deepEqual(relevance({ kind: 'node', id: 'n1', state: 'ready' }, east, NOW), { wake: true });
  assert.deepEqual(relevance({ kind: 'request', id: 'r1', state: '' }, east, NOW), { wake: true });
});

test('a new request wakes every launcher, whatever providers it serves', () => {
  assert.deepEqual(relevance(request('requested', {}), east, NOW), { wake: true });
  assert.deepEqual(relevance(request('requested', {}), { ...east, launcher: 'west-1', served: new Set(['west']) }, NOW), { wake: true });
});

test('a request given back by its provider (requested again, no lease) wakes the launcher', () => {
  assert.deepEqual(relevance(request('requested', { provider: 'west' }), east, NOW), { wake: true });
});

test("another launcher's node in another provider does not wake the launcher, nor does its request claimed there", () => {
  assert.deepEqual(relevance(node('building', { provider: 'west', leaseOwner: 'west-1', leaseExpires: NOW + 30_000 }), east, NOW),
    { wake: false, wakeAt: null, why: 'other-provider' });
  assert.deepEqual(relevance(node('ready', { provider: 'west' }), east, NOW), { wake: false, wakeAt: null, why: 'other-provider' });
  assert.deepEqual(relevance(request('pending', { provider: 'west', leaseOwner: 'west-1', leaseExpires: NOW + 30_000 }), east, NOW),
    { wake: false, wakeAt: null, why: 'other-provider' });
  assert.deepEqual(relevance(request('fulfilled', { provider: 'west' }), east, NOW), { wake: false, wakeAt: null, why: 'other-provider' });
});

test('a node of its own provider wakes the launcher when nobody holds it, it holds it, or the holder\'s lease ran out', () => {
  assert.deepEqual(relevance(node('ready', {}), east, NOW), { wake: true });
  assert.deepEqual(relevance(node('used', {}), east, NOW), { wake: true });
  assert.deepEqual(relevance(node('building', { leaseOwner: 'east-1', leaseExpires: NOW + 30_000 }), east, NOW), { wake: true });
  assert.deepEqual(relevance(node('deleting', { leaseOwner: 'east-2', leaseExpires: NOW - 1 }), east, NOW), { wake: true });
});

test('its own lease wakes the launcher even in a provider it no longer serves', () => {
  assert.deepEqual(relevance(node('deleting', { provider: 'west', leaseOwner: 'east-1', leaseExpires: NOW + 30_000 }), east, NOW), { wake: true });
});

test('a node another live launcher holds in a shared provider waits for the end of that lease (takeover if the holder died)', () => {
  const shared: RelevanceContext = { ...east, served: null };
  assert.deepEqual(relevance(node('building', { leaseOwner: 'east-2', leaseExpires: NOW + 30_000 }), shared, NOW),
    { wake: false, wakeAt: NOW + 30_000, why: 'leased-elsewhere' });
  assert.deepEqual(relevance(node('building', { provider: 'west', leaseOwner: 'east-2', leaseExpires: NOW + 5_000 }), shared, NOW),
    { wake: false, wakeAt: NOW + 5_000, why: 'leased-elsewhere' });
});

test('a request another live launcher claimed in a provider it serves waits for the end of that lease', () => {
  assert.deepEqual(relevance(request('pending', { provider: 'east', leaseOwner: 'east-2', leaseExpires: NOW + 30_000 }), east, NOW),
    { wake: false, wakeAt: NOW + 30_000, why: 'leased-elsewhere' });
  assert.deepEqual(relevance(request('requested', { leaseOwner: 'east-2', leaseExpires: NOW + 30_000 }), east, NOW),
    { wake: false, wakeAt: NOW + 30_000, why: 'leased-elsewhere' });
  assert.deepEqual(relevance(request('pending', { provider: 'east', leaseOwner: 'east-2', leaseExpires: NOW - 1 }), east, NOW), { wake: true });
  assert.deepEqual(relevance(request('canceled', { provider: 'east', leaseOwner: 'east-1', leaseExpires: NOW + 30_000 }), east, NOW), { wake: true });
});

test('a fulfilled or canceled request of its own provider, held by nobody, wakes the launcher', () => {
  assert.deepEqual(relevance(request('fulfilled', { provider: 'east' }), east, NOW), { wake: true });
  assert.deepEqual(relevance(request('canceled', { provider: 'east' }), east, NOW), { wake: true });
});

test('with min-ready on the label, a node in another provider wakes the launcher: the deficit may be filled here', () => {
  const minReady: RelevanceContext = { ...east, minReadyLabels: new Set(['jammy']) };
  assert.deepEqual(relevance(node('in-use', { provider: 'west' }), minReady, NOW), { wake: true });
  assert.deepEqual(relevance(node('in-use', { provider: 'west', label: 'noble' }), minReady, NOW), { wake: false, wakeAt: null, why: 'other-provider' });
});

test('with tenant limits (counted across providers), changes in another provider wake the launcher', () => {
  const tenants: RelevanceContext = { ...east, sharedCapacity: true };
  assert.deepEqual(relevance(node('gone', { provider: 'west' }), tenants, NOW), { wake: true });
  assert.deepEqual(relevance(request('fulfilled', { provider: 'west' }), tenants, NOW), { wake: true });
});

test('changes to images and gate items are not the launcher pass loop\'s to judge: they wake it as before', () => {
  assert.deepEqual(relevance({ kind: 'upload', id: 'u1', state: 'ready' }, east, NOW), { wake: true });
});

test('the launcher skips a change another live launcher holds, and wakes once just after that lease runs out', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: NOW });
  try {
    let wakes = 0;
    const gate = new WakeGate({ launcher: 'east-1', served: new Set(['east']), now: () => Date.now(), wake: () => { wakes++; } },
      { tenantResourceLimits: [] } as unknown as Config, { labels: new Map() } as unknown as Topology);
    gate.onEvent(node('building', { leaseOwner: 'east-2', leaseExpires: NOW + 2_000 }));
    gate.onEvent(node('building', { leaseOwner: 'east-2', leaseExpires: NOW + 3_000 }));
    gate.onEvent(node('ready', { provider: 'west' }));
    assert.equal(wakes, 0);
    assert.deepEqual(gate.counts.skipped, { 'other-provider': 1, 'leased-elsewhere': 2 });
    mock.timers.tick(2_000);
    assert.equal(wakes, 0);
    mock.timers.tick(1);
    assert.equal(wakes, 1, 'a pass once the earliest lease ran out: it re-reads the rows and sees who holds them now');
    gate.onEvent(request('requested', {}));
    assert.equal(wakes, 2);
    gate.close();
  } finally {
    mock.timers.reset();
  }
});
