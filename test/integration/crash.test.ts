import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { createOpenStackProvider } from '../../providers/openstack/index.ts';
import { createCloudSim } from '../../src/cloudsim/index.ts';
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

test("a launcher killed while a create call is in flight that makes no server: after the restart the request gets a new node long before that call's end could be known", async () => {
  const tmp = scratch('np-crash-create-');
  // Creates answered after 4 s, as a real Nova under a burst (FACTS: 3-8 s); the lost call ends
  // in a 500 and makes no server, which the launcher can know for sure only once a complete
  // list sent 30 s after the call lacks it.
  const sim = await createCloudSim({ clouds: [{ name: 'orphan', bootDelayMs: 100, deleteDelayMs: 50, ssh: false }] });
  let run: Proc | null = null;
  try {
    await sim.cloud('orphan').setFaults({ latency: [{ service: 'nova', method: 'POST', route: '/servers', ms: 4000 }] });
    sim.cloud('orphan').failNextCalls({ service: 'nova', method: 'POST', pathPattern: /\/servers$/, status: 500, count: 1 });
    const cloudsYaml = join(tmp.dir, 'clouds.yaml');
    writeFileSync(cloudsYaml, YAML.stringify(sim.cloudsYaml()));
    const cfg = join(tmp.dir, 'nodepool.yaml');
    writeFileSync(cfg, `
labels: [{name: jammy}]
providers:
  - name: orphan
    driver: openstack
    cloud: orphan
    list-interval: 0.05
    refresh-interval: 1
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools:
      - name: main
        max-servers: 4
        networks: [private]
        labels: [{name: jammy, flavor-name: m1.small, cloud-image: jammy, connection-port: ${randomSshPort()}, host-key-checking: false}]
api: {listen: 127.0.0.1, port: 0}
store: {path: state.sqlite}
`);
    const startRun = async (): Promise<string> => {
      run = startProc('nodepool run', ['-c', cfg, 'run'], { OS_CLIENT_CONFIG_FILE: cloudsYaml, NODEPOOL_LOG_LEVEL: 'warn' });
      await run.waitFor(/API listening at (\S+)/, 60_000);
      return /API listening at (\S+)/.exec(run.stdout())![1]!;
    };
    const nodes = async () => {
      const store = new SqliteStore(join(tmp.dir, 'state.sqlite'));
      try { return await store.listNodes(); } finally { await store.close(); }
    };
    let base = await startRun();
    const id = (await api(base, 'POST', '/api/v1/requests', { labels: ['jammy'], requestor: 'crash' })).body.id as string;
    // In flight: written as creating, and the call arrived at the cloud (killed before it did, the
    // launcher would not have made it, and the failure meant for it would hit the next create).
    const orphan = await eventually('a create call in flight', async () =>
      (sim.cloud('orphan').stats().calls['nova POST /servers'] ?? 0) > 0 ? (await nodes()).find((n) => n.step === 'creating') : undefined, 20_000, 20);
    run!.child.kill('SIGKILL');
    await run!.exited;

    base = await startRun();
    // Replaced once a complete list sent 10 s after the call shows no server of its name: about
    // 15 s after the kill with the new call's 4 s; waiting for certainty took 35 s or more.
    const got = (await api(base, 'GET', `/api/v1/requests/${id}?wait=25`)).body;
    assert.equal(got.state, 'fulfilled', JSON.stringify(got));
    assert.equal(got.nodes.length, 1);
    const replacement = got.nodes[0].id as string;
    assert.notEqual(replacement, orphan.id, 'a new node took the slot');
    const now = await nodes();
    assert.equal(now.find((n) => n.id === replacement)?.attempt, 1, 'the lost call used no attempt');
    // The replaced node stays, deleting, until its server is found by name or known never made.
    const left = now.find((n) => n.id === orphan.id);
    assert.equal(left?.state, 'deleting', JSON.stringify(left));
    assert.match(left!.comment ?? '', /stopped before the answer/);

    await api(base, 'POST', `/api/v1/requests/${id}/release`, { state: 'used' });
    await eventually('every server deleted', async () => sim.cloud('orphan').servers().every((s) => s.status === 'DELETED'), 30_000, 100);
  } finally {
    const last = run as Proc | null;
    last?.child.kill('SIGTERM');
    await last?.exited;
    await sim.close();
    tmp.done();
  }
});
