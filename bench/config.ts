/**
 * `npm run bench:config`: how long `nodepool config check` takes, as an operator runs it.
 *
 * - start-up: `nodepool --version` (node, tsx, the command table) and `config check` of an empty
 *   file (plus the configuration modules): what every check costs before reading anything;
 * - the example configuration, and 14 files that each have one error of a different kind;
 * - 100,000 unknown keys (top level, and inside one label), 50,000 repeated keys, a FIFO,
 *   /dev/zero and a 9 MiB file;
 * - in-process (checkConfigFile, modules already loaded) for the same files: the check itself.
 *
 * Each command runs BENCH_RUNS (5) times; the median wall time is shown, with the CPU time of
 * the process (user + system, from /usr/bin/time when present), which a loaded machine
 * inflates less. The load average is printed first: on a busy machine wall times grow.
 *
 * Measured on this 2-core machine shared with other work (load average 2.5, 5 runs):
 *   start-up (`--version`) 0.54 s wall, 0.69 s CPU; the example 0.89 s (the check itself 5 ms);
 *   one-error files median 1.11 s, max 2.02 s (the checks 4–26 ms: the rest is start-up and
 *   loading zod and the configuration modules, about 1.1 s of CPU); 100,000 unknown keys
 *   2.5 s wall, 2.25 s CPU, of which the check is 1.0 s (js-yaml's events and data, zod's strict
 *   objects); a FIFO, /dev/zero or 9 MiB: refused at once. Before: the example about 1 s (the
 *   API client, axios, was loaded too), 100,000 unknown keys killed after 60 s (the yaml
 *   library's duplicate-key check alone was 300 s, its parse 1.8 s of CPU).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigFile } from '../src/config/check.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/nodepool.js');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Wall and CPU seconds of `nodepool args`, median of RUNS. */
function run(args: string[], cwd: string): { wall: number; cpu: number | null; out: string } {
  const walls: number[] = [];
  const cpus: number[] = [];
  let out = '';
  for (let i = 0; i < RUNS; i++) {
    const cmd = TIME ? [TIME, '-f', 'CPU %U %S', process.execPath, BIN, ...args] : [process.execPath, BIN, ...args];
    const t = performance.now();
    const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd, encoding: 'utf8', env: { ...process.env, HOME: cwd, XDG_CONFIG_HOME: cwd, NODEPOOL_LOG_LEVEL: 'silent' }, timeout: 120_000 });
    walls.push((performance.now() - t) / 1000);
    const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr ?? '');
    if (m) cpus.push(Number(m[1]) + Number(m[2]));
    out = r.stdout ?? '';
  }
  return { wall: median(walls), cpu: cpus.length ? median(cpus) : null, out };
}

function inProcess(file: string): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    checkConfigFile(file, { clouds: { env: {}, cwd: tmpdir(), home: tmpdir(), siteDirs: [] } });
    times.push((performance.now() - t) / 1000);
  }
  return median(times);
}

/** The example with one error each, the kinds an operator makes. */
function oneErrorFiles(example: string): [string, string][] {
  const edit = (from: string, to: string) => {
    if (!example.includes(from)) throw new Error(`the example no longer has ${JSON.stringify(from)}`);
    return example.replace(from, to);
  };
  return [
    ['unknown key', edit('    max-servers: 20', '    max-server: 20')],
    ['wrong type', edit('    min-ready: 2', '    min-ready: two')],
    ['negative number', edit('max-servers: 10', 'max-servers: -1')],
    ['missing key', edit('    driver: openstack\n    cloud: sim-west', '    driver: openstack')],
    ['wrong enum', edit('  driver: sqlite', '  driver: mysql')],
    ['wrong literal', edit('    driver: openstack\n    cloud: sim-west', '    driver: aws\n    cloud: sim-west')],
    ['label not defined', edit('          - name: centos-9-stream\n            flavor-name: m1.medium', '          - name: centos-8-stream\n            flavor-name: m1.medium')],
    ['cloud-image not defined', edit('            cloud-image: ubuntu-jammy', '            cloud-image: ubuntu-jamy')],
    ['diskimage not defined', edit('            diskimage: ubuntu-noble', '            diskimage: ubuntu-nobel')],
    ['duplicate label', edit('  - name: centos-9-stream\n    min-ready: 0', '  - name: ubuntu-noble\n    min-ready: 0')],
    ['both flavor-name and min-ram', edit('            min-ram: 2048', '            min-ram: 2048\n            flavor-name: m1.small')],
    ['parent not defined', edit('    parent: base\n    elements: [ubuntu-minimal, devstack-cache]', '    parent: bsae\n    elements: [ubuntu-minimal, devstack-cache]')],
    ['YAML syntax error', edit('    region-name: RegionOne\n    boot-timeout', '    region-name: RegionOne\n   boot-timeout')],
    ['key given twice', edit('    launch-retries: 3', '    launch-retries: 3\n    launch-retries: 4')],
  ];
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'np-bench-config-'));
  try {
    const example = readFileSync(join(ROOT, 'nodepool.example.yaml'), 'utf8');
    const at = (name: string, text: string) => { const f = join(dir, name); writeFileSync(f, text); return f; };
    // The example names its gate file beside it.
    at('gate.example.yaml', readFileSync(join(ROOT, 'gate.example.yaml'), 'utf8'));
    const empty = at('empty.yaml', '');
    const exampleFile = at('example.yaml', example);
    const ones = oneErrorFiles(example).map(([what, text], i) => [what, at(`one-${i}.yaml`, text)] as const);
    const top = at('unknown-top.yaml', `labels: []\n${Array.from({ length: 100_000 }, (_, i) => `key-${i}: ${i}\n`).join('')}`);
    const nested = at('unknown-label.yaml', `labels:\n  - name: a\n${Array.from({ length: 100_000 }, (_, i) => `    unknown-${i}: 1\n`).join('')}`);
    const repeated = at('repeated.yaml', `labels:\n  - name: a\n${Array.from({ length: 50_000 }, (_, i) => `    k${i}: 1\n    k${i}: 2\n`).join('')}`);
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const big = at('big.yaml', '');
    truncateSync(big, 9 * 1024 * 1024);

    console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${RUNS} runs each; wall is the median, CPU is user + system`);
    const row = (what: string, r: { wall: number; cpu: number | null; out: string }, check?: number) => {
      const headline = r.out.split('\n')[0]!.replace(dir + '/', '');
      console.log(`${what.padEnd(34)} ${r.wall.toFixed(2).padStart(6)} s  ${r.cpu === null ? '   -  ' : `${r.cpu.toFixed(2).padStart(5)} s`}  ${check === undefined ? '       ' : `${(check * 1000).toFixed(0).padStart(5)} ms`}  ${headline.slice(0, 60)}`);
    };
    console.log(`${'file'.padEnd(34)} ${'wall'.padStart(8)}  ${'CPU'.padStart(7)}  ${'check'.padStart(8)}  report`);
    row('nodepool --version (start-up)', run(['--version'], dir));
    row('empty file', run(['config', 'check', empty], dir), inProcess(empty));
    row('example (normal file)', run(['config', 'check', exampleFile], dir), inProcess(exampleFile));
    const oneWalls: number[] = [];
    for (const [what, file] of ones) {
      const r = run(['config', 'check', file], dir);
      oneWalls.push(r.wall);
      row(`one error: ${what}`, r, inProcess(file));
    }
    console.log(`${'one-error files: median / max'.padEnd(34)} ${median(oneWalls).toFixed(2).padStart(6)} s / ${Math.max(...oneWalls).toFixed(2)} s`);
    row('100,000 unknown keys (top level)', run(['config', 'check', top], dir), inProcess(top));
    row('100,000 unknown keys (in a label)', run(['config', 'check', nested], dir), inProcess(nested));
    row('50,000 keys given twice', run(['config', 'check', repeated], dir), inProcess(repeated));
    row('a FIFO', run(['config', 'check', fifo], dir), inProcess(fifo));
    row('/dev/zero', run(['config', 'check', '/dev/zero'], dir), inProcess('/dev/zero'));
    row('a 9 MiB file', run(['config', 'check', big], dir), inProcess(big));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
