import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostileCalls, refusedForItsSize, sendHostile } from '../support/hostile-inputs.ts';
import { apiHarness } from './api-helpers.ts';

/**
 * An attacker (or a broken client) sends the API what it was never meant to read: lists of
 * 10^5 labels, strings of megabytes, 400,000 levels of nesting, ids of 32 KB. Each is refused
 * before it is parsed or validated element by element, with 400 or 413 and a message naming the
 * limit; nothing answers 5xx. (`npm run fuzz:api` sends the full corpus to a running
 * `nodepool run` and follows its memory.)
 */

async function listening(opts: Parameters<typeof apiHarness>[0] = {}) {
  const h = apiHarness(opts);
  const base = await h.app.listen({ host: '127.0.0.1', port: 0 });
  return { h, base };
}

test('every oversized input of a sample of the hostile corpus is refused with 400/413 naming its limit, and no call answers 5xx', async () => {
  const { h, base } = await listening();
  const calls = hostileCalls(14, 0.1);
  const families = new Set(calls.map((c) => c.family));
  assert.ok(families.size >= 10, 'every family of input is in the sample');
  const problems: string[] = [];
  let oversized = 0;
  for (const c of calls) {
    const a = await sendHostile(base, c);
    if (a.status === 0 || a.status >= 500) problems.push(`${c.method} ${c.path.slice(0, 50)} [${c.what}]: ${a.status} ${a.message}`);
    if (c.oversized) {
      oversized++;
      if (!refusedForItsSize(a)) problems.push(`${c.method} ${c.path.slice(0, 50)} [${c.what}] not refused for its size: ${a.status} ${a.message}`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(oversized >= 50, `${oversized} oversized inputs sent`);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  await h.close();
});

test('a request for more nodes than api.max-nodes-per-request is refused naming the setting', async () => {
  const { h, base } = await listening({ maxNodesPerRequest: 3 });
  const ask = (labels: unknown[]) => fetch(`${base}/api/v1/requests`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ labels, requestor: 'ci' }),
  });
  const four = await ask(Array(4).fill('ubuntu-jammy'));
  assert.equal(four.status, 400);
  assert.deepEqual((await four.json()).error, {
    code: 400, field: 'labels', message: 'labels: at most 3 nodes per request (api.max-nodes-per-request)',
  });
  // The list's length is checked before its elements: 1,000 numbers are one refusal, not 1,000 issues.
  const numbers = await ask(Array.from({ length: 1000 }, (_, i) => i));
  assert.equal(numbers.status, 400);
  assert.match((await numbers.json()).error.message, /at most 3 nodes per request/);
  assert.equal((await ask(Array(3).fill('ubuntu-jammy'))).status, 201);
  await h.close();
});

test('the largest legal request fits the body limit, and one character of label more is refused for its length', async () => {
  const { h, base } = await listening();
  // 50 labels of 255 characters, every one escaped as \uXXXX (as Python's json.dumps writes
  // non-ASCII text), pretty-printed: the largest body a legal request can have.
  const label = 'é'.repeat(254);
  const escaped = (s: string) => `"${[...s].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;
  const body = `{\n    "labels": [\n${Array.from({ length: 50 }, (_, i) => `        ${escaped(`${label}${i % 10}`)}`).join(',\n')}\n    ],\n    "requestor": ${escaped('r'.repeat(255))},\n    "tenant": ${escaped('t'.repeat(255))},\n    "priority": 100\n}`;
  const post = (b: string) => fetch(`${base}/api/v1/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: b });
  const largest = await post(body);
  assert.equal(largest.status, 201, await largest.clone().text());
  assert.equal((await largest.json()).labels[0], `${label}0`);

  const tooLong = await post(JSON.stringify({ labels: ['x'.repeat(256)], requestor: 'ci' }));
  assert.equal(tooLong.status, 400);
  assert.deepEqual((await tooLong.json()).error, { code: 400, field: 'labels[0]', message: 'labels[0]: at most 255 characters' });

  const huge = await post(JSON.stringify({ labels: Array(50).fill('x'.repeat(4000)), requestor: 'ci' }));
  assert.equal(huge.status, 413);
  assert.match((await huge.json()).error.message, /^body: larger than the limit of \d+ KiB for POST \/api\/v1\/requests$/);
  await h.close();
});

test('a route that takes no body refuses one of more than 1 KiB, and a reason longer than its limit is named', async () => {
  const { h, base } = await listening();
  const heartbeat = await fetch(`${base}/api/v1/requests/abc/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(2000) }) });
  assert.equal(heartbeat.status, 413);
  assert.equal((await heartbeat.json()).error.message, 'body: larger than the limit of 1024 bytes for POST /api/v1/requests/:id/heartbeat');
  const hold = await fetch(`${base}/api/v1/nodes/abc/hold`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'x'.repeat(1001) }) });
  assert.equal(hold.status, 400);
  assert.equal((await hold.json()).error.message, 'reason: at most 1000 characters');
  const wait = await fetch(`${base}/api/v1/requests/abc?wait=301`);
  assert.equal(wait.status, 400);
  assert.equal((await wait.json()).error.message, 'wait: at most 300 seconds');
  await h.close();
});
