import { sqliteTable, text, integer, index } from 'drizzle-orm/sqlite-core';
import type { ImageFile } from '../../model.ts';

/**
 * Drizzle definitions of the disk-image tables (builds, uploads, operators' flags); the DDL that
 * creates them is migration 3 in ./migrations.ts. These tables are cold (a few writes a minute),
 * so they go through drizzle's query builder, unlike the nodes and requests of the hot path.
 */

export const imageBuilds = sqliteTable('image_builds', {
  id: text('id').primaryKey(),
  image: text('image').notNull(),
  builder: text('builder').notNull(),
  state: text('state').notNull(),
  formats: text('formats', { mode: 'json' }).$type<string[]>().notNull(),
  files: text('files', { mode: 'json' }).$type<ImageFile[]>().notNull(),
  logPath: text('log_path'),
  reason: text('reason'),
  leaseOwner: text('lease_owner'),
  leaseExpires: integer('lease_expires'),
  createdAt: integer('created_at').notNull(),
  stateTime: integer('state_time').notNull(),
}, (t) => [index('image_builds_image').on(t.image, t.state)]);

export const imageUploads = sqliteTable('image_uploads', {
  id: text('id').primaryKey(),
  buildId: text('build_id').notNull(),
  image: text('image').notNull(),
  provider: text('provider').notNull(),
  state: text('state').notNull(),
  format: text('format').notNull(),
  externalId: text('external_id'),
  externalName: text('external_name').notNull(),
  bytes: integer('bytes').notNull(),
  size: integer('size').notNull(),
  validation: text('validation').notNull(),
  validationNode: text('validation_node'),
  reason: text('reason'),
  leaseOwner: text('lease_owner'),
  leaseExpires: integer('lease_expires'),
  createdAt: integer('created_at').notNull(),
  stateTime: integer('state_time').notNull(),
}, (t) => [index('image_uploads_build').on(t.buildId), index('image_uploads_provider').on(t.provider, t.image, t.state)]);

export const imageFlags = sqliteTable('image_flags', {
  image: text('image').primaryKey(),
  paused: integer('paused', { mode: 'boolean' }).notNull(),
  pausedReason: text('paused_reason'),
  buildRequestedAt: integer('build_requested_at'),
  updatedAt: integer('updated_at').notNull(),
});

