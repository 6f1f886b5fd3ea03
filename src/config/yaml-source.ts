/**
 * A YAML file kept with the start of each of its nodes, so that a problem found in the plain data
 * (by zod or by a cross-check) can be reported at the line and column an operator has to edit.
 *
 * Read with js-yaml's event parser, which reads a file of 100,000 keys in about 0.5 s of CPU;
 * the `yaml` library took 1.8 s for it (and 300 s with its own duplicate-key check). A file
 * js-yaml refuses is read again with `yaml` only for its error messages, which say more.
 */
import { createRequire } from 'node:module';
import { constructFromEvents, CORE_SCHEMA, EVENT_ID, mergeTag, parseEvents, YAMLException } from 'js-yaml';
import type { Document } from 'yaml';
import type { ConfigIssue } from './errors.ts';
import { lineIndex, pairOf, positionTree, type PosNode, type PosPair } from './yaml-positions.ts';

export type PathSegment = string | number;

export interface YamlSource {
  file: string;
  /** The first document's nodes; null for an empty file or one that could not be read. */
  root: PosNode | null;
  position: (offset: number) => { line: number; column: number };
}

export interface ParsedYaml {
  source: YamlSource;
  /** The document as plain data; null for an empty file. Meaningless when `errors` is not empty. */
  data: unknown;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

// The YAML 1.2 core schema, as the `yaml` library reads it, with Nodepool's `<<: *anchor` merges.
const SCHEMA = CORE_SCHEMA.withTags(mergeTag);
/** Most nodes the data may have once aliases are expanded (a "billion laughs" file has 10^9). */
const MAX_EXPANDED_NODES = 1_000_000;

export function parseYaml(text: string, file: string): ParsedYaml {
  const position = lineIndex(text);
  let docs: unknown[];
  let root: PosNode | null;
  try {
    const events = parseEvents(text, { filename: file });
    docs = constructFromEvents(events, { source: text, schema: SCHEMA, filename: file });
    root = positionTree(text, events);
    if (docs.length > 1) throw new YAMLException('Source contains multiple documents');
    if (events.some((e) => e.type === EVENT_ID.ALIAS)) docs = [expandAliases(docs[0])];
  } catch (e) {
    if (!(e instanceof YAMLException) && !(e instanceof RangeError)) throw e;
    return { source: { file, root: null, position }, data: null, errors: yamlErrors(text, e), warnings: [] };
  }
  return { source: { file, root, position }, data: docs[0] ?? null, errors: [], warnings: [] };
}

/**
 * The errors of a file js-yaml refused, in the `yaml` library's words and places (a duplicate
 * key found with a set per mapping: the library's own check compares each key with every
 * earlier one); js-yaml's own when that library sees none.
 */
function yamlErrors(text: string, e: Error): ConfigIssue[] {
  // Loaded here, synchronously, only for a file with errors: a check of a good file does without it.
  const { isScalar, LineCounter, parseDocument, visit } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true, uniqueKeys: false });
  const toIssue = (offset: number, message: string): ConfigIssue => {
    const { line, col } = lines.linePos(offset);
    // The parsers recurse once per level of nesting; thousands of `[[[` end their stack.
    return { path: '', line, column: col, message: `YAML: ${/Maximum call stack|maxDepth/.test(message) ? 'nested too deeply to be read' : message}` };
  };
  const errors = doc.errors.map((d) => toIssue(d.pos[0], d.message));
  if (errors.length === 0) errors.push(...duplicateKeys(doc, { isScalar, visit }).map((offset) => toIssue(offset, 'Map keys must be unique')));
  if (errors.length === 0) {
    const mark = (e as { mark?: { position?: number } }).mark;
    errors.push(toIssue(mark?.position ?? 0, (e as { reason?: string }).reason ?? e.message));
  }
  return errors;
}

/** Offsets of every key that repeats an earlier key of its mapping (scalar keys; merge keys may repeat). */
function duplicateKeys(doc: Document.Parsed, { isScalar, visit }: Pick<typeof import('yaml'), 'isScalar' | 'visit'>): number[] {
  const found: number[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = pair.key;
        if (!isScalar(key) || key.value === '<<') continue;
        if (seen.has(key.value)) found.push(key.range?.[0] ?? 0);
        else seen.add(key.value);
      }
    },
  });
  return found;
}

/**
 * js-yaml hands an alias the anchored object itself; every check walks the data as a tree, so it
 * is copied out, and a file whose copies would pass MAX_EXPANDED_NODES is refused.
 */
function expandAliases(value: unknown): unknown {
  let budget = MAX_EXPANDED_NODES;
  const copy = (v: unknown): unknown => {
    if (--budget < 0) throw new YAMLException('Excessive alias count indicates a resource exhaustion attack');
    if (Array.isArray(v)) return v.map(copy);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]));
    return v;
  };
  return copy(value);
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

interface Found {
  /** The deepest node reached along the path (the document's root at worst). */
  node: PosNode | null;
  /** The key/value pair holding `node`, when `node` is a mapping value. */
  pair: PosPair | null;
  /** Whether the whole path was reached. */
  complete: boolean;
}

/**
 * Walk the tree along `path`. `sameKey` compares a path segment with a mapping key, so that
 * clouds.yaml's `auth-url` can be found when looking for `auth_url`.
 */
function walk(source: YamlSource, path: readonly PathSegment[], sameKey: KeyMatcher): Found {
  let node = source.root;
  let pair: PosPair | null = null;
  for (const [i, seg] of path.entries()) {
    let next: PosNode | undefined;
    let nextPair: PosPair | null = null;
    if (node?.kind === 'map' && typeof seg === 'string') {
      const hit = sameKey === exactKey ? pairOf(node, seg) : node.pairs?.find((p) => sameKey(seg, p.keyText, i));
      if (hit) {
        nextPair = hit;
        next = hit.value;
        // `key:` with no value has no node of its own; report at the key.
        if (next.empty) return { node: hit.key, pair: nextPair, complete: i === path.length - 1 };
      }
    } else if (node?.kind === 'seq' && typeof seg === 'number') {
      next = node.items?.[seg];
    }
    if (next === undefined) return { node, pair, complete: false };
    node = next;
    pair = nextPair;
  }
  return { node, pair, complete: true };
}

/** Whether path segment `segment`, at position `depth` of the path, names mapping key `key`. */
export type KeyMatcher = (segment: string, key: string | null, depth: number) => boolean;
const exactKey: KeyMatcher = (segment, key) => segment === key;

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
  const target = complete && at === 'key' && pair ? pair.key : node;
  return target ? source.position(target.start) : { line: 1, column: 1 };
}
