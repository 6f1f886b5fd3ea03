import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/config/errors.ts';
import { silentLogger } from '../../src/log.ts';
import { startSystem } from '../../src/run.ts';
import { scratch, writeConfig } from './helpers.ts';

// An operator misspells a cloud (or forgets OS_CLIENT_CONFIG_FILE): the simulator must not stand
// in for it. `config check` and the start both refuse, naming the provider and where clouds.yaml
// was looked for; nothing is started.

const root = fileURLToPath(new URL('../..', import.meta.url));

const yaml = (sqlite: string) => `
labels: [{name: jammy}]
providers:
  - name: sim-east
    driver: openstack
    cloud: sim-east
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools: [{name: main, max-servers: 2, labels: [{name: jammy, flavor-name: m1.small, cloud-image: jammy}]}]
  - name: production
    driver: openstack
    cloud: vexhost
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools: [{name: main, max-servers: 2, labels: [{name: jammy, flavor-name: m1.small, cloud-image: jammy}]}]
api: {listen: 127.0.0.1, port: 0}
store: {path: ${sqlite}}
cloud-sim: {clouds: [sim-east]}
`;

/**
 * The machine's clouds.yaml, in the user's folder: it has `vexxhost`, not the `vexhost` the
 * configuration names. The environment of a process that finds it there, and of one told where it is.
 */
function machine(dir: string): { home: Record<string, string>; named: Record<string, string> } {
  const home = join(dir, 'home');
  mkdirSync(join(home, '.config/openstack'), { recursive: true });
  const file = join(home, '.config/openstack/clouds.yaml');
  writeFileSync(file, 'clouds:\n  vexxhost:\n    auth: {auth_url: https://auth.vexxhost.example/v3, username: ci, password: pw, project_name: ci}\n');
  return { home: { HOME: home, XDG_CONFIG_DIRS: join(dir, 'no-site') }, named: { OS_CLIENT_CONFIG_FILE: file } };
}

function nodepool(cwd: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin/nodepool.js'), ...args], { cwd, env: { PATH: process.env.PATH ?? '', NODEPOOL_LOG_LEVEL: 'silent', ...env }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

test('the start refuses a provider whose cloud is in no clouds.yaml, naming it and where it looked, and starts nothing', async () => {
  const tmp = scratch();
  try {
    const env = machine(tmp.dir);
    const config = writeConfig(tmp.dir, yaml('state.sqlite'));
    const err = await startSystem({ config, logger: silentLogger(), env: env.named }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof ConfigError, String(err));
    const [headline, line] = err.message.split('\n');
    assert.equal(headline, `${join(tmp.dir, 'nodepool.yaml')}: 1 provider names a cloud that cannot be used`);
    assert.match(line, /providers\[1\]\.cloud: provider "production": cloud "vexhost" is not defined in clouds\.yaml or by OS_\* variables \(clouds defined: vexxhost; looked in: .*\/home\/\.config\/openstack\/clouds\./);
    assert.match(line, /list it under cloud-sim\.clouds/);
    assert.equal(existsSync(join(tmp.dir, 'state.sqlite')), false, 'no store was opened');
  } finally {
    tmp.done();
  }
});

test('`nodepool config check` and `nodepool run` both refuse the misnamed cloud with exit status 1', async () => {
  const tmp = scratch();
  try {
    const env = machine(tmp.dir);
    writeFileSync(join(tmp.dir, 'nodepool.yaml'), yaml('state.sqlite'));
    const [check, run] = await Promise.all([
      nodepool(tmp.dir, ['config', 'check', 'nodepool.yaml'], env.home),
      nodepool(tmp.dir, ['-c', 'nodepool.yaml', 'run'], env.home),
    ]);
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /^nodepool\.yaml: 1 error\nnodepool\.yaml:11:12: providers\[1\]\.cloud: provider "production": cloud "vexhost" is not defined in clouds\.yaml or by OS_\* variables \(clouds defined: vexxhost; looked in: .*\/home\/\.config\/openstack\/\{clouds,secure\}\.\{yaml,yml,json\}/);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stderr, /^nodepool: .*nodepool\.yaml: 1 provider names a cloud that cannot be used\n.*provider "production": cloud "vexhost"/);
    assert.doesNotMatch(run.stdout, /API listening/);

    // Fixed, the same check passes.
    writeFileSync(join(tmp.dir, 'nodepool.yaml'), yaml('state.sqlite').replace('cloud: vexhost', 'cloud: vexxhost'));
    const fixed = await nodepool(tmp.dir, ['config', 'check', 'nodepool.yaml'], env.home);
    assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
  } finally {
    tmp.done();
  }
});
