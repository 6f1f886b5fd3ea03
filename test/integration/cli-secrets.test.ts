import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiOptionsFromConfig } from '../../src/api/config-options.ts';
import { buildApiApp } from '../../src/api/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { addNode } from '../unit/api-helpers.ts';
import { scratch } from './helpers.ts';

/**
 * From the README alone: an operator makes the daemon's key, seals a value into nodepool.yaml,
 * makes an admin token, and holds a node with it; without the token the CLI is refused.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));

function nodepool(cwd: string, args: string[], input = '', env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [join(root, 'bin/nodepool.js'), ...args], { cwd, env: { ...process.env, NODEPOOL_LOG_LEVEL: 'silent', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    child.stdin?.end(input);
  });
}

test('keygen, seal and a token made by the CLI protect a running API', async () => {
  const tmp = scratch('np-cli-secrets-');
  const keygen = await nodepool(tmp.dir, ['secret', 'keygen', 'daemon.key']);
  assert.equal(keygen.code, 0, keygen.stderr);
  const [sealed, made] = await Promise.all([
    nodepool(tmp.dir, ['secret', 'seal', '--public-key', 'daemon.key.pub'], 'build-password\n'),
    nodepool(tmp.dir, ['token', 'new', '--name', 'ops', '--role', 'admin']),
  ]);
  assert.match(sealed.stdout, /^sealed:v1:[0-9a-f]{8}:\S+\n$/);
  const token = /^token: (np_\S+)$/m.exec(made.stdout)![1]!;
  const hash = /hash: (sha256:[0-9a-f]{64})$/m.exec(made.stdout)![1]!;
  writeFileSync(join(tmp.dir, 'nodepool.yaml'), `
secrets: {key-file: daemon.key}
labels: [{name: jammy}]
providers:
  - name: east
    driver: openstack
    cloud: east
    cloud-images: [{name: jammy}]
    pools:
      - name: main
        max-servers: 2
        labels:
          - name: jammy
            flavor-name: m1.small
            cloud-image: jammy
            instance-properties: {build-password: '${sealed.stdout.trim()}'}
api: {tokens: [{name: ops, role: admin, hash: '${hash}'}]}
store: {path: np.sqlite}
`);
  // The operator's clouds.yaml, in the folder the commands run in: `config check` finds the cloud there.
  writeFileSync(join(tmp.dir, 'clouds.yaml'), 'clouds:\n  east:\n    auth: {auth_url: https://keystone.east.example/v3, username: np, password: pw, project_name: ci}\n');
  writeFileSync(join(tmp.dir, 'token'), `${token}\n`);
  const config = loadConfig(join(tmp.dir, 'nodepool.yaml'));
  assert.equal(config.providers[0]!.pools[0]!.labels[0]!.instanceProperties['build-password'], 'build-password');

  const store = new SqliteStore(config.store.path);
  const app = buildApiApp({ ...apiOptionsFromConfig(config), store, logger: silentLogger() });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const node = await addNode(store, { now: Date.now() });
    const [check, anon, held] = await Promise.all([
      nodepool(tmp.dir, ['config', 'check', 'nodepool.yaml']),
      nodepool(tmp.dir, ['--url', url, 'hold', node.id]),
      nodepool(tmp.dir, ['--url', url, '--token-file', 'token', 'node', 'hold', node.id, '--reason', 'debug', '--json']),
    ]);
    assert.equal(check.code, 0, check.stdout);
    assert.equal(anon.code, 1);
    assert.match(anon.stderr, /needs a token with role admin/);
    assert.equal(held.code, 0, held.stderr);
    assert.equal(JSON.parse(held.stdout).state, 'hold');
    const deleted = await nodepool(tmp.dir, ['--url', url, 'delete', node.id], '', { NODEPOOL_TOKEN: token });
    assert.equal(deleted.code, 0, deleted.stderr);
  } finally {
    await app.close();
    await store.close();
    tmp.done();
  }
});
