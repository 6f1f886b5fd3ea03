/**
 * The HTTP layer: one axios instance per provider, every call counted and logged, no status
 * treated as an exception (callers decide from the status), failures without an answer
 * classified here.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { Logger } from '../../src/log.ts';
import { CloudError } from '../errors.ts';
import type { CloudCall } from '../provider.ts';
import { classifyNetworkError, requestIdOf } from './classify.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface HttpRequest {
  /** keystone, nova, glance, neutron: for the log and the errors. */
  service: string;
  method: Method;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** A raw body sent as it is read (image data), with its length; instead of `body`. */
  stream?: { data: NodeJS.ReadableStream; length: number; signal?: AbortSignal };
}

export interface HttpAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** Parsed JSON, a string when the body was not JSON, null when empty. */
  body: unknown;
  requestId?: string;
}

export interface HttpOptions {
  provider: string;
  logger: Logger;
  timeoutMs: number;
  /** Verify TLS certificates (clouds.yaml `verify`). */
  verify: boolean;
  /** CA bundle path (clouds.yaml `cacert`). */
  cacert?: string;
  /** Told of every call when it ends (metrics): `status` is null when no answer came. */
  onCall?: (call: CloudCall) => void;
}

/**
 * Server creates and deletes in flight at once per cloud (the launcher waits for a free one); the
 * connection pool is larger, so lists, limits and token calls always find a connection.
 */
export const CALLS_AT_ONCE = 64;
const CONNECTIONS = CALLS_AT_ONCE + 32;

export class HttpClient {
  private readonly axios: AxiosInstance;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private calls = 0;

  constructor(private readonly opts: HttpOptions) {
    // Keep-alive: a launcher makes hundreds of calls a second to the same few endpoints, and a
    // TLS handshake per call would cost more than the call. Keystone behind uwsgi closes every
    // connection itself; the agent copes.
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      maxSockets: CONNECTIONS,
      rejectUnauthorized: opts.verify,
      ca: opts.cacert ? readCaBundle(opts.provider, opts.cacert) : undefined,
    });
    this.axios = axios.create({
      timeout: opts.timeoutMs,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      validateStatus: () => true,
      headers: { 'User-Agent': 'nodepool-ts openstack-driver' },
      maxRedirects: 0,
      transitional: { clarifyTimeoutError: true, silentJSONParsing: true },
    });
  }

  async request(req: HttpRequest): Promise<HttpAnswer> {
    this.calls += 1;
    const started = performance.now();
    const path = pathOf(req.url);
    let res;
    try {
      res = await this.axios.request<unknown, AxiosResponse<unknown>, unknown>(req.stream ? {
        // Piped with backpressure: the data is never held in memory. `timeout` is the socket's
        // idle time, so a long upload that keeps moving is not cut.
        method: req.method,
        url: req.url,
        headers: { ...req.headers, 'Content-Type': 'application/octet-stream', 'Content-Length': String(req.stream.length) },
        data: req.stream.data,
        signal: req.stream.signal,
        maxBodyLength: Infinity,
      } : {
        method: req.method,
        url: req.url,
        headers: req.body === undefined ? req.headers : { ...req.headers, 'Content-Type': 'application/json' },
        data: req.body === undefined ? undefined : JSON.stringify(req.body),
      });
    } catch (error) {
      const err = classifyNetworkError(error, { service: req.service, method: req.method, url: req.url });
      this.told(req, null, started);
      this.opts.logger.warn({
        provider: this.opts.provider, service: req.service, method: req.method, path,
        ms: Math.round(performance.now() - started), kind: err.kind, err: err.message,
      }, 'cloud call failed');
      throw err;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers ?? {})) {
      if (v === undefined || v === null) continue;
      headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    const answer: HttpAnswer = {
      status: res.status,
      headers,
      body: res.data === '' || res.data === undefined ? null : res.data,
      requestId: requestIdOf(headers),
    };
    this.told(req, answer.status, started);
    const fields = {
      provider: this.opts.provider, service: req.service, method: req.method, path,
      status: answer.status, ms: Math.round(performance.now() - started), requestId: answer.requestId,
    };
    if (req.method === 'GET') this.opts.logger.debug(fields, 'cloud call');
    else this.opts.logger.info(fields, 'cloud call');
    return answer;
  }

  private told(req: HttpRequest, status: number | null, started: number): void {
    this.opts.onCall?.({ provider: this.opts.provider, service: req.service, method: req.method, status, seconds: (performance.now() - started) / 1000 });
  }

  callCount(): number {
    return this.calls;
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function readCaBundle(provider: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new CloudError({ kind: 'config', message: `provider ${provider}: cannot read cacert ${file}: ${(e as Error).message}` });
  }
}

/** Path and query only: hosts are the same for every call of a service and only add noise. */
function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}
