import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { MIGRATIONS, migrate } from '../../src/store/postgres/migrations.ts';
import { createPool, withDatabase } from '../../src/store/postgres/connect.ts';

/**
 * PostgreSQL for tests: the server is the one DATABASE_URL names (`npm test` starts one for the
 * run when it is not set: test/run.ts). Each test file gets a database of its own,
 * cloned from a template migrated once per schema version (CREATE DATABASE … TEMPLATE is a file
 * copy: 55 ms here, against 80 ms for creating and migrating one, a gap that grows with each
 * migration), and drops it at the end.
 */

export const DATABASE_URL = process.env.DATABASE_URL ?? '';

let checked: Promise<string | null> | null = null;

/** Under `npm test` a server is always there: its absence is a failure, not a reason to skip. */
const REQUIRED = process.env.NODEPOOL_TEST_POSTGRES === 'required';

/**
 * Why the PostgreSQL tests cannot run here, or null when they can: a test file run on its own
 * (`node --import tsx --test FILE`) without DATABASE_URL skips them. Under `npm test` it throws.
 */
export function postgresSkipReason(): Promise<string | null> {
  checked ??= (async () => {
    const reason = await unreachable();
    if (reason && REQUIRED) throw new Error(`PostgreSQL is required here: ${reason}`);
    return reason && `${reason}: PostgreSQL tests skipped (\`npm test\` starts a server; README, "Running the tests")`;
  })();
  return checked;
}

async function unreachable(): Promise<string | null> {
  if (!DATABASE_URL) return 'DATABASE_URL is not set';
  const c = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query('SELECT 1');
    return null;
  } catch (err) {
    return `no PostgreSQL server at DATABASE_URL (${(err as Error).message})`;
  } finally {
    await c.end().catch(() => {});
  }
}

const TEMPLATE = `np_template_${createHash('sha256').update(JSON.stringify(MIGRATIONS)).digest('hex').slice(0, 10)}`;
/** Serialises template creation between test files running at once. */
const TEMPLATE_LOCK = 7_324_502;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: DATABASE_URL });
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/** Makes the template if missing; the caller holds TEMPLATE_LOCK. */
async function ensureTemplate(c: pg.Client): Promise<void> {
  const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [TEMPLATE]);
  if (found.rowCount) return;
  const building = `${TEMPLATE}_building`;
  await c.query(`DROP DATABASE IF EXISTS ${building}`);
  await c.query(`CREATE DATABASE ${building}`);
  const pool = createPool({ url: withDatabase(DATABASE_URL, building), max: 1 });
  try {
    await migrate(pool, { mode: 'all' });
  } finally {
    await pool.end();
  }
  await c.query(`ALTER DATABASE ${building} RENAME TO ${TEMPLATE}`);
  // Templates of older schemas are not used again; one in use right now is left for next time.
  const old = await c.query(`SELECT datname FROM pg_database WHERE datname LIKE 'np\\_template\\_%' AND datname <> $1`, [TEMPLATE]);
  for (const { datname } of old.rows) await c.query(`DROP DATABASE IF EXISTS ${datname}`).catch(() => {});
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database of this test file's own. */
export async function testDatabase(prefix = 'np_test'): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin(async (c) => {
    // Held while cloning too: another test run may be replacing an older template meanwhile.
    await c.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    try {
      await ensureTemplate(c);
      await c.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
    }
  });
  return {
    name,
    url: withDatabase(DATABASE_URL, name),
    drop: () => admin(async (c) => { await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); }),
  };
}

/** An empty database (not migrated), for migration tests. */
export async function emptyDatabase(prefix = 'np_empty'): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin(async (c) => { await c.query(`CREATE DATABASE ${name}`); });
  return {
    name,
    url: withDatabase(DATABASE_URL, name),
    drop: () => admin(async (c) => { await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); }),
  };
}

/** Runs SQL on a test database as the server's administrator (for what tests do behind the store's back). */
export function sqlOn(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  return (async () => {
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => {});
    await c.connect();
    try {
      return await c.query(text, values);
    } finally {
      await c.end().catch(() => {});
    }
  })();
}
