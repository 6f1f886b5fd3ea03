import type { NodepoolClient } from './client.ts';

export interface LeaseKeeperOptions {
  client: NodepoolClient;
  requestId: string;
  /** How often to renew (ms): well inside the API's request-lease-timeout (600 s by default). */
  everyMs: number;
  /** Called once when a renewal is refused (the lease ran out, the nodes were taken back). */
  onLost?: (err: Error) => void;
  /** Called for a renewal that failed to reach the API (it is tried again at the next tick). */
  onError?: (err: Error) => void;
}

/**
 * Keeps a fulfilled request's lease alive while a job runs: a heartbeat every `everyMs`. An
 * unreachable API is tried again next time; a refusal (409: released, expired) ends the keeper.
 * Returns the function that stops it.
 */
export function keepLease(o: LeaseKeeperOptions): () => void {
  let stopped = false;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      await o.client.heartbeat(o.requestId);
    } catch (err) {
      const status = (err as { httpStatus?: number }).httpStatus;
      if (status === 409 || status === 404) {
        stop();
        o.onLost?.(err as Error);
      } else {
        o.onError?.(err as Error);
      }
    } finally {
      busy = false;
    }
  }, o.everyMs);
  timer.unref();
  const stop = () => { stopped = true; clearInterval(timer); };
  return stop;
}
