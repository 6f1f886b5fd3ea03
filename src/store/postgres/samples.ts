import type pg from 'pg';
import type { Sample } from '../store.ts';

/** The status page's time series in PostgreSQL (table `samples`, migration 3): one statement per call. */
export class PgSamples {
  constructor(private readonly pool: pg.Pool, private readonly counted: () => void) {}

  async append(at: number, values: Readonly<Record<string, number>>): Promise<void> {
    const entries = Object.entries(values);
    if (!entries.length) return;
    this.counted();
    await this.pool.query(
      `INSERT INTO samples (series, at, value) SELECT s, $2::bigint, v FROM unnest($1::text[], $3::float8[]) AS t(s, v)
       ON CONFLICT (series, at) DO UPDATE SET value = EXCLUDED.value`,
      [entries.map(([s]) => s), at, entries.map(([, v]) => v)],
    );
  }

  async list(since: number): Promise<Sample[]> {
    this.counted();
    const r = await this.pool.query<{ series: string; at: string; value: number }>(
      'SELECT series, at, value FROM samples WHERE at >= $1 ORDER BY at, series', [since]);
    // bigint arrives as text: pg does not guess that it fits a JavaScript number (ms times do).
    return r.rows.map((row) => ({ series: row.series, at: Number(row.at), value: row.value }));
  }

  async pruneBefore(before: number): Promise<number> {
    this.counted();
    return (await this.pool.query('DELETE FROM samples WHERE at < $1', [before])).rowCount ?? 0;
  }
}
