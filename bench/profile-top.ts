/**
 * `node --import tsx bench/profile-top.ts FILE.cpuprofile [N]`: where a CPU profile's time went, as
 * text (PROFILE_LAST_S=N: of its last N seconds only): busy time, the top N functions by self time, and the project's functions (src/, providers/)
 * by inclusive time. Profiles come from `node --cpu-prof --cpu-prof-dir=DIR ...` (bench/README.md).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const [file, n = '25'] = process.argv.slice(2);
if (!file) { console.error('usage: profile-top.ts FILE.cpuprofile [N]'); process.exit(2); }
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((x) => [x.id, x]));
const parent = new Map<number, number>();
for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const name = (x: ProfileNode) => {
  const url = x.callFrame.url.replace(/.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|providers|bench)\//, '$1/');
  return `${x.callFrame.functionName || '(anonymous)'} ${url}${url ? `:${x.callFrame.lineNumber + 1}` : ''}`;
};
const self = new Map<string, number>();
const incl = new Map<string, number>();
let busy = 0;
// PROFILE_LAST_S=30: only the samples of the profile's last 30 s (an idle phase at the end of a run).
const total = p.timeDeltas.reduce((a, b) => a + b, 0);
const from = process.env.PROFILE_LAST_S ? total - Number(process.env.PROFILE_LAST_S) * 1e6 : -Infinity;
let at = 0;
p.samples.forEach((id, i) => {
  const us = p.timeDeltas[i] ?? 0;
  at += us;
  if (at < from) return;
  const node = byId.get(id)!;
  if (node.callFrame.functionName === '(idle)') return;
  busy += us;
  self.set(name(node), (self.get(name(node)) ?? 0) + us);
  const seen = new Set<string>();
  for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) {
    const k = name(byId.get(c)!);
    if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + us); }
  }
});
const row = ([k, us]: [string, number]) => `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${k}`;
console.log(`busy ${(busy / 1000).toFixed(0)} ms`);
console.log(`\nself time, top ${n}`);
for (const e of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(n))) console.log(row(e));
console.log(`\nproject functions, inclusive time, top ${n}`);
for (const e of [...incl].filter(([k]) => / (src|providers)\/|\/dist\//.test(k)).sort((a, b) => b[1] - a[1]).slice(0, Number(n))) console.log(row(e));
