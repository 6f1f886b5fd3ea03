import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadClouds, resolveCloud } from '../../providers/openstack/clouds-yaml/index.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { loadConfig } from '../../src/config/load.ts';
import { checkConfigFile } from '../../src/config/check.ts';
import { cloudsUnseal } from '../../src/config/sealed-values.ts';
import { createLogger } from '../../src/log.ts';
import { readPublicKey, writeKeyFiles } from '../../src/secrets/keyfile.ts';
import { seal } from '../../src/secrets/sealed.ts';

/**
 * An operator keeps the cloud password out of clouds.yaml in clear: `nodepool secret keygen`
 * made the daemon's key, `nodepool secret seal` sealed the password, the sealed text went into
 * secure.yaml, and nodepool.yaml names the key file.
 */

function workdir() {
  const dir = mkdtempSync(join(tmpdir(), 'np-secrets-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const NODEPOOL_YAML = (extra = '') => `
secrets:
  key-file: daemon.key
labels:
  - name: jammy
providers:
  - name: east
    driver: openstack
    cloud: east
    cloud-images:
      - name: jammy
    pools:
      - name: main
        max-servers: 2
        labels:
          - name: jammy
            flavor-name: m1.small
            cloud-image: jammy
${extra}`;

function cloudsYaml(password: string): string {
  return `clouds:\n  east:\n    auth:\n      auth_url: http://127.0.0.1:5000/v3\n      username: ci\n      password: ${password}\n      project_name: ci\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n`;
}

test('keygen writes the key pair readable by its owner only, and its public half beside it', () => {
  const w = workdir();
  const key = join(w.dir, 'daemon.key');
  const made = writeKeyFiles(key);
  assert.equal(statSync(key).mode & 0o777, 0o600);
  assert.equal(made.publicPath, `${key}.pub`);
  assert.match(made.keyId, /^[0-9a-f]{8}$/);
  assert.equal(readPublicKey(made.publicPath).length, 32);
  assert.throws(() => writeKeyFiles(key), /already exists/);
  w.done();
});

test('the daemon opens a sealed cloud password from secure.yaml; nothing else sees the clear text', () => {
  const w = workdir();
  const key = join(w.dir, 'daemon.key');
  writeKeyFiles(key);
  const password = 'correct horse battery staple';
  const sealed = seal(password, readPublicKey(`${key}.pub`));
  assert.ok(!sealed.includes(password));
  const cloudsFile = join(w.dir, 'clouds.yaml');
  writeFileSync(cloudsFile, cloudsYaml(sealed));
  const env = { OS_CLIENT_CONFIG_FILE: cloudsFile };
  const loaded = loadClouds({ env, home: w.dir, cwd: w.dir, siteDirs: [], unseal: cloudsUnseal(key) });
  assert.equal(resolveCloud(loaded, 'east').password, password);

  // Without the key the cloud cannot be used, and the error says which field and why.
  const keyless = loadClouds({ env, home: w.dir, cwd: w.dir, siteDirs: [] });
  const err = (() => { try { resolveCloud(keyless, 'east'); } catch (e) { return e as ConfigError; } })()!;
  assert.ok(err instanceof ConfigError);
  assert.match(err.message, /clouds\.yaml:6:\d+: clouds\.east\.auth\.password: sealed value is sealed, but nothing here opens it/);
  assert.ok(!err.message.includes(sealed) && !err.message.includes(password));
  w.done();
});

test('a value sealed for another key, or altered, is a configuration error naming the field at its line', () => {
  const w = workdir();
  const key = join(w.dir, 'daemon.key');
  writeKeyFiles(key);
  const otherKey = join(w.dir, 'other.key');
  writeKeyFiles(otherKey);
  const forOther = seal('s3cret-userdata', readPublicKey(`${otherKey}.pub`));
  const good = seal('s3cret-userdata', readPublicKey(`${key}.pub`));
  // Flip one character in the middle of the box: the MAC no longer matches.
  const mid = good.length - 20;
  const altered = good.slice(0, mid) + (good[mid] === 'A' ? 'B' : 'A') + good.slice(mid + 1);
  const file = join(w.dir, 'nodepool.yaml');
  writeFileSync(file, NODEPOOL_YAML().replace('            cloud-image: jammy\n', `            cloud-image: jammy\n            userdata: ${forOther}\n            instance-properties:\n              build: ${altered}\n`));
  const report = checkConfigFile(file);
  assert.equal(report.ok, false);
  const lines = report.text.split('\n');
  assert.match(lines.find((l) => l.includes('.userdata'))!, /nodepool\.yaml:19:23: providers\[0\]\.pools\[0\]\.labels\[0\]\.userdata: sealed value was sealed for another key \(id [0-9a-f]{8}\); this daemon's key \(secrets\.key-file\) has id [0-9a-f]{8}/);
  assert.match(lines.find((l) => l.includes('.build'))!, /:21:\d+: providers\[0\]\.pools\[0\]\.labels\[0\]\.instance-properties\.build: sealed value cannot be unsealed with this key: the sealed text was altered or cut short/);
  assert.ok(!report.text.includes('s3cret-userdata') && !report.text.includes(altered) && !report.text.includes(forOther));

  writeFileSync(file, NODEPOOL_YAML().replace('            cloud-image: jammy\n', `            cloud-image: jammy\n            userdata: ${good}\n`));
  const config = loadConfig(file);
  assert.equal(config.providers[0]!.pools[0]!.labels[0]!.userdata, 's3cret-userdata');
  assert.equal(config.secrets?.keyFile, key);

  writeFileSync(file, NODEPOOL_YAML().replace('daemon.key', 'missing.key').replace('            cloud-image: jammy\n', `            cloud-image: jammy\n            userdata: ${good}\n`));
  assert.match(checkConfigFile(file).text, /:3:\d+: secrets\.key-file: cannot read the key file .*missing\.key: no such file \(needed to open providers\[0\]\.pools\[0\]\.labels\[0\]\.userdata\)/);
  w.done();
});

test('a secret the daemon has opened is scrubbed from every log line, whatever field carries it', () => {
  const w = workdir();
  const key = join(w.dir, 'daemon.key');
  writeKeyFiles(key);
  const password = 'hunter2-but-longer';
  const cloudsFile = join(w.dir, 'clouds.yaml');
  writeFileSync(cloudsFile, cloudsYaml(seal(password, readPublicKey(`${key}.pub`))));
  loadClouds({ env: { OS_CLIENT_CONFIG_FILE: cloudsFile }, home: w.dir, cwd: w.dir, siteDirs: [], unseal: cloudsUnseal(key) });
  let out = '';
  const sink = new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb(); } });
  const log = createLogger({ level: 'info', destination: sink });
  log.info({ password }, 'by a known field name');
  log.info({ note: `the cloud said: bad password ${password}` }, `and in a message: ${password}`);
  log.error({ err: new Error(`auth with ${password} refused`) }, 'inside an error');
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 3);
  assert.ok(!out.includes(password), out);
  for (const line of lines) assert.match(line, /\[redacted\]/);
  w.done();
});

test('a field named like a secret is redacted at any of the first four levels of a log line, inside errors and arrays too; nothing else changes', () => {
  let out = '';
  const sink = new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb(); } });
  const log = createLogger({ level: 'info', destination: sink });
  const fields = {
    password: 'p-top', cloud: { auth: { password: 'p-deep', username: 'demo' }, token: 't-1' },
    request: { headers: { 'X-Auth-Token': 't-2', Accept: 'application/json' } }, list: [{ secret: 's-1' }, 'plain'],
    deeper: { a: { b: { c: { password: 'kept: past the fourth level' } } } }, when: new Date(0), count: 3,
  };
  const err = Object.assign(new Error('the cloud refused'), { config: { headers: { authorization: 'Bearer t-3' } } });
  log.child({ component: 'launcher' }).warn({ ...fields, err }, 'with secrets');
  log.info({ err: new Error('nothing secret'), provider: 'east' }, 'without');
  const [first, second] = out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(first.password, '[redacted]');
  assert.deepEqual(first.cloud, { auth: { password: '[redacted]', username: 'demo' }, token: '[redacted]' });
  assert.deepEqual(first.request, { headers: { 'X-Auth-Token': '[redacted]', Accept: 'application/json' } });
  assert.deepEqual(first.list, [{ secret: '[redacted]' }, 'plain']);
  assert.equal(first.deeper.a.b.c.password, 'kept: past the fourth level');
  assert.equal(first.when, '1970-01-01T00:00:00.000Z');
  assert.equal(first.component, 'launcher');
  assert.equal(first.err.message, 'the cloud refused');
  assert.match(first.err.stack, /the cloud refused/);
  assert.equal(first.err.config.headers.authorization, '[redacted]');
  for (const s of ['p-top', 'p-deep', 't-1', 't-2', 't-3', 's-1']) assert.ok(!out.includes(s), `${s} in ${out}`);
  // The caller's objects are left as they were.
  assert.equal(fields.cloud.auth.password, 'p-deep');
  assert.equal(err.config.headers.authorization, 'Bearer t-3');
  assert.equal(second.err.message, 'nothing secret');
  assert.equal(second.err.type, 'Error');
  assert.equal(second.provider, 'east');
});

test('a secret with quotes or backslashes is scrubbed from a log line in its JSON-escaped form too', async () => {
  const { rememberSecret } = await import('../../src/secrets/known.ts');
  const secret = 'pa"ss\\word-' + Math.random().toString(36).slice(2);
  rememberSecret(secret);
  let written = '';
  const logger = createLogger({ level: 'info', destination: { write: (l: string) => { written += l; } } });
  logger.info({ detail: `login with ${secret} failed` }, 'cloud said no');
  assert.ok(written.includes('[redacted]'), written);
  assert.ok(!written.includes(JSON.stringify(secret).slice(1, -1)), 'not in its escaped form');
});
