/**
 * Where clouds.yaml and secure.yaml are found, in the order openstacksdk looks
 * (openstack/config/loader.py): OS_CLIENT_CONFIG_FILE / OS_CLIENT_SECURE_FILE first, then in each
 * of the current directory, the user's config directory and the site's, `clouds.yaml`,
 * `clouds.yml`, `clouds.json`. The first file found wins; secure.yaml is looked for the same way
 * and merged over it, so every OpenStack tool and this one read the same credentials.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigIssue } from '../../../src/config/errors.ts';
import { readConfigText } from '../../../src/config/read-file.ts';
import { locate, parseYaml } from '../../../src/config/yaml-source.ts';
import type { YamlSource } from '../../../src/config/yaml-source.ts';

export interface CloudsLocations {
  env: NodeJS.ProcessEnv;
  cwd: string;
  home: string;
  /** System folders, last in the search; default `$XDG_CONFIG_DIRS/openstack` (/etc/xdg/openstack) and /etc/openstack. */
  siteDirs?: string[];
}

const SUFFIXES = ['.yaml', '.yml', '.json'];

/** Every path looked at for `clouds` or `secure`, in order. */
export function searchPath(kind: 'clouds' | 'secure', where: CloudsLocations): string[] {
  const { env, cwd, home } = where;
  const userDir = env.XDG_CONFIG_HOME ? join(env.XDG_CONFIG_HOME, 'openstack') : join(home, '.config', 'openstack');
  const xdgSite = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean).map((d) => join(d, 'openstack'));
  const siteDirs = where.siteDirs ?? [...xdgSite, '/etc/openstack'];
  const dirs = [...new Set([cwd, userDir, join(home, '.config', 'openstack'), ...siteDirs])];
  const files = dirs.flatMap((d) => SUFFIXES.map((s) => join(d, kind + s)));
  const override = kind === 'clouds' ? env.OS_CLIENT_CONFIG_FILE : env.OS_CLIENT_SECURE_FILE;
  return override ? [override, ...files] : files;
}

export interface CloudsFile {
  path: string;
  source: YamlSource;
  /** The `clouds` mapping of the file (empty when it has none). */
  clouds: Record<string, unknown>;
}

/**
 * The first readable file of `paths`. Like openstacksdk, an unreadable file or one that is not
 * valid YAML is passed over for the next; unlike it, the reason is kept, so that "cloud not found"
 * can say which file was skipped and why.
 */
export function readFirst(paths: string[]): { file: CloudsFile | null; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  for (const path of paths) {
    if (!existsSync(path)) continue;
    let text: string;
    try {
      // Not a regular file (a FIFO would block for ever) or too large: passed over like an unreadable one.
      text = readConfigText(path);
    } catch (e) {
      issues.push({ file: path, path: '', line: 0, column: 0, message: `skipped: ${(e as Error).message}` });
      continue;
    }
    const parsed = parseYaml(text, path);
    if (parsed.errors.length > 0) {
      issues.push(...parsed.errors.map((i) => ({ ...i, file: path, message: `skipped: ${i.message}` })));
      continue;
    }
    const data = parsed.data;
    if (!isRecord(data)) {
      issues.push({ file: path, path: '', line: 1, column: 1, message: 'is empty or not a mapping: no clouds read from it' });
      return { file: { path, source: parsed.source, clouds: {} }, issues };
    }
    const clouds = isRecord(data.clouds) ? data.clouds : {};
    if (data.clouds !== undefined && !isRecord(data.clouds)) {
      issues.push({ file: path, path: 'clouds', ...locate(parsed.source, ['clouds']), message: 'must be a mapping of cloud names to settings' });
    }
    return { file: { path, source: parsed.source, clouds }, issues };
  }
  return { file: null, issues };
}

/** openstacksdk's `merge_clouds`: mappings merge key by key, anything else is replaced. */
export function mergeClouds(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isRecord(v) && isRecord(out[k]) ? mergeClouds(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
