import { pgTable, text, integer, bigint, bigserial, jsonb } from 'drizzle-orm/pg-core';

/**
 * drizzle's view of the tables read off the hot path (the audit log and the launcher registry);
 * the DDL is in ./migrations.ts, and nodes and requests go through the SQL of ./rows.ts.
 */

export const stateChanges = pgTable('state_changes', {
  seq: bigserial('seq', { mode: 'number' }).primaryKey(),
  at: bigint('at', { mode: 'number' }).notNull(),
  kind: text('kind').notNull(),
  id: text('id').notNull(),
  from: text('from_state'),
  to: text('to_state').notNull(),
  by: text('by').notNull(),
  reason: text('reason'),
});

export const launchers = pgTable('launchers', {
  name: text('name').primaryKey(),
  host: text('host').notNull(),
  pid: integer('pid').notNull(),
  version: text('version').notNull(),
  providers: jsonb('providers').$type<string[]>().notNull(),
  startedAt: bigint('started_at', { mode: 'number' }).notNull(),
  heartbeatAt: bigint('heartbeat_at', { mode: 'number' }).notNull(),
});
