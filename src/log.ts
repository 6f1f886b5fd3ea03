import { pino, type Logger, type DestinationStream } from 'pino';
import { scrubSecrets } from './secrets/known.ts';

export type { Logger };

/** Fields that may carry secrets; pino replaces them with "[redacted]" wherever they appear. */
export const REDACT_PATHS = [
  'password', '*.password', '*.*.password', 'secret', '*.secret', '*.*.secret',
  'token', '*.token', 'authorization', '*.authorization', '*.headers["x-auth-token"]',
  '*.headers.authorization', 'application_credential_secret', '*.application_credential_secret',
  'applicationCredentialSecret', '*.applicationCredentialSecret', 'secretKey', '*.secretKey',
];

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
    level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid },
    // Redaction covers known field names; this covers the values themselves wherever they appear.
    hooks: { streamWrite: scrubSecrets },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
