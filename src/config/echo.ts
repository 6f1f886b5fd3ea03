/**
 * How a problem shows the value it is about (`found "two"`, `label "jamy" is not defined`): the
 * one place a message repeats what a configuration file holds. A value that was sealed
 * (`sealed:v1:...`) is opened before the checks run, so the checks see the clear text; this is
 * where it is kept out of the message, which says "a sealed value" instead. It knows the paths
 * that held sealed values in the document being checked, and every value opened in this process
 * (a name may be echoed from another place: "did you mean", "defined: a, b").
 */
import { wasOpened } from '../secrets/known.ts';
import { formatPath, type PathSegment } from './yaml-source.ts';

export const SEALED = 'a sealed value';

export interface Echo {
  /** The value at `path` as a message shows it: `"text"`, `42`, `a list`, `nothing`, or `a sealed value`. */
  value(value: unknown, path?: readonly PathSegment[]): string;
  /** Names listed in a message (`defined: a, b`), each shown as `value` shows it, unquoted. */
  names(names: readonly string[]): string;
  /** Whether the value (at `path`) came from a sealed one. */
  sealed(value: unknown, path?: readonly PathSegment[]): boolean;
}

/** The echo for one document; `sealedPaths` are the paths whose values were opened. */
export function echoFor(sealedPaths: ReadonlySet<string> = new Set()): Echo {
  const sealed = (value: unknown, path?: readonly PathSegment[]) =>
    (path !== undefined && sealedPaths.has(formatPath(path))) || (typeof value === 'string' && wasOpened(value));
  const value = (v: unknown, path?: readonly PathSegment[]): string => {
    if (sealed(v, path)) return SEALED;
    if (v === null || v === undefined) return 'nothing';
    if (Array.isArray(v)) return 'a list';
    if (typeof v === 'object') return 'a mapping';
    if (typeof v === 'string') return JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…` : v);
    return String(v);
  };
  return {
    value,
    sealed,
    names: (names) => names.map((n) => (sealed(n) ? SEALED : n)).join(', '),
  };
}

/** For messages about values outside a checked document (a cloud named by a provider): opened values only. */
export const echo: Echo = echoFor();
