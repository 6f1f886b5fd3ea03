import type pg from 'pg';

/**
 * Numbered, append-only migrations of the PostgreSQL store (the model is graphile-worker's
 * src/migrate.ts). Each one says whether it is *breaking*: whether a process of the release before
 * it stops working once it has run. Adding a table, a nullable column or an index is not breaking,
 * so such a migration runs at start while launchers of the previous release keep working (a rolling
 * upgrade); renaming or dropping a column, or changing what a value means, is breaking and runs
 * only from `nodepool migrate`, once the older processes are stopped.
 *
 * A process refuses a database that has a breaking migration it does not know (written by a newer
 * release), and works on one whose only unknown migrations are not breaking.
 */
export interface Migration {
  id: number;
  name: string;
  breaking: boolean;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'nodes, requests, audit log, launchers',
    breaking: true,
    sql: `
CREATE TABLE nodes (
  id text PRIMARY KEY, label text NOT NULL, provider text NOT NULL, pool text NOT NULL,
  state text NOT NULL, step text, server_id text, hostname text NOT NULL,
  interface_ip text, public_ipv4 text, private_ipv4 text, public_ipv6 text, az text,
  connection_port integer NOT NULL, username text NOT NULL, host_keys jsonb NOT NULL,
  allocated_to text, attempt integer NOT NULL, lease_owner text, lease_expires bigint,
  hold_reason text, hold_expires bigint, comment text,
  created_at bigint NOT NULL, state_time bigint NOT NULL, launch_started_at bigint
);
CREATE INDEX nodes_state ON nodes (state);
CREATE INDEX nodes_allocated_to ON nodes (allocated_to);
CREATE INDEX nodes_pool ON nodes (provider, pool);
CREATE INDEX nodes_lease_owner ON nodes (lease_owner);
CREATE TABLE requests (
  id text PRIMARY KEY, state text NOT NULL, labels jsonb NOT NULL, requestor text NOT NULL,
  priority integer NOT NULL, tenant text, provider text, pool text, nodes jsonb NOT NULL,
  reason text, lease_owner text, lease_expires bigint, holder_expires bigint,
  created_at bigint NOT NULL, state_time bigint NOT NULL, fulfilled_at bigint
);
CREATE INDEX requests_state ON requests (state);
CREATE INDEX requests_lease_owner ON requests (lease_owner);
CREATE TABLE state_changes (
  seq bigserial PRIMARY KEY, at bigint NOT NULL, kind text NOT NULL, id text NOT NULL,
  from_state text, to_state text NOT NULL, "by" text NOT NULL, reason text
);
CREATE INDEX state_changes_id ON state_changes (kind, id);
CREATE TABLE launchers (
  name text PRIMARY KEY, host text NOT NULL, pid integer NOT NULL, version text NOT NULL,
  providers jsonb NOT NULL, started_at bigint NOT NULL, heartbeat_at bigint NOT NULL
);
`,
  },
  {
    id: 2,
    name: "image builds, their uploads per provider, operators' image flags",
    breaking: false,
    sql: `
CREATE TABLE image_builds (
  id text PRIMARY KEY, image text NOT NULL, builder text NOT NULL, state text NOT NULL,
  formats jsonb NOT NULL, files jsonb NOT NULL, log_path text, reason text,
  lease_owner text, lease_expires bigint, created_at bigint NOT NULL, state_time bigint NOT NULL
);
CREATE INDEX image_builds_image ON image_builds (image, state);
CREATE TABLE image_uploads (
  id text PRIMARY KEY, build_id text NOT NULL, image text NOT NULL, provider text NOT NULL, state text NOT NULL,
  format text NOT NULL, external_id text, external_name text NOT NULL, bytes bigint NOT NULL, size bigint NOT NULL,
  validation text NOT NULL, validation_node text, reason text, lease_owner text, lease_expires bigint,
  created_at bigint NOT NULL, state_time bigint NOT NULL
);
CREATE INDEX image_uploads_build ON image_uploads (build_id);
CREATE INDEX image_uploads_provider ON image_uploads (provider, image, state);
CREATE TABLE image_flags (
  image text PRIMARY KEY, paused boolean NOT NULL, paused_reason text, build_requested_at bigint,
  updated_at bigint NOT NULL
);
`,
  },
  {
    id: 3,
    name: "time series of the status page's plots",
    breaking: false,
    sql: `
CREATE TABLE samples (series text NOT NULL, at bigint NOT NULL, value double precision NOT NULL, PRIMARY KEY (series, at));
CREATE INDEX samples_at ON samples (at);
`,
  },
  {
    id: 4,
    name: 'when each node\'s create call answered, so only a server list sent after it judges the server',
    breaking: false,
    sql: 'ALTER TABLE nodes ADD COLUMN create_answered_at bigint;',
  },
  {
    id: 5,
    name: 'the gating core: queue items, events for the scheduler, autoholds, the scheduler lease',
    breaking: false,
    sql: `
CREATE TABLE gate_items (
  id text PRIMARY KEY, pipeline text NOT NULL, state text NOT NULL, change_number integer NOT NULL,
  seq bigint NOT NULL, updated_at bigint NOT NULL, data jsonb NOT NULL
);
CREATE INDEX gate_items_state ON gate_items (state, seq);
CREATE INDEX gate_items_change ON gate_items (change_number);
CREATE TABLE gate_events (
  seq bigserial PRIMARY KEY, source text NOT NULL, body jsonb NOT NULL, received_at bigint NOT NULL,
  processed_at bigint, outcome text
);
CREATE INDEX gate_events_pending ON gate_events (processed_at, seq);
CREATE TABLE gate_autoholds (
  id text PRIMARY KEY, project text, job text NOT NULL, change_number integer, reason text NOT NULL,
  count integer NOT NULL, held integer NOT NULL, node_expiration bigint, created_at bigint NOT NULL
);
CREATE TABLE gate_leases (name text PRIMARY KEY, owner text NOT NULL, expires bigint NOT NULL);
`,
  },
  {
    id: 6,
    name: "each launcher's provider states (health, quota room, pauses, leaks, cloud calls), for processes without it",
    breaking: false,
    sql: `
CREATE TABLE provider_states (
  launcher text NOT NULL, provider text NOT NULL, health text NOT NULL, reason text, since bigint, room jsonb,
  label_costs jsonb NOT NULL, paused_until jsonb NOT NULL, leaked jsonb NOT NULL, calls jsonb NOT NULL, updated_at bigint NOT NULL,
  PRIMARY KEY (launcher, provider)
);
`,
  },
  {
    id: 7,
    name: "each node's Python interpreter (python-path), for the scheduler",
    breaking: false,
    sql: 'ALTER TABLE nodes ADD COLUMN python_path text;',
  },
  {
    id: 8,
    name: "a pool's room counted under its lock in the guarded insert's own statement",
    breaking: false,
    // The lock is the one the releases before took in a statement of its own, so both kinds of
    // process order their inserts into a pool alike during a rolling upgrade.
    sql: `CREATE OR REPLACE FUNCTION nodepool_pool_room(p_provider text, p_pool text, p_max integer, p_server text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('nodepool-pool:' || p_provider || '/' || p_pool));
  IF (SELECT count(*) FROM (SELECT 1 FROM nodes WHERE provider = p_provider AND pool = p_pool LIMIT p_max) AS pool_nodes) >= p_max THEN
    RETURN false;
  END IF;
  RETURN p_server IS NULL OR NOT EXISTS (SELECT 1 FROM nodes WHERE provider = p_provider AND server_id = p_server);
END
$fn$;`,
  },
  {
    id: 9,
    name: 'a batch of writes in one statement, failed whole when one of them finds its row changed',
    breaking: false,
    sql: `CREATE OR REPLACE FUNCTION nodepool_require(ok boolean) RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
  IF NOT ok THEN
    RAISE EXCEPTION 'a write of the batch found its row changed' USING ERRCODE = 'NP001';
  END IF;
  RETURN true;
END
$fn$;`,
  },
];

export class SchemaTooNewError extends Error {
  constructor(readonly found: number, readonly known: number) {
    super(`the store's schema has breaking migration ${found}, newer than this release knows (${known}); upgrade nodepool`);
    this.name = 'SchemaTooNewError';
  }
}

export class MigrationNeededError extends Error {
  constructor(readonly pending: number[]) {
    super(`the store needs breaking migration${pending.length > 1 ? 's' : ''} ${pending.join(', ')}: stop the processes of the older release, then run \`nodepool migrate\``);
    this.name = 'MigrationNeededError';
  }
}

/** Arbitrary constant: the advisory lock that serialises migrations between processes. */
const MIGRATION_LOCK = 7_324_501;

export interface MigrateOptions {
  /**
   * `start`: what a starting process may do: run every missing migration on an empty database, or
   * the missing ones if none is breaking; otherwise throw MigrationNeededError.
   * `all`: `nodepool migrate`, run every missing migration.
   */
  mode: 'start' | 'all';
  migrations?: Migration[];
}

/** Brings the schema up to date under an advisory lock; returns the ids applied. */
export async function migrate(pool: pg.Pool, opts: MigrateOptions): Promise<number[]> {
  const migrations = opts.migrations ?? MIGRATIONS;
  const known = migrations[migrations.length - 1].id;
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id integer PRIMARY KEY, name text NOT NULL, breaking boolean NOT NULL, applied_at bigint NOT NULL)`);
    const applied = (await client.query<{ id: number; breaking: boolean }>('SELECT id, breaking FROM schema_migrations')).rows;
    const newer = applied.filter((m) => m.id > known && m.breaking).map((m) => m.id);
    if (newer.length) throw new SchemaTooNewError(Math.max(...newer), known);
    const done = new Set(applied.map((m) => m.id));
    const pending = migrations.filter((m) => !done.has(m.id));
    if (opts.mode === 'start' && done.size > 0 && pending.some((m) => m.breaking)) {
      throw new MigrationNeededError(pending.filter((m) => m.breaking).map((m) => m.id));
    }
    for (const m of pending) {
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (id, name, breaking, applied_at) VALUES ($1, $2, $3, $4)', [m.id, m.name, m.breaking, Date.now()]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
    return pending.map((m) => m.id);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}
