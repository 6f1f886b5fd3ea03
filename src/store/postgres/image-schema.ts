import { pgTable, text, bigint, boolean, jsonb } from 'drizzle-orm/pg-core';
import type { ImageFile } from '../../model.ts';

/**
 * drizzle's view of the disk-image tables (builds, uploads, operators' flags); the DDL is
 * migration 2 in ./migrations.ts. Cold tables (a few writes a minute): drizzle's query builder.
 */

export const imageBuilds = pgTable('image_builds', {
  id: text('id').primaryKey(),
  image: text('image').notNull(),
  builder: text('builder').notNull(),
  state: text('state').notNull(),
  formats: jsonb('formats').$type<string[]>().notNull(),
  files: jsonb('files').$type<ImageFile[]>().notNull(),
  logPath: text('log_path'),
  reason: text('reason'),
  leaseOwner: text('lease_owner'),
  leaseExpires: bigint('lease_expires', { mode: 'number' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  stateTime: bigint('state_time', { mode: 'number' }).notNull(),
});

export const imageUploads = pgTable('image_uploads', {
  id: text('id').primaryKey(),
  buildId: text('build_id').notNull(),
  image: text('image').notNull(),
  provider: text('provider').notNull(),
  state: text('state').notNull(),
  format: text('format').notNull(),
  externalId: text('external_id'),
  externalName: text('external_name').notNull(),
  bytes: bigint('bytes', { mode: 'number' }).notNull(),
  size: bigint('size', { mode: 'number' }).notNull(),
  validation: text('validation').notNull(),
  validationNode: text('validation_node'),
  reason: text('reason'),
  leaseOwner: text('lease_owner'),
  leaseExpires: bigint('lease_expires', { mode: 'number' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  stateTime: bigint('state_time', { mode: 'number' }).notNull(),
});

export const imageFlags = pgTable('image_flags', {
  image: text('image').primaryKey(),
  paused: boolean('paused').notNull(),
  pausedReason: text('paused_reason'),
  buildRequestedAt: bigint('build_requested_at', { mode: 'number' }),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
});
