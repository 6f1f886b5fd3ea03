import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// The parts of the code that must not know each other, read from the source as it is: a driver
// does not reach into the store or the launcher, the builder and the metrics do not reach into the
// launcher or the OpenStack driver, the OpenStack driver is reached only through its entry files,
// the driver contract stands alone, and the launcher's files stay small and import each other one
// way only.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Most lines a file under src/launcher may have: one sitting's read. */
const MAX_LAUNCHER_LINES = 400;

interface SourceFile {
  /** Repository-relative path with forward slashes, e.g. `src/launcher/apply.ts`. */
  path: string;
  text: string;
  /** Repository-relative paths this file imports (relative specifiers only), with the line of each. */
  imports: { target: string; line: number }[];
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = posix.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(rel));
    else if (e.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

// `import x from '…'`, `import type {…} from '…'`, `export … from '…'`, `import '…'` and `import('…')`.
const IMPORT = /(?:^|[\s;])(?:import|export)\s(?:[^'";]*?\sfrom\s)?\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function read(path: string): SourceFile {
  const text = readFileSync(join(ROOT, path), 'utf8');
  const imports: SourceFile['imports'] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    const target = posix.normalize(posix.join(posix.dirname(path), spec));
    imports.push({ target, line: text.slice(0, m.index + m[0].search(/\S/)).split('\n').length });
  }
  return { path, text, imports };
}

const files = [...walk('src'), ...walk('providers')].map(read);
const under = (dir: string) => (p: string) => p.startsWith(`${dir}/`);

/** Every import from a file under `from` of a file under `to`, as `file:line imports target`. */
function crossings(from: string, to: string): string[] {
  const out: string[] = [];
  for (const f of files.filter((x) => under(from)(x.path))) {
    for (const i of f.imports) if (under(to)(i.target)) out.push(`${f.path}:${i.line} imports ${i.target}`);
  }
  return out;
}

function assertNone(found: string[], rule: string): void {
  assert.deepEqual(found, [], `${rule}:\n  ${found.join('\n  ')}`);
}

test('nothing under providers/ imports the store or the launcher: a driver only talks to its cloud', () => {
  assertNone([...crossings('providers', 'src/store'), ...crossings('providers', 'src/launcher')], 'providers/ must not import src/store or src/launcher');
});

test('the builder imports neither the launcher nor the OpenStack driver', () => {
  assertNone([...crossings('src/builder', 'src/launcher'), ...crossings('src/builder', 'providers/openstack')],
    'src/builder must not import src/launcher or providers/openstack');
});

test('the metrics do not import the OpenStack driver', () => {
  assertNone(crossings('src/metrics', 'providers/openstack'), 'src/metrics must not import providers/openstack');
});

/** The OpenStack driver's public entries, and who may import each (everything else in providers/openstack is its own). */
const OPENSTACK_ENTRIES: Record<string, (importer: string) => boolean> = {
  'providers/openstack/index.ts': (f) => f === 'src/provider-adapters.ts',
  'providers/openstack/clouds-yaml/index.ts': (f) => f === 'src/provider-adapters.ts' || under('src/config')(f),
};

test('outside providers/openstack, only the registry imports the OpenStack driver and src/config its clouds.yaml reader, through their entry files', () => {
  const found: string[] = [];
  for (const f of files.filter((x) => !under('providers/openstack')(x.path))) {
    for (const i of f.imports.filter((x) => under('providers/openstack')(x.target))) {
      if (!OPENSTACK_ENTRIES[i.target]?.(f.path)) found.push(`${f.path}:${i.line} imports ${i.target}`);
    }
  }
  assertNone(found, 'only src/provider-adapters.ts may import providers/openstack/index.ts, only it and src/config providers/openstack/clouds-yaml/index.ts');
});

test('the OpenStack driver takes its credentials from its own clouds.yaml reader, not from src/config', () => {
  const driver = files.filter((f) => under('providers/openstack')(f.path) && !under('providers/openstack/clouds-yaml')(f.path));
  const found = driver.flatMap((f) => f.imports.filter((i) => under('src/config')(i.target)).map((i) => `${f.path}:${i.line} imports ${i.target}`));
  assertNone(found, 'providers/openstack (outside clouds-yaml/) must not import src/config');
});

test('the driver contract (providers/provider.ts, errors.ts, extensions/) imports nothing but itself', () => {
  const contract = (p: string) => p === 'providers/provider.ts' || p === 'providers/errors.ts' || under('providers/extensions')(p);
  const found = files.filter((f) => contract(f.path))
    .flatMap((f) => f.imports.filter((i) => !contract(i.target)).map((i) => `${f.path}:${i.line} imports ${i.target}`));
  assertNone(found, 'the driver contract must not import anything outside it');
});

test('the fake and static drivers import only the contract and their own files', () => {
  const found: string[] = [];
  for (const driver of ['providers/fake', 'providers/static']) {
    for (const f of files.filter((x) => under(driver)(x.path))) {
      for (const i of f.imports) {
        const ok = under(driver)(i.target) || i.target === 'providers/provider.ts' || i.target === 'providers/errors.ts' || under('providers/extensions')(i.target);
        if (!ok) found.push(`${f.path}:${i.line} imports ${i.target}`);
      }
    }
  }
  assertNone(found, 'a driver other than OpenStack imports only providers/provider.ts, providers/errors.ts, providers/extensions and itself');
});

test('the files of src/launcher import each other without a cycle', () => {
  const launcher = files.filter((f) => dirname(f.path.split('/').join(sep)) === join('src', 'launcher'));
  const names = new Set(launcher.map((f) => f.path));
  const edges = new Map(launcher.map((f) => [f.path, f.imports.map((i) => i.target).filter((t) => names.has(t))]));
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (p: string): void => {
    state.set(p, 'open');
    stack.push(p);
    for (const next of edges.get(p) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].map((x) => relative('src/launcher', x)).join(' → '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(p, 'done');
  };
  for (const p of [...names].sort()) if (!state.has(p)) visit(p);
  assertNone(cycles, 'import cycle in src/launcher');
});

test(`no file under src/launcher is longer than ${MAX_LAUNCHER_LINES} lines`, () => {
  const long = files.filter((f) => under('src/launcher')(f.path))
    .map((f) => ({ path: f.path, lines: f.text.split('\n').length - (f.text.endsWith('\n') ? 1 : 0) }))
    .filter((f) => f.lines > MAX_LAUNCHER_LINES)
    .map((f) => `${f.path}: ${f.lines} lines`);
  assertNone(long, `files over ${MAX_LAUNCHER_LINES} lines in src/launcher`);
});

test('the import reader sees every form of import the code uses', () => {
  const f = { ...read('src/launcher/launcher.ts') };
  assert.ok(f.imports.length > 5, 'launcher.ts imports several files');
  const sample = [
    "import { a } from './x.ts';", "import type { B } from '../y.ts';", "export { c } from './z.ts';",
    "import './side.ts';", "const m = await import('./lazy.ts');", "import {\n  d,\n  e,\n} from './multi.ts';",
  ].join('\n');
  const specs = [...sample.matchAll(IMPORT)].map((m) => m[1] ?? m[2]);
  assert.deepEqual(specs, ['./x.ts', '../y.ts', './z.ts', './side.ts', './lazy.ts', './multi.ts']);
});
