import {
  AutoholdList, AutoholdView, GateEventAnswer, GateStatus, HeartbeatAnswer, RequestListAnswer, RequestView,
  type AutoholdInput, type CreateRequestInput, type GateOrderInput, type HoldNodeBody, type ReleaseInput,
} from '../api/contract.ts';
import type { RequestState } from '../model.ts';
import type { NodeRow } from '../status/rows.ts';
import { HttpTransport, type CallOptions } from './http.ts';

const enc = encodeURIComponent;

export interface ClientOptions {
  /** Base URL of a nodepool API, e.g. `http://127.0.0.1:8022`. */
  url: string;
  /** Bearer token (needed for writes when the API has tokens). */
  token?: string;
  /** Timeout of an ordinary call (ms). Default 30 s; a long-poll gets its wait on top. */
  timeoutMs?: number;
}

/** The longest wait one long-poll asks for (the API caps `?wait=` at 300 s). */
const MAX_POLL_SECONDS = 60;

/**
 * A typed client of the node-request API (`/api/v1`), as any CI scheduler would use it: ask for
 * a set of labels, wait for the nodes, keep the lease alive while the job runs, then release them
 * as used or held. Every answer is parsed with the API's own schemas (src/api/contract.ts).
 * The gating core and the CLI both use it.
 */
export class NodepoolClient {
  readonly http: HttpTransport;

  constructor(readonly opts: ClientOptions) {
    this.http = new HttpTransport(opts.url.replace(/\/+$/, ''), { token: opts.token, timeoutMs: opts.timeoutMs });
  }

  get url(): string { return this.http.baseUrl; }

  /** POST /requests: a new request in `requested`. */
  createRequest(body: CreateRequestInput): Promise<RequestView> {
    return this.http.call('post', '/api/v1/requests', { data: body, schema: RequestView });
  }

  /** GET /requests/{id}; with `waitSeconds`, answers as soon as it is no longer requested/pending (or the wait ends). */
  getRequest(id: string, o: { waitSeconds?: number; signal?: AbortSignal } = {}): Promise<RequestView> {
    const wait = o.waitSeconds && o.waitSeconds > 0 ? o.waitSeconds : undefined;
    return this.http.call('get', `/api/v1/requests/${enc(id)}`, {
      params: wait === undefined ? undefined : { wait }, schema: RequestView, signal: o.signal,
      timeoutMs: wait === undefined ? undefined : wait * 1000 + (this.opts.timeoutMs ?? 30_000),
    });
  }

  /**
   * Long-polls until the request is fulfilled, failed or canceled; resolves with it then. Throws
   * an AbortError-like UnavailableError when `signal` aborts; `timeoutMs` bounds the whole wait
   * (the request as last seen is returned, still open).
   */
  async waitForRequest(id: string, o: { timeoutMs?: number; signal?: AbortSignal; now?: () => number } = {}): Promise<RequestView> {
    const now = o.now ?? Date.now;
    const deadline = o.timeoutMs === undefined ? Infinity : now() + o.timeoutMs;
    for (;;) {
      const left = Math.max(0, deadline - now()) / 1000;
      const req = await this.getRequest(id, { waitSeconds: Math.min(MAX_POLL_SECONDS, left), signal: o.signal });
      if (req.state !== 'requested' && req.state !== 'pending') return req;
      if (now() >= deadline) return req;
    }
  }

  listRequests(f: { state?: RequestState | RequestState[]; limit?: number } = {}): Promise<RequestView[]> {
    const state = Array.isArray(f.state) ? f.state.join(',') : f.state;
    return this.http.call('get', '/api/v1/requests', { params: { state, limit: f.limit }, schema: RequestListAnswer })
      .then((a) => a.requests);
  }

  /** POST /requests/{id}/heartbeat: renews the lease on the nodes; answers the new expiry. */
  heartbeat(id: string): Promise<HeartbeatAnswer> {
    return this.http.call('post', `/api/v1/requests/${enc(id)}/heartbeat`, { schema: HeartbeatAnswer });
  }

  /** POST /requests/{id}/release: the nodes become `used` (deleted) or `hold` (kept for debugging). */
  release(id: string, body: ReleaseInput): Promise<RequestView> {
    return this.http.call('post', `/api/v1/requests/${enc(id)}/release`, { data: body, schema: RequestView });
  }

  /** DELETE /requests/{id}: cancel an open request; a fulfilled one is released as used. */
  cancelRequest(id: string): Promise<RequestView> {
    return this.http.call('delete', `/api/v1/requests/${enc(id)}`, { schema: RequestView });
  }

  async nodes(f: { label?: string; provider?: string; state?: string } = {}): Promise<NodeRow[]> {
    return (await this.http.call<{ nodes: NodeRow[] }>('get', '/api/v1/nodes', { params: f })).nodes;
  }

  node(id: string): Promise<NodeRow> {
    return this.http.call<NodeRow>('get', `/api/v1/nodes/${enc(id)}`);
  }

  holdNode(id: string, body: HoldNodeBody): Promise<NodeRow> {
    return this.http.call<NodeRow>('post', `/api/v1/nodes/${enc(id)}/hold`, { data: body });
  }

  deleteNode(id: string): Promise<NodeRow> {
    return this.http.call<NodeRow>('delete', `/api/v1/nodes/${enc(id)}`);
  }

  // ---- the gating core ----

  /** GET /gate/status: pipelines → queues → items → jobs. */
  gateStatus(): Promise<GateStatus> {
    return this.http.call('get', '/gate/status', { schema: GateStatus });
  }

  /** POST /api/v1/gate/enqueue|dequeue: queues an operator's order for the gate's scheduler. */
  gateOrder(type: 'enqueue' | 'dequeue', body: GateOrderInput): Promise<GateEventAnswer> {
    return this.http.call('post', `/api/v1/gate/${type}`, { data: body, schema: GateEventAnswer });
  }

  /** What came of an order or a webhook event (outcome null until the scheduler handled it). */
  gateEvent(seq: number): Promise<GateEventAnswer> {
    return this.http.call('get', `/api/v1/gate/events/${seq}`, { schema: GateEventAnswer });
  }

  async autoholds(): Promise<AutoholdView[]> {
    return (await this.http.call('get', '/api/v1/gate/autoholds', { schema: AutoholdList })).autoholds;
  }

  addAutohold(body: AutoholdInput): Promise<AutoholdView> {
    return this.http.call('post', '/api/v1/gate/autoholds', { data: body, schema: AutoholdView });
  }

  async deleteAutohold(id: string): Promise<void> {
    await this.http.call('delete', `/api/v1/gate/autoholds/${enc(id)}`);
  }

  /** Any other path of the API (status listings, images), parsed with `schema` when given. */
  call<T = unknown>(method: 'get' | 'post' | 'delete', path: string, o: CallOptions<T> = {}): Promise<T> {
    return this.http.call<T>(method, path, o);
  }
}
