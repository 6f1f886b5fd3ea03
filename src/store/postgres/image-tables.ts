import { and, desc, eq, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { BuildRecord, BuildState, ImageFlags, UploadRecord, UploadState, ValidationState } from '../../model.ts';
import type { BuildFilter, BuildPatch, ImageFlagsPatch, StoreCondition, StoreEvent, UploadFilter, UploadPatch } from '../store.ts';
import { imageBuilds, imageFlags, imageUploads } from './image-schema.ts';
import { CHANNEL } from './rows.ts';

/** What the image tables borrow from the store they belong to. */
export interface PgImageTablesHost {
  publish(e: StoreEvent): void;
  now(): number;
  origin: string;
  counted(): void;
}

type Tx = Parameters<Parameters<NodePgDatabase['transaction']>[0]>[0];
type LeaseColumns = { id: PgColumn; state: PgColumn; leaseOwner: PgColumn; leaseExpires: PgColumn };

function condition(t: LeaseColumns, id: string, cond: StoreCondition<string> | undefined): SQL {
  const parts: SQL[] = [eq(t.id, id)];
  if (cond?.states) parts.push(inArray(t.state, [...cond.states]));
  if (cond?.leaseFreeOr) {
    parts.push(or(isNull(t.leaseOwner), eq(t.leaseOwner, cond.leaseFreeOr.owner), lt(t.leaseExpires, cond.leaseFreeOr.now))!);
  }
  return and(...parts)!;
}

const buildOf = (r: typeof imageBuilds.$inferSelect): BuildRecord => ({ ...r, state: r.state as BuildState });
const uploadOf = (r: typeof imageUploads.$inferSelect): UploadRecord => ({ ...r, state: r.state as UploadState, validation: r.validation as ValidationState });

function stripUndefined<T extends Record<string, unknown>>(o: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * Image builds, uploads and flags in PostgreSQL: each write one transaction with its audit row and
 * its NOTIFY, published to this process's listeners after commit, like nodes and requests.
 */
export class PgImageTables {
  constructor(private readonly db: NodePgDatabase, private readonly host: PgImageTablesHost) {}

  private async audit(tx: Tx, kind: 'build' | 'upload', id: string, from: string | null, to: string, by: string, reason?: string | null): Promise<void> {
    await tx.execute(sql`INSERT INTO state_changes (at, kind, id, from_state, to_state, "by", reason) VALUES (${this.host.now()}, ${kind}, ${id}, ${from}, ${to}, ${by}, ${reason ?? null})`);
  }

  private async announce(tx: Tx, e: StoreEvent): Promise<void> {
    const payload = JSON.stringify({ ...e, origin: this.host.origin });
    await tx.execute(sql`SELECT pg_notify(${CHANNEL}, ${payload})`);
  }

  private async write<T>(e: (result: T) => StoreEvent | null, fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.host.counted();
    const result = await this.db.transaction(async (tx) => {
      const r = await fn(tx);
      const ev = e(r);
      if (ev) await this.announce(tx, ev);
      return r;
    });
    const ev = e(result);
    if (ev) this.host.publish(ev);
    return result;
  }

  async insertBuild(b: BuildRecord, by: string): Promise<void> {
    await this.write(() => ({ kind: 'build', id: b.id, state: b.state }), async (tx) => {
      await tx.insert(imageBuilds).values(b);
      await this.audit(tx, 'build', b.id, null, b.state, by, b.reason);
    });
  }

  async getBuild(id: string): Promise<BuildRecord | null> {
    this.host.counted();
    const [row] = await this.db.select().from(imageBuilds).where(eq(imageBuilds.id, id));
    return row ? buildOf(row) : null;
  }

  async listBuilds(f: BuildFilter = {}): Promise<BuildRecord[]> {
    this.host.counted();
    const where: SQL[] = [];
    if (f.image) where.push(eq(imageBuilds.image, f.image));
    if (f.states) where.push(inArray(imageBuilds.state, [...f.states]));
    if (f.builder) where.push(eq(imageBuilds.builder, f.builder));
    return (await this.db.select().from(imageBuilds).where(and(...where)).orderBy(desc(imageBuilds.createdAt), desc(imageBuilds.id))).map(buildOf);
  }

  updateBuild(id: string, patch: BuildPatch, by: string, cond?: StoreCondition<BuildState>, reason?: string): Promise<boolean> {
    return this.update('build', id, patch, by, cond, reason);
  }

  removeBuild(id: string, by: string, cond?: StoreCondition<BuildState>): Promise<boolean> {
    return this.remove('build', id, by, cond);
  }

  async insertUpload(u: UploadRecord, by: string): Promise<void> {
    await this.write(() => ({ kind: 'upload', id: u.id, state: u.state }), async (tx) => {
      await tx.insert(imageUploads).values(u);
      await this.audit(tx, 'upload', u.id, null, u.state, by, u.reason);
    });
  }

  async getUpload(id: string): Promise<UploadRecord | null> {
    this.host.counted();
    const [row] = await this.db.select().from(imageUploads).where(eq(imageUploads.id, id));
    return row ? uploadOf(row) : null;
  }

  async listUploads(f: UploadFilter = {}): Promise<UploadRecord[]> {
    this.host.counted();
    const where: SQL[] = [];
    if (f.image) where.push(eq(imageUploads.image, f.image));
    if (f.provider) where.push(eq(imageUploads.provider, f.provider));
    if (f.buildId) where.push(eq(imageUploads.buildId, f.buildId));
    if (f.states) where.push(inArray(imageUploads.state, [...f.states]));
    return (await this.db.select().from(imageUploads).where(and(...where)).orderBy(desc(imageUploads.createdAt), desc(imageUploads.id))).map(uploadOf);
  }

  updateUpload(id: string, patch: UploadPatch, by: string, cond?: StoreCondition<UploadState>, reason?: string): Promise<boolean> {
    return this.update('upload', id, patch, by, cond, reason);
  }

  removeUpload(id: string, by: string, cond?: StoreCondition<UploadState>): Promise<boolean> {
    return this.remove('upload', id, by, cond);
  }

  async listImageFlags(): Promise<ImageFlags[]> {
    this.host.counted();
    return this.db.select().from(imageFlags).orderBy(imageFlags.image);
  }

  async setImageFlags(image: string, patch: ImageFlagsPatch, _by: string): Promise<ImageFlags> {
    return this.write((row: ImageFlags) => ({ kind: 'image', id: image, state: row.paused ? 'paused' : '' }), async (tx) => {
      const set = { ...stripUndefined(patch), updatedAt: this.host.now() };
      const [row] = await tx.insert(imageFlags)
        .values({ image, paused: false, pausedReason: null, buildRequestedAt: null, ...set })
        .onConflictDoUpdate({ target: imageFlags.image, set }).returning();
      return row;
    });
  }

  private table(kind: 'build' | 'upload') {
    return kind === 'build' ? imageBuilds : imageUploads;
  }

  private async update(kind: 'build' | 'upload', id: string, patch: BuildPatch | UploadPatch, by: string, cond: StoreCondition<string> | undefined, reason: string | undefined): Promise<boolean> {
    const t = this.table(kind);
    const set = stripUndefined(patch as Record<string, unknown>);
    delete set.id;
    return this.write((ok: boolean) => (ok ? { kind, id, state: patch.state ?? '' } : null), async (tx) => {
      // Locked first, so the audit's from-state is the one this update replaces.
      const [before] = await tx.select({ state: t.state }).from(t).where(eq(t.id, id)).for('update');
      if (Object.keys(set).length === 0) return (await tx.select({ id: t.id }).from(t).where(condition(t, id, cond))).length > 0;
      const changed = await tx.update(t).set(set).where(condition(t, id, cond)).returning({ id: t.id });
      if (!changed.length) return false;
      if (patch.state && before && before.state !== patch.state) await this.audit(tx, kind, id, before.state, patch.state, by, reason ?? patch.reason);
      return true;
    });
  }

  private async remove(kind: 'build' | 'upload', id: string, by: string, cond: StoreCondition<string> | undefined): Promise<boolean> {
    const t = this.table(kind);
    return this.write((ok: boolean) => (ok ? { kind, id, state: 'gone' } : null), async (tx) => {
      const gone = await tx.delete(t).where(condition(t, id, cond)).returning({ state: t.state });
      if (!gone.length) return false;
      await this.audit(tx, kind, id, gone[0].state, 'gone', by);
      return true;
    });
  }
}
