import { GerritError, type Change } from './model.ts';

/**
 * The subset of Gerrit's search operators the simulator answers (every term must hold; a term
 * starting with `-` negates): `status:open|merged|abandoned`, `is:open|merged|abandoned|closed`,
 * `project:P`, `branch:B`, `change:N|I…`, `owner:USER`, `after:"YYYY-MM-DD HH:MM:SS"` (also
 * `since:`), `before:`/`until:`, `limit:N`. Anything else is refused as Gerrit refuses it.
 */

export interface Query {
  test(c: Change, owner: (id: number) => string): boolean;
  limit: number | null;
}

/** Splits on spaces outside quotes: `after:"2024-01-01 10:00:00" project:x`. */
function terms(q: string): string[] {
  return [...q.matchAll(/-?[a-z_]+:(?:"[^"]*"|\{[^}]*\}|\S+)|\S+/gi)].map((m) => m[0]);
}

/** Gerrit timestamps are UTC: `2024-01-01 10:00:00[.fff]` or a date alone. */
function parseTime(v: string): number {
  const t = Date.parse(`${v.replace(' ', 'T')}${/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? '' : 'Z'}`);
  if (Number.isNaN(t)) throw new GerritError(400, `Unrecognized date/time: ${v}`);
  return t;
}

export function parseQuery(q: string): Query {
  const tests: ((c: Change, owner: (id: number) => string) => boolean)[] = [];
  let limit: number | null = null;
  for (const raw of terms(q.trim())) {
    const negate = raw.startsWith('-');
    const term = negate ? raw.slice(1) : raw;
    const m = /^([a-z_]+):(.*)$/i.exec(term);
    if (!m) throw new GerritError(400, `Unsupported query: ${raw}`);
    const op = m[1]!.toLowerCase();
    const value = m[2]!.replace(/^["{](.*)["}]$/, '$1');
    let t: (c: Change, owner: (id: number) => string) => boolean;
    switch (op) {
      case 'status':
      case 'is':
        t = statusTest(op, value);
        break;
      case 'project': t = (c) => c.project === value; break;
      case 'branch': t = (c) => c.branch === value; break;
      case 'change': t = (c) => String(c.number) === value || c.changeId === value; break;
      case 'owner': t = (c, owner) => owner(c.owner) === value; break;
      case 'after':
      case 'since': { const at = parseTime(value); t = (c) => c.updated >= at; break; }
      case 'before':
      case 'until': { const at = parseTime(value); t = (c) => c.updated <= at; break; }
      case 'limit':
        if (!/^\d+$/.test(value)) throw new GerritError(400, `Invalid limit: ${value}`);
        limit = Number(value);
        continue;
      default:
        throw new GerritError(400, `Unsupported operator ${op}:${value}`);
    }
    tests.push(negate ? (c, o) => !t(c, o) : t);
  }
  return { test: (c, o) => tests.every((t) => t(c, o)), limit };
}

function statusTest(op: string, value: string): (c: Change) => boolean {
  switch (value.toLowerCase()) {
    case 'open': case 'new': case 'pending': return (c) => c.status === 'NEW';
    case 'merged': return (c) => c.status === 'MERGED';
    case 'abandoned': return (c) => c.status === 'ABANDONED';
    case 'closed': return (c) => c.status !== 'NEW';
    default: throw new GerritError(400, `Unrecognized value: ${op}:${value}`);
  }
}
