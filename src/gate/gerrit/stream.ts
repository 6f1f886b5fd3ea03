import net from 'node:net';
import ssh2 from 'ssh2';
import type { Logger } from '../../log.ts';
import type { ConnectionConfig } from '../config/types.ts';

export interface StreamReaderOptions {
  connection: ConnectionConfig;
  /** OpenSSH private key of the connection's user. */
  privateKey: string;
  logger: Logger;
  /** Every line Gerrit prints, as it arrives. */
  onLine(line: string): void;
  /** Each time the stream is (re)opened: events sent while it was down are lost, so catch up. */
  onConnected(): void;
  /** First delay before reconnecting (ms); doubles on each failure up to `maxDelayMs`. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Reads `gerrit stream-events` over SSH for as long as it runs, opening the session again after
 * 1 s, 2 s, 4 s … (at most a minute) whenever it drops, the way Zuul's Gerrit watcher does.
 * Gerrit's host key is checked against the connection's `host-key` (a server showing another key
 * is refused and tried again with backoff); without one the key shown is accepted and logged.
 * Either way the events are verified against the REST API before anything is enqueued.
 */
export class StreamReader {
  private client: ssh2.Client | null = null;
  private stopped = true;
  private delay: number;
  private timer: NodeJS.Timeout | null = null;
  /** Times the stream was opened. */
  connects = 0;

  constructor(private readonly o: StreamReaderOptions) {
    this.delay = o.minDelayMs ?? 1000;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.client?.end();
    this.client = null;
  }

  private warnedUnpinned = false;

  /** Whether Gerrit's SSH shows a pinned key (any key, logged once, when none is pinned). */
  private verifyHostKey(key: Buffer): boolean {
    const { connection: c, logger } = this.o;
    const seen = key.toString('base64');
    const line = `${sshKeyType(key)} ${seen}`;
    if (!c.hostKeys.length) {
      if (!this.warnedUnpinned && !c.simulated) {
        this.warnedUnpinned = true;
        logger.warn({ connection: c.name, server: `${c.server}:${c.port}`, hostKey: line }, 'gerrit host key not pinned: accepted; set the connection\'s host-key to this key to pin it');
      }
      return true;
    }
    if (c.hostKeys.includes(seen)) return true;
    logger.error({ connection: c.name, server: `${c.server}:${c.port}`, hostKey: line }, 'gerrit host key does not match the connection\'s host-key: refused');
    return false;
  }

  private connect(): void {
    if (this.stopped) return;
    const { connection: c, logger } = this.o;
    const client = new ssh2.Client();
    this.client = client;
    let buffer = '';
    let dropped = false;
    const drop = (why: string) => {
      if (dropped || this.client !== client) return;
      dropped = true;
      this.client = null;
      client.end();
      if (this.stopped) return;
      logger.warn({ connection: c.name, why, retryInMs: this.delay }, 'stream-events dropped; reconnecting');
      this.timer = setTimeout(() => { this.timer = null; this.connect(); }, this.delay);
      this.delay = Math.min(this.delay * 2, this.o.maxDelayMs ?? 60_000);
    };
    client.on('error', (err) => drop(err.message));
    client.on('close', () => drop('connection closed'));
    client.on('ready', () => {
      client.exec('gerrit stream-events', (err, stream) => {
        if (err) return drop(err.message);
        this.connects++;
        this.delay = this.o.minDelayMs ?? 1000;
        logger.info({ connection: c.name, server: `${c.server}:${c.port}` }, 'reading gerrit stream-events');
        this.o.onConnected();
        stream.on('data', (d: Buffer) => {
          buffer += d.toString('utf8');
          let i: number;
          while ((i = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, i).trim();
            buffer = buffer.slice(i + 1);
            if (line) this.o.onLine(line);
          }
        });
        stream.stderr.on('data', (d: Buffer) => logger.warn({ connection: c.name, stderr: d.toString().trim() }, 'gerrit stream-events said'));
        stream.on('close', () => drop('stream-events ended'));
      });
    });
    const sock = net.connect({ host: c.server, port: c.port });
    sock.setNoDelay(true);
    sock.on('error', (err) => drop(err.message));
    sock.once('connect', () => client.connect({
      sock, username: c.user, privateKey: this.o.privateKey, readyTimeout: 20_000, keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer) => this.verifyHostKey(key),
    }));
  }
}

/** The key type an SSH wire-format public key starts with (a length-prefixed string). */
function sshKeyType(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const n = key.readUInt32BE(0);
  return n > 0 && n < 64 && key.length >= 4 + n ? key.subarray(4, 4 + n).toString('latin1') : 'unknown';
}
