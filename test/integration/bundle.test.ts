import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshBundle } from '../../bin/bundle.js';
import { scratch } from './helpers.ts';
import { startProc } from './proc.ts';

/**
 * What `npm ci` builds (`prepare`: bin/build.js) is what `nodepool` runs, in a checkout of its own
 * (the sources linked, bin/ copied, so this repository's dist/ is left alone): the version, the
 * status page's files found from the bundle, and the sources again as soon as one is newer.
 */

const repo = join(import.meta.dirname, '../..');

function checkout(dir: string): void {
  for (const entry of ['src', 'providers', 'node_modules', 'package.json']) symlinkSync(join(repo, entry), join(dir, entry));
  mkdirSync(join(dir, 'bin'));
  for (const f of ['nodepool.js', 'build.js', 'bundle.js']) copyFileSync(join(repo, 'bin', f), join(dir, 'bin', f));
}

test('the built bundle runs nodepool (version, the API and the status page) until a source is newer than it', async (t) => {
  const tmp = scratch('np-bundle-');
  t.after(() => tmp.done());
  checkout(tmp.dir);
  const root = pathToFileURL(`${tmp.dir}/`);
  assert.equal(freshBundle(root), null, 'nothing built yet: the sources run');

  assert.match(execFileSync(process.execPath, ['bin/build.js'], { cwd: tmp.dir, encoding: 'utf8' }), /dist\/nodepool\.mjs from \d+ sources/);
  assert.ok(existsSync(join(tmp.dir, 'dist/nodepool.mjs')));
  assert.equal(freshBundle(root)?.href, new URL('dist/nodepool.mjs', root).href);

  const version = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version as string;
  assert.equal(execFileSync(process.execPath, ['bin/nodepool.js', '--version'], { cwd: tmp.dir, encoding: 'utf8' }).trim(), version);

  writeFileSync(join(tmp.dir, 'nodepool.yaml'), 'labels: []\nproviders: []\napi: {listen: 127.0.0.1, port: 0}\nstore: {path: state.sqlite}\n');
  const run = startProc('nodepool run', ['-c', 'nodepool.yaml', 'run'], { NODEPOOL_LOG_LEVEL: 'silent' }, { bin: join(tmp.dir, 'bin/nodepool.js'), cwd: tmp.dir });
  t.after(() => { if (run.child.exitCode === null) run.child.kill('SIGKILL'); });
  await run.waitFor(/API listening at (\S+)/, 30_000);
  const apiUrl = /API listening at (\S+)/.exec(run.stdout())![1];
  const page = await fetch(`${apiUrl}/`);
  assert.equal(page.status, 200);
  assert.equal(await page.text(), readFileSync(join(repo, 'src/status/web/index.html'), 'utf8'));
  assert.equal((await (await fetch(`${apiUrl}/api/v1/requests`)).json() as { requests: unknown[] }).requests.length, 0);
  run.child.kill('SIGTERM');
  await run.exited;
  assert.equal(run.child.exitCode, 0, run.log());

  // A source edited after the build (here: the bundle made older than its sources) is run as it is.
  const past = new Date('2020-01-01T00:00:00Z');
  utimesSync(join(tmp.dir, 'dist/nodepool.mjs'), past, past);
  assert.equal(freshBundle(root), null);
  assert.equal(execFileSync(process.execPath, ['bin/nodepool.js', '--version'], { cwd: tmp.dir, encoding: 'utf8' }).trim(), version);
});
