import { ValidationError } from '../ops/errors.ts';
import type { Cell, Column } from './rows.ts';

/** Seconds as Nodepool prints an age: `dd:hh:mm:ss` (days grow past two digits). */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 86400))}:${pad(Math.floor(s / 3600) % 24)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

export function formatCell(key: string, v: Cell | undefined): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.join(',');
  if (key === 'age' && typeof v === 'number') return formatAge(v);
  return String(v);
}

export interface SelectOptions {
  /** Column keys to show, in this order (`?fields=` / `--fields`); unknown keys are an error. */
  fields?: readonly string[];
  /** Include the detail columns (`--detail`). */
  detail?: boolean;
  /** For a table: leave out the JSON-only columns unless named in `fields`. */
  table?: boolean;
}

/** The columns to show. Naming fields overrides `detail`, as in Nodepool's `?fields=`. */
export function selectColumns<C extends Column>(columns: readonly C[], opts: SelectOptions = {}): C[] {
  if (opts.fields && opts.fields.length > 0) {
    return opts.fields.map((f) => {
      const col = columns.find((c) => c.key === f);
      if (!col) throw new ValidationError('fields', `fields: unknown field "${f}"; known: ${columns.map((c) => c.key).join(', ')}`);
      return col;
    });
  }
  return columns.filter((c) => (opts.table ? !c.jsonOnly && (opts.detail || !c.detail) : true));
}

/**
 * A bordered, left-aligned text table in the shape of Nodepool's prettytable output:
 *
 *   +----+-------+
 *   | ID | State |
 *   +----+-------+
 *   | 42 | ready |
 *   +----+-------+
 */
export function formatTable(headers: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const rule = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const line = (cells: readonly string[]) => '| ' + widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ') + ' |';
  return [rule, line(headers), rule, ...body.map(line), rule].join('\n') + '\n';
}

export type OutputFormat = 'text' | 'json';

/** Rows as a table or as JSON (an array of objects with the selected keys), one function for the CLI and HTTP. */
export function renderRows<C extends Column>(
  rows: readonly Record<string, Cell>[], columns: readonly C[], format: OutputFormat, opts: SelectOptions = {},
): string {
  const cols = selectColumns(columns, { ...opts, table: format === 'text' });
  if (format === 'json') {
    const picked = opts.fields?.length ? rows.map((r) => Object.fromEntries(cols.map((c) => [c.key, r[c.key] ?? null]))) : rows;
    return JSON.stringify(picked);
  }
  return formatTable(cols.map((c) => c.header), rows.map((r) => cols.map((c) => formatCell(c.key, r[c.key]))));
}

/** One record as a two-column table (`node show`): every field, JSON-only ones included. */
export function renderRecord(row: Record<string, Cell>, columns: readonly Column[]): string {
  return formatTable(['Field', 'Value'], columns.map((c) => [c.header, formatCell(c.key, row[c.key])]));
}
