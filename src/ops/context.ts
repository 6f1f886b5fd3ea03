/**
 * What every operation is told by its caller: the time (injected, never read from the clock
 * here), who acts (written to the audit log) and how long a requestor's lease on fulfilled
 * nodes lasts without a heartbeat (config `api.request-lease-timeout`).
 */
export interface OpContext {
  now: number;
  by: string;
  leaseTimeoutMs: number;
}
