import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshBundle } from '../../bin/bundle.js';
import { eventually, scratch } from './helpers.ts';

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
  const child = spawn(process.execPath, ['bin/nodepool.js', '-c', 'nodepool.yaml', 'run'], {
    cwd: tmp.dir, env: { ...process.env, NODEPOOL_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const apiUrl = await eventually('the API to listen', async () => /API listening at (\S+)/.exec(out)?.[1], 30_000, 50);
  const page = await fetch(`${apiUrl}/`);
  assert.equal(page.status, 200);
  assert.equal(await page.text(), readFileSync(join(repo, 'src/status/web/index.html'), 'utf8'));
  assert.equal((await (await fetch(`${apiUrl}/api/v1/requests`)).json() as { requests: unknown[] }).requests.length, 0);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, out);

  // A source edited after the build (here: the bundle made older than its sources) is run as it is.
  const past = new Date('2020-01-01T00:00:00Z');
  utimesSync(join(tmp.dir, 'dist/nodepool.mjs'), past, past);
  assert.equal(freshBundle(root), null);
  assert.equal(execFileSync(process.execPath, ['bin/nodepool.js', '--version'], { cwd: tmp.dir, encoding: 'utf8' }).trim(), version);
});
