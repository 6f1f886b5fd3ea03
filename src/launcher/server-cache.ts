import type { ProviderAdapter, ServerView } from '../../providers/provider.ts';
import type { Logger } from '../log.ts';
import type { ProviderCloudView } from './plan-input.ts';

/**
 * One cached server list per provider (DESIGN promise 8): the launcher never asks for one server
 * at a time. A complete list is fetched every `fullIntervalMs`; between them, while something is
 * waiting on the cloud (a boot, a delete), an incremental list with Nova's `changes-since` returns
 * only the servers that changed (deleted ones with status DELETED), which is cheap at any fleet size.
 *
 * `changes-since` compares with the cloud's own clock, so the cut-off is taken from the newest
 * `updated` time the cloud has shown us, minus one second: Nova stores `updated_at` to the second
 * (MySQL rounds, so a change can carry a time up to half a second ahead of one made after it).
 */
/**
 * How long a server seen DELETED is remembered: a node waiting on its delete reads it at the next
 * pass, milliseconds later; Nova keeps deleted servers in `changes-since` lists about as long.
 */
const GONE_KEPT_MS = 10 * 60_000;

export class ServerCache {
  readonly view: ProviderCloudView = { servers: new Map(), gone: new Map(), refreshedAt: null, fullRefreshedAt: null, fullRefreshSeq: 0 };
  private newestUpdated: number | null = null;
  private running: Promise<void> | null = null;
  /** Calls that failed in a row; the launcher backs off on them. */
  failures = 0;
  /** When the last list was asked for, whether it answered or failed (ms). */
  attemptedAt: number | null = null;
  /** How long the last list took (ms), to pace lists by their own cost. */
  lastDurationMs = 0;
  lastError: unknown = null;

  constructor(
    private readonly adapter: ProviderAdapter,
    private readonly opts: { now: () => number; logger: Logger; fullIntervalMs: number; marginMs?: number },
  ) {}

  /** A new refresh-interval (a configuration reload). */
  setFullInterval(ms: number): void {
    this.opts.fullIntervalMs = ms;
  }

  /** Whether the next refresh should be a complete list. */
  dueForFull(now: number): boolean {
    return this.view.fullRefreshedAt === null || this.newestUpdated === null || now - this.view.fullRefreshedAt >= this.opts.fullIntervalMs;
  }

  /** Refreshes the view; concurrent callers share one call. */
  refresh(full = this.dueForFull(this.opts.now())): Promise<void> {
    if (!this.running) {
      this.running = this.doRefresh(full).finally(() => { this.running = null; });
    }
    return this.running;
  }

  get busy(): boolean {
    return this.running !== null;
  }

  private async doRefresh(full: boolean): Promise<void> {
    const started = this.opts.now();
    this.attemptedAt = started;
    try {
      if (full) {
        const servers = await this.adapter.listServers();
        this.view.servers = new Map(servers.filter((s) => s.state !== 'deleted').map((s) => [s.id, s]));
        this.view.fullRefreshedAt = started;
        this.view.fullRefreshSeq++;
        this.trackUpdated(servers);
      } else {
        const since = new Date((this.newestUpdated ?? started) - (this.opts.marginMs ?? 1000));
        const servers = await this.adapter.listServers({ changesSince: since });
        for (const s of servers) {
          if (s.state === 'deleted') {
            this.view.servers.delete(s.id);
            if (!this.view.gone.has(s.id)) this.view.gone.set(s.id, started);
          } else this.view.servers.set(s.id, s);
        }
        this.trackUpdated(servers);
      }
      for (const [id, at] of this.view.gone) if (at < started - GONE_KEPT_MS) this.view.gone.delete(id);
      this.view.refreshedAt = started;
      this.lastDurationMs = this.opts.now() - started;
      this.failures = 0;
      this.lastError = null;
    } catch (err) {
      this.failures++;
      this.lastError = err;
      this.opts.logger.warn({ provider: this.adapter.name, err, full }, 'server list failed');
    }
  }

  private trackUpdated(servers: ServerView[]): void {
    for (const s of servers) {
      const t = s.updated ? Date.parse(s.updated) : NaN;
      if (!Number.isNaN(t) && (this.newestUpdated === null || t > this.newestUpdated)) this.newestUpdated = t;
    }
    // No server to read the cloud's clock from: stay generous (a minute) about clock skew.
    if (this.newestUpdated === null && servers.length === 0) this.newestUpdated = this.opts.now() - 60_000;
  }
}
