import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** Below this a body goes as it is: compressing it costs more than sending it. */
const MIN_GZIP_BYTES = 32 * 1024;

/**
 * Sends a listing, compressed when the client accepts it and it is large: `/node-list` of 10,000
 * nodes is 5 MiB of JSON, 130 KiB as brotli and 190 KiB gzipped, which a dashboard on a remote
 * network feels far more than the compression (measured on 5 MiB: brotli quality 1 about 3 ms,
 * gzip level 1 about 10 ms from a Buffer but 33 ms from the string, hence the Buffer). Both run on
 * libuv's thread pool, not the event loop.
 */
export async function sendBody(request: FastifyRequest, reply: FastifyReply, body: string, contentType: string): Promise<FastifyReply> {
  return sendPrepared(reply, await prepareBody(request, body, contentType));
}

/** A body as it goes on the wire: compressed or not, as the client asked. */
export interface PreparedBody { content: string | Buffer; coding: 'br' | 'gzip' | null; contentType: string }

export async function prepareBody(request: FastifyRequest, body: string, contentType: string): Promise<PreparedBody> {
  const coding = codingFor(request, body.length);
  if (!coding) return { content: body, coding, contentType };
  const raw = Buffer.from(body, 'utf8');
  const content = coding === 'br'
    ? await brotliAsync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } })
    : await gzipAsync(raw, { level: 1 });
  return { content, coding, contentType };
}

/** The coding a body of `length` characters goes in for this request. */
export function codingFor(request: FastifyRequest, length: number): 'br' | 'gzip' | null {
  return length < MIN_GZIP_BYTES ? null : chooseCoding(request.headers['accept-encoding']);
}

export function sendPrepared(reply: FastifyReply, p: PreparedBody): FastifyReply {
  reply.type(p.contentType).header('vary', appendVary(reply.getHeader('vary'), 'Accept-Encoding'));
  if (p.coding) reply.header('content-encoding', p.coding);
  return reply.send(p.content);
}

export function sendJson(request: FastifyRequest, reply: FastifyReply, value: unknown): Promise<FastifyReply> {
  return sendBody(request, reply, JSON.stringify(value), 'application/json; charset=utf-8');
}

/**
 * The coding to answer with for an Accept-Encoding header: brotli, then gzip, whichever the client
 * allows (`br`, `gzip;q=0.5`, `*`; not `gzip;q=0`); null for none.
 */
export function chooseCoding(header: string | string[] | undefined): 'br' | 'gzip' | null {
  const allowed = new Map<string, boolean>();
  for (const part of (Array.isArray(header) ? header.join(',') : header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    allowed.set(name === 'x-gzip' ? 'gzip' : name, q === undefined || Number(q.slice(2)) > 0);
  }
  const ok = (c: string) => allowed.get(c) ?? (allowed.get('*') === true);
  return ok('br') ? 'br' : ok('gzip') ? 'gzip' : null;
}

function appendVary(current: unknown, name: string): string {
  const now = typeof current === 'string' ? current : '';
  return now ? (now.toLowerCase().includes(name.toLowerCase()) ? now : `${now}, ${name}`) : name;
}
