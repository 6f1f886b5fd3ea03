import type pg from 'pg';
import type { ProviderStateRecord } from '../store.ts';
import { roomFromJson, roomToJson } from '../provider-state-json.ts';

interface PgProviderState {
  launcher: string; provider: string; health: string; reason: string | null; since: string | null; room: unknown;
  label_costs: ProviderStateRecord['labelCosts']; paused_until: ProviderStateRecord['pausedUntil'];
  leaked: ProviderStateRecord['leaked']; calls: ProviderStateRecord['calls']; updated_at: string;
}

/**
 * Launchers' published provider states in PostgreSQL (table `provider_states`, migration 6). A
 * publish is one statement, so one round trip and its own transaction: the launcher's rows of
 * providers it no longer lists are deleted and the others upserted from one jsonb array.
 */
const PUBLISH = `WITH incoming AS (
  SELECT * FROM jsonb_to_recordset($2::jsonb) AS t(provider text, health text, reason text, since bigint, room jsonb,
    label_costs jsonb, paused_until jsonb, leaked jsonb, calls jsonb, updated_at bigint)
), gone AS (
  DELETE FROM provider_states WHERE launcher = $1 AND provider NOT IN (SELECT provider FROM incoming)
)
INSERT INTO provider_states (launcher, provider, health, reason, since, room, label_costs, paused_until, leaked, calls, updated_at)
SELECT $1, provider, health, reason, since, room, label_costs, paused_until, leaked, calls, updated_at FROM incoming
ON CONFLICT (launcher, provider) DO UPDATE SET health = EXCLUDED.health, reason = EXCLUDED.reason, since = EXCLUDED.since,
  room = EXCLUDED.room, label_costs = EXCLUDED.label_costs, paused_until = EXCLUDED.paused_until, leaked = EXCLUDED.leaked,
  calls = EXCLUDED.calls, updated_at = EXCLUDED.updated_at`;

export class PgProviderStates {
  constructor(private readonly pool: pg.Pool, private readonly counted: () => void) {}

  async publish(launcher: string, rows: readonly Omit<ProviderStateRecord, 'launcher'>[]): Promise<void> {
    const incoming = rows.map((r) => ({
      provider: r.provider, health: r.health, reason: r.reason, since: r.since, room: r.room === null ? null : JSON.parse(roomToJson(r.room)!),
      label_costs: r.labelCosts, paused_until: r.pausedUntil, leaked: r.leaked, calls: r.calls, updated_at: r.updatedAt,
    }));
    this.counted();
    await this.pool.query({ name: 'np-publish-provider-states', text: PUBLISH, values: [launcher, JSON.stringify(incoming)] });
  }

  async list(): Promise<ProviderStateRecord[]> {
    this.counted();
    const r = await this.pool.query<PgProviderState>('SELECT * FROM provider_states ORDER BY launcher, provider');
    // bigint arrives as text: pg does not guess that it fits a JavaScript number (ms times do).
    return r.rows.map((row) => ({
      launcher: row.launcher, provider: row.provider, health: row.health, reason: row.reason,
      since: row.since === null ? null : Number(row.since), room: roomFromJson(row.room), labelCosts: row.label_costs,
      pausedUntil: row.paused_until, leaked: row.leaked, calls: row.calls, updatedAt: Number(row.updated_at),
    }));
  }
}
