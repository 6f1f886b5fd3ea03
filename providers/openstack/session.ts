/**
 * Authenticated calls to a catalog service: the token, the endpoint, one renewal when a service
 * answers 401 (a token revoked or expired early), and non-2xx answers turned into `CloudError`s.
 */
import type { CloudCredentials } from './clouds-yaml/credentials.ts';
import type { CloudError } from '../errors.ts';
import { classifyAnswer } from './classify.ts';
import { type ServiceKind, SERVICE_NAMES, endpointFor } from './catalog.ts';
import type { HttpAnswer, HttpClient, Method } from './http.ts';
import type { Token, TokenSource } from './keystone.ts';

export interface ServiceCall {
  method: Method;
  /** Path under the versioned service root, e.g. `/servers/detail`. */
  path: string;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  body?: unknown;
  /** A raw body read as it is sent (image data); opened anew for each try (a 401 is tried once more). */
  stream?: { open: () => NodeJS.ReadableStream; length: number; signal?: AbortSignal };
  /** Non-2xx statuses handed back to the caller instead of thrown (e.g. 404 for "already gone"). */
  also?: number[];
}

/** A 2xx answer, plus the URL it came from (for errors raised while reading it). */
export interface ServiceAnswer extends HttpAnswer {
  url: string;
  service: string;
  method: Method;
}

export class Session {
  private endpoints = new WeakMap<Token, Map<ServiceKind, string>>();

  constructor(
    private readonly http: HttpClient,
    private readonly tokens: TokenSource,
    private readonly credentials: CloudCredentials,
    private readonly now: () => number,
  ) {}

  /** Resolves with a 2xx answer (or one listed in `also`); any other is thrown as a classified `CloudError`. */
  async call(kind: ServiceKind, call: ServiceCall): Promise<ServiceAnswer> {
    const service = SERVICE_NAMES[kind];
    let token = await this.tokens.token();
    let url = this.url(token, kind, call);
    let res = await this.send(service, url, token, call);
    if (res.status === 401) {
      // Once: a second 401 with a token Keystone has just issued means the credentials lack
      // access to this service, which a third try will not change.
      token = await this.tokens.renew(token);
      url = this.url(token, kind, call);
      res = await this.send(service, url, token, call);
    }
    const ok = (res.status >= 200 && res.status <= 299) || call.also?.includes(res.status);
    if (!ok) throw this.error(service, call.method, url, res);
    return { ...res, url, service, method: call.method };
  }

  /** The classified error for a non-2xx answer (for callers that looked at an `also` answer first). */
  error(service: string, method: Method, url: string, res: HttpAnswer): CloudError {
    return classifyAnswer({ service, method, url, status: res.status, headers: res.headers, body: res.body, now: this.now() });
  }

  private async send(service: string, url: string, token: Token, call: ServiceCall): Promise<HttpAnswer> {
    const data = call.stream?.open();
    try {
      return await this.http.request({
        service,
        method: call.method,
        url,
        headers: { Accept: 'application/json', ...call.headers, 'X-Auth-Token': token.value },
        body: call.body,
        stream: data && call.stream && { data, length: call.stream.length, signal: call.stream.signal },
      });
    } finally {
      // An answer before the end of the data (a 401, a 413) leaves the file open otherwise.
      (data as { destroy?: () => void } | undefined)?.destroy?.();
    }
  }

  private url(token: Token, kind: ServiceKind, call: ServiceCall): string {
    return this.base(token, kind) + call.path + queryString(call.query);
  }

  private base(token: Token, kind: ServiceKind): string {
    let byKind = this.endpoints.get(token);
    if (!byKind) {
      byKind = new Map();
      this.endpoints.set(token, byKind);
    }
    let base = byKind.get(kind);
    if (!base) {
      base = endpointFor(token.catalog, kind, {
        cloud: this.credentials.cloud, region: this.credentials.regionName, iface: this.credentials.interface ?? 'public',
      });
      byKind.set(kind, base);
    }
    return base;
  }
}

function queryString(query: Record<string, string | undefined> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.append(k, v);
  const s = params.toString();
  return s ? `?${s}` : '';
}
