import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkConfigFile } from '../../src/config/check.ts';
import { loadClouds } from '../../providers/openstack/clouds-yaml/index.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { loadConfig } from '../../src/config/load.ts';

/**
 * An attacker, or a careless operator, hands `config check` what no configuration is: 100,000
 * unknown keys, a FIFO, /dev/zero, a file of gigabytes, nesting thousands deep. Each check ends
 * with a report (the first 200 problems and a count of the rest), never a hang or a stack trace.
 * How long they take is measured by `npm run bench:config`.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));

function workdir() {
  const dir = mkdtempSync(join(tmpdir(), 'np-hostile-config-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

function cli(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin/nodepool.js'), ...args], { cwd, env: { ...process.env, NODEPOOL_LOG_LEVEL: 'silent' }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

test('100,000 unknown keys are reported as the first 200, in file order, and a count of the rest', () => {
  const w = workdir();
  const file = join(w.dir, 'nodepool.yaml');
  writeFileSync(file, `labels: []\n${Array.from({ length: 100_000 }, (_, i) => `key-${i}: ${i}\n`).join('')}`);
  const result = checkConfigFile(file);
  assert.equal(result.ok, false);
  assert.equal(result.errors.length, 200);
  const lines = result.text.split('\n');
  assert.equal(lines[0], `${file}: 100000 errors`);
  assert.equal(lines[1], `${file}:2:1: key-0: unknown key "key-0"`);
  assert.equal(lines[200], `${file}:201:1: key-199: unknown key "key-199"`);
  assert.equal(lines[201], '… and 99,800 more errors');
  assert.equal(lines.length, 202);

  const err = (() => { try { loadConfig(file); } catch (e) { return e as ConfigError; } })()!;
  assert.ok(err instanceof ConfigError);
  assert.equal(err.total, 100_000);
  assert.match(err.message, /^.*nodepool\.yaml: 100000 errors\n/);
  assert.match(err.message, /\n {2}… and 99,800 more errors$/);
  w.done();
});

test('a key repeated 50,000 times over is a YAML error at each repeat, the first 200 listed', () => {
  const w = workdir();
  const file = join(w.dir, 'nodepool.yaml');
  writeFileSync(file, `labels:\n  - name: a\n${Array.from({ length: 50_000 }, (_, i) => `    k${i}: 1\n    k${i}: 2\n`).join('')}`);
  const result = checkConfigFile(file);
  assert.equal(result.errors.length, 200);
  assert.deepEqual(result.errors.slice(0, 2).map((i) => [i.line, i.message]), [[4, 'YAML: Map keys must be unique'], [6, 'YAML: Map keys must be unique']]);
  assert.match(result.text, /\n… and 49,800 more errors$/);
  w.done();
});

test('a FIFO, a device, a folder and a file over 8 MiB are refused without being read', () => {
  const w = workdir();
  const fifo = join(w.dir, 'fifo.yaml');
  execFileSync('mkfifo', [fifo]);
  const folder = join(w.dir, 'folder.yaml');
  mkdirSync(folder);
  const big = join(w.dir, 'big.yaml');
  writeFileSync(big, '');
  truncateSync(big, 9 * 1024 * 1024);
  const cases: [string, string][] = [
    [fifo, 'cannot read: not a regular file (a FIFO)'],
    ['/dev/zero', 'cannot read: not a regular file (a character device)'],
    [folder, 'cannot read: not a regular file (a directory)'],
    [big, 'cannot read: 9 MiB is larger than the limit of 8 MiB for a configuration file'],
  ];
  for (const [path, message] of cases) {
    const result = checkConfigFile(path);
    assert.equal(result.ok, false);
    assert.equal(result.text, `${path}: 1 error\n${path}: ${message}`);
    assert.throws(() => loadConfig(path), (e: Error) => e instanceof ConfigError && e.message.includes(message));
  }
  // clouds.yaml that is a FIFO is passed over, saying why, like an unreadable one.
  const loaded = loadClouds({ env: { OS_CLIENT_CONFIG_FILE: fifo }, home: w.dir, cwd: w.dir, siteDirs: [] });
  assert.deepEqual(loaded.fileIssues.map((i) => [i.file, i.message]), [[fifo, 'skipped: cannot read: not a regular file (a FIFO)']]);
  w.done();
});

test('nesting thousands deep is a YAML error at its line', () => {
  const w = workdir();
  const file = join(w.dir, 'nodepool.yaml');
  writeFileSync(file, `labels: []\nproviders: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
  const result = checkConfigFile(file);
  assert.equal(result.errors.length, 1);
  assert.equal(result.errors[0]!.line, 2);
  assert.equal(result.errors[0]!.message, 'YAML: nested too deeply to be read');
  w.done();
});

test('`nodepool config check` on every broken file names each problem\'s line, with no stack trace', async () => {
  const w = workdir();
  const broken = join(root, 'test/fixtures/config/broken');
  const files = readdirSync(broken).map((f) => relative(w.dir, join(broken, f)));
  const fifo = join(w.dir, 'fifo.yaml');
  execFileSync('mkfifo', [fifo]);
  writeFileSync(join(w.dir, 'unknown-keys.yaml'), Array.from({ length: 20_000 }, (_, i) => `k${i}: 1\n`).join(''));
  writeFileSync(join(w.dir, 'deep.yaml'), `labels: ${'{a: '.repeat(5000)}1${'}'.repeat(5000)}\n`);
  const checks = [...files, 'fifo.yaml', '/dev/zero', 'unknown-keys.yaml', 'deep.yaml'];
  for (const file of checks) {
    const r = await cli(w.dir, ['config', 'check', file]);
    assert.equal(r.code, 1, `${file}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stderr, '', file);
    const [headline, ...issues] = r.stdout.trimEnd().split('\n');
    assert.match(headline!, /^.*: \d+ errors?(, \d+ warnings?)?$/, file);
    const unreadable = ['fifo.yaml', '/dev/zero'].includes(file);
    for (const line of issues) {
      if (line.startsWith('… and ')) continue;
      // A file that cannot be read has no line to name; every other problem has one.
      assert.match(line, unreadable ? /^[^:]+: cannot read: not a regular file/ : /^[^:]+:\d+:\d+: /, `${file}: ${line}`);
    }
  }
  w.done();
});
