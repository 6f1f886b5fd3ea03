import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateGate } from '../../src/launcher/rate-gate.ts';

test('calls are spaced by the provider rate, in the order they asked', async () => {
  let now = 1000;
  const waits: number[] = [];
  const gate = new RateGate(500, () => now, async (ms) => { waits.push(ms); });
  await Promise.all([gate.turn(), gate.turn(), gate.turn()]);
  assert.deepEqual(waits, [500, 1000]);
  now = 5000; // long after: no wait
  await gate.turn();
  assert.deepEqual(waits, [500, 1000]);
});

test('a rate of 0 never waits', async () => {
  const gate = new RateGate(0, () => 0, async () => { throw new Error('should not wait'); });
  await gate.turn();
  await gate.turn();
});
