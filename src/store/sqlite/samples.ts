import type Database from 'better-sqlite3';
import type { Sample } from '../store.ts';

/** The status page's time series in SQLite: one row per series and time (table `samples`, migration 4). */
export class SqliteSamples {
  private readonly insert: Database.Statement;
  private readonly select: Database.Statement;
  private readonly prune: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare('INSERT OR REPLACE INTO samples (series, at, value) VALUES (?, ?, ?)');
    this.select = db.prepare('SELECT series, at, value FROM samples WHERE at >= ? ORDER BY at, series');
    this.prune = db.prepare('DELETE FROM samples WHERE at < ?');
  }

  append(at: number, values: Readonly<Record<string, number>>): void {
    this.db.transaction(() => {
      for (const [series, value] of Object.entries(values)) this.insert.run(series, at, value);
    })();
  }

  list(since: number): Sample[] {
    return this.select.all(since) as Sample[];
  }

  pruneBefore(before: number): number {
    return this.prune.run(before).changes;
  }
}
