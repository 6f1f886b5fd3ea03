import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createOpenStackProvider } from '../../providers/openstack/index.ts';
import { loadClouds, resolveCloud } from '../../providers/openstack/clouds-yaml/index.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { api, eventually, randomSshPort, scratch } from './helpers.ts';
import { startProc, type Proc } from './proc.ts';

// SIGKILL the whole system while servers are being created and booting, start it again, and check
// promise 1 (no server the store does not own) and promise 6 (no request lost).

const BIN = join(import.meta.dirname, '../../bin/nodepool.js');

function start(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NODEPOOL_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', () => {});
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => { if (child.exitCode !== null || child.signalCode !== null) resolve(); else child.once('exit', () => resolve()); });
}

test('a launcher killed while servers boot leaves no server behind and loses no request', async () => {
  const tmp = scratch('np-crash-');
  const cloudsYaml = join(tmp.dir, 'clouds.yaml');
  const sshPort = randomSshPort();
  const sim = start(['cloud-sim', '--clouds', 'crash-a', '--boot-delay', '1.5', '--delete-delay', '0.1', '--ssh-port', String(sshPort), '--clouds-yaml', cloudsYaml], {});
  const cfg = join(tmp.dir, 'nodepool.yaml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(cfg, `
labels: [{name: jammy}]
providers:
  - name: crash-a
    driver: openstack
    cloud: crash-a
    list-interval: 0.05
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools:
      - name: main
        max-servers: 10
        networks: [private]
        labels: [{name: jammy, flavor-name: m1.small, cloud-image: jammy, connection-port: ${sshPort}}]
api: {listen: 127.0.0.1, port: 0}
store: {path: state.sqlite}
`);
  const env = { OS_CLIENT_CONFIG_FILE: cloudsYaml };
  let run: Proc | null = null;
  // Started on a free port (a random fixed one could be taken): its URL is read from what it prints.
  const startRun = async (): Promise<string> => {
    run = startProc('nodepool run', ['-c', cfg, 'run'], { ...env, NODEPOOL_LOG_LEVEL: 'warn' });
    await run.waitFor(/API listening at (\S+)/, 60_000);
    const url = /API listening at (\S+)/.exec(run.stdout())![1]!;
    await eventually('the API', async () => (await fetch(`${url}/ready`)).status === 200, 20_000);
    return url;
  };
  const cloud = () => {
    const creds = resolveCloud(loadClouds({ env, siteDirs: [] }), 'crash-a');
    return createOpenStackProvider({ name: 'crash-a', credentials: creds });
  };
  try {
    await eventually('the simulator', async () => existsSync(cloudsYaml));
    let base = await startRun();

    const ids: string[] = [];
    for (const labels of [['jammy'], ['jammy'], ['jammy', 'jammy'], ['jammy']]) {
      ids.push((await api(base, 'POST', '/api/v1/requests', { labels, requestor: 'crash' })).body.id);
    }
    const os = cloud();
    await eventually('servers booting', async () => (await os.listServers()).filter((s) => s.state === 'building').length >= 3, 10_000, 10);
    run!.child.kill('SIGKILL');
    await run!.exited;

    base = await startRun();
    for (const id of ids) {
      const got = await api(base, 'GET', `/api/v1/requests/${id}?wait=60`);
      assert.equal(got.body.state, 'fulfilled', `request ${id} after the restart: ${JSON.stringify(got.body)}`);
    }
    // Every server in the cloud is a node the store knows, and every node's server exists.
    await eventually('cloud and store agree', async () => {
      const store = new SqliteStore(join(tmp.dir, 'state.sqlite'));
      const nodes = await store.listNodes();
      await store.close();
      const servers = (await os.listServers()).map((s) => s.id).sort();
      return JSON.stringify(servers) === JSON.stringify(nodes.map((n) => n.serverId).sort()) && nodes.length === 5;
    }, 30_000, 200);

    for (const id of ids) await api(base, 'POST', `/api/v1/requests/${id}/release`, { state: 'used' });
    await eventually('every server deleted', async () => (await os.listServers()).length === 0, 20_000, 100);
    await os.close();
  } finally {
    const last = run as Proc | null;
    last?.child.kill('SIGTERM');
    sim.kill('SIGTERM');
    await Promise.all([last?.exited, exited(sim)]);
    tmp.done();
  }
});
