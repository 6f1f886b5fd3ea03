import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgStore } from '../../src/store/postgres/pg-store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { postgresSkipReason, testDatabase, type TestDatabase } from '../support/postgres.ts';

/** The plots' points, kept alike by both stores: one point per series and time, oldest first, old ones pruned. */

const skip = await postgresSkipReason();
let db: TestDatabase | undefined;
before(async () => { if (!skip) db = await testDatabase('np_samples'); });
after(async () => { await db?.drop(); });

async function story(store: Store): Promise<void> {
  await store.appendSamples(1000, { 'nodes.ready': 2, 'requests.waiting': 0 });
  await store.appendSamples(2000, { 'nodes.ready': 3, 'requests.waiting': 1.5 });
  // The same time again (a sampler restarted within the same millisecond): the point is replaced.
  await store.appendSamples(2000, { 'nodes.ready': 4 });
  await store.appendSamples(3000, {});
  assert.deepEqual(await store.listSamples(1500), [
    { series: 'nodes.ready', at: 2000, value: 4 },
    { series: 'requests.waiting', at: 2000, value: 1.5 },
  ]);
  assert.equal(await store.pruneSamples(2000), 2);
  assert.equal((await store.listSamples(0)).length, 2);
}

test('sqlite: samples are kept per series and time, listed oldest first, pruned by age', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-samples-'));
  const store = new SqliteStore(join(dir, 'np.sqlite'));
  try {
    await story(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('postgres: samples are kept per series and time, listed oldest first, pruned by age', { skip: skip || false }, async () => {
  const store = await PgStore.open({ url: db!.url, max: 2 });
  try {
    await story(store);
  } finally {
    await store.close();
  }
});
