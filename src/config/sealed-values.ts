/**
 * Sealed values (`sealed:v1:...`, written by `nodepool secret seal`) in nodepool.yaml: opened at
 * load with the daemon's key (`secrets.key-file`), before the schema sees the data, so every
 * other part reads clear values and never knows they were sealed. A value that cannot be opened
 * is a configuration error at its own line, naming the field and why, never the value.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { KeyFileError, readKeyPair } from '../secrets/keyfile.ts';
import { rememberSecret } from '../secrets/known.ts';
import { isSealed, SEALED_PREFIX, UnsealError, Unsealer } from '../secrets/sealed.ts';
import type { ConfigIssue } from './errors.ts';
import { formatPath, locate, type PathSegment, type YamlSource } from './yaml-source.ts';

const KEY_PATH: PathSegment[] = ['secrets', 'key-file'];

/** The key file named by the data, resolved against the configuration file's folder. */
export function keyFileOf(data: unknown, configFile: string): string | null {
  const secrets = (data as { secrets?: { 'key-file'?: unknown } } | null)?.secrets;
  const file = secrets?.['key-file'];
  if (typeof file !== 'string' || file === '') return null;
  return isAbsolute(file) ? file : resolve(dirname(configFile), file);
}

/** An unsealer for the key file (or none), reading the key only when a sealed value is met. */
export function lazyUnsealer(keyFile: string | null, keySource = 'secrets.key-file'): () => Unsealer {
  let unsealer: Unsealer | null = null;
  return () => {
    unsealer ??= new Unsealer(keyFile ? readKeyPair(keyFile) : null, keySource);
    return unsealer;
  };
}

/**
 * Replaces every sealed string in `data` (parsed YAML, changed in place) with its clear value,
 * and remembers each clear value so the logger scrubs it. Returns the values that could not be
 * opened, and the paths of those that were (see ./echo.ts: no message shows them).
 */
export function unsealTree(data: unknown, source: YamlSource, configFile: string, text?: string, keyFile?: string | null): { issues: ConfigIssue[]; sealedPaths: Set<string> } {
  const issues: ConfigIssue[] = [];
  const sealedPaths = new Set<string>();
  // Nothing sealed in the text: nothing to walk (a walk of 10^5 keys is 70 ms).
  if (text !== undefined && !text.includes(SEALED_PREFIX)) return { issues, sealedPaths };
  // A file of its own (gate.yaml) is opened with the key nodepool.yaml names.
  const unsealer = lazyUnsealer(keyFile !== undefined ? keyFile : keyFileOf(data, configFile));
  let keyProblem = false;
  // One path, pushed and popped on the way: a copy per node cost 40 ms on a file of 10^5 keys.
  const path: PathSegment[] = [];
  const visit = (holder: Record<PathSegment, unknown>, key: PathSegment) => {
    path.push(key);
    const v = holder[key];
    if (isSealed(v)) {
      if (!keyProblem) open(holder, key, v, [...path]);
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) visit(v as unknown as Record<PathSegment, unknown>, i);
    } else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) visit(v as Record<PathSegment, unknown>, k);
    }
    path.pop();
  };
  const open = (holder: Record<PathSegment, unknown>, key: PathSegment, v: string, at: PathSegment[]) => {
    try {
      const clear = unsealer().unseal(v);
      rememberSecret(clear);
      holder[key] = clear;
      sealedPaths.add(formatPath(at));
    } catch (e) {
      if (e instanceof KeyFileError) {
        keyProblem = true;
        issues.push({ path: formatPath(KEY_PATH), ...locate(source, KEY_PATH), message: `${e.message} (needed to open ${formatPath(at)})` });
      } else if (e instanceof UnsealError) {
        issues.push({ path: formatPath(at), ...locate(source, at), message: `sealed value ${e.message}` });
      } else {
        throw e;
      }
    }
  };
  if (data !== null && typeof data === 'object') {
    for (const k of Object.keys(data)) visit(data as Record<PathSegment, unknown>, k);
  }
  return { issues, sealedPaths };
}

/** The opener `loadClouds` is given: sealed values of clouds.yaml and secure.yaml, with the daemon's key. */
export function cloudsUnseal(keyFile: string | null): (sealed: string) => string {
  const unsealer = lazyUnsealer(keyFile);
  return (sealed) => {
    try {
      return unsealer().unseal(sealed);
    } catch (e) {
      if (e instanceof KeyFileError) throw new UnsealError(`cannot be opened: ${e.message}`);
      throw e;
    }
  };
}
