/**
 * Cloud credentials from the standard OpenStack places: clouds.yaml, secure.yaml merged over it,
 * and the `envvars` cloud made of OS_* variables, as openstacksdk builds them
 * (docs.openstack.org/openstacksdk, "Configuring OpenStack SDK Applications").
 *
 * The files may hold many clouds for many tools; only the ones a provider names have to be valid,
 * so a broken entry is reported when `resolveCloud` asks for it, with its file and line.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import type { CloudCredentials } from './credentials.ts';
import { readCloudEntry } from './entry.ts';
import type { EntryProblem, RegionResult } from './entry.ts';
import { mergeClouds, readFirst, searchPath } from './files.ts';
import type { CloudsFile } from './files.ts';
import { echo, echoFor } from '../../../src/config/echo.ts';
import { ConfigError, UnknownCloudError, plural } from '../../../src/config/errors.ts';
import type { ConfigIssue } from '../../../src/config/errors.ts';
import { formatPath, hasNode, locate } from '../../../src/config/yaml-source.ts';
import { NO_KEY, unsealEntry, type UnsealFn } from './sealed.ts';
import type { KeyMatcher, PathSegment } from '../../../src/config/yaml-source.ts';

export interface LoadCloudsOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
  /** System folders searched last; default /etc/xdg/openstack and /etc/openstack. */
  siteDirs?: string[];
  /** Opens sealed values (`sealed:v1:...`); without it a sealed value is a problem of its cloud. */
  unseal?: UnsealFn;
}

export interface LoadedClouds {
  /** Every valid cloud, in its first region (or none when it names no region). */
  clouds: Record<string, CloudCredentials>;
  /** Files read: the clouds file and the secure file, when found. */
  files: string[];
  /** Every path looked at, in openstacksdk's order. */
  searched: string[];
  /** OS_CLOUD, else `envvars` when OS_* variables define a cloud, else the only cloud. */
  defaultCloud: string | null;
  /** Each cloud's regions, valid or with the problems found; what `resolveCloud` reads. */
  entries: Record<string, CloudEntryResult>;
  /** Files passed over (unreadable, not YAML), named when a cloud is not found. */
  fileIssues: ConfigIssue[];
}

export interface CloudEntryResult {
  /** Where the entry is defined, for messages: the clouds file, secure.yaml or `(environment)`. */
  file: string;
  regions: { region: string | null; credentials?: CloudCredentials; issues: ConfigIssue[] }[];
}

export const ENVIRONMENT = '(environment)';

/**
 * OS_* variables that only choose a cloud or a file: alone they do not make an `envvars` cloud.
 * OS_REGION_NAME is one of them, yet is read into the `envvars` cloud when there is one.
 */
const SELECTORS = new Set(['OS_CLOUD', 'OS_REGION_NAME', 'OS_CLIENT_CONFIG_FILE', 'OS_CLIENT_SECURE_FILE', 'OS_CLOUD_NAME']);

export function loadClouds(opts: LoadCloudsOptions = {}): LoadedClouds {
  const env = opts.env ?? process.env;
  const home = opts.home ?? homedir();
  const where = { env, cwd: opts.cwd ?? process.cwd(), home, siteDirs: opts.siteDirs };
  const cloudsSearch = searchPath('clouds', where);
  const secureSearch = searchPath('secure', where);
  const clouds = readFirst(cloudsSearch);
  const secure = readFirst(secureSearch);
  const files = [clouds.file, secure.file].filter((f): f is CloudsFile => f !== null);

  const entries: Record<string, CloudEntryResult> = {};
  const merged = mergeClouds(clouds.file?.clouds ?? {}, secure.file?.clouds ?? {});
  for (const [name, raw] of Object.entries(merged)) {
    const locator = fileLocator(name, clouds.file, secure.file);
    const sealed = unsealEntry(raw, opts.unseal ?? NO_KEY);
    entries[name] = {
      file: locator.file,
      regions: readCloudEntry(name, raw, home, echoFor(sealed.sealedPaths)).map((r) => placeProblems(withProblems(r, sealed.problems), locator.place)),
    };
  }
  const envName = addEnvironmentCloud(entries, env, home);

  const valid: Record<string, CloudCredentials> = {};
  for (const [name, entry] of Object.entries(entries)) {
    const first = entry.regions[0];
    if (first?.credentials) valid[name] = first.credentials;
  }
  const names = Object.keys(entries);
  const defaultCloud = env.OS_CLOUD || envName || (names.length === 1 ? names[0] : null);
  return {
    clouds: valid,
    files: files.map((f) => f.path),
    searched: [...cloudsSearch, ...secureSearch],
    defaultCloud,
    entries,
    fileIssues: [...missingNamedFiles(env), ...clouds.issues, ...secure.issues],
  };
}

/**
 * The credentials of cloud `name` in `regionName` (default: the cloud's first region). Throws
 * UnknownCloudError naming the files searched, or ConfigError with each problem of the entry.
 */
export function resolveCloud(loaded: LoadedClouds, name: string, regionName?: string): CloudCredentials {
  const entry = loaded.entries[name];
  if (!entry) throw new UnknownCloudError(name, loaded.searched, Object.keys(loaded.entries), loaded.fileIssues);
  const named = entry.regions.filter((r) => r.region !== null).map((r) => r.region as string);
  let region = entry.regions[0];
  if (regionName && named.length > 0) {
    const hit = entry.regions.find((r) => r.region === regionName);
    if (!hit) {
      throw new ConfigError(
        entry.file,
        [],
        `region ${echo.value(regionName)} is not a region of cloud ${echo.value(name)} in ${entry.file} (its regions: ${echo.names(named)}; names are case sensitive)`,
      );
    }
    region = hit;
  }
  if (!region.credentials) {
    throw new ConfigError(
      entry.file,
      region.issues,
      `cloud ${echo.value(name)}${region.region ? ` (region ${echo.names([region.region])})` : ''} cannot be used: ${plural(region.issues.length, 'problem')}`,
    );
  }
  // A cloud that names no region works in whichever region the provider asks for.
  return regionName && named.length === 0 ? { ...region.credentials, regionName } : region.credentials;
}

/**
 * Adds the cloud the OS_* variables make, named `envvars` (or OS_CLOUD_NAME), and returns its
 * name; null when the variables make none.
 */
function addEnvironmentCloud(entries: Record<string, CloudEntryResult>, env: NodeJS.ProcessEnv, home: string): string | null {
  const raw = environmentCloud(env);
  if (!raw) return null;
  const name = env.OS_CLOUD_NAME || 'envvars';
  const place = (p: EntryProblem): ConfigIssue => ({
    file: ENVIRONMENT,
    path: `OS_${String(p.path[p.path.length - 1] ?? '').toUpperCase()}`,
    line: 0,
    column: 0,
    message: p.message,
  });
  const regions = readCloudEntry(name, raw, home).map((r) => placeProblems(r, place));
  const existing = entries[name];
  if (!existing) {
    entries[name] = { file: ENVIRONMENT, regions };
    return name;
  }
  // openstacksdk refuses this too: which of the two would a provider get?
  const clash = `OS_* variables define a cloud named "${name}" and so does ${existing.file}: rename one (OS_CLOUD_NAME names the environment's cloud)`;
  for (const r of existing.regions) {
    r.issues.push({ file: ENVIRONMENT, path: 'OS_CLOUD_NAME', line: 0, column: 0, message: clash });
    delete r.credentials;
  }
  return name;
}

/** The `envvars` cloud's settings: every OS_* variable as its lower-case key (OS_AUTH_URL → auth_url). */
function environmentCloud(env: NodeJS.ProcessEnv): Record<string, string> | null {
  const keys = Object.keys(env).filter(
    // OS_TEST*, OS_STD*, OS_LOG* belong to test runners, not to clouds (openstacksdk skips them too).
    (k) => k.startsWith('OS_') && !/^OS_(TEST|STD|LOG)/.test(k) && env[k] !== undefined,
  );
  if (!keys.some((k) => !SELECTORS.has(k))) return null;
  const cloud: Record<string, string> = {};
  for (const k of keys) {
    if (SELECTORS.has(k) && k !== 'OS_REGION_NAME') continue;
    cloud[k.slice(3).toLowerCase()] = env[k] as string;
  }
  return cloud;
}

/**
 * openstacksdk passes over a file named by OS_CLIENT_CONFIG_FILE that is not there; say so, or a
 * typo in the variable shows up only as "cloud not found".
 */
function missingNamedFiles(env: NodeJS.ProcessEnv): ConfigIssue[] {
  return (['OS_CLIENT_CONFIG_FILE', 'OS_CLIENT_SECURE_FILE'] as const).flatMap((variable) => {
    const file = env[variable];
    if (!file || existsSync(file)) return [];
    return [{ file: ENVIRONMENT, path: variable, line: 0, column: 0, message: `names ${file}, which does not exist` }];
  });
}

/** A region read from an entry some of whose values could not be unsealed cannot be used. */
function withProblems(r: RegionResult, problems: EntryProblem[]): RegionResult {
  return problems.length ? { region: r.region, problems: [...problems, ...r.problems] } : r;
}

function placeProblems(r: RegionResult, place: (p: EntryProblem) => ConfigIssue): CloudEntryResult['regions'][number] {
  return { region: r.region, credentials: r.credentials, issues: r.problems.map(place) };
}

// Inside a cloud, keys are compared as openstacksdk does (`auth-url` is `auth_url`); the cloud's
// own name (`clouds.<name>`, depths 0 and 1) is compared as written.
const sameKey: KeyMatcher = (segment, key, depth) =>
  key !== null && segment === (depth < 2 ? key : key.replace(/-/g, '_'));

/**
 * Places a problem of cloud `name` in the file its value came from: secure.yaml when it sets the
 * value (it overrides), else clouds.yaml; a missing key at the cloud's own name.
 */
function fileLocator(name: string, clouds: CloudsFile | null, secure: CloudsFile | null) {
  const files = [secure, clouds].filter((f): f is CloudsFile => f !== null && name in f.clouds);
  const home = files[files.length - 1];
  const place = (p: EntryProblem): ConfigIssue => {
    const inEntry: PathSegment[] = p.region !== undefined ? ['regions', p.region, 'values', ...p.path] : p.path;
    const path: PathSegment[] = ['clouds', name, ...inEntry];
    const holder = p.missing ? undefined : files.find((f) => hasNode(f.source, path, sameKey));
    const file = holder ?? home;
    const at = holder ? locate(file.source, path, 'value', sameKey) : locate(file.source, ['clouds', name], 'key', sameKey);
    return { file: file.path, path: formatPath(path), ...at, message: p.message };
  };
  return { file: home.path, place };
}
