import type Database from 'better-sqlite3';

/**
 * Numbered, append-only migrations. A database whose newest migration is newer than the newest
 * one here was written by a newer release: we refuse to touch it rather than guess.
 */
export const MIGRATIONS: { id: number; name: string; sql: string }[] = [
  {
    id: 1,
    name: 'nodes, requests, audit log, launchers',
    sql: `
CREATE TABLE nodes (
  id TEXT PRIMARY KEY, label TEXT NOT NULL, provider TEXT NOT NULL, pool TEXT NOT NULL,
  state TEXT NOT NULL, step TEXT, server_id TEXT, hostname TEXT NOT NULL,
  interface_ip TEXT, public_ipv4 TEXT, private_ipv4 TEXT, public_ipv6 TEXT, az TEXT,
  connection_port INTEGER NOT NULL, username TEXT NOT NULL, host_keys TEXT NOT NULL,
  allocated_to TEXT, attempt INTEGER NOT NULL, lease_owner TEXT, lease_expires INTEGER,
  hold_reason TEXT, hold_expires INTEGER, comment TEXT,
  created_at INTEGER NOT NULL, state_time INTEGER NOT NULL, launch_started_at INTEGER
);
CREATE INDEX nodes_state ON nodes (state);
CREATE INDEX nodes_allocated_to ON nodes (allocated_to);
CREATE TABLE requests (
  id TEXT PRIMARY KEY, state TEXT NOT NULL, labels TEXT NOT NULL, requestor TEXT NOT NULL,
  priority INTEGER NOT NULL, tenant TEXT, provider TEXT, pool TEXT, nodes TEXT NOT NULL,
  reason TEXT, lease_owner TEXT, lease_expires INTEGER, holder_expires INTEGER,
  created_at INTEGER NOT NULL, state_time INTEGER NOT NULL, fulfilled_at INTEGER
);
CREATE INDEX requests_state ON requests (state);
CREATE TABLE state_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
  from_state TEXT, to_state TEXT NOT NULL, by TEXT NOT NULL, reason TEXT
);
CREATE INDEX state_changes_id ON state_changes (kind, id);
CREATE TABLE launchers (
  name TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, version TEXT NOT NULL,
  providers TEXT NOT NULL, started_at INTEGER NOT NULL, heartbeat_at INTEGER NOT NULL
);
`,
  },
  {
    id: 2,
    name: 'nodes by pool, for the guarded insert that counts a pool',
    sql: 'CREATE INDEX nodes_pool ON nodes (provider, pool);',
  },
  {
    id: 3,
    name: 'image builds, their uploads per provider, operators\' image flags',
    sql: `
CREATE TABLE image_builds (
  id TEXT PRIMARY KEY, image TEXT NOT NULL, builder TEXT NOT NULL, state TEXT NOT NULL,
  formats TEXT NOT NULL, files TEXT NOT NULL, log_path TEXT, reason TEXT,
  lease_owner TEXT, lease_expires INTEGER, created_at INTEGER NOT NULL, state_time INTEGER NOT NULL
);
CREATE INDEX image_builds_image ON image_builds (image, state);
CREATE TABLE image_uploads (
  id TEXT PRIMARY KEY, build_id TEXT NOT NULL, image TEXT NOT NULL, provider TEXT NOT NULL, state TEXT NOT NULL,
  format TEXT NOT NULL, external_id TEXT, external_name TEXT NOT NULL, bytes INTEGER NOT NULL, size INTEGER NOT NULL,
  validation TEXT NOT NULL, validation_node TEXT, reason TEXT, lease_owner TEXT, lease_expires INTEGER,
  created_at INTEGER NOT NULL, state_time INTEGER NOT NULL
);
CREATE INDEX image_uploads_build ON image_uploads (build_id);
CREATE INDEX image_uploads_provider ON image_uploads (provider, image, state);
CREATE TABLE image_flags (
  image TEXT PRIMARY KEY, paused INTEGER NOT NULL, paused_reason TEXT, build_requested_at INTEGER,
  updated_at INTEGER NOT NULL
);
`,
  },
  {
    id: 4,
    name: "time series of the status page's plots",
    sql: `
CREATE TABLE samples (series TEXT NOT NULL, at INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY (series, at)) WITHOUT ROWID;
CREATE INDEX samples_at ON samples (at);
`,
  },
  {
    id: 5,
    name: 'when each node\'s create call answered, so only a server list sent after it judges the server',
    sql: 'ALTER TABLE nodes ADD COLUMN create_answered_at INTEGER;',
  },
  {
    id: 6,
    name: 'the gating core: queue items, events for the scheduler, autoholds, the scheduler lease',
    sql: `
CREATE TABLE gate_items (
  id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, state TEXT NOT NULL, change_number INTEGER NOT NULL,
  seq INTEGER NOT NULL, updated_at INTEGER NOT NULL, data TEXT NOT NULL
);
CREATE INDEX gate_items_state ON gate_items (state, seq);
CREATE INDEX gate_items_change ON gate_items (change_number);
CREATE TABLE gate_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, body TEXT NOT NULL, received_at INTEGER NOT NULL,
  processed_at INTEGER, outcome TEXT
);
CREATE INDEX gate_events_pending ON gate_events (processed_at, seq);
CREATE TABLE gate_autoholds (
  id TEXT PRIMARY KEY, project TEXT, job TEXT NOT NULL, change_number INTEGER, reason TEXT NOT NULL,
  count INTEGER NOT NULL, held INTEGER NOT NULL, node_expiration INTEGER, created_at INTEGER NOT NULL
);
CREATE TABLE gate_leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires INTEGER NOT NULL);
`,
  },
  {
    id: 7,
    name: 'nodes per pool kept by triggers, so the guarded insert reads one row instead of counting the pool',
    sql: `
CREATE TABLE pool_node_counts (provider TEXT NOT NULL, pool TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (provider, pool));
INSERT INTO pool_node_counts (provider, pool, n) SELECT provider, pool, COUNT(*) FROM nodes GROUP BY provider, pool;
CREATE TRIGGER pool_node_counts_insert AFTER INSERT ON nodes BEGIN
  INSERT INTO pool_node_counts (provider, pool, n) VALUES (NEW.provider, NEW.pool, 1)
    ON CONFLICT (provider, pool) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER pool_node_counts_delete AFTER DELETE ON nodes BEGIN
  UPDATE pool_node_counts SET n = n - 1 WHERE provider = OLD.provider AND pool = OLD.pool;
END;
CREATE TRIGGER pool_node_counts_move AFTER UPDATE OF provider, pool ON nodes
  WHEN NEW.provider IS NOT OLD.provider OR NEW.pool IS NOT OLD.pool BEGIN
  UPDATE pool_node_counts SET n = n - 1 WHERE provider = OLD.provider AND pool = OLD.pool;
  INSERT INTO pool_node_counts (provider, pool, n) VALUES (NEW.provider, NEW.pool, 1)
    ON CONFLICT (provider, pool) DO UPDATE SET n = n + 1;
END;
`,
  },
  {
    id: 8,
    name: "each launcher's provider states (health, quota room, pauses, leaks, cloud calls), for processes without it",
    sql: `
CREATE TABLE provider_states (
  launcher TEXT NOT NULL, provider TEXT NOT NULL, health TEXT NOT NULL, reason TEXT, since INTEGER, room TEXT,
  label_costs TEXT NOT NULL, paused_until TEXT NOT NULL, leaked TEXT NOT NULL, calls TEXT NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (launcher, provider)
) WITHOUT ROWID;
`,
  },
  {
    id: 9,
    name: "each node's Python interpreter (python-path), for the scheduler",
    sql: 'ALTER TABLE nodes ADD COLUMN python_path TEXT;',
  },
  {
    id: 10,
    name: 'the audit log keyed by record: one b-tree and no sequence row to write per state change',
    // A state change wrote three pages besides its record's: the log's last page, its (kind, id)
    // index and the AUTOINCREMENT row of sqlite_sequence. Keyed by (kind, id, seq) without a rowid,
    // it writes one, and a record's history is read in order from one range. `seq` counts per
    // record from here on (the global numbers kept by the copy still ascend within a record).
    sql: `
CREATE TABLE state_changes_by_record (
  kind TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL,
  from_state TEXT, to_state TEXT NOT NULL, by TEXT NOT NULL, reason TEXT,
  PRIMARY KEY (kind, id, seq)
) WITHOUT ROWID;
INSERT INTO state_changes_by_record (kind, id, seq, at, from_state, to_state, by, reason)
  SELECT kind, id, seq, at, from_state, to_state, by, reason FROM state_changes;
DROP TABLE state_changes;
ALTER TABLE state_changes_by_record RENAME TO state_changes;
`,
  },
];

export class SchemaTooNewError extends Error {
  constructor(readonly found: number, readonly known: number) {
    super(`the store's schema is at migration ${found}, newer than this release knows (${known}); upgrade nodepool`);
    this.name = 'SchemaTooNewError';
  }
}

/** Applies the missing migrations in one transaction each; returns the ids applied. */
export function migrate(db: Database.Database): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const row = db.prepare('SELECT MAX(id) AS id FROM schema_migrations').get() as { id: number | null };
  const current = row.id ?? 0;
  const known = MIGRATIONS[MIGRATIONS.length - 1].id;
  if (current > known) throw new SchemaTooNewError(current, known);
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.id <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(m.id, m.name, Date.now());
    })();
    applied.push(m.id);
  }
  return applied;
}
