/**
 * The test files of a run in node's test runner, each in a process of its own, CONCURRENCY at a
 * time, in the order given (the `--test` command line sorts them by name; test/run.ts puts the
 * longest first): node's spec output on stdout, and the summary (test/support/summary-reporter.ts)
 * written to SUMMARY.json.
 *
 *   node --import tsx test/support/run-files.ts SUMMARY.json CONCURRENCY FILE...
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { summarize } from './summary-reporter.ts';

const [summaryFile, concurrency, ...files] = process.argv.slice(2);
const events = run({ files: files.map((f) => resolve(f)), concurrency: Number(concurrency) });
// One pass over the events feeds both the spec output and the summary.
const forSpec = new PassThrough({ objectMode: true });
const forSummary = new PassThrough({ objectMode: true });
events.on('data', (e) => { forSpec.write(e); forSummary.write(e); });
events.on('end', () => { forSpec.end(); forSummary.end(); });
forSpec.compose(new spec()).pipe(process.stdout);
const summary = await summarize(forSummary);
writeFileSync(summaryFile!, `${JSON.stringify(summary, null, 1)}\n`);
process.exitCode = summary.failed ? 1 : 0;
