/**
 * Configuration changes without a restart: nodepool.yaml (and the files it depends on, clouds.yaml
 * and secure.yaml) read again every `reload-interval`, and each new content checked with the same
 * loader as at start. Polling a hash of the contents rather than watching the files: editors that
 * write a new file and rename it over the old one, configuration managers that rewrite a file
 * unchanged, and files on network mounts all look the same to it; reading a few kilobytes every
 * few seconds costs nothing measurable.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../log.ts';
import { ConfigError } from './errors.ts';
import { loadConfig } from './load.ts';
import type { Config } from './types.ts';

export type ReloadResult = 'unchanged' | 'applied' | 'refused';

export interface ConfigWatcherOptions {
  /** nodepool.yaml. */
  path: string;
  /** The configuration running now (read from `path` at start). */
  current: Config;
  /** Milliseconds between two reads; 0 = never (start() does nothing). */
  intervalMs: number;
  logger: Logger;
  /**
   * Other files the configuration depends on (clouds.yaml, secure.yaml), looked up once per
   * configuration (finding them reads and parses them) and read again at each check.
   */
  related?: (config: Config) => string[];
  /**
   * Puts a valid new configuration in place; throwing refuses it and the previous one keeps
   * running. `relatedChanged`: a file of `related` changed since the last configuration applied.
   */
  apply: (next: Config, previous: Config, relatedChanged: boolean) => Promise<void>;
  /** Told of every change seen, applied or refused (metrics). */
  onResult?: (result: 'applied' | 'refused') => void;
  /** Reads and validates the file; default loadConfig (the loader of the start). */
  load?: (path: string) => Config;
}

export class ConfigWatcher {
  private config: Config;
  /** Fingerprint of the contents last looked at, applied or refused: each content is judged once. */
  private seen: string;
  /** Fingerprint of the related files when the configuration in effect was applied. */
  private appliedRelated: string;
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<ReloadResult> | null = null;
  private readonly relatedOf = new WeakMap<Config, string[]>();

  constructor(private readonly opts: ConfigWatcherOptions) {
    this.config = opts.current;
    this.seen = this.fingerprint(opts.current);
    this.appliedRelated = this.relatedPrint(opts.current);
  }

  /** The configuration in effect: the start's, or the last one applied. */
  get current(): Config {
    return this.config;
  }

  start(): void {
    if (this.opts.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => { void this.check(); }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** Stops reading; waits for a reload under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.checking;
  }

  /** Reads the files once: applies a changed valid configuration, refuses an invalid one. Never two at once. */
  check(): Promise<ReloadResult> {
    this.checking ??= this.checkOnce().finally(() => { this.checking = null; });
    return this.checking;
  }

  private async checkOnce(): Promise<ReloadResult> {
    const print = this.fingerprint(this.config);
    if (print === this.seen) return 'unchanged';
    this.seen = print;
    const log = this.opts.logger;
    let next: Config;
    try {
      next = (this.opts.load ?? loadConfig)(this.opts.path);
    } catch (err) {
      if (!(err instanceof ConfigError)) {
        log.error({ err, file: this.opts.path }, 'configuration refused: it could not be read');
        return this.refused(1, 'the configuration file could not be read');
      }
      this.logIssues(err);
      return this.refused(err.total, 'the configuration file has errors');
    }
    try {
      await this.opts.apply(next, this.config, this.relatedPrint(next) !== this.appliedRelated);
    } catch (err) {
      if (err instanceof ConfigError) this.logIssues(err);
      log.error({ err, file: this.opts.path }, `configuration refused: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      return this.refused(err instanceof ConfigError ? err.total : 1, 'it could not be applied');
    }
    this.config = next;
    // What `related` names may differ under the new configuration (another secrets key, another cloud).
    this.seen = this.fingerprint(next);
    this.appliedRelated = this.relatedPrint(next);
    this.opts.onResult?.('applied');
    return 'applied';
  }

  /** One error line per problem, at its file, line and field. */
  private logIssues(err: ConfigError): void {
    for (const issue of err.issues) {
      this.opts.logger.error({ file: issue.file ?? err.file, line: issue.line, column: issue.column, field: issue.path || undefined },
        `configuration refused: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
    }
  }

  private refused(errors: number, why: string): ReloadResult {
    this.opts.logger.warn({ file: this.opts.path, errors }, `configuration not reloaded (${why}): the previous configuration keeps running`);
    this.opts.onResult?.('refused');
    return 'refused';
  }

  /** A hash of every file's content (or its absence), in order. */
  private fingerprint(config: Config): string {
    return hashFiles([this.opts.path, ...this.related(config)]);
  }

  private relatedPrint(config: Config): string {
    return hashFiles(this.related(config));
  }

  private related(config: Config): string[] {
    let files = this.relatedOf.get(config);
    if (!files) {
      files = this.opts.related?.(config) ?? [];
      this.relatedOf.set(config, files);
    }
    return files;
  }
}

function hashFiles(files: string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file).update('\0');
    try {
      hash.update(readFileSync(file));
    } catch (err) {
      hash.update(`unreadable: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}
