import axios, { type AxiosInstance, type Method } from 'axios';
import { RemoteError, UnavailableError } from '../ops/errors.ts';

/**
 * The CLI's view of a running system: its HTTP API. Failures become the shared typed errors, so
 * an unreachable API is one line naming the URL, and a refusal carries the API's own message.
 */
export class ApiClient {
  private readonly http: AxiosInstance;

  constructor(readonly baseUrl: string, opts: { timeoutMs?: number; token?: string } = {}) {
    this.http = axios.create({
      baseURL: baseUrl, timeout: opts.timeoutMs ?? 30_000, validateStatus: () => true,
      headers: { accept: 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
    });
  }

  async call<T>(method: Method, path: string, opts: { params?: Record<string, unknown>; data?: unknown } = {}): Promise<T> {
    let res;
    try {
      res = await this.http.request({ method, url: path, params: opts.params, data: opts.data });
    } catch (err) {
      const code = (err as { code?: string }).code;
      const why = code === 'ECONNREFUSED' ? 'connection refused'
        : code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? 'no answer in time'
        : code === 'ENOTFOUND' ? 'unknown host'
        : (err as Error).message;
      throw new UnavailableError(`cannot reach the nodepool API at ${this.baseUrl}: ${why}${code && !why.includes(code) ? ` (${code})` : ''}`);
    }
    if (res.status >= 400) {
      const e = (res.data as { error?: { message?: string; field?: string } } | undefined)?.error;
      if (e?.message) throw new RemoteError(res.status, e.message, e.field);
      throw new UnavailableError(`the nodepool API at ${this.baseUrl} answered HTTP ${res.status} to ${method.toUpperCase()} ${path}`);
    }
    if (typeof res.data === 'string') {
      throw new UnavailableError(`${this.baseUrl} did not answer like a nodepool API (expected JSON from ${path})`);
    }
    return res.data as T;
  }
}
