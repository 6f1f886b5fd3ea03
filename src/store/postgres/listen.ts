import type pg from 'pg';
import type { StoreEvent } from '../store.ts';
import { createClient, type ConnectOptions } from './connect.ts';

/**
 * One connection that LISTENs for the changes every process announces (rows.ts sends them with
 * each write) on the channels `channels()` names, followed again by `sync()` when they change.
 * Events from this process's own store are skipped here, since the store hands them to its
 * listeners as soon as its write returns. A lost connection is opened again after a delay that
 * doubles up to `maxDelayMs`; what was announced meanwhile is missed, which is why the readers
 * (the launcher's mirror, the API's long-poll) also re-read on a timer.
 */
export class ChangeListener {
  private client: pg.Client | null = null;
  private closed = false;
  private delayMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  /** The channels the connection listens on now; LISTEN and UNLISTEN run one after another on `syncing`. */
  private listening = new Set<string>();
  private syncing: Promise<void> = Promise.resolve();
  /** The client once connected (LISTEN waits for it). */
  private connected: pg.Client | null = null;
  /** Resolves once the first LISTEN is in place (or failed). */
  readonly ready: Promise<void>;
  /** Announcements received, own ones included. */
  received = 0;
  /** Times the connection was lost. */
  lost = 0;

  constructor(
    private readonly conn: ConnectOptions,
    private readonly origin: string,
    private readonly channels: () => ReadonlySet<string>,
    private readonly deliver: (e: StoreEvent, channel: string) => void,
    private readonly opts: { minDelayMs?: number; maxDelayMs?: number; onError?: (err: Error) => void } = {},
  ) {
    this.delayMs = opts.minDelayMs ?? 100;
    this.ready = this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = createClient({ ...this.conn, applicationName: `${this.conn.applicationName ?? 'nodepool'}:listen` });
    this.client = client;
    client.on('notification', (m) => this.onNotification(m));
    client.on('error', (err) => this.onLost(client, err));
    client.on('end', () => this.onLost(client, null));
    try {
      await client.connect();
    } catch (err) {
      this.onLost(client, err as Error);
      return;
    }
    if (this.client !== client) return;
    this.connected = client;
    this.listening = new Set();
    await this.sync();
    if (this.client === client) this.delayMs = this.opts.minDelayMs ?? 100;
  }

  /** Listens on the channels now wanted, and no longer on the others. */
  sync(): Promise<void> {
    const c = this.connected;
    if (!c || c !== this.client) return this.syncing;
    this.syncing = this.syncing.then(() => (this.client === c ? this.follow(c) : undefined)).catch((err: Error) => this.onLost(c, err));
    return this.syncing;
  }

  private async follow(client: pg.Client): Promise<void> {
    const want = this.channels();
    for (const ch of want) {
      if (this.listening.has(ch)) continue;
      await client.query(`LISTEN "${ch}"`);
      this.listening.add(ch);
    }
    for (const ch of [...this.listening]) {
      if (want.has(ch)) continue;
      await client.query(`UNLISTEN "${ch}"`);
      this.listening.delete(ch);
    }
  }

  private onNotification(m: pg.Notification): void {
    this.received++;
    if (!m.payload) return;
    const p = JSON.parse(m.payload) as StoreEvent & { origin: string };
    if (p.origin === this.origin) return;
    this.deliver(p.row ? { kind: p.kind, id: p.id, state: p.state, row: p.row } : { kind: p.kind, id: p.id, state: p.state }, m.channel);
  }

  private onLost(client: pg.Client, err: Error | null): void {
    if (this.client !== client) return;
    this.client = null;
    if (this.connected === client) this.connected = null;
    client.removeAllListeners('end');
    client.on('error', () => {});
    void client.end().catch(() => {});
    if (this.closed) return;
    this.lost++;
    if (err) this.opts.onError?.(err);
    this.retryTimer = setTimeout(() => { this.retryTimer = null; void this.connect(); }, this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, this.opts.maxDelayMs ?? 5000);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const c = this.client;
    this.client = null;
    if (c) {
      c.removeAllListeners('end');
      c.on('error', () => {});
      await c.end().catch(() => {});
    }
  }
}
