/**
 * `nodepool config check FILE`: validate a configuration without starting anything, and say what
 * it contains or everything that is wrong with it.
 */
import { ConfigError, formatIssue, plural } from './errors.ts';
import type { ConfigIssue } from './errors.ts';
import { readConfigFile, validateConfigText } from './load.ts';
import type { Config } from './types.ts';

export interface ConfigCheckResult {
  ok: boolean;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
  /** The report to print, one issue per line: `file:line:col: path: message`. */
  text: string;
}

export function checkConfigFile(path: string): ConfigCheckResult {
  let text: string;
  try {
    text = readConfigFile(path);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return report(path, null, e.issues, []);
  }
  const { config, errors, warnings } = validateConfigText(text, path);
  return report(path, config, errors, warnings);
}

function report(path: string, config: Config | null, errors: ConfigIssue[], warnings: ConfigIssue[]): ConfigCheckResult {
  const ok = errors.length === 0 && config !== null;
  const headline = ok
    ? `${path}: OK (${summary(config!)})`
    : `${path}: ${plural(errors.length, 'error')}${warnings.length ? `, ${plural(warnings.length, 'warning')}` : ''}`;
  const lines = [
    headline,
    ...errors.map((i) => formatIssue(i, path)),
    ...warnings.map((i) => formatIssue(i, path, 'warning')),
  ];
  return { ok, errors, warnings, text: lines.join('\n') };
}

function summary(config: Config): string {
  const pools = config.providers.reduce((n, p) => n + p.pools.length, 0);
  return [
    plural(config.labels.length, 'label'),
    plural(config.providers.length, 'provider'),
    plural(pools, 'pool'),
  ].join(', ');
}
