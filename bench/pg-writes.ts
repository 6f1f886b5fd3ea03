/**
 * `npm run bench:pg`: what each kind of PostgreSQL store call costs the server and this process,
 * one caller at a time (BENCH_PG_N, 2,000, of each), with BENCH_PG_LISTENERS (0,6) other stores
 * listening for changes as other processes would: the server's CPU is that of every `postgres`
 * process on this machine (/proc), the client's this process's (the listeners included: they are
 * in it). PostgreSQL wakes every listening backend at each commit that notifies, whatever its
 * channel, so a write's server cost grows with the listeners; a read's does not.
 *
 * Measured on this 2-core machine (local PostgreSQL 15, BENCH_PG_N=1000), server µs per call,
 * 0 → 6 listeners: a guarded insert 300 → 510, an update of the state 200 → 420, an update moving
 * no state 130 → 420, a writeAll of 2 rows 230 → 470, a remove 120 → 410, a read by id 30 → 30.
 * Before a guarded insert and a writeAll were one statement each, in a slower hour of the same
 * machine: a guarded insert 860 → 1,215 (four round trips), a state update 370 → 650.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { PgStore } from '../src/store/postgres/pg-store.ts';
import { newNodeRecord } from '../src/store/records.ts';
import { testDatabase } from '../test/support/postgres.ts';

const N = Number(process.env.BENCH_PG_N ?? 2000);
const LISTENERS = (process.env.BENCH_PG_LISTENERS ?? '0,6').split(',').map(Number);

/** CPU ms of every PostgreSQL server process on this machine. */
function serverCpuMs(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      // Ended meanwhile.
    }
  }
  return total;
}

const clientCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const settle = () => new Promise((r) => setTimeout(r, 300));

async function scenario(listeners: number): Promise<void> {
  const db = await testDatabase('np_bench_pg');
  const writer = await PgStore.open({ url: db.url, max: 2 });
  const others: PgStore[] = [];
  try {
    for (let i = 0; i < listeners; i++) {
      const l = await PgStore.open({ url: db.url, max: 1, listen: true });
      l.subscribe(() => {});
      await l.listening();
      others.push(l);
    }
    console.log(`## ${listeners} listening store${listeners === 1 ? '' : 's'}, ${N} calls of each`);
    const measure = async (name: string, call: (i: number) => Promise<unknown>) => {
      await settle();
      const s0 = serverCpuMs();
      const c0 = clientCpuMs();
      const t0 = performance.now();
      for (let i = 0; i < N; i++) await call(i);
      const wall = performance.now() - t0;
      await settle();
      const us = (ms: number) => ((ms / N) * 1000).toFixed(0).padStart(5);
      console.log(`${name.padEnd(34)} server ${us(serverCpuMs() - s0)} µs  client ${us(clientCpuMs() - c0)} µs  wall ${us(wall)} µs`);
    };
    const nodes = Array.from({ length: N }, (_, i) => newNodeRecord({
      label: 'l', provider: 'p', pool: 'main', connectionPort: 22, username: 'u', now: i, allocatedTo: 'r',
    }));
    await measure('guarded insert', (i) => writer.insertNode(nodes[i], 'b', { maxServers: 1e6 }));
    await measure('update moving no state', (i) => writer.updateNode(nodes[i].id, { step: 'creating' }, 'b'));
    await measure('update of the state', (i) => writer.updateNode(nodes[i].id, { state: 'ready' }, 'b', { states: ['building'] }));
    await measure('update whose condition fails', (i) => writer.updateNode(nodes[i].id, { state: 'ready' }, 'b', { states: ['building'] }));
    await measure('writeAll of 2 rows', (i) => writer.writeAll([
      { table: 'nodes', id: nodes[i].id, patch: { state: 'in-use' } },
      { table: 'nodes', id: nodes[(i + 1) % N].id, patch: { comment: 'c' } },
    ], 'b'));
    await measure('read by id', (i) => writer.getNode(nodes[i].id));
    await measure('read of 5 ids', (i) => writer.listNodes({ ids: nodes.slice(i, i + 5).map((n) => n.id) }));
    await measure('remove', (i) => writer.removeNode(nodes[i].id, 'b'));
  } finally {
    for (const l of others) await l.close();
    await writer.close();
    await db.drop();
  }
}

for (const k of LISTENERS) await scenario(k);
