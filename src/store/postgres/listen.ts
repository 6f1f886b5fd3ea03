import type pg from 'pg';
import type { StoreEvent } from '../store.ts';
import { createClient, type ConnectOptions } from './connect.ts';
import { CHANNEL } from './rows.ts';

/**
 * One connection that LISTENs for the changes every process announces (rows.ts sends them with
 * each write). Events from this process's own store are skipped here, since the store hands them
 * to its listeners as soon as its write returns. A lost connection is opened again after a delay
 * that doubles up to `maxDelayMs`; what was announced meanwhile is missed, which is why the
 * readers (the launcher's mirror, the API's long-poll) also re-read on a timer.
 */
export class ChangeListener {
  private client: pg.Client | null = null;
  private closed = false;
  private delayMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Resolves once the first LISTEN is in place (or failed). */
  readonly ready: Promise<void>;
  /** Announcements received, own ones included. */
  received = 0;
  /** Times the connection was lost. */
  lost = 0;

  constructor(
    private readonly conn: ConnectOptions,
    private readonly origin: string,
    private readonly deliver: (e: StoreEvent) => void,
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
      await client.query(`LISTEN ${CHANNEL}`);
      this.delayMs = this.opts.minDelayMs ?? 100;
    } catch (err) {
      this.onLost(client, err as Error);
    }
  }

  private onNotification(m: pg.Notification): void {
    this.received++;
    if (!m.payload) return;
    const p = JSON.parse(m.payload) as StoreEvent & { origin: string };
    if (p.origin === this.origin) return;
    this.deliver(p.row ? { kind: p.kind, id: p.id, state: p.state, row: p.row } : { kind: p.kind, id: p.id, state: p.state });
  }

  private onLost(client: pg.Client, err: Error | null): void {
    if (this.client !== client) return;
    this.client = null;
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
