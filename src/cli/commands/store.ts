import { write, type GlobalOptions } from '../context.ts';
import type { LauncherRecord } from '../../store/store.ts';

/** `nodepool migrate`: brings the store's schema up to date, breaking migrations included. */
export async function migrateStore(g: GlobalOptions): Promise<void> {
  const { loadConfig } = await import('../../config/load.ts');
  const config = loadConfig(g.config);
  if (config.store.driver === 'sqlite') {
    // SQLite has one process: it migrates whenever it opens the file.
    const { SqliteStore } = await import('../../store/sqlite/sqlite-store.ts');
    await new SqliteStore(config.store.path).close();
    write(`nodepool: ${config.store.path} is up to date`);
    return;
  }
  const { postgresUrl } = await import('../../store/index.ts');
  const { createPool } = await import('../../store/postgres/connect.ts');
  const { migrate } = await import('../../store/postgres/migrations.ts');
  const pool = createPool({ url: postgresUrl(config.store), max: 1, applicationName: 'nodepool-migrate' });
  try {
    const applied = await migrate(pool, { mode: 'all' });
    write(applied.length ? `nodepool: applied migration${applied.length > 1 ? 's' : ''} ${applied.join(', ')}` : 'nodepool: the schema is up to date');
  } finally {
    await pool.end();
  }
}

/** A launcher whose heartbeat is older than this is shown as `stale` (three missed heartbeats at the default 30 s lease). */
const STALE_MS = 30_000;

/** `nodepool launcher list`: the registered launchers, from the store. */
export async function listLaunchers(g: GlobalOptions, o: { json?: boolean }): Promise<void> {
  const { loadConfig } = await import('../../config/load.ts');
  const { openStore } = await import('../../store/index.ts');
  const config = loadConfig(g.config);
  const store = await openStore(config.store, { migrate: 'none', applicationName: 'nodepool-cli' });
  let rows: LauncherRecord[];
  try {
    rows = await store.listLaunchers();
  } finally {
    await store.close();
  }
  const now = Date.now();
  const state = (r: LauncherRecord) => (now - r.heartbeatAt > STALE_MS ? 'stale' : 'up');
  if (o.json) {
    write(JSON.stringify(rows.map((r) => ({
      name: r.name, host: r.host, pid: r.pid, version: r.version, providers: r.providers, state: state(r),
      started_at: r.startedAt, heartbeat_at: r.heartbeatAt, heartbeat_age: Math.round((now - r.heartbeatAt) / 1000),
    })), null, 2));
    return;
  }
  const table = [['Name', 'Host', 'PID', 'Version', 'Providers', 'State', 'Heartbeat'],
    ...rows.map((r) => [r.name, r.host, String(r.pid), r.version, r.providers.join(',') || '-', state(r), `${Math.round((now - r.heartbeatAt) / 1000)}s ago`])];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  write(table.map((row) => row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n'));
}
