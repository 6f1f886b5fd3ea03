import type { NodeRecord } from '../../model.ts';

/**
 * Every node of the SQLite file as last read, kept up to date with this connection's own node
 * writes: a write names its row (`touch`), and the next `read` re-reads only the rows named since.
 * Another connection's commit (another process on the same file) moves `PRAGMA data_version`,
 * and then everything is read again. Reading 10,000 rows costs 40-70 ms here; re-reading the few
 * a second of a busy fleet changes, well under one.
 *
 * The records are shared with every reader (../node-reads.ts): they must not be changed.
 */
export class FleetCopy {
  private copy: { version: number; byId: Map<string, NodeRecord>; newest: NodeRecord | null; sorted: boolean } | null = null;
  private touched = new Set<string>();
  private list: readonly NodeRecord[] | null = null;

  constructor(private readonly source: {
    /** `PRAGMA data_version`: moves with every commit of another connection. */
    version: () => number;
    /** Every node, oldest first. */
    all: () => NodeRecord[];
    /** The nodes of these ids that exist. */
    some: (ids: string[]) => NodeRecord[];
  }) {}

  /** A node this connection wrote (inserted, changed or removed). */
  touch(id: string): void {
    if (!this.copy) return;
    this.touched.add(id);
    this.list = null;
    // Nobody has read for a long while: reading everything again costs less than keeping count.
    if (this.touched.size > Math.max(MAX_TOUCHED, this.copy.byId.size)) this.drop();
  }

  /** Forgets the copy: the next read reads everything. */
  drop(): void {
    this.copy = null;
    this.touched = new Set();
    this.list = null;
  }

  /** Every node, oldest first (created, then id, as the store lists them). */
  read(): readonly NodeRecord[] {
    const version = this.source.version();
    if (!this.copy || this.copy.version !== version) {
      const all = this.source.all();
      this.copy = { version, byId: new Map(all.map((n) => [n.id, n])), newest: all.at(-1) ?? null, sorted: true };
      this.touched = new Set();
      this.list = all;
      return all;
    }
    const copy = this.copy;
    if (this.touched.size) {
      const ids = [...this.touched];
      this.touched = new Set();
      const rows = this.source.some(ids);
      const found = new Set(rows.map((r) => r.id));
      for (const id of ids) if (!found.has(id)) copy.byId.delete(id);
      for (const r of rows) {
        // A row already here keeps its place (its creation time never changes); a new one goes
        // last, which is its place unless it was created before the newest one here.
        if (!copy.byId.has(r.id)) {
          if (copy.newest && olderFirst(r, copy.newest) < 0) copy.sorted = false;
          else copy.newest = r;
        }
        copy.byId.set(r.id, r);
      }
      this.list = null;
    }
    if (!this.list) {
      let list = [...copy.byId.values()];
      if (!copy.sorted) {
        list = list.sort(olderFirst);
        copy.byId = new Map(list.map((n) => [n.id, n]));
        copy.newest = list.at(-1) ?? null;
        copy.sorted = true;
      }
      this.list = list;
    }
    return this.list;
  }
}

const MAX_TOUCHED = 10_000;

function olderFirst(a: NodeRecord, b: NodeRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
