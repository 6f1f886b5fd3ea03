import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newNodeRecord } from '../../src/store/records.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { readNodes } from '../../src/store/node-reads.ts';

// The SQLite store's copy of the fleet (src/store/sqlite/fleet-copy.ts): what it answers must be
// what a fresh read of the file says, after every kind of node write, by this process or another.

const node = (now: number, o: { leaseOwner?: string; leaseExpires?: number } = {}) =>
  newNodeRecord({ label: 'jammy', provider: 'sim', pool: 'main', connectionPort: 22, username: 'zuul', now, ...o });

test('the fleet copy answers what the file holds after every kind of node write, re-reading only the rows written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-fleet-'));
  const store = new SqliteStore(join(dir, 'np.sqlite'));
  const other = new SqliteStore(join(dir, 'np.sqlite'));
  try {
    const same = async (what: string) => assert.deepEqual(await store.readFleet(), await store.listNodes(), what);
    const nodes = Array.from({ length: 50 }, (_, i) => node(1000 + i));
    for (const n of nodes) await store.insertNode(n, 't');
    await same('inserted');
    const before = await store.readFleet();

    await store.updateNode(nodes[3]!.id, { state: 'ready', step: null }, 't');
    const after = await store.readFleet();
    await same('updated');
    assert.notEqual(after[3], before[3], 'the row written is read again');
    assert.equal(after[4], before[4], 'a row not written is kept, not read again');

    await store.writeAll([{ table: 'nodes', id: nodes[5]!.id, patch: { comment: 'batch' } }], 't');
    await same('written in a batch');
    await store.removeNode(nodes[6]!.id, 't');
    await same('removed');
    const retry = node(900); // created before every other node: its place is first, not last
    await store.passSlot(nodes[7]!.id, { state: 'failed' }, {}, retry, 't');
    await same('a slot passed to a retry older than the rest');
    assert.equal((await store.readFleet())[0]!.id, retry.id);

    await store.updateNode(nodes[8]!.id, { leaseOwner: 'l1', leaseExpires: 5000 }, 't');
    await store.readFleet();
    await store.renewLeases('l1', 9000);
    await same('a lease renewed');
    assert.equal((await store.readFleet()).find((n) => n.id === nodes[8]!.id)!.leaseExpires, 9000);

    // Another process on the same file: no event reaches this one, the file's version moves.
    await other.updateNode(nodes[9]!.id, { state: 'hold', holdReason: 'debug' }, 'operator');
    await other.insertNode(node(2000), 'operator');
    await same('written by another connection');
    assert.equal((await readNodes(store)).find((n) => n.id === nodes[9]!.id)!.state, 'hold', 'and the readers of the fleet see it');
  } finally {
    await other.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
