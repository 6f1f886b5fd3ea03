import { pino, type Logger, type DestinationStream } from 'pino';
import { scrubSecrets } from './secrets/known.ts';

export type { Logger };

/**
 * Names of fields that may carry secrets (compared without case): their values are written as
 * "[redacted]" wherever they appear in a log line's fields, down to the fourth level (`{password}`,
 * `{auth: {password}}`, `{err: {config: {headers: {"X-Auth-Token"}}}}`).
 */
const SECRET_FIELDS: ReadonlySet<string> = new Set([
  'password', 'secret', 'token', 'authorization', 'x-auth-token', 'application_credential_secret',
  'applicationcredentialsecret', 'secretkey',
]);
const MAX_DEPTH = 4;
const CENSOR = '[redacted]';

/**
 * A log line's fields with every secret-named field's value replaced, copying only the objects on
 * the way to one (most lines have none, and are returned as they are). Only plain objects, arrays
 * and errors are looked into; an error with a secret inside is written as pino writes errors
 * (type, message, stack and its fields). pino's own `redact` did this with wildcard paths
 * (`*.password`) at about 11 µs of CPU a line, three times the cost of the rest of a line.
 */
export function redactSecrets(fields: Record<string, unknown>): Record<string, unknown> {
  return redactObject(fields, 1);
}

function redactValue(v: unknown, depth: number): unknown {
  if (v === null || typeof v !== 'object' || depth > MAX_DEPTH) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const r = redactValue(v[i], depth + 1);
      if (r !== v[i]) (out ??= [...v])[i] = r;
    }
    return out ?? v;
  }
  if (v instanceof Error) {
    // Looked into as it is (pino serializes it once, later); only one with a secret inside is
    // turned into that serialized form here, redacted.
    if (redactObject(v as unknown as Record<string, unknown>, depth) === (v as unknown)) return v;
    return redactObject(pino.stdSerializers.err(v) as unknown as Record<string, unknown>, depth);
  }
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null ? redactObject(v as Record<string, unknown>, depth) : v;
}

function redactObject(o: Record<string, unknown>, depth: number): Record<string, unknown> {
  let out: Record<string, unknown> | null = null;
  for (const k of Object.keys(o)) {
    const v = o[k];
    const r = SECRET_FIELDS.has(k.toLowerCase()) ? (v === undefined ? v : CENSOR) : depth < MAX_DEPTH ? redactValue(v, depth + 1) : v;
    if (r !== v) (out ??= { ...o })[k] = r;
  }
  return out ?? o;
}

export interface LogOptions {
  level?: string;
  destination?: DestinationStream;
}

/**
 * The root logger. JSON lines on stdout by default; `NODEPOOL_LOG_LEVEL` sets the level
 * (tests use `silent` unless asked). Children carry `provider`, `node` and `request` fields.
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.NODEPOOL_LOG_LEVEL ?? 'info';
  const options = {
    level, base: { pid: process.pid }, formatters: { log: redactSecrets, bindings: redactSecrets },
    // Redaction covers known field names; this covers the values themselves wherever they appear.
    hooks: { streamWrite: scrubSecrets },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
