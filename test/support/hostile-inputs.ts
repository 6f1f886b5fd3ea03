import { request as httpRequest } from 'node:http';

/**
 * Malformed and hostile calls to every write route of the node-request API (and the long-poll's
 * `?wait`), as an attacker or a broken client sends them: wrong types, 10^5-element arrays,
 * 10 MB strings, deep nesting, prototype keys, bad JSON, odd content types, bad query strings.
 * Generated from a seed, so a run can be repeated exactly. `npm run fuzz:api` sends the whole
 * corpus to a running `nodepool run`; the API test sends a small sample of each family.
 */

export type Family =
  | 'wrong-type' | 'huge-array' | 'huge-string' | 'long-string' | 'deep-nesting' | 'prototype-key'
  | 'bad-json' | 'content-type' | 'bad-wait' | 'long-url';

export interface HostileCall {
  family: Family;
  /** What this call tries, for the report. */
  what: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  headers: Record<string, string>;
  /** Built when sent, so a corpus of 10 MB bodies is not all held at once. */
  body: () => string | undefined;
  /** Oversized on purpose: must be refused with 400 or 413 naming the limit. */
  oversized: boolean;
}

/** mulberry32: a small seeded generator, the same sequence on every machine. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** Every write route, with an id that may or may not exist. */
function writeRoutes(id: string): { method: 'POST' | 'DELETE'; path: string; fields: string[] }[] {
  return [
    { method: 'POST', path: '/api/v1/requests', fields: ['labels', 'requestor', 'priority', 'tenant'] },
    { method: 'DELETE', path: `/api/v1/requests/${id}`, fields: [] },
    { method: 'POST', path: `/api/v1/requests/${id}/release`, fields: ['state', 'reason'] },
    { method: 'POST', path: `/api/v1/requests/${id}/heartbeat`, fields: [] },
    { method: 'POST', path: `/api/v1/nodes/${id}/hold`, fields: ['reason', 'expires'] },
    { method: 'DELETE', path: `/api/v1/nodes/${id}`, fields: [] },
    { method: 'POST', path: `/api/v1/providers/${id}/erase`, fields: [] },
    { method: 'POST', path: `/api/v1/images/${id}/build`, fields: [] },
    { method: 'POST', path: `/api/v1/images/${id}/pause`, fields: ['reason'] },
    { method: 'POST', path: `/api/v1/images/${id}/unpause`, fields: [] },
    { method: 'DELETE', path: `/api/v1/builds/${id}`, fields: [] },
    { method: 'DELETE', path: `/api/v1/uploads/${id}`, fields: [] },
  ];
}

const WRONG_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, 1e308, -1e308, '', ' ', 'x', '\u0000', [], [null], [1, 2], {}, { a: 1 }, 'ubuntu-jammy',
];

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)]!;
}

function nested(depth: number, open: string, close: string, inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/**
 * The corpus: `scale` 1 is the full run (about 2,600 calls, some of 10 MB); the test uses a small
 * scale, which keeps every family but smaller counts and sizes.
 */
export function hostileCalls(seed: number, scale = 1): HostileCall[] {
  const rnd = seeded(seed);
  const calls: HostileCall[] = [];
  const big = 100_000;
  const huge = scale >= 1 ? 10 * 1024 * 1024 : 2 * 1024 * 1024;
  const ids = ['0', 'no-such-id', '..%2F..%2Fetc%2Fpasswd', '%00', 'a'.repeat(64), 'a'.repeat(65)];
  const times = (n: number) => Math.max(1, Math.round(n * scale));
  const add = (c: Omit<HostileCall, 'headers' | 'oversized'> & { headers?: Record<string, string>; oversized?: boolean }) =>
    calls.push({ headers: JSON_TYPE, oversized: false, ...c });

  for (let round = 0; round < times(6); round++) {
    for (const r of writeRoutes(pick(rnd, ids))) {
      const fields = r.fields.length ? r.fields : ['labels', 'state', 'reason'];
      // Wrong types, field by field and all at once.
      for (const f of fields) {
        const value = pick(rnd, WRONG_VALUES);
        add({ family: 'wrong-type', what: `${f}: ${JSON.stringify(value)}`, method: r.method, path: r.path, body: () => JSON.stringify({ [f]: value }) });
      }
      add({ family: 'wrong-type', what: 'a list for a body', method: r.method, path: r.path, body: () => JSON.stringify([1, 2, 3]) });
      add({ family: 'wrong-type', what: 'a number for a body', method: r.method, path: r.path, body: () => String(rnd() * 1e6) });
      // Oversized: arrays of 10^5, strings of 10 MB and of 100 KB (under a 1 MiB body limit).
      const f = pick(rnd, fields);
      add({ family: 'huge-array', what: `${f}: 10^5 labels`, method: r.method, path: r.path, oversized: true,
        body: () => JSON.stringify({ requestor: 'fuzz', [f]: Array.from({ length: big }, () => 'ubuntu-jammy') }) });
      add({ family: 'huge-array', what: `${f}: 10^5 numbers`, method: r.method, path: r.path, oversized: true,
        body: () => JSON.stringify({ requestor: 'fuzz', [f]: Array.from({ length: big }, (_, i) => i) }) });
      add({ family: 'huge-string', what: `${f}: a 10 MB string`, method: r.method, path: r.path, oversized: true,
        body: () => JSON.stringify({ requestor: 'fuzz', [f]: 'x'.repeat(huge) }) });
      // (A string field: a long string where a list belongs is refused for its type.)
      const text = f === 'labels' ? 'requestor' : f;
      add({ family: 'long-string', what: `${text}: a 100 KB string`, method: r.method, path: r.path, oversized: true,
        body: () => JSON.stringify({ labels: ['x'.repeat(100_000)], requestor: 'x'.repeat(1000), [text]: 'y'.repeat(100_000) }) });
      add({ family: 'long-string', what: '50 labels of 20 KB', method: r.method, path: r.path, oversized: true,
        body: () => JSON.stringify({ labels: Array.from({ length: 50 }, (_, i) => `${i}${'z'.repeat(20_000)}`), requestor: 'fuzz' }) });
      // Deep nesting, inside and outside the body limit.
      const depth = pick(rnd, [1000, 400_000]);
      add({ family: 'deep-nesting', what: `${depth} nested lists`, method: r.method, path: r.path, oversized: depth > 1000,
        body: () => `{"labels":${nested(depth, '[', ']')},"requestor":"fuzz"}` });
      add({ family: 'deep-nesting', what: `${depth} nested objects`, method: r.method, path: r.path, oversized: depth > 1000,
        body: () => `{"labels":${nested(depth, '{"a":', '}')},"requestor":"fuzz"}` });
      // Prototype keys.
      for (const body of ['{"__proto__":{"admin":true},"labels":["x"],"requestor":"r"}', '{"constructor":{"prototype":{"admin":true}},"labels":["x"],"requestor":"r"}',
        '{"labels":["x"],"requestor":"r","__proto__":null}', '{"labels":{"__proto__":[]},"requestor":"r"}']) {
        add({ family: 'prototype-key', what: body.slice(0, 40), method: r.method, path: r.path, body: () => body });
      }
      // Bad JSON.
      for (const body of ['{', '{"labels":', '{"labels":["x"],}', "{'labels':['x']}", 'NaN', '\uFEFF{"labels":["x"]}', '{"labels":["x"]} trailing', '\u0000', '"']) {
        add({ family: 'bad-json', what: JSON.stringify(body).slice(0, 40), method: r.method, path: r.path, body: () => body });
      }
      // Odd content types.
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16',
        'application/xml', '', 'application/json'.padEnd(8000, ' ;x=y')]) {
        add({ family: 'content-type', what: `content-type ${type.slice(0, 30)}`, method: r.method, path: r.path,
          headers: type ? { 'content-type': type } : {}, body: () => (type === '' ? undefined : '{"labels":["x"],"requestor":"r"}') });
      }
      // A path id of 32 KB: refused for its length.
      if (r.path !== '/api/v1/requests') {
        add({ family: 'long-url', what: 'an id of 32 KB', method: r.method, path: r.path.replace(/^(\/api\/v1\/\w+\/)[^/]*/, `$1${'i'.repeat(32_000)}`),
          headers: {}, body: () => undefined, oversized: true });
      }
    }
    // `?wait` on a request that may exist: bad numbers, several values, a long query.
    for (const q of ['wait=-1', 'wait=abc', 'wait=1e309', 'wait=99999', 'wait=NaN', 'wait[]=1', 'wait=1&wait=2', 'wait=0x10', 'wait=',
      `wait=${'9'.repeat(5000)}`, `wait=1&${'x'.repeat(30_000)}=1`]) {
      add({ family: 'bad-wait', what: `?${q.slice(0, 30)}`, method: 'GET', path: `/api/v1/requests/${pick(rnd, ids)}?${q}`, headers: {}, body: () => undefined });
    }
  }
  return calls;
}

export interface Answer { status: number; message: string }

/**
 * Sends one call and reads the answer even when the server answers before the body is sent and
 * closes the connection (a 413 for a 10 MB body): fetch reports only the broken upload then.
 * Status 0: no answer at all.
 */
export function sendHostile(base: string, c: HostileCall): Promise<Answer> {
  return new Promise((resolve) => {
    let done = false;
    let responded = false;
    const finish = (a: Answer) => { if (!done) { done = true; resolve(a); } };
    const body = c.body();
    const bytes = body === undefined ? undefined : Buffer.from(body);
    // A connection of its own: the server closes one after refusing a body it did not read.
    const req = httpRequest(base + c.path, { agent: false, method: c.method, headers: { ...c.headers, ...(bytes ? { 'content-length': bytes.length } : {}) } }, (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('error', () => finish({ status: res.statusCode ?? 0, message: '' }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let message = text.slice(0, 300);
        try {
          const e = (JSON.parse(text) as { error?: unknown; message?: string });
          message = typeof e.error === 'object' && e.error !== null ? String((e.error as { message?: string }).message) : (e.message ?? message);
        } catch { /* not JSON */ }
        finish({ status: res.statusCode ?? 0, message });
        req.destroy();
      });
    });
    req.setTimeout(60_000, () => req.destroy(new Error('timeout')));
    // A write that fails because the server answered and closed first: the answer may still be on its way.
    req.on('error', (err) => setTimeout(() => finish({ status: 0, message: String(err) }), 500));
    // The body goes in 64 KiB pieces and stops once an answer has come. A server refuses a body
    // over its limit from the headers alone and closes the connection: a client still writing
    // then gets a reset, which can take the answer with it. So a large body waits up to a second
    // for that answer before it is sent.
    let offset = 0;
    const pump = () => {
      while (bytes && !responded && offset < bytes.length) {
        const piece = bytes.subarray(offset, (offset += 65_536));
        if (!req.write(piece)) { req.once('drain', pump); return; }
      }
      if (!responded) req.end();
    };
    req.flushHeaders();
    if (bytes && bytes.length > 65_536) setTimeout(pump, 1000);
    else pump();
  });
}

/**
 * An oversized input must be refused with 400 or 413 and a message that names the limit (431 is
 * Node's own answer to a request line and headers over its 16 KiB, which says so).
 */
export function refusedForItsSize(a: Answer): boolean {
  if (a.status === 431) return /maximum/i.test(a.message);
  return (a.status === 400 || a.status === 413) && /\b(at most|limit)\b/i.test(a.message);
}
