/**
 * Small helpers shared by the simulated services: ids, the timestamp formats each service uses,
 * and Python's repr (Nova's validation messages embed the request as Python prints it).
 */
import { randomBytes, randomUUID } from 'node:crypto';

/** Keystone ids are uuid4 hex without dashes. */
export function hexId(): string {
  return randomUUID().replace(/-/g, '');
}

export function uuid(): string {
  return randomUUID();
}

export function requestId(): string {
  return `req-${randomUUID()}`;
}

/** Letters and digits, as Nova's generated adminPass (12) and similar tokens. */
export function randomAlnum(length: number): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i] % alphabet.length];
  return out;
}

/** Neutron's MAC prefix for ports it allocates. */
export function randomMac(): string {
  const b = randomBytes(3);
  return `fa:16:3e:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
}

/** `2026-11-26T11:36:32Z`: Nova's created/updated, Glance, Neutron. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `2026-11-26T11:36:33.000000`: Nova's OS-SRV-USG timestamps (no zone). */
export function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

/** `2026-11-27T11:35:09.000000Z`: Keystone's expires_at / issued_at. */
export function keystoneTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

function pyString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch < ' ' || ch === '\x7f') out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return quote + out + quote;
}

/** The value as Python's repr() prints the parsed JSON (dicts keep the request's key order). */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return pyString(v);
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    const parts = Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyString(k)}: ${pyRepr(x)}`);
    return `{${parts.join(', ')}}`;
  }
  return String(v);
}

/** Parses a query string the way the services read it: repeated keys keep every value. */
export function queryOf(url: string): URLSearchParams {
  const i = url.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : url.slice(i + 1));
}
