/**
 * The largest kinds of object in a V8 heap snapshot (`.heapsnapshot`), by self size: what a fleet's
 * memory is made of. `node --import tsx bench/heap-top.ts FILE [N]`
 *
 * Objects are grouped by their constructor (or, for strings, arrays, code and the like, by V8's
 * node type), with the count and total size of each group, largest first.
 */
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const top = Number(process.argv[3] ?? 30);
if (!file) { console.error('usage: heap-top.ts FILE.heapsnapshot [N]'); process.exit(2); }
const snap = JSON.parse(readFileSync(file, 'utf8')) as {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
};
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const width = fields.length;
const iType = fields.indexOf('type');
const iName = fields.indexOf('name');
const iSize = fields.indexOf('self_size');
const groups = new Map<string, { count: number; size: number }>();
let total = 0;
for (let i = 0; i < snap.nodes.length; i += width) {
  const type = types[snap.nodes[i + iType]];
  const key = type === 'object' || type === 'closure' ? `${type} ${snap.strings[snap.nodes[i + iName]]}` : type;
  const size = snap.nodes[i + iSize];
  total += size;
  const g = groups.get(key) ?? { count: 0, size: 0 };
  g.count++;
  g.size += size;
  groups.set(key, g);
}
console.log(`total self size ${(total / 2 ** 20).toFixed(1)} MiB in ${(snap.nodes.length / width).toLocaleString()} objects`);
for (const [key, g] of [...groups].sort((a, b) => b[1].size - a[1].size).slice(0, top)) {
  console.log(`${(g.size / 2 ** 20).toFixed(2).padStart(8)} MiB ${String(g.count).padStart(9)}  ${key.slice(0, 100)}`);
}
