import { OPEN_REQUEST_STATES, type RequestRecord } from '../model.ts';
import type { Store } from '../store/store.ts';

export interface WaitOptions {
  waitMs: number;
  /**
   * Interval of the poll for changes no event announced (another process's writes): one poll per
   * store for all its waits, at the interval of the first wait while any runs.
   */
  pollMs: number;
  /** Ends the wait early (client gone, app closing). */
  signal?: AbortSignal;
}

const isOpen = (r: RequestRecord) => OPEN_REQUEST_STATES.includes(r.state);

/**
 * The waits on each request, per store, behind one store subscription and one poll timer (held
 * while any wait runs): a change costs a map lookup, not a call to every waiting request's
 * listener, and the poll reads every waited-for request in one query, not one each. A change to an
 * open state (claimed: `pending`) wakes nobody: the wait is for the request to leave them.
 *
 * The poll catches what no event announces (another process writing the same SQLite file, a
 * PostgreSQL announcement lost while the listening connection reconnects). With a timer and a read
 * per wait, 500 long-polls cost 500 reads a second (on PostgreSQL, round trips): in the burst of
 * `npm run bench`, 1.7 reads per node.
 */
interface StoreWaits {
  byId: Map<string, Set<() => void>>;
  unsubscribe: () => void;
  poll: NodeJS.Timeout;
}

const waits = new WeakMap<Store, StoreWaits>();

function wake(byId: Map<string, Set<() => void>>, id: string): void {
  const fns = byId.get(id);
  if (fns) for (const f of [...fns]) f();
}

function onChange(store: Store, id: string, pollMs: number, fn: () => void): () => void {
  let entry = waits.get(store);
  if (!entry) {
    const byId = new Map<string, Set<() => void>>();
    const unsubscribe = store.subscribe((e) => {
      if (e.kind !== 'request' || (OPEN_REQUEST_STATES as readonly string[]).includes(e.state)) return;
      wake(byId, e.id);
    });
    let polling = false;
    const poll = setInterval(() => {
      if (polling || byId.size === 0) return;
      polling = true;
      const ids = [...byId.keys()];
      store.listRequests({ ids }).then((rows) => {
        const open = new Set(rows.filter(isOpen).map((r) => r.id));
        // Closed or gone: the wait reads its own row and answers.
        for (const id of ids) if (!open.has(id)) wake(byId, id);
      }, () => {
        // The store failed: every wait reads for itself, and a wait's read reports the error.
        for (const id of ids) wake(byId, id);
      }).finally(() => { polling = false; });
    }, pollMs);
    poll.unref();
    entry = { byId, unsubscribe, poll };
    waits.set(store, entry);
  }
  const { byId } = entry;
  let fns = byId.get(id);
  if (!fns) { fns = new Set(); byId.set(id, fns); }
  fns.add(fn);
  return () => {
    fns!.delete(fn);
    if (fns!.size === 0 && byId.get(id) === fns) byId.delete(id);
    if (byId.size === 0 && waits.get(store) === entry) {
      entry!.unsubscribe();
      clearInterval(entry!.poll);
      waits.delete(store);
    }
  };
}

/**
 * Long-poll: resolves with the request as soon as it leaves `requested`/`pending`, or with its
 * current record when `waitMs` runs out or the signal aborts; null once it is unknown. Wakes on
 * the store's change events for this request, and when the shared poll (every `pollMs`, for
 * every wait on the store) finds it closed. It listens before its first read, so a change during
 * that read costs one more read, and none costs none.
 */
export async function waitWhileOpen(store: Store, id: string, opts: WaitOptions): Promise<RequestRecord | null> {
  if (opts.waitMs <= 0 || opts.signal?.aborted) return store.getRequest(id);
  let changed = false;
  let onEvent = () => { changed = true; };
  const unsubscribe = onChange(store, id, opts.pollMs, () => onEvent());
  let first: RequestRecord | null;
  try {
    first = await store.getRequest(id);
  } catch (err) {
    unsubscribe();
    throw err;
  }
  if (!first || !isOpen(first) || opts.signal?.aborted) {
    unsubscribe();
    return first;
  }

  return new Promise<RequestRecord | null>((resolve, reject) => {
    let latest: RequestRecord | null = first;
    let done = false;
    let reading: Promise<void> | null = null;
    let again = false;

    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(latest);
    };
    // One read at a time; an event arriving during a read asks for one more read after it.
    const check = (): Promise<void> => {
      if (done) return Promise.resolve();
      if (reading) { again = true; return reading; }
      reading = (async () => {
        try {
          do {
            again = false;
            latest = await store.getRequest(id);
            if (!latest || !isOpen(latest)) return finish();
          } while (again && !done);
        } catch (err) {
          finish(err);
        } finally {
          reading = null;
        }
      })();
      return reading;
    };
    const onAbort = () => finish();

    onEvent = () => void check();
    const timer = setTimeout(() => void check().then(() => finish()), opts.waitMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // Changed during the first read: read again.
    if (changed) void check();
  });
}
