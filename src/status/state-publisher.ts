import type { Launcher } from '../launcher/launcher.ts';
import type { Logger } from '../log.ts';
import type { CallTotals } from '../metrics/call-totals.ts';
import type { Store } from '../store/store.ts';
import { launcherStates, type LocalLauncher } from './launcher-live.ts';

/**
 * Writes a launcher's provider states to the store every `status.publish-interval` and at once
 * when a provider's health changes, so that processes without this launcher (API servers, the
 * CLI with `--store`) show them (./launcher-live.ts). One store call per publish, one transaction:
 * about a row per provider, a few kB with the cloud-call totals. Publishes never overlap; a
 * change during one makes another right after it. A clean stop removes the launcher's rows.
 */
export interface StatePublisherOptions {
  store: Pick<Store, 'publishProviderStates'>;
  launcher: LocalLauncher & Pick<Launcher, 'onHealthChange'>;
  calls: CallTotals | null;
  intervalMs: number;
  logger: Logger;
  now?: () => number;
}

export class StatePublisher {
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private failing = false;
  private stopped = false;
  private readonly now: () => number;
  publishes = 0;

  constructor(private readonly o: StatePublisherOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Publishes once now, then every interval and on each health change. */
  start(): void {
    this.stopped = false;
    this.unsubscribe = this.o.launcher.onHealthChange((provider) => {
      this.o.logger.info({ launcher: this.o.launcher.name, provider }, 'provider health changed: publishing provider states');
      void this.publish();
    });
    this.timer = setInterval(() => { void this.publish(); }, this.o.intervalMs);
    void this.publish();
  }

  /** Writes the current states; resolves when this state (or a later one) is written or has failed. */
  publish(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.writeOnce();
      } while (this.again && !this.stopped);
    })().finally(() => { this.running = null; });
    return this.running;
  }

  private async writeOnce(): Promise<void> {
    const name = this.o.launcher.name;
    try {
      await this.o.store.publishProviderStates(name, launcherStates(this.o.launcher, this.o.calls, this.now()));
      this.publishes++;
      if (this.failing) this.o.logger.info({ launcher: name }, 'provider states published again');
      this.failing = false;
    } catch (err) {
      // Logged once per outage, not every interval; readers see the rows go stale meanwhile.
      if (!this.failing) this.o.logger.error({ err, launcher: name }, 'publishing provider states failed');
      this.failing = true;
    }
  }

  /** Stops publishing and removes this launcher's rows, so readers do not wait for them to go stale. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await this.running;
    try {
      await this.o.store.publishProviderStates(this.o.launcher.name, []);
      this.o.logger.info({ launcher: this.o.launcher.name }, 'provider states removed from the store');
    } catch (err) {
      this.o.logger.warn({ err, launcher: this.o.launcher.name }, 'removing provider states failed: they will show as stale');
    }
  }
}
