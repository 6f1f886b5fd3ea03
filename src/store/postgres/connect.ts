import pg from 'pg';

/**
 * Type parsers: `bigint` columns hold milliseconds since the epoch, which fit a JavaScript number
 * exactly (2^53 ms is 285,000 years), so they are read as numbers rather than pg's default strings.
 * Kept per pool (not pg's global registry) so other users of pg in the process are unaffected.
 */
const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export interface ConnectOptions {
  url: string;
  /** Most connections in the pool. */
  max?: number;
  /** Shown in pg_stat_activity, so an operator (or a test) can tell the processes apart. */
  applicationName?: string;
}

export function createPool(o: ConnectOptions): pg.Pool {
  return new pg.Pool({ connectionString: o.url, max: o.max ?? 10, application_name: o.applicationName ?? 'nodepool', types });
}

export function createClient(o: ConnectOptions): pg.Client {
  return new pg.Client({ connectionString: o.url, application_name: o.applicationName ?? 'nodepool', types });
}

/** The URL of another database on the same server (for tests and the template they clone). */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
