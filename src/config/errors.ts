/**
 * Problems found in configuration files (nodepool.yaml, clouds.yaml, secure.yaml), each pointing
 * at the exact place an operator has to edit.
 */
import { echo } from './echo.ts';

/**
 * Most problems reported for one file; past it they are counted ("… and 99,800 more"), so that a
 * file of 100,000 unknown keys is checked in a second and its report can still be read.
 */
export const MAX_ISSUES = 200;

export interface ConfigIssue {
  /** Where in the document, e.g. `providers[0].pools[0].max-servers`; '' for the whole file. */
  path: string;
  /** 1-based; 0 when the problem has no place in a file (unreadable file, environment variable). */
  line: number;
  /** 1-based; 0 with line 0. */
  column: number;
  message: string;
  /** File the issue is in, when it is not the file the error is about (secure.yaml, the environment). */
  file?: string;
}

/** One line per issue, as compilers print them: `file:line:col: path: message`. */
export function formatIssue(issue: ConfigIssue, file: string, severity?: 'warning'): string {
  const where = issue.line > 0 ? `${issue.file ?? file}:${issue.line}:${issue.column}` : (issue.file ?? file);
  const path = issue.path ? `${issue.path}: ` : '';
  return `${where}: ${severity ? `${severity}: ` : ''}${path}${issue.message}`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `… and 12 more errors` when `total` is more than the issues listed; null otherwise. */
export function moreLine(listed: number, total: number, word: string): string | null {
  return total > listed ? `… and ${(total - listed).toLocaleString('en-US')} more ${word}${total - listed === 1 ? '' : 's'}` : null;
}

/**
 * The configuration cannot be used. Carries every problem found, not just the first (the first
 * MAX_ISSUES of `total`).
 */
export class ConfigError extends Error {
  readonly file: string;
  readonly issues: ConfigIssue[];
  /** Problems found, listed or not. */
  readonly total: number;

  constructor(file: string, issues: ConfigIssue[], headline?: string, total = issues.length) {
    const lines = issues.map((issue) => `  ${formatIssue(issue, file)}`);
    const more = moreLine(issues.length, total, 'error');
    super([headline ?? `${file}: ${plural(total, 'error')}`, ...lines, ...(more ? [`  ${more}`] : [])].join('\n'));
    this.name = 'ConfigError';
    this.file = file;
    this.issues = issues;
    this.total = total;
  }
}

/** A provider names a cloud that no clouds.yaml, secure.yaml or OS_* variable defines. */
export class UnknownCloudError extends ConfigError {
  readonly cloud: string;
  /** Every file looked for, in openstacksdk's order. */
  readonly searched: string[];

  constructor(cloud: string, searched: string[], known: string[], fileIssues: ConfigIssue[]) {
    const found = known.length ? `clouds defined: ${known.join(', ')}` : 'no clouds are defined';
    super(
      'clouds.yaml',
      fileIssues,
      `cloud ${echo.value(cloud)} is not defined in clouds.yaml or by OS_* variables (${found}; looked in: ${folders(searched)})`,
    );
    this.name = 'UnknownCloudError';
    this.cloud = cloud;
    this.searched = searched;
  }
}

/**
 * The search list, shortened folder by folder: `/etc/openstack/{clouds,secure}.{yaml,yml,json}`.
 * Files named by OS_CLIENT_CONFIG_FILE / OS_CLIENT_SECURE_FILE are shown as they are.
 */
function folders(paths: string[]): string {
  const entries: (string | { dir: string; names: Set<string> })[] = [];
  const byDir = new Map<string, { dir: string; names: Set<string> }>();
  for (const p of paths) {
    const m = /^(.*\/)(clouds|secure)\.(yaml|yml|json)$/.exec(p);
    if (!m) {
      entries.push(p);
      continue;
    }
    let group = byDir.get(m[1]);
    if (!group) {
      group = { dir: m[1], names: new Set() };
      byDir.set(m[1], group);
      entries.push(group);
    }
    group.names.add(m[2]);
  }
  return entries
    .map((e) => (typeof e === 'string' ? e : `${e.dir}${e.names.size > 1 ? `{${[...e.names].join(',')}}` : [...e.names][0]}.{yaml,yml,json}`))
    .join(', ');
}
