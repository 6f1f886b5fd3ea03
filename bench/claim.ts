/**
 * `npm run bench:claim`: two ways for several launchers to claim requests without races, on the
 * PostgreSQL of DATABASE_URL (a scratch database is created and dropped).
 *
 * - conditional: what the planner does. Each launcher reads the open requests, decides, and claims
 *   each one with `UPDATE … WHERE id = $1 AND state = 'requested' AND <lease free or mine>`; a
 *   launcher that lost the race changes nothing (0 rows) and moves on.
 * - skip-locked: `UPDATE … WHERE id = (SELECT id … ORDER BY priority, created_at LIMIT 1 FOR UPDATE
 *   SKIP LOCKED)`: the database hands each claimer a different row.
 *
 * Both are one round trip per claim; the figures are claims per second and statements that
 * claimed nothing, for 1, 2 and 4 claimers (one connection each). BENCH_CLAIMS=2000 by default.
 */
import pg from 'pg';
import { testDatabase } from '../test/support/postgres.ts';
import { PgStore } from '../src/store/postgres/pg-store.ts';
import { newRequestRecord } from '../src/store/records.ts';

const N = Number(process.env.BENCH_CLAIMS ?? 2000);

async function fill(url: string): Promise<void> {
  const store = await PgStore.open({ url, max: 8 });
  await store.pool.query('TRUNCATE requests, state_changes');
  // The index SKIP LOCKED's ordered pick needs (without it each pick sorts the open requests).
  await store.pool.query(`CREATE INDEX IF NOT EXISTS bench_requests_open ON requests (priority, created_at, id) WHERE state = 'requested'`);
  const reqs = Array.from({ length: N }, (_, i) => newRequestRecord({ labels: ['l'], requestor: 'b', now: 1_000 + i }));
  for (let i = 0; i < reqs.length; i += 8) await Promise.all(reqs.slice(i, i + 8).map((r) => store.insertRequest(r, 'bench')));
  await store.close();
}

type Claimer = (c: pg.Client, me: string) => Promise<{ won: number; wasted: number }>;

const conditional: Claimer = async (c, me) => {
  let won = 0;
  let wasted = 0;
  for (;;) {
    const open = (await c.query(`SELECT id FROM requests WHERE state = 'requested' ORDER BY priority, created_at, id`)).rows;
    if (!open.length) return { won, wasted };
    for (const { id } of open) {
      const r = await c.query({
        name: 'claim', values: [id, me, Date.now() + 30_000, Date.now()],
        text: `UPDATE requests SET state = 'pending', lease_owner = $2, lease_expires = $3
               WHERE id = $1 AND state = 'requested' AND (lease_owner IS NULL OR lease_owner = $2 OR lease_expires < $4)`,
      });
      if (r.rowCount) won++; else wasted++;
    }
  }
};

const skipLocked: Claimer = async (c, me) => {
  let won = 0;
  let wasted = 0;
  for (;;) {
    const r = await c.query({
      name: 'claim-skip', values: [me, Date.now() + 30_000],
      text: `UPDATE requests SET state = 'pending', lease_owner = $1, lease_expires = $2
             WHERE id = (SELECT id FROM requests WHERE state = 'requested' ORDER BY priority, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING id`,
    });
    if (!r.rowCount) return { won, wasted: wasted + 1 };
    won++;
  }
};

async function run(url: string, name: string, claim: Claimer, k: number): Promise<void> {
  await fill(url);
  const clients = await Promise.all(Array.from({ length: k }, async () => { const c = new pg.Client(url); await c.connect(); return c; }));
  const t = performance.now();
  const results = await Promise.all(clients.map((c, i) => claim(c, `l${i}`)));
  const s = (performance.now() - t) / 1000;
  await Promise.all(clients.map((c) => c.end()));
  const won = results.reduce((a, r) => a + r.won, 0);
  const wasted = results.reduce((a, r) => a + r.wasted, 0);
  if (won !== N) throw new Error(`${name}: ${won} claims of ${N}`);
  console.log(`${name.padEnd(12)} ${k} claimer${k > 1 ? 's' : ' '}  ${Math.round(N / s).toString().padStart(6)} claims/s  ${wasted.toString().padStart(5)} statements that claimed nothing`);
}

const db = await testDatabase('np_bench_claim');
try {
  for (const k of [1, 2, 4]) {
    await run(db.url, 'conditional', conditional, k);
    await run(db.url, 'skip-locked', skipLocked, k);
  }
} finally {
  await db.drop();
}
