import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, ProviderHealth } from '../../src/launcher/health.ts';

test('a provider failing again and again becomes degraded, then unhealthy, and a probe after the cool-down brings it back', () => {
  const h = new ProviderHealth(0);
  h.failure(1, 'timeout');
  assert.equal(h.state, 'healthy');
  h.failure(2, 'timeout');
  assert.equal(h.state, 'degraded');
  for (let t = 3; t <= 5; t++) h.failure(t, 'connection refused');
  assert.equal(h.state, 'unhealthy');
  assert.match(h.reason!, /5 failures in a row, last: connection refused/);
  assert.equal(h.success(6), false, 'a success of something in flight does not bring it back');
  assert.equal(h.probe(6), false, 'nor does a probe during the cool-down');
  assert.equal(h.state, 'unhealthy');
  assert.equal(h.probe(5 + 10_000), true);
  assert.equal(h.state, 'healthy');
});

test('a provider that trips again waits twice as long before its next probe', () => {
  const h = new ProviderHealth(0);
  for (let i = 0; i < 5; i++) h.failure(0, 'x');
  const first = h.coolDownUntil;
  h.probe(first);
  for (let i = 0; i < 5; i++) h.failure(first, 'x');
  assert.equal(h.coolDownUntil - first, 2 * first);
});

test('backoff doubles with jitter, honours Retry-After, and a success clears it', () => {
  const b = new Backoff(() => 0.5);
  assert.equal(b.failure('p/jammy', 0), 1000);
  assert.equal(b.failure('p/jammy', 1000), 2000);
  assert.equal(b.failure('p/jammy', 3000), 4000);
  assert.equal(b.failure('p/jammy', 7000, 30_000), 30_000);
  b.success('p/jammy');
  assert.equal(b.until.has('p/jammy'), false);
  // Launches already in flight that fail during the backoff do not raise it.
  const c = new Backoff(() => 0.5);
  c.failure('k', 0);
  assert.equal(c.failure('k', 10), 990);
  assert.equal(c.failure('k', 1000), 2000);
  const jittered = new Backoff(() => 0.99);
  assert.ok(jittered.failure('k', 0) > 1000);
});
