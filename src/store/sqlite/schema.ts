import { sqliteTable, text, integer, index, primaryKey } from 'drizzle-orm/sqlite-core';

/** Table definitions for drizzle; the DDL that creates them is in ./migrations.ts. */

export const nodes = sqliteTable('nodes', {
  id: text('id').primaryKey(),
  label: text('label').notNull(),
  provider: text('provider').notNull(),
  pool: text('pool').notNull(),
  state: text('state').notNull(),
  step: text('step'),
  serverId: text('server_id'),
  hostname: text('hostname').notNull(),
  interfaceIp: text('interface_ip'),
  publicIpv4: text('public_ipv4'),
  privateIpv4: text('private_ipv4'),
  publicIpv6: text('public_ipv6'),
  az: text('az'),
  connectionPort: integer('connection_port').notNull(),
  username: text('username').notNull(),
  hostKeys: text('host_keys').notNull(),
  allocatedTo: text('allocated_to'),
  attempt: integer('attempt').notNull(),
  leaseOwner: text('lease_owner'),
  leaseExpires: integer('lease_expires'),
  holdReason: text('hold_reason'),
  holdExpires: integer('hold_expires'),
  comment: text('comment'),
  createdAt: integer('created_at').notNull(),
  stateTime: integer('state_time').notNull(),
  launchStartedAt: integer('launch_started_at'),
  createAnsweredAt: integer('create_answered_at'),
  pythonPath: text('python_path'),
}, (t) => [index('nodes_state').on(t.state), index('nodes_allocated_to').on(t.allocatedTo)]);

export const requests = sqliteTable('requests', {
  id: text('id').primaryKey(),
  state: text('state').notNull(),
  labels: text('labels').notNull(),
  requestor: text('requestor').notNull(),
  priority: integer('priority').notNull(),
  tenant: text('tenant'),
  provider: text('provider'),
  pool: text('pool'),
  nodes: text('nodes').notNull(),
  reason: text('reason'),
  leaseOwner: text('lease_owner'),
  leaseExpires: integer('lease_expires'),
  holderExpires: integer('holder_expires'),
  createdAt: integer('created_at').notNull(),
  stateTime: integer('state_time').notNull(),
  fulfilledAt: integer('fulfilled_at'),
}, (t) => [index('requests_state').on(t.state)]);

export const stateChanges = sqliteTable('state_changes', {
  /** Order of the record's changes (migration 10: per record, no rowid). */
  seq: integer('seq').notNull(),
  at: integer('at').notNull(),
  kind: text('kind').notNull(),
  id: text('id').notNull(),
  from: text('from_state'),
  to: text('to_state').notNull(),
  by: text('by').notNull(),
  reason: text('reason'),
}, (t) => [primaryKey({ columns: [t.kind, t.id, t.seq] })]);

export const launchers = sqliteTable('launchers', {
  name: text('name').primaryKey(),
  host: text('host').notNull(),
  pid: integer('pid').notNull(),
  version: text('version').notNull(),
  providers: text('providers').notNull(),
  startedAt: integer('started_at').notNull(),
  heartbeatAt: integer('heartbeat_at').notNull(),
});
