/**
 * A replay cloud for the OpenStack driver tests: one node:http server on 127.0.0.1 that answers
 * from the exchanges recorded on a real Zed cloud (test/fixtures/openstack-samples),
 * with the recorded endpoints rewritten to its own address, and records every request it gets.
 *
 * Mounts: Keystone at /identity, Nova at /compute (so the catalog's /v2.1 stays), Glance at
 * /image, Neutron at /network.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudCredentials } from '../../providers/openstack/clouds-yaml/index.ts';
import { loadSample, type Sample } from '../support/openstack-samples.ts';

export { loadSample, sampleNames, type Sample } from '../support/openstack-samples.ts';

/** The recorded cloud's hosts and where the replay serves each. */
const MOUNTS: Array<[string, string]> = [
  ['http://127.0.0.1:5000', '/identity'],
  ['http://127.0.0.1:8774', '/compute'],
  ['http://127.0.0.1:9292', '/image'],
  ['http://127.0.0.1:9696', '/network'],
  ['http://127.0.0.1:8778', '/placement'],
];

export interface Received {
  method: string;
  /** Path and query as sent. */
  url: string;
  pathname: string;
  query: Record<string, string>;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: unknown;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** Object: JSON; string: sent as is; null/undefined: empty. */
  body?: unknown;
}

type Handler = (req: Received) => Answer | Promise<Answer>;

interface Route {
  method: string;
  pathname: string;
  query?: Record<string, string>;
  handler: Handler;
  times: number;
}

export interface ReplyOptions {
  /** Answer this many times, then let earlier routes answer again. Default: always. */
  times?: number;
  /** Changes the (rewritten) response body before it is sent. */
  body?: (body: any) => unknown;
}

export class ReplayCloud {
  readonly requests: Received[] = [];
  /** Tokens handed out by the Keystone routes, in order: tok-1, tok-2, ... */
  tokensIssued = 0;
  private routes: Route[] = [];

  private constructor(private readonly server: http.Server, readonly base: string) {}

  static async start(): Promise<ReplayCloud> {
    let cloud: ReplayCloud | undefined;
    const server = http.createServer((req, res) => { void cloud!.handle(req, res); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    cloud = new ReplayCloud(server, `http://127.0.0.1:${port}`);
    return cloud;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Forgets every route and received request, and restarts the token count. */
  reset(): void {
    this.routes = [];
    this.requests.length = 0;
    this.tokensIssued = 0;
  }

  /** Rewrites the recorded cloud's URLs (bodies and headers) to this server. */
  rewrite<T>(value: T): T {
    if (value === null || value === undefined) return value;
    let text = JSON.stringify(value);
    for (const [from, to] of MOUNTS) text = text.split(from).join(this.base + to);
    return JSON.parse(text) as T;
  }

  /** Where a sample's request lands on this server. */
  pathOf(sample: Sample): { pathname: string; query: Record<string, string> } {
    const u = new URL(this.rewrite(sample.endpoint).replace(/\/+$/, '') + sample.request.path);
    return { pathname: u.pathname, query: Object.fromEntries(u.searchParams.entries()) };
  }

  /**
   * Answers the sample's request (method, path and query as recorded) with its recorded
   * response. Keystone answers get a fresh token each (tok-1, tok-2, ...); Nova answers recorded
   * at compute 2.79 echo the microversion the client asked for.
   */
  reply(name: string, opts: ReplyOptions = {}): Sample {
    const sample = loadSample(name);
    const where = this.pathOf(sample);
    const recordedQuery = Object.keys(where.query).length ? where.query : undefined;
    this.route(sample.request.method, where.pathname, (req) => this.answerFrom(sample, req, opts), { query: recordedQuery, times: opts.times });
    return sample;
  }

  /** A hand-written answer for a path (query ignored unless given). Later routes win. */
  route(method: string, pathname: string, handler: Handler, opts: { query?: Record<string, string>; times?: number } = {}): void {
    this.routes.push({ method, pathname, query: opts.query, handler, times: opts.times ?? Number.POSITIVE_INFINITY });
  }

  /** The recorded response of a sample as this server would send it (token and version applied). */
  answerFrom(sample: Sample, req: Received | undefined, opts: ReplyOptions = {}): Answer {
    const headers = { ...this.rewrite(sample.response.headers) };
    if (headers['X-Subject-Token'] === '<token>') headers['X-Subject-Token'] = `tok-${++this.tokensIssued}`;
    const asked = req?.headers['openstack-api-version'];
    if (asked && headers['Openstack-Api-Version'] === 'compute 2.79') {
      headers['Openstack-Api-Version'] = asked;
      headers['X-Openstack-Nova-Api-Version'] = asked.replace(/^compute\s+/, '');
    }
    let body = this.rewrite(sample.response.body);
    if (opts.body) body = opts.body(body);
    return { status: sample.response.status, headers, body };
  }

  /** Requests received under a path prefix (e.g. '/compute/v2.1/servers'). */
  received(method: string, pathPrefix: string): Received[] {
    return this.requests.filter((r) => r.method === method && r.pathname.startsWith(pathPrefix));
  }

  /** clouds.yaml-style password credentials of the recorded `samples` user. */
  credentials(over: Partial<CloudCredentials> = {}): CloudCredentials {
    return {
      cloud: 'samples',
      authType: 'password',
      authUrl: `${this.base}/identity/v3`,
      username: 'samples',
      userDomainId: 'default',
      password: 'ostest-samples',
      projectName: 'samples',
      projectDomainId: 'default',
      regionName: 'RegionOne',
      interface: 'public',
      verify: true,
      ...over,
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const u = new URL(req.url ?? '/', this.base);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    let body: unknown = null;
    if (raw) {
      try { body = JSON.parse(raw); } catch { body = raw; }
    }
    const received: Received = {
      method: req.method ?? 'GET', url: req.url ?? '/', pathname: u.pathname,
      query: Object.fromEntries(u.searchParams.entries()), headers, body,
    };
    this.requests.push(received);
    const route = [...this.routes].reverse().find((r) => r.times > 0 && r.method === received.method
      && r.pathname === received.pathname && (!r.query || sameQuery(r.query, received.query)));
    let answer: Answer;
    if (route) {
      route.times -= 1;
      answer = await route.handler(received);
    } else {
      answer = { status: 599, body: `replay: no route for ${received.method} ${received.url}` };
    }
    const out = answer.body === null || answer.body === undefined ? ''
      : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    const outHeaders: Record<string, string> = { ...answer.headers };
    if (typeof answer.body === 'object' && answer.body !== null && !Object.keys(outHeaders).some((h) => h.toLowerCase() === 'content-type')) {
      outHeaders['Content-Type'] = 'application/json';
    }
    res.writeHead(answer.status, outHeaders);
    res.end(out);
  }
}

function sameQuery(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
