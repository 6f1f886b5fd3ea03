import type Database from 'better-sqlite3';
import type { ProviderStateRecord } from '../store.ts';
import { roomFromJson, roomToJson } from '../provider-state-json.ts';

interface RawProviderState {
  launcher: string; provider: string; health: string; reason: string | null; since: number | null; room: string | null;
  label_costs: string; paused_until: string; leaked: string; calls: string; updated_at: number;
}

/** Launchers' published provider states in SQLite (table `provider_states`, migration 8). */
export class SqliteProviderStates {
  private readonly clear: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly select: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.clear = db.prepare('DELETE FROM provider_states WHERE launcher = ?');
    this.insert = db.prepare(`INSERT INTO provider_states
      (launcher, provider, health, reason, since, room, label_costs, paused_until, leaked, calls, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.select = db.prepare('SELECT * FROM provider_states ORDER BY launcher, provider');
  }

  publish(launcher: string, rows: readonly Omit<ProviderStateRecord, 'launcher'>[]): void {
    this.db.transaction(() => {
      this.clear.run(launcher);
      for (const r of rows) {
        this.insert.run(launcher, r.provider, r.health, r.reason, r.since, roomToJson(r.room), JSON.stringify(r.labelCosts),
          JSON.stringify(r.pausedUntil), JSON.stringify(r.leaked), JSON.stringify(r.calls), r.updatedAt);
      }
    })();
  }

  list(): ProviderStateRecord[] {
    return (this.select.all() as RawProviderState[]).map((r) => ({
      launcher: r.launcher, provider: r.provider, health: r.health, reason: r.reason, since: r.since, room: roomFromJson(r.room),
      labelCosts: JSON.parse(r.label_costs), pausedUntil: JSON.parse(r.paused_until), leaked: JSON.parse(r.leaked),
      calls: JSON.parse(r.calls), updatedAt: r.updated_at,
    }));
  }
}
