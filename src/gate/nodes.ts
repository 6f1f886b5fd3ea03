import type { RequestView } from '../api/contract.ts';
import type { NodepoolClient } from '../client/client.ts';
import { keepLease } from '../client/lease.ts';
import type { Logger } from '../log.ts';

/**
 * A job's nodes, through the node-request API like any CI system (never the store or the
 * launcher): one request per job (the API gives all its nodes from one provider), a lease kept
 * alive while the job runs, then the nodes released as used, or held when an autohold asks.
 */

export class NodeFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeFailure';
  }
}

export interface NodeBrokerOptions {
  client: NodepoolClient;
  requestor: string;
  heartbeatMs: number;
  /** How long a job waits for its nodes before NODE_FAILURE. */
  timeoutMs: number;
  /** Seconds nodes kept by an autohold stay held (0: until an operator deletes them). */
  holdExpirationSeconds?: number;
  logger: Logger;
}

export class NodeBroker {
  constructor(private readonly o: NodeBrokerOptions) {}

  /**
   * Asks for `labels` and waits until they are given. `onRequested` receives the request id at
   * once (the build records it, so a restarted gate can give the nodes back). Aborting cancels
   * the request.
   */
  async acquire(labels: string[], priority: number, signal: AbortSignal, onRequested: (id: string) => Promise<void>): Promise<RequestView> {
    const req = await this.o.client.createRequest({ labels, requestor: this.o.requestor, priority });
    await onRequested(req.id);
    try {
      const done = await this.o.client.waitForRequest(req.id, { timeoutMs: this.o.timeoutMs, signal });
      if (done.state === 'fulfilled') return done;
      if (done.state === 'failed') throw new NodeFailure(`node request ${req.id} failed: ${done.reason ?? 'no reason given'}`);
      if (done.state === 'canceled') throw new NodeFailure(`node request ${req.id} was canceled`);
      throw new NodeFailure(`no nodes within ${Math.round(this.o.timeoutMs / 1000)} s (request ${req.id} still ${done.state})`);
    } catch (err) {
      await this.giveBack(req.id);
      if (signal.aborted) throw new NodeFailure('canceled while waiting for nodes');
      throw err;
    }
  }

  /** Renews the request's lease every heartbeat until the returned function is called. */
  keep(requestId: string, onLost: (err: Error) => void): () => void {
    return keepLease({
      client: this.o.client, requestId, everyMs: this.o.heartbeatMs, onLost,
      onError: (err) => this.o.logger.warn({ request: requestId, err: err.message }, 'lease heartbeat failed; trying again'),
    });
  }

  /** Ends the job's use of the nodes: `used` (deleted), or `hold` with the autohold's reason. */
  async release(requestId: string, hold: string | null): Promise<void> {
    try {
      const expires = this.o.holdExpirationSeconds || undefined;
      await this.o.client.release(requestId, hold ? { state: 'hold', reason: hold, expires } : { state: 'used' });
    } catch (err) {
      this.o.logger.warn({ request: requestId, err: (err as Error).message }, 'release refused; canceling the request');
      await this.giveBack(requestId);
    }
  }

  /**
   * Gives a request back whatever its state (cancel: an open one is canceled, a fulfilled one is
   * released as used); one already ended or unknown is fine.
   */
  async giveBack(requestId: string): Promise<void> {
    try {
      await this.o.client.cancelRequest(requestId);
    } catch (err) {
      const status = (err as { httpStatus?: number }).httpStatus;
      if (status !== 404 && status !== 409) this.o.logger.warn({ request: requestId, err: (err as Error).message }, 'could not give the node request back');
    }
  }
}
