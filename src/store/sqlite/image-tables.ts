import type Database from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { and, desc, eq, inArray, isNull, lt, or, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type {
  BuildRecord, BuildState, ImageFlags, UploadRecord, UploadState, ValidationState,
} from '../../model.ts';
import type {
  BuildFilter, BuildPatch, ImageFlagsPatch, StoreCondition, StoreEvent, UploadFilter, UploadPatch,
} from '../store.ts';
import { imageBuilds, imageFlags, imageUploads } from './image-schema.ts';

/** What the image tables borrow from the store they belong to. */
export interface ImageTablesHost {
  audit(kind: 'build' | 'upload', id: string, from: string | null, to: string, by: string, reason?: string | null): void;
  publish(e: StoreEvent): void;
  now(): number;
}

type LeaseColumns = { id: SQLiteColumn; state: SQLiteColumn; leaseOwner: SQLiteColumn; leaseExpires: SQLiteColumn };

/** The WHERE of a conditional write on a build or an upload. */
function condition(t: LeaseColumns, id: string, cond: StoreCondition<string> | undefined): SQL {
  const parts: SQL[] = [eq(t.id, id)];
  if (cond?.states) parts.push(inArray(t.state, [...cond.states]));
  if (cond?.leaseFreeOr) {
    parts.push(or(isNull(t.leaseOwner), eq(t.leaseOwner, cond.leaseFreeOr.owner), lt(t.leaseExpires, cond.leaseFreeOr.now))!);
  }
  return and(...parts)!;
}

function buildOf(r: typeof imageBuilds.$inferSelect): BuildRecord {
  return { ...r, state: r.state as BuildState };
}

function uploadOf(r: typeof imageUploads.$inferSelect): UploadRecord {
  return { ...r, state: r.state as UploadState, validation: r.validation as ValidationState };
}

/**
 * Image builds, uploads and flags in SQLite. Each write runs in one transaction with its audit
 * row and is published to the store's listeners after commit, like nodes and requests.
 */
export class SqliteImageTables {
  constructor(
    private readonly sqlite: Database.Database,
    private readonly db: BetterSQLite3Database,
    private readonly host: ImageTablesHost,
  ) {}

  insertBuild(b: BuildRecord, by: string): void {
    this.sqlite.transaction(() => {
      this.db.insert(imageBuilds).values(b).run();
      this.host.audit('build', b.id, null, b.state, by, b.reason);
    })();
    this.host.publish({ kind: 'build', id: b.id, state: b.state });
  }

  getBuild(id: string): BuildRecord | null {
    const row = this.db.select().from(imageBuilds).where(eq(imageBuilds.id, id)).get();
    return row ? buildOf(row) : null;
  }

  listBuilds(f: BuildFilter = {}): BuildRecord[] {
    const where: SQL[] = [];
    if (f.image) where.push(eq(imageBuilds.image, f.image));
    if (f.states) where.push(inArray(imageBuilds.state, [...f.states]));
    if (f.builder) where.push(eq(imageBuilds.builder, f.builder));
    return this.db.select().from(imageBuilds).where(and(...where))
      .orderBy(desc(imageBuilds.createdAt), desc(imageBuilds.id)).all().map(buildOf);
  }

  updateBuild(id: string, patch: BuildPatch, by: string, cond?: StoreCondition<BuildState>, reason?: string): boolean {
    return this.update('build', id, patch, by, cond, reason);
  }

  removeBuild(id: string, by: string, cond?: StoreCondition<BuildState>): boolean {
    return this.remove('build', id, by, cond);
  }

  insertUpload(u: UploadRecord, by: string): void {
    this.sqlite.transaction(() => {
      this.db.insert(imageUploads).values(u).run();
      this.host.audit('upload', u.id, null, u.state, by, u.reason);
    })();
    this.host.publish({ kind: 'upload', id: u.id, state: u.state });
  }

  getUpload(id: string): UploadRecord | null {
    const row = this.db.select().from(imageUploads).where(eq(imageUploads.id, id)).get();
    return row ? uploadOf(row) : null;
  }

  listUploads(f: UploadFilter = {}): UploadRecord[] {
    const where: SQL[] = [];
    if (f.image) where.push(eq(imageUploads.image, f.image));
    if (f.provider) where.push(eq(imageUploads.provider, f.provider));
    if (f.buildId) where.push(eq(imageUploads.buildId, f.buildId));
    if (f.states) where.push(inArray(imageUploads.state, [...f.states]));
    return this.db.select().from(imageUploads).where(and(...where))
      .orderBy(desc(imageUploads.createdAt), desc(imageUploads.id)).all().map(uploadOf);
  }

  updateUpload(id: string, patch: UploadPatch, by: string, cond?: StoreCondition<UploadState>, reason?: string): boolean {
    return this.update('upload', id, patch, by, cond, reason);
  }

  removeUpload(id: string, by: string, cond?: StoreCondition<UploadState>): boolean {
    return this.remove('upload', id, by, cond);
  }

  listImageFlags(): ImageFlags[] {
    return this.db.select().from(imageFlags).orderBy(imageFlags.image).all();
  }

  setImageFlags(image: string, patch: ImageFlagsPatch, _by: string): ImageFlags {
    const row = this.sqlite.transaction(() => {
      const now = this.host.now();
      const set = { ...stripUndefined(patch), updatedAt: now };
      this.db.insert(imageFlags)
        .values({ image, paused: false, pausedReason: null, buildRequestedAt: null, ...set })
        .onConflictDoUpdate({ target: imageFlags.image, set }).run();
      return this.db.select().from(imageFlags).where(eq(imageFlags.image, image)).get()!;
    })();
    this.host.publish({ kind: 'image', id: image, state: row.paused ? 'paused' : '' });
    return row;
  }

  private table(kind: 'build' | 'upload') {
    return kind === 'build' ? imageBuilds : imageUploads;
  }

  private update(kind: 'build' | 'upload', id: string, patch: BuildPatch | UploadPatch, by: string, cond: StoreCondition<string> | undefined, reason: string | undefined): boolean {
    const t = this.table(kind);
    const set = stripUndefined(patch as Record<string, unknown>);
    delete set.id;
    let from: string | undefined;
    const ok = this.sqlite.transaction(() => {
      if (patch.state) from = this.db.select({ state: t.state }).from(t).where(eq(t.id, id)).get()?.state;
      if (Object.keys(set).length === 0) return this.db.select({ id: t.id }).from(t).where(condition(t, id, cond)).get() !== undefined;
      if (this.db.update(t).set(set).where(condition(t, id, cond)).run().changes === 0) return false;
      if (patch.state && from !== undefined && from !== patch.state) this.host.audit(kind, id, from, patch.state, by, reason ?? patch.reason);
      return true;
    })();
    if (ok) this.host.publish({ kind, id, state: patch.state ?? '' });
    return ok;
  }

  private remove(kind: 'build' | 'upload', id: string, by: string, cond: StoreCondition<string> | undefined): boolean {
    const t = this.table(kind);
    const ok = this.sqlite.transaction(() => {
      const before = this.db.select({ state: t.state }).from(t).where(eq(t.id, id)).get();
      if (this.db.delete(t).where(condition(t, id, cond)).run().changes === 0) return false;
      this.host.audit(kind, id, before?.state ?? null, 'gone', by);
      return true;
    })();
    if (ok) this.host.publish({ kind, id, state: 'gone' });
    return ok;
  }
}

function stripUndefined<T extends Record<string, unknown>>(o: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
