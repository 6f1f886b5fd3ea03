/**
 * One clouds.yaml entry (after secure.yaml is merged over it) turned into `CloudCredentials`, the
 * way openstacksdk reads it: keys with `-` or `_` alike, auth settings under `auth:` or beside it,
 * `tenant_*` for `project_*`, `domain_*` as a shorthand for both user and project domains,
 * `auth_type` defaulting to `password`, and one set of credentials per region of `regions`.
 *
 * Unknown keys are fine here (clouds.yaml is shared with every OpenStack tool); a key we read with
 * a value of the wrong kind, or a setting the auth type needs and does not have, is an issue.
 */
import { z } from 'zod';
import type { CloudCredentials } from './credentials.ts';
import { isRecord, mergeClouds } from './files.ts';
import type { PathSegment } from '../../../src/config/yaml-source.ts';
import { echoFor, type Echo } from '../../../src/config/echo.ts';
import { describeIssue, valueAt } from '../../../src/config/zod-issues.ts';

/** A problem in an entry, at a path inside the entry; `missing` when a required key is absent. */
export interface EntryProblem {
  path: PathSegment[];
  missing: boolean;
  message: string;
  /** Index in `regions` of the region being read, for values that region overrides. */
  region?: number;
}

export interface RegionResult {
  /** The region's name; null when the cloud names no region (any region may be asked for). */
  region: string | null;
  credentials?: CloudCredentials;
  problems: EntryProblem[];
}

// Numbers are accepted where openstacksdk str()s them: `project_name: 123123` is in its docs.
const text = z.union([z.string(), z.number()], { error: 'must be a string' }).transform(String);
const flag = z.union([z.boolean(), z.enum(['true', 'false', 'True', 'False', 'TRUE', 'FALSE'])], {
  error: 'must be true or false',
});

const AUTH_KEYS = [
  'auth_url',
  'username',
  'user_id',
  'password',
  'user_domain_name',
  'user_domain_id',
  'project_name',
  'project_id',
  'project_domain_name',
  'project_domain_id',
  'domain_name',
  'domain_id',
  'tenant_name',
  'tenant_id',
  'application_credential_id',
  'application_credential_name',
  'application_credential_secret',
] as const;
type AuthKey = (typeof AUTH_KEYS)[number];
const authShape = Object.fromEntries(AUTH_KEYS.map((k) => [k, text.optional()])) as {
  [K in AuthKey]: z.ZodOptional<typeof text>;
};

const regionSchema = z.union([
  text,
  z.strictObject({ name: text, values: z.record(z.string(), z.unknown()).default({}) }),
], { error: 'must be a region name or {name, values}' });

export const cloudEntrySchema = z.looseObject({
  ...authShape,
  auth: z.looseObject(authShape).optional(),
  auth_type: z.string().optional(),
  auth_plugin: z.string().optional(),
  region_name: z.union([text, z.array(text)], { error: 'must be a string' }).optional(),
  regions: z.array(regionSchema).optional(),
  interface: z.string().optional(),
  endpoint_type: z.string().optional(),
  verify: flag.optional(),
  insecure: flag.optional(),
  cacert: z.string().optional(),
  api_timeout: z.custom<number | string>((v) => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN) > 0,
    'must be a number of seconds above 0').optional(),
});
type CloudEntry = z.output<typeof cloudEntrySchema>;

const AUTH_TYPES: Record<string, CloudCredentials['authType']> = {
  password: 'password',
  v3password: 'password',
  v3applicationcredential: 'v3applicationcredential',
  application_credential: 'v3applicationcredential',
};

/** openstacksdk's `normalize_keys`: `auth-url` and `auth_url` are the same key. */
export function normalizeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalizeKeys);
  if (!isRecord(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, val]) => [k.replace(/-/g, '_'), normalizeKeys(val)]));
}

/**
 * Credentials for every region the entry names (or one, region-less, when it names none).
 * Values in messages are shown through `echo`, so an opened sealed value never is.
 */
export function readCloudEntry(cloud: string, raw: unknown, home: string, echo: Echo = echoFor()): RegionResult[] {
  if (!isRecord(raw)) {
    return [{ region: null, problems: [{ path: [], missing: false, message: 'must be a mapping of settings' }] }];
  }
  const entry = normalizeKeys(raw) as Record<string, unknown>;
  const regions = knownRegions(entry, echo);
  if ('problems' in regions) return [{ region: null, problems: regions.problems }];
  if (regions.list.length === 0) return [readRegion(cloud, entry, null, home, echo)];
  return regions.list.map((r) => {
    // Region values win over the cloud's, `auth` merging key by key (openstacksdk's _auth_update).
    const merged = mergeClouds(entry, r.values);
    const result = readRegion(cloud, merged, r.name, home, echo);
    for (const p of result.problems) if (r.values && hasPath(r.values, p.path)) p.region = r.index;
    return result;
  });
}

interface KnownRegion {
  name: string;
  index: number;
  values: Record<string, unknown>;
}

/** `regions` (names or {name, values}), else `region_name` (a comma list is allowed, deprecated). */
function knownRegions(entry: Record<string, unknown>, echo: Echo): { list: KnownRegion[] } | { problems: EntryProblem[] } {
  const parsed = z.object({ regions: cloudEntrySchema.shape.regions, region_name: cloudEntrySchema.shape.region_name }).safeParse(entry);
  if (!parsed.success) return { problems: zodProblems(parsed.error.issues, entry, echo) };
  const { regions, region_name } = parsed.data;
  if (regions) {
    return {
      list: regions.map((r, index) =>
        typeof r === 'string' ? { name: r, index, values: {} } : { name: r.name, index, values: r.values },
      ),
    };
  }
  const names = Array.isArray(region_name) ? region_name : (region_name?.split(',') ?? []);
  return { list: names.map((n) => n.trim()).filter(Boolean).map((name, index) => ({ name, index, values: {} })) };
}

function readRegion(cloud: string, raw: Record<string, unknown>, region: string | null, home: string, echo: Echo): RegionResult {
  const parsed = cloudEntrySchema.safeParse(raw);
  if (!parsed.success) return { region, problems: zodProblems(parsed.error.issues, raw, echo) };
  const problems: EntryProblem[] = [];
  const credentials = toCredentials(cloud, parsed.data, region, home, problems, echo);
  return problems.length ? { region, problems } : { region, credentials, problems };
}

function toCredentials(
  cloud: string,
  e: CloudEntry,
  region: string | null,
  home: string,
  problems: EntryProblem[],
  echo: Echo,
): CloudCredentials | undefined {
  const auth = e.auth ?? {};
  // openstacksdk: project and domain keys beside `auth` override those inside it (they may come
  // from the command line); for the other plugin options `auth` wins.
  const topWins = (key: AuthKey) => e[key] ?? auth[key];
  const authWins = (key: AuthKey) => auth[key] ?? e[key];
  const projectName = topWins('project_name') ?? topWins('tenant_name');
  const projectId = topWins('project_id') ?? topWins('tenant_id');
  const projectScoped = projectName !== undefined || projectId !== undefined;
  // `domain_*` stands for both domains when a project is named; alone it would scope to a domain,
  // which a launcher has no use for.
  const domainName = projectScoped ? topWins('domain_name') : undefined;
  const domainId = projectScoped ? topWins('domain_id') : undefined;

  const c: CloudCredentials = {
    cloud,
    authType: 'password',
    authUrl: authWins('auth_url') ?? '',
    username: authWins('username'),
    userId: authWins('user_id'),
    password: authWins('password'),
    userDomainName: topWins('user_domain_name') ?? domainName,
    userDomainId: topWins('user_domain_id') ?? domainId,
    projectName,
    projectId,
    projectDomainName: topWins('project_domain_name') ?? domainName,
    projectDomainId: topWins('project_domain_id') ?? domainId,
    applicationCredentialId: authWins('application_credential_id'),
    applicationCredentialName: authWins('application_credential_name'),
    applicationCredentialSecret: authWins('application_credential_secret'),
    regionName: region ?? undefined,
    interface: 'public',
    verify: true,
    cacert: e.cacert?.replace(/^~(?=\/|$)/, home),
    ...(e.api_timeout !== undefined ? { apiTimeout: Number(e.api_timeout) } : {}),
  };

  const authTypeKey = e.auth_type !== undefined ? 'auth_type' : 'auth_plugin';
  const authType = e.auth_type ?? e.auth_plugin ?? 'password';
  const known = AUTH_TYPES[authType];
  if (known) c.authType = known;
  else {
    problems.push({
      path: [authTypeKey],
      missing: false,
      message: `auth_type ${echo.value(authType, [authTypeKey])} is not supported: use password or v3applicationcredential`,
    });
  }

  const iface = (e.interface ?? e.endpoint_type ?? 'public').replace(/URL$/, '');
  if (iface === 'public' || iface === 'internal' || iface === 'admin') c.interface = iface;
  else {
    problems.push({
      path: [e.interface !== undefined ? 'interface' : 'endpoint_type'],
      missing: false,
      message: `must be public, internal or admin, found ${echo.value(iface, [e.interface !== undefined ? 'interface' : 'endpoint_type'])}`,
    });
  }

  // `insecure` is the older spelling and, as in openstacksdk, wins when set.
  if (e.verify !== undefined) c.verify = String(e.verify).toLowerCase() === 'true';
  if (e.insecure !== undefined && String(e.insecure).toLowerCase() === 'true') c.verify = false;

  const need = (ok: boolean, key: string, why: string) => {
    if (!ok) problems.push({ path: ['auth', key], missing: true, message: `missing ${why}` });
  };
  need(c.authUrl !== '', 'auth_url', 'auth_url: the Keystone URL');
  if (known === 'password') {
    need(c.username !== undefined || c.userId !== undefined, 'username', 'username (or user_id)');
    need(
      c.password !== undefined,
      'password',
      'password (auth_type is password by default; for an application credential set auth_type: v3applicationcredential)',
    );
  } else if (known === 'v3applicationcredential') {
    need(c.applicationCredentialSecret !== undefined, 'application_credential_secret', 'application_credential_secret');
    need(
      c.applicationCredentialId !== undefined || c.applicationCredentialName !== undefined,
      'application_credential_id',
      'application_credential_id (or application_credential_name with username)',
    );
    if (c.applicationCredentialId === undefined && c.applicationCredentialName !== undefined) {
      need(c.username !== undefined || c.userId !== undefined, 'username', 'username (or user_id): application_credential_name is only unique per user');
    }
  }
  return problems.length ? undefined : c;
}

function zodProblems(issues: readonly z.core.$ZodIssue[], entry: Record<string, unknown>, echo: Echo): EntryProblem[] {
  return issues.map((i) => ({
    path: i.path as PathSegment[],
    missing: false,
    message: describeIssue(i, valueAt(entry, i.path as PathSegment[]), echo, i.path as PathSegment[]),
  }));
}

function hasPath(obj: Record<string, unknown>, path: readonly PathSegment[]): boolean {
  let v: unknown = obj;
  for (const seg of path) {
    if (v === null || typeof v !== 'object' || !(seg in (v as object))) return false;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return true;
}
