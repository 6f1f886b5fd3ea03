import { OPEN_REQUEST_STATES, type RequestRecord } from '../model.ts';
import type { Store } from '../store/store.ts';

export interface WaitOptions {
  waitMs: number;
  /** Re-read interval: change events reach only this process, another process's writes do not. */
  pollMs: number;
  /** Ends the wait early (client gone, app closing). */
  signal?: AbortSignal;
}

const isOpen = (r: RequestRecord) => OPEN_REQUEST_STATES.includes(r.state);

/**
 * The waits on each request, per store, behind one store subscription (held while any wait runs):
 * a change costs a map lookup, not a call to every waiting request's listener. A change to an open
 * state (claimed: `pending`) wakes nobody: the wait is for the request to leave them.
 */
const waits = new WeakMap<Store, { byId: Map<string, Set<() => void>>; unsubscribe: () => void }>();

function onChange(store: Store, id: string, fn: () => void): () => void {
  let entry = waits.get(store);
  if (!entry) {
    const byId = new Map<string, Set<() => void>>();
    const unsubscribe = store.subscribe((e) => {
      if (e.kind !== 'request' || (OPEN_REQUEST_STATES as readonly string[]).includes(e.state)) return;
      const fns = byId.get(e.id);
      if (fns) for (const f of fns) f();
    });
    entry = { byId, unsubscribe };
    waits.set(store, entry);
  }
  const { byId } = entry;
  let fns = byId.get(id);
  if (!fns) { fns = new Set(); byId.set(id, fns); }
  fns.add(fn);
  return () => {
    fns!.delete(fn);
    if (fns!.size === 0) byId.delete(id);
    if (byId.size === 0 && waits.get(store) === entry) {
      entry!.unsubscribe();
      waits.delete(store);
    }
  };
}

/**
 * Long-poll: resolves with the request as soon as it leaves `requested`/`pending`, or with its
 * current record when `waitMs` runs out or the signal aborts; null once it is unknown. Wakes on
 * the store's change events for this request and also re-reads every `pollMs`.
 */
export async function waitWhileOpen(store: Store, id: string, opts: WaitOptions): Promise<RequestRecord | null> {
  const first = await store.getRequest(id);
  if (!first || !isOpen(first) || opts.waitMs <= 0 || opts.signal?.aborted) return first;

  return new Promise<RequestRecord | null>((resolve, reject) => {
    let latest: RequestRecord | null = first;
    let done = false;
    let reading: Promise<void> | null = null;
    let again = false;

    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(poll);
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

    const unsubscribe = onChange(store, id, () => void check());
    const poll = setInterval(() => void check(), opts.pollMs);
    const timer = setTimeout(() => void check().then(() => finish()), opts.waitMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // The request may have changed between the first read and the subscription.
    void check();
  });
}
