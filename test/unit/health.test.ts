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

test('a burst of launches failing on one outage counts once; failures of later operations count each', () => {
  const h = new ProviderHealth(0);
  // Twenty launches started at 50 ms all fail when their shared network lookup answers 500.
  for (let i = 0; i < 20; i++) h.failure(100 + i, 'networks?name=private answered 500', 50);
  assert.equal(h.state, 'healthy');
  assert.equal(h.consecutive, 1);
  // A server list sent after that failure fails too: new evidence.
  h.failure(200, 'server list failed', 150);
  assert.equal(h.state, 'degraded');
  // Lists one after another, each sent after the previous failure: an offline cloud trips.
  for (let t = 300; t <= 500; t += 100) h.failure(t, 'connection reset', t - 10);
  assert.equal(h.state, 'unhealthy');
  assert.match(h.reason!, /5 failures in a row, last: connection reset/);
});

test('the cool-down starts again from its base once the provider has stayed healthy for five minutes', () => {
  const h = new ProviderHealth(0);
  const trip = (t: number) => { for (let i = 0; i < 5; i++) h.failure(t + i, 'x'); };
  trip(0);
  assert.equal(h.coolDownUntil, 4 + 10_000);
  h.probe(20_000);
  trip(30_000);
  assert.equal(h.coolDownUntil - 30_004, 20_000, 'tripping again soon after doubles the cool-down');
  h.probe(60_000);
  trip(60_000 + 300_000);
  assert.equal(h.coolDownUntil - 360_004, 10_000, 'after five healthy minutes it is back to 10 s');
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
  // Ten launches of one burst all answered 429 with Retry-After 1 s: one failure, not ten.
  const burst = new Backoff(() => 0.5);
  const delays = Array.from({ length: 10 }, (_, i) => burst.failure('k', 100 + i, 1000));
  assert.ok(delays.every((d) => d <= 1000), `delays ${delays}`);
  assert.equal(burst.failure('k', 5000), 2000, 'the next failure after the burst is only the second');
  // Jitter never takes the delay past the maximum.
  const capped = new Backoff(() => 0.99, 1000, 60_000);
  for (let i = 0; i < 10; i++) capped.failure('k', i * 100_000);
  assert.ok(capped.until.get('k')! - 900_000 <= 60_000);
});
