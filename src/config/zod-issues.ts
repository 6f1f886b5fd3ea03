/**
 * zod's issues, told in an operator's words and placed on the YAML node they are about: an unknown
 * key at the key itself (with the key it probably meant), a missing key at the mapping it belongs
 * in, a wrong value at the value.
 */
import type { z } from 'zod';
import { echoFor, type Echo } from './echo.ts';
import { MAX_ISSUES, type ConfigIssue } from './errors.ts';
import { formatPath, hasNode, locate } from './yaml-source.ts';
import type { PathSegment, YamlSource } from './yaml-source.ts';

/**
 * The first `cap` problems zod found, placed and worded; `total` counts them all (an unknown key
 * each), so a file of 10^5 unknown keys costs 200 lookups, not 10^5.
 */
export function zodIssuesToConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  source: YamlSource,
  data: unknown,
  schema: z.ZodType,
  echo: Echo = echoFor(),
  cap = MAX_ISSUES,
): { issues: ConfigIssue[]; total: number } {
  issues = withFallbacks(issues, data, schema);
  const out: ConfigIssue[] = [];
  let total = 0;
  // `max-server: 3` is one mistake, not two: when an unknown key looks like a missing one, the
  // "did you mean" says it all and the missing key is not reported on its own.
  const meant = new Set<string>();
  let hinted = 0;
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const known = knownKeys(schema, issue.path as PathSegment[]);
    for (const key of issue.keys) {
      if (hinted++ >= cap) break;
      const hint = closest(key, known);
      if (hint) meant.add(formatPath([...(issue.path as PathSegment[]), hint]));
    }
  }
  for (const issue of issues) {
    const path = issue.path as PathSegment[];
    if (issue.code === 'unrecognized_keys') {
      total += issue.keys.length;
      const known = knownKeys(schema, path);
      for (const key of issue.keys.slice(0, Math.max(0, cap - out.length))) {
        const keyPath = [...path, key];
        const hint = closest(key, known);
        // Known through another option of a union (a key of the openstack driver on a static
        // provider): the key is right, the entry's kind is not the one that takes it.
        const why = hint === key ? ' (a key of another driver, not of this one)' : hint ? ` (did you mean "${hint}"?)` : '';
        out.push({
          path: formatPath(keyPath),
          ...locate(source, keyPath, 'key'),
          message: `unknown key ${JSON.stringify(key.length > 200 ? `${key.slice(0, 200)}…` : key)}${why}`,
        });
      }
      continue;
    }
    const last = path[path.length - 1];
    const missing = typeof last === 'string' && !hasNode(source, path) && hasNode(source, path.slice(0, -1));
    if (missing && meant.has(formatPath(path))) continue;
    total++;
    if (out.length >= cap) continue;
    out.push({
      path: formatPath(path),
      ...locate(source, path),
      message: missing ? `missing required key "${last}"` : describeIssue(issue, valueAt(data, path), echo, path),
    });
  }
  return { issues: out, total };
}

/**
 * An issue in an operator's words; `value` is what the document holds at the issue's path, shown
 * through `echo` (which never shows an opened sealed value).
 */
export function describeIssue(issue: z.core.$ZodIssue, value: unknown, echo: Echo = echoFor(), path?: readonly PathSegment[]): string {
  const found = () => echo.value(value, path);
  switch (issue.code) {
    case 'invalid_type':
      if (!issue.message.startsWith('Invalid input')) return issue.message;
      return `expected ${typeName(issue.expected)}, found ${found()}`;
    case 'invalid_value':
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, found ${found()}`;
    case 'too_small':
      if (issue.origin === 'number') return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}, found ${found()}`;
      return issue.message;
    case 'too_big':
      if (issue.origin === 'number') return `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}, found ${found()}`;
      return issue.message;
    case 'invalid_union':
      // A provider's `driver` that names no driver (the discriminator of the providers' union).
      if ('note' in issue && issue.note === 'No matching discriminator' && 'options' in issue && Array.isArray(issue.options)) {
        return `expected ${(issue.options as unknown[]).map((v) => JSON.stringify(v)).join(' or ')}, found ${found()}`;
      }
      return issue.message;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.slice(0, 10).map((k) => `"${k}"`).join(', ')}${issue.keys.length > 10 ? ` and ${issue.keys.length - 10} more` : ''}`;
    default:
      return issue.message;
  }
}

function typeName(expected: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping',
    record: 'a mapping',
  };
  return names[expected] ?? expected;
}

export function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

/**
 * Keys the schema allows at `path`, found by following the schema's own definition. Through a
 * union (the providers of every driver), every option that has the path counts.
 */
function knownKeys(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  const keys = schemasAt(schema, path).flatMap((s) => {
    const def = s._zod.def as { type: string; shape?: Record<string, unknown> };
    return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
  });
  return [...new Set(keys)];
}

/** The schemas that may apply at `path` (every option of a union on the way), unwrapped; `expand: false` keeps a union at the end whole. */
function schemasAt(schema: z.ZodType, path: readonly PathSegment[], expand = true): z.core.$ZodType[] {
  const start = unwrap(schema);
  let level: z.core.$ZodType[] = start ? (path.length || expand ? options(start) : [start]) : [];
  path.forEach((seg, i) => {
    level = level.flatMap((s) => {
      const def = s._zod.def as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType };
      const next = def.type === 'object' && typeof seg === 'string' ? unwrap(def.shape?.[seg])
        : def.type === 'array' && typeof seg === 'number' ? unwrap(def.element) : undefined;
      if (!next) return [];
      return expand || i < path.length - 1 ? options(next) : [next];
    });
  });
  return level;
}

/**
 * A discriminated union whose discriminator names no option (`driver: openstak`) reports only
 * that; so that every other problem of the entry is still reported in the same pass, the entry is
 * also checked against the union's first option (the OpenStack provider), its own complaint about
 * the discriminator left out.
 */
function withFallbacks(issues: readonly z.core.$ZodIssue[], data: unknown, schema: z.ZodType): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union' || !('note' in issue) || issue.note !== 'No matching discriminator') return [issue];
    const at = issue.path.slice(0, -1) as PathSegment[];
    const key = issue.path[issue.path.length - 1];
    const union = schemasAt(schema, at, false).find((s) => (s._zod.def as { type: string }).type === 'union');
    const first = (union?._zod.def as { options?: z.core.$ZodType[] } | undefined)?.options?.[0];
    if (!first) return [issue];
    const result = (first as z.ZodType).safeParse(valueAt(data, at));
    const more = result.success ? [] : result.error.issues
      .filter((i) => !(i.path.length === 1 && i.path[0] === key))
      .map((i) => ({ ...i, path: [...at, ...i.path] }));
    return [issue, ...more];
  });
}

/** A union's options (each unwrapped), or the schema itself. */
function options(s: z.core.$ZodType): z.core.$ZodType[] {
  const def = s._zod.def as { type: string; options?: z.core.$ZodType[] };
  if (def.type !== 'union') return [s];
  return (def.options ?? []).flatMap((o) => { const u = unwrap(o); return u ? options(u) : []; });
}

function unwrap(s: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let cur = s;
  for (;;) {
    const def = cur?._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType } | undefined;
    if (!def) return cur;
    if (def.innerType && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch'].includes(def.type)) cur = def.innerType;
    else if (def.type === 'pipe' && def.in) cur = def.in;
    else return cur;
  }
}

/** The known key a typo most likely meant: at most two edits away, or differing only in `-`/`_`. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const norm = (s: string) => s.toLowerCase().replace(/_/g, '-');
  for (const c of candidates) {
    const d = norm(c) === norm(word) ? 0 : editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.min(2, Math.floor(word.length / 2)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
