import type { StoreConfig } from '../config/types.ts';
import type { Store } from './store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

export type { Store } from './store.ts';

export interface OpenStoreOptions {
  now?: () => number;
  /** PostgreSQL: hear other processes' changes from the start (roles that react to them). */
  listen?: boolean;
  /** PostgreSQL: migrate as a starting process may (default), or not at all. */
  migrate?: 'start' | 'none';
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  env?: NodeJS.ProcessEnv;
}

/** The PostgreSQL URL of a store configuration: `store.url`, else DATABASE_URL. */
export function postgresUrl(cfg: StoreConfig, env: NodeJS.ProcessEnv = process.env): string {
  const url = cfg.url ?? env.DATABASE_URL;
  if (!url) throw new Error('store.driver is postgres but neither store.url nor DATABASE_URL is set');
  return url;
}

/** Opens the store the configuration names (PostgreSQL's code is loaded only when used). */
export async function openStore(cfg: StoreConfig, opts: OpenStoreOptions = {}): Promise<Store> {
  switch (cfg.driver) {
    case 'sqlite':
      return new SqliteStore(cfg.path, opts);
    case 'postgres': {
      const { PgStore } = await import('./postgres/pg-store.ts');
      return PgStore.open({
        url: postgresUrl(cfg, opts.env), max: cfg.poolSize, now: opts.now, listen: opts.listen,
        migrate: opts.migrate, applicationName: opts.applicationName,
      });
    }
  }
}
