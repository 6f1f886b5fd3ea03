/**
 * Where each node of a YAML document starts, built from js-yaml's parser events (source offsets
 * only, no values): the tree ./yaml-source.ts walks to place a problem at its line.
 */
import { EVENT_ID, getScalarValue, type Event, type ScalarEvent } from 'js-yaml';

export interface PosPair {
  key: PosNode;
  /** The key's text; null for a key that is not a scalar. */
  keyText: string | null;
  value: PosNode;
}

export interface PosNode {
  kind: 'map' | 'seq' | 'scalar' | 'alias';
  /** Offset of the node's first character in the source. */
  start: number;
  /** A scalar with no text at all (`key:` with nothing after it). */
  empty: boolean;
  /** A sequence's items. */
  items?: PosNode[];
  /** A mapping's pairs. */
  pairs?: PosPair[];
  /** Where pairOf last found a key. */
  cursor?: number;
}

/** The first document's tree; null when the source has no document. */
export function positionTree(source: string, events: readonly Event[]): PosNode | null {
  let root: PosNode | null = null;
  const stack: PosNode[] = [];
  // A mapping's key waiting for its value, one slot per open mapping.
  const pendingKey: (PosPair | null)[] = [];
  /** Adds `n` to the open collection; `e` is its event when it is a scalar (a key's text is read from it). */
  const attach = (n: PosNode, e: ScalarEvent | null) => {
    const parent = stack[stack.length - 1];
    if (!parent) {
      root ??= n;
      return;
    }
    if (parent.items) {
      parent.items.push(n);
      return;
    }
    const top = pendingKey.length - 1;
    const waiting = pendingKey[top];
    if (waiting) {
      waiting.value = n;
      parent.pairs!.push(waiting);
      pendingKey[top] = null;
    } else {
      const keyText = e === null ? null : e.valueStart < 0 ? '' : getScalarValue(source, e);
      pendingKey[top] = { key: n, keyText, value: n };
    }
  };
  for (const e of events) {
    switch (e.type) {
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const n: PosNode = e.type === EVENT_ID.MAPPING
          ? { kind: 'map', start: e.start, empty: false, pairs: [] }
          : { kind: 'seq', start: e.start, empty: false, items: [] };
        attach(n, null);
        stack.push(n);
        pendingKey.push(null);
        break;
      }
      case EVENT_ID.SCALAR: {
        const s = e as ScalarEvent;
        // An absent value (`key:` with nothing after it) has no offsets: -1.
        attach({ kind: 'scalar', start: Math.max(0, s.valueStart), empty: s.valueStart < 0 }, s);
        break;
      }
      case EVENT_ID.ALIAS:
        attach({ kind: 'alias', start: Math.max(0, e.anchorStart - 1), empty: false }, null);
        break;
      case EVENT_ID.POP:
        if (stack.length > 0) {
          stack.pop();
          pendingKey.pop();
        } else if (root) {
          return root;
        }
        break;
      default:
        break;
    }
  }
  return root;
}

/**
 * The pair of `map` whose key is `text` (keys are unique: js-yaml refuses a repeated one). The
 * search goes on from the last pair found: problems are placed in file order, so a few hundred
 * of them in a mapping of 100,000 keys cost about one pass over it, and no index is built (a Map
 * of 10^5 keys cost 100 ms).
 */
export function pairOf(map: PosNode, text: string): PosPair | undefined {
  const pairs = map.pairs ?? [];
  const n = pairs.length;
  const from = map.cursor ?? 0;
  for (let k = 0; k < n; k++) {
    const i = (from + k) % n;
    if (pairs[i]!.keyText === text) {
      map.cursor = i;
      return pairs[i];
    }
  }
  return undefined;
}

/** 1-based line and column of offsets in `source`. */
export function lineIndex(source: string): (offset: number) => { line: number; column: number } {
  const starts = [0];
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  };
}
