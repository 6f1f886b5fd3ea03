import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/types.ts';
import { ConfigWatcher } from '../../src/config/watch.ts';
import { createLogger } from '../../src/log.ts';

// The watcher of nodepool.yaml, driven one read at a time (`check()`), as its timer would.

const VALID = (minReady: number) => `
labels:
  - name: small
    min-ready: ${minReady}
providers:
  - name: fake-a
    driver: fake
    cloud: fake-a
    cloud-images: [{name: img}]
    pools:
      - name: main
        max-servers: 5
        labels: [{name: small, cloud-image: img, flavor-name: m1.small}]
`;

function setup(text: string, apply?: (next: Config, previous: Config) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'np-watch-'));
  const path = join(dir, 'nodepool.yaml');
  writeFileSync(path, text);
  const logs: { level: number; msg: string; line?: number; field?: string }[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => { logs.push(JSON.parse(s)); } } });
  const applied: Config[] = [];
  const results: string[] = [];
  const watcher = new ConfigWatcher({
    path, current: loadConfig(path), intervalMs: 0, logger,
    apply: apply ?? (async (next) => { applied.push(next); }),
    onResult: (r) => results.push(r),
  });
  return { dir, path, watcher, logs, applied, results, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('a change of content is reported once; a touch or a rewrite with the same content is not', async () => {
  const t = setup(VALID(1));
  try {
    assert.equal(await t.watcher.check(), 'unchanged');
    const later = new Date(Date.now() + 5000);
    utimesSync(t.path, later, later);
    writeFileSync(t.path, VALID(1));
    assert.equal(await t.watcher.check(), 'unchanged', 'same content, new mtime: nothing to do');
    writeFileSync(t.path, VALID(3));
    assert.equal(await t.watcher.check(), 'applied');
    assert.equal(await t.watcher.check(), 'unchanged', 'the same change is applied once');
    assert.equal(t.applied.length, 1);
    assert.equal(t.applied[0].labels[0].minReady, 3);
    assert.equal(t.watcher.current.labels[0].minReady, 3);
    assert.deepEqual(t.results, ['applied']);
    assert.ok(t.logs.every((l) => l.level < 50), 'no error logged');
  } finally {
    t.done();
  }
});

test('an invalid file is refused with one error line per problem at its line, and the old configuration stays', async () => {
  const t = setup(VALID(1));
  try {
    writeFileSync(t.path, VALID(1).replace('max-servers: 5', 'max-servers: lots').replace('    min-ready: 1', '    min-ready: 1\n    min-raedy: 2'));
    assert.equal(await t.watcher.check(), 'refused');
    assert.equal(t.applied.length, 0);
    assert.equal(t.watcher.current.labels[0].minReady, 1, 'the previous configuration is still in effect');
    const errors = t.logs.filter((l) => l.level === 50);
    assert.equal(errors.length, 2, JSON.stringify(errors));
    assert.deepEqual(errors.map((e) => e.line), [5, 13]);
    assert.match(errors[0].msg, /min-raedy/);
    assert.equal(errors[1].field, 'providers[0].pools[0].max-servers');
    assert.ok(t.logs.some((l) => l.level === 40 && /previous configuration keeps running/.test(l.msg)));
    // Judged once: the same broken content is not logged again at every read.
    const before = t.logs.length;
    assert.equal(await t.watcher.check(), 'unchanged');
    assert.equal(t.logs.length, before);
    writeFileSync(t.path, VALID(2));
    assert.equal(await t.watcher.check(), 'applied', 'the file fixed is applied');
    assert.equal(t.watcher.current.labels[0].minReady, 2);
    assert.deepEqual(t.results, ['refused', 'applied']);
  } finally {
    t.done();
  }
});

test('a configuration the process cannot put in place is refused and the old one stays', async () => {
  const t = setup(VALID(1), async () => { throw new Error('cloud sim-b is not served'); });
  try {
    writeFileSync(t.path, VALID(4));
    assert.equal(await t.watcher.check(), 'refused');
    assert.equal(t.watcher.current.labels[0].minReady, 1);
    assert.ok(t.logs.some((l) => l.level === 50 && /cloud sim-b is not served/.test(l.msg)));
  } finally {
    t.done();
  }
});

test('a change of a related file (clouds.yaml) alone is applied as one; finding the related files is done once per configuration', async () => {
  const t = setup(VALID(1));
  const clouds = join(t.dir, 'clouds.yaml');
  writeFileSync(clouds, 'clouds: {}\n');
  let lookups = 0;
  const seen: boolean[] = [];
  const watcher = new ConfigWatcher({
    path: t.path, current: loadConfig(t.path), intervalMs: 0, logger: createLogger({ level: 'silent' }),
    related: () => { lookups++; return [clouds]; },
    apply: async (_next, _previous, relatedChanged) => { seen.push(relatedChanged); },
  });
  try {
    for (let i = 0; i < 20; i++) assert.equal(await watcher.check(), 'unchanged');
    writeFileSync(clouds, 'clouds: {a: {auth: {auth_url: "http://127.0.0.1:5000"}}}\n');
    assert.equal(await watcher.check(), 'applied');
    assert.deepEqual(seen, [true], 'applied with its related files changed');
    for (let i = 0; i < 20; i++) assert.equal(await watcher.check(), 'unchanged');
    assert.equal(lookups, 2, 'once for the configuration of the start, once for the one applied');
  } finally {
    t.done();
  }
});
