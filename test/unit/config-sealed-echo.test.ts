import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadClouds, resolveCloud } from '../../providers/openstack/clouds-yaml/index.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { loadConfig } from '../../src/config/load.ts';
import { cloudsUnseal } from '../../src/config/sealed-values.ts';
import { readPublicKey, writeKeyFiles } from '../../src/secrets/keyfile.ts';
import { seal } from '../../src/secrets/sealed.ts';

/**
 * A careless operator puts sealed values (`nodepool secret seal`) where they do not belong: a
 * port, a driver, a label's name, a cloud's interface. The daemon opens them before checking, so
 * the checks see the clear text; no error or warning may show it. Each message names the field
 * and its line and says "a sealed value" instead, in `nodepool config check`, at the start of
 * `nodepool run`, and from the loaders.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));

function nodepool(cwd: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin/nodepool.js'), ...args], { cwd, env: { ...process.env, NODEPOOL_LOG_LEVEL: 'silent', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

/** A folder with the daemon's key, and a sealer for its public half. */
function workdir() {
  const dir = mkdtempSync(join(tmpdir(), 'np-sealed-echo-'));
  writeKeyFiles(join(dir, 'daemon.key'));
  const publicKey = readPublicKey(join(dir, 'daemon.key.pub'));
  const sealed = new Map<string, string>();
  const sealOf = (clear: string) => {
    if (!sealed.has(clear)) sealed.set(clear, seal(clear, publicKey));
    return sealed.get(clear)!;
  };
  // Isolated from the machine's own clouds.yaml.
  const env = { HOME: dir, XDG_CONFIG_HOME: join(dir, '.config'), XDG_CONFIG_DIRS: join(dir, 'site') };
  return { dir, sealOf, env, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Line (1-based) of the `nth` line of `text` holding `snippet`. */
function lineOf(text: string, snippet: string, nth = 1): number {
  let seen = 0;
  return text.split('\n').findIndex((l) => l.includes(snippet) && ++seen === nth) + 1;
}

/** The report line about `path`; it must name the line and say "a sealed value". */
function reported(report: string, path: string, line: number, message: RegExp): void {
  const hit = report.split('\n').find((l) => l.includes(`: ${path}: `) || l.includes(`: warning: ${path}: `));
  assert.ok(hit, `a line about ${path} in:\n${report}`);
  assert.match(hit, new RegExp(`:${line}:\\d+: `), hit);
  assert.match(hit, message, hit);
}

const SECRETS = {
  port: 'SUPERSECRETVALUE-42',
  driver: 'SECRET-DRIVER-77',
  label: 'ubuntu-jammy-secret',
  poolLabel: 'POOL-LABEL-SECRET',
  provider: 'PROVIDER-NAME-SECRET',
  image: 'CLOUD-IMAGE-SECRET',
  parent: 'PARENT-IMAGE-SECRET',
  iface: 'INTERFACE-SECRET',
  authType: 'AUTH-TYPE-SECRET',
  regions: 'REGIONS-SECRET',
  password: 'cloud-password-secret',
};

function brokenNodepoolYaml(s: (clear: string) => string): string {
  return `secrets:
  key-file: daemon.key
api:
  port: ${s(SECRETS.port)}
labels:
  - name: ${s(SECRETS.label)}
  - name: plain
diskimages:
  - name: base
    parent: ${s(SECRETS.parent)}
providers:
  - name: ${s(SECRETS.provider)}
    driver: ${s(SECRETS.driver)}
    cloud: east
    cloud-images:
      - name: jammy
    pools:
      - name: main
        max-servers: 2
        labels:
          - name: ubuntu-jammy-secre
            flavor-name: m1.small
            cloud-image: jammy
          - name: ${s(SECRETS.poolLabel)}
            flavor-name: m1.small
            cloud-image: ${s(SECRETS.image)}
  - name: ${s(SECRETS.provider)}
    driver: openstack
    cloud: east
`;
}

function assertNoSecret(text: string): void {
  for (const clear of Object.values(SECRETS)) assert.ok(!text.includes(clear), `"${clear}" shown in:\n${text}`);
}

/** Every place nodepool.yaml's values are echoed: a type error, an enum, the cross-checks, a warning. */
function assertNodepoolReport(report: string, yaml: string, s: (clear: string) => string): void {
  assertNoSecret(report);
  reported(report, 'api.port', lineOf(yaml, s(SECRETS.port)), /: expected a number, found a sealed value$/);
  reported(report, 'providers[0].driver', lineOf(yaml, s(SECRETS.driver)), /: expected "openstack" or "fake" or "static", found a sealed value$/);
  reported(report, 'providers[1].name', lineOf(yaml, s(SECRETS.provider), 2),
    new RegExp(`: provider a sealed value is defined twice \\(first at line ${lineOf(yaml, s(SECRETS.provider))}\\)$`));
  reported(report, 'providers[0].pools[0].labels[0].name', lineOf(yaml, 'name: ubuntu-jammy-secre\n'.trim()),
    /: label "ubuntu-jammy-secre" is not defined in labels \(did you mean a sealed value\?\)$/);
  reported(report, 'providers[0].pools[0].labels[1].name', lineOf(yaml, s(SECRETS.poolLabel)),
    /: label a sealed value is not defined in labels \(defined: a sealed value, plain\)$/);
  reported(report, 'providers[0].pools[0].labels[1].cloud-image', lineOf(yaml, s(SECRETS.image)),
    /: cloud-image a sealed value is not defined in providers\[0\]\.cloud-images \(defined: jammy\)$/);
  reported(report, 'diskimages[0].parent', lineOf(yaml, s(SECRETS.parent)), /: parent a sealed value is not defined in diskimages/);
  reported(report, 'labels[0].name', lineOf(yaml, s(SECRETS.label)), /warning: labels\[0\]\.name: label a sealed value is not served by any pool/);
}

test('no error or warning about nodepool.yaml shows an opened sealed value: config check, the loader and the start', async () => {
  const w = workdir();
  const yaml = brokenNodepoolYaml(w.sealOf);
  const file = join(w.dir, 'nodepool.yaml');
  writeFileSync(file, yaml);

  const check = await nodepool(w.dir, ['config', 'check', 'nodepool.yaml'], w.env);
  assert.equal(check.code, 1, check.stderr);
  assert.equal(check.stderr, '');
  assertNodepoolReport(check.stdout, yaml, w.sealOf);

  const err = (() => { try { loadConfig(file); } catch (e) { return e; } })();
  assert.ok(err instanceof ConfigError);
  assertNoSecret(err.message);
  assert.match(err.message, /nodepool\.yaml:4:\d+: api\.port: expected a number, found a sealed value/);

  const run = await nodepool(w.dir, ['run', '--config', 'nodepool.yaml'], w.env);
  assert.equal(run.code, 1);
  assertNoSecret(run.stdout + run.stderr);
  assert.match(run.stderr, /nodepool\.yaml:4:\d+: api\.port: expected a number, found a sealed value/);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  w.done();
});

const GOOD_NODEPOOL_YAML = `secrets:
  key-file: daemon.key
labels:
  - name: jammy
providers:
  - name: east
    driver: openstack
    cloud: east
    cloud-images: [{name: jammy}]
    pools: [{name: main, max-servers: 2, labels: [{name: jammy, flavor-name: m1.small, cloud-image: jammy}]}]
  - name: west
    driver: openstack
    cloud: west
    cloud-images: [{name: jammy}]
    pools: [{name: main, max-servers: 2, labels: [{name: jammy, flavor-name: m1.small, cloud-image: jammy}]}]
`;

test('no problem of a clouds.yaml or secure.yaml entry shows an opened sealed value: config check and the loader', async () => {
  const w = workdir();
  const s = w.sealOf;
  writeFileSync(join(w.dir, 'nodepool.yaml'), GOOD_NODEPOOL_YAML);
  const clouds = `clouds:
  east:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: ci
      password: ${s(SECRETS.password)}
      project_name: ci
    interface: ${s(SECRETS.iface)}
  west:
    auth: {auth_url: 'http://127.0.0.1:5000/v3', username: ci, password: x, project_name: ci}
    regions: ${s(SECRETS.regions)}
`;
  const secure = `clouds:
  east:
    auth_type: ${s(SECRETS.authType)}
`;
  writeFileSync(join(w.dir, 'clouds.yaml'), clouds);
  writeFileSync(join(w.dir, 'secure.yaml'), secure);
  const env = { ...w.env, OS_CLIENT_CONFIG_FILE: join(w.dir, 'clouds.yaml'), OS_CLIENT_SECURE_FILE: join(w.dir, 'secure.yaml') };

  const check = await nodepool(w.dir, ['config', 'check', 'nodepool.yaml'], env);
  assert.equal(check.code, 1, check.stdout + check.stderr);
  assertNoSecret(check.stdout + check.stderr);
  const lines = check.stdout.split('\n');
  const about = (path: string) => lines.find((l) => l.includes(`: ${path}: `)) ?? assert.fail(`${path} in:\n${check.stdout}`);
  assert.match(about('clouds.east.interface'), new RegExp(`clouds\\.yaml:${lineOf(clouds, s(SECRETS.iface))}:\\d+: clouds\\.east\\.interface: must be public, internal or admin, found a sealed value$`));
  assert.match(about('clouds.east.auth_type'), new RegExp(`secure\\.yaml:${lineOf(secure, s(SECRETS.authType))}:\\d+: clouds\\.east\\.auth_type: auth_type a sealed value is not supported`));
  assert.match(about('clouds.west.regions'), new RegExp(`clouds\\.yaml:${lineOf(clouds, s(SECRETS.regions))}:\\d+: clouds\\.west\\.regions: expected a list, found a sealed value$`));

  const loaded = loadClouds({ env, home: w.dir, cwd: w.dir, siteDirs: [], unseal: cloudsUnseal(join(w.dir, 'daemon.key')) });
  for (const cloud of ['east', 'west']) {
    const err = (() => { try { resolveCloud(loaded, cloud); } catch (e) { return e; } })();
    assert.ok(err instanceof ConfigError, cloud);
    assertNoSecret(err.message);
    assert.match(err.message, /a sealed value/);
  }
  // A cloud name that was sealed in nodepool.yaml and that no file defines.
  const unknown = (() => { try { resolveCloud(loaded, SECRETS.driver); } catch (e) { return e as Error; } })();
  assert.match(unknown!.message, /^cloud a sealed value is not defined in clouds\.yaml/);
  w.done();
});
