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
        out.push({
          path: formatPath(keyPath),
          ...locate(source, keyPath, 'key'),
          message: `unknown key ${JSON.stringify(key.length > 200 ? `${key.slice(0, 200)}…` : key)}${hint ? ` (did you mean "${hint}"?)` : ''}`,
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

/** Keys the schema allows at `path`, found by following the schema's own definition. */
function knownKeys(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  let s: z.core.$ZodType | undefined = unwrap(schema);
  for (const seg of path) {
    const def = s?._zod.def as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType } | undefined;
    if (def?.type === 'object' && typeof seg === 'string') s = unwrap(def.shape?.[seg]);
    else if (def?.type === 'array' && typeof seg === 'number') s = unwrap(def.element);
    else return [];
  }
  const def = s?._zod.def as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
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
