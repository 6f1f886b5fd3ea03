import axios, { type AxiosInstance, type Method } from 'axios';
import type { z } from 'zod';
import { RemoteError, UnavailableError } from '../ops/errors.ts';
import { ErrorBody } from '../api/contract.ts';

export interface CallOptions<T = unknown> {
  params?: Record<string, unknown>;
  data?: unknown;
  /** Parses the answer; a shape the client cannot read is an UnavailableError naming the field. */
  schema?: z.ZodType<T>;
  /** This call's timeout (ms), e.g. a long-poll's wait plus a margin. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * HTTP to a running nodepool API. Failures become the shared typed errors: an unreachable API is
 * one line naming the URL, and a refusal carries the API's own message and field.
 */
export class HttpTransport {
  private readonly http: AxiosInstance;

  constructor(readonly baseUrl: string, opts: { timeoutMs?: number; token?: string } = {}) {
    this.http = axios.create({
      baseURL: baseUrl, timeout: opts.timeoutMs ?? 30_000, validateStatus: () => true,
      headers: { accept: 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
    });
  }

  async call<T = unknown>(method: Method, path: string, opts: CallOptions<T> = {}): Promise<T> {
    let res;
    try {
      res = await this.http.request({
        // A write without a body still sends `{}`: axios would label an empty body as a form.
        method, url: path, params: opts.params, data: opts.data ?? (method.toLowerCase() === 'post' ? {} : undefined), signal: opts.signal,
        ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }),
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      const why = code === 'ECONNREFUSED' ? 'connection refused'
        : code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? 'no answer in time'
        : code === 'ENOTFOUND' ? 'unknown host'
        : code === 'ERR_CANCELED' ? 'canceled'
        : (err as Error).message;
      throw new UnavailableError(`cannot reach the nodepool API at ${this.baseUrl}: ${why}${code && !why.includes(code) && code !== 'ERR_CANCELED' ? ` (${code})` : ''}`);
    }
    if (res.status >= 400) {
      const e = ErrorBody.safeParse(res.data);
      if (e.success) throw new RemoteError(res.status, e.data.error.message, e.data.error.field);
      throw new UnavailableError(`the nodepool API at ${this.baseUrl} answered HTTP ${res.status} to ${method.toUpperCase()} ${path}`);
    }
    if (typeof res.data === 'string') {
      throw new UnavailableError(`${this.baseUrl} did not answer like a nodepool API (expected JSON from ${path})`);
    }
    if (!opts.schema) return res.data as T;
    const parsed = opts.schema.safeParse(res.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.map(String).join('.') || 'body';
      throw new UnavailableError(`the nodepool API at ${this.baseUrl} answered ${method.toUpperCase()} ${path} with a shape this client cannot read: ${field}: ${issue?.message ?? 'invalid'}`);
    }
    return parsed.data;
  }
}
