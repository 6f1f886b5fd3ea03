import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListingCache } from '../../src/api/listing-cache.ts';
import type { PreparedBody } from '../../src/api/compress.ts';

const body = (content: string): PreparedBody => ({ content, coding: null, contentType: 'application/json' });

test('a rendered listing is served while the token holds, until its age limit or the first lease to run out', () => {
  const c = new ListingCache({ maxAgeMs: 1000, maxEntries: 2 });
  c.set('json', 't1', 10_000, [null, 10_600, 9_000], body('a'));
  assert.equal(c.get('json', 't1', 10_599)?.content, 'a', 'same token, before the lease runs out');
  assert.equal(c.get('json', 't1', 10_600), null, 'a lease ran out: the locks shown are wrong now');
  c.set('json', 't1', 10_000, [], body('b'));
  assert.equal(c.get('json', 't1', 10_999)?.content, 'b');
  assert.equal(c.get('json', 't1', 11_000), null, 'older than the age limit');
  c.set('json', 't1', 10_000, [], body('c'));
  assert.equal(c.get('json', 't2', 10_001), null, 'the store changed');
  assert.equal(c.get('json', 't1', 10_001), null, 'and the entry is gone');
  assert.equal(c.get('json', null, 10_001), null, 'a store without a token is never cached');
  c.set('x', null, 10_000, [], body('d'));
  assert.equal(c.get('x', null, 10_000), null);
});

test('the cache keeps its newest entries only', () => {
  const c = new ListingCache({ maxAgeMs: 1000, maxEntries: 2 });
  for (const k of ['a', 'b', 'c']) c.set(k, 't', 0, [], body(k));
  assert.equal(c.get('a', 't', 1), null);
  assert.equal(c.get('b', 't', 1)?.content, 'b');
  assert.equal(c.get('c', 't', 1)?.content, 'c');
});
