/**
 * A YAML file kept with its syntax tree, so that a problem found in the plain data (by zod or by
 * a cross-check) can be reported at the line and column an operator has to edit.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import type { ConfigIssue } from './errors.ts';

export type PathSegment = string | number;

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export interface ParsedYaml {
  source: YamlSource;
  /** The document as plain data; null for an empty file. Meaningless when `errors` is not empty. */
  data: unknown;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

export function parseYaml(text: string, file: string): ParsedYaml {
  const lines = new LineCounter();
  // prettyErrors off: the message stays one line; the position comes from the line counter.
  // merge on: Nodepool configs in the wild share settings with `<<: *anchor`.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true, uniqueKeys: true });
  const source: YamlSource = { file, doc, lines };
  const toIssue = (e: { pos: [number, number]; message: string }): ConfigIssue => ({
    path: '',
    ...position(source, e.pos[0]),
    message: `YAML: ${e.message}`,
  });
  const errors = doc.errors.map(toIssue);
  const warnings = doc.warnings.map(toIssue);
  let data: unknown = null;
  if (errors.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      errors.push({ path: '', line: 1, column: 1, message: `YAML: ${(e as Error).message}` });
    }
  }
  return { source, data, errors, warnings };
}

/** `providers[0].pools[0].max-servers`: the form operators read in Nodepool's documentation. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

function position(source: YamlSource, offset: number): { line: number; column: number } {
  const { line, col } = source.lines.linePos(offset);
  return { line, column: col };
}

interface Found {
  /** The deepest node reached along the path (the document's root at worst). */
  node: Node | null;
  /** The key/value pair holding `node`, when `node` is a mapping value. */
  pair: Pair | null;
  /** Whether the whole path was reached. */
  complete: boolean;
}

/**
 * Walk the syntax tree along `path`. `sameKey` compares a path segment with a mapping key, so that
 * clouds.yaml's `auth-url` can be found when looking for `auth_url`.
 */
function walk(source: YamlSource, path: readonly PathSegment[], sameKey: KeyMatcher): Found {
  let node = resolveAlias(source, source.doc.contents as Node | null);
  let pair: Pair | null = null;
  for (const [i, seg] of path.entries()) {
    let next: Node | null | undefined;
    let nextPair: Pair | null = null;
    if (isMap(node) && typeof seg === 'string') {
      const hit = node.items.find((p) => isPair(p) && sameKey(seg, keyText(p.key), i));
      if (hit) {
        nextPair = hit as Pair;
        next = (hit.value as Node | null) ?? null;
        // `key:` with nothing after it parses as an empty null scalar placed after the colon.
        if (isScalar(next) && next.value === null && next.range?.[0] === next.range?.[1]) next = null;
        // `key:` with no value has no node of its own; report at the key.
        if (next === null) return { node: hit.key as Node, pair: nextPair, complete: i === path.length - 1 };
      }
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg] as Node | undefined;
    }
    if (next === undefined) return { node, pair, complete: false };
    node = resolveAlias(source, next);
    pair = nextPair;
  }
  return { node, pair, complete: true };
}

/** Whether path segment `segment`, at position `depth` of the path, names mapping key `key`. */
export type KeyMatcher = (segment: string, key: string | null, depth: number) => boolean;
const exactKey: KeyMatcher = (segment, key) => segment === key;

function keyText(key: unknown): string | null {
  if (key && typeof key === 'object' && 'value' in key) {
    const v = (key as { value: unknown }).value;
    return v === null || v === undefined ? null : String(v);
  }
  return null;
}

function resolveAlias(source: YamlSource, node: Node | null): Node | null {
  if (isAlias(node)) return (node.resolve(source.doc) as Node | undefined) ?? node;
  return node;
}

/** Whether the document has a node at `path` (a key given with no value counts). */
export function hasNode(source: YamlSource, path: readonly PathSegment[], sameKey: KeyMatcher = exactKey): boolean {
  return walk(source, path, sameKey).complete;
}

/**
 * Line and column for a problem at `path`: the value's node, or with `at: 'key'` the mapping key
 * itself (an unknown key, a duplicate name). When the path goes further than the document does (a
 * missing key), the deepest mapping or list that exists: the place the key has to be added.
 */
export function locate(
  source: YamlSource,
  path: readonly PathSegment[],
  at: 'key' | 'value' = 'value',
  sameKey: KeyMatcher = exactKey,
): { line: number; column: number } {
  const { node, pair, complete } = walk(source, path, sameKey);
  const target = complete && at === 'key' && pair ? (pair.key as Node) : node;
  const offset = target?.range?.[0];
  return offset === undefined ? { line: 1, column: 1 } : position(source, offset);
}
