import type { StoreConfig } from '../config/types.ts';
import type { Store } from './store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

export type { Store } from './store.ts';

/** Opens the store the configuration names. */
export function openStore(cfg: StoreConfig, opts: { now?: () => number } = {}): Store {
  switch (cfg.driver) {
    case 'sqlite':
      return new SqliteStore(cfg.path, opts);
  }
}
