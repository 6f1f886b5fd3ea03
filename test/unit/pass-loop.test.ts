import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PassLoop } from '../../src/pass-loop.ts';

test('under a steady stream of changes, passes are batched at least 10 ms apart', async () => {
  let passes = 0;
  // Each pass plans for 2 ms, as one over a fleet of hundreds of nodes would.
  const loop = new PassLoop(async () => { passes++; const end = performance.now() + 2; while (performance.now() < end); }, { pace: true, now: Date.now });
  loop.start();
  // A change every millisecond: paced only by the passes' own length (a pause as long as each
  // took) that would be ~50 passes in the 200 ms counted, after the first 100 ms in which the load shows.
  const ticker = setInterval(() => loop.wake(), 1);
  await sleep(100);
  const before = passes;
  await sleep(200);
  clearInterval(ticker);
  await loop.stop();
  const counted = passes - before;
  assert.ok(counted >= 5, `the loop kept running (${counted} passes)`);
  assert.ok(counted <= 28, `${counted} passes in 200 ms`);
});

test("a change to an idle loop, and the next two steps it causes, are acted on at once", async () => {
  const at: number[] = [];
  let loop!: PassLoop;
  // Each of the first three passes causes another change, as a request's steps would.
  loop = new PassLoop(async () => { at.push(performance.now()); if (at.length < 3) loop.wake(); }, { pace: true, now: Date.now });
  loop.start();
  await sleep(20); // idle
  const t0 = performance.now();
  loop.wake();
  await sleep(50);
  await loop.stop();
  assert.equal(at.length, 3);
  assert.ok(at[2]! - t0 < 8, `third pass ${(at[2]! - t0).toFixed(1)} ms after the change`);
});
