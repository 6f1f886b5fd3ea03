/**
 * Sealed values in clouds.yaml and secure.yaml (a cloud password, an application credential
 * secret): opened when the files are read, before the entry is turned into credentials, so a
 * value that cannot be opened is reported at its line like any other problem of the entry.
 */
import { rememberSecret } from '../../../src/secrets/known.ts';
import { isSealed, UnsealError } from '../../../src/secrets/sealed.ts';
import { isRecord } from './files.ts';
import type { EntryProblem } from './entry.ts';
import { formatPath, type PathSegment } from '../../../src/config/yaml-source.ts';

/** Opens one sealed value or throws an UnsealError saying why (never the value). */
export type UnsealFn = (sealed: string) => string;

export const NO_KEY: UnsealFn = () => {
  throw new UnsealError('is sealed, but nothing here opens it: `nodepool run` opens it with the key named by secrets.key-file in nodepool.yaml');
};

/**
 * Replaces, in place, each sealed string of a cloud entry with its clear value; returns the
 * failures, and the paths opened (keys as openstacksdk reads them, `auth-url` as `auth_url`).
 */
export function unsealEntry(raw: unknown, unseal: UnsealFn): { problems: EntryProblem[]; sealedPaths: Set<string> } {
  const problems: EntryProblem[] = [];
  const sealedPaths = new Set<string>();
  const visit = (holder: Record<PathSegment, unknown>, key: PathSegment, path: PathSegment[]) => {
    const v = holder[key];
    if (isSealed(v)) {
      try {
        const clear = unseal(v);
        rememberSecret(clear);
        holder[key] = clear;
        sealedPaths.add(formatPath(path.map((s) => (typeof s === 'string' ? s.replace(/-/g, '_') : s))));
      } catch (e) {
        if (!(e instanceof UnsealError)) throw e;
        problems.push({ path, missing: false, message: `sealed value ${e.message}` });
      }
    } else if (Array.isArray(v)) {
      v.forEach((_, i) => visit(v as unknown as Record<PathSegment, unknown>, i, [...path, i]));
    } else if (isRecord(v)) {
      for (const k of Object.keys(v)) visit(v, k, [...path, k]);
    }
  };
  if (isRecord(raw)) for (const k of Object.keys(raw)) visit(raw, k, [k]);
  return { problems, sealedPaths };
}
