import { test, before, after } from 'node:test';
import { labProvidersYaml, startLabHost, type LabHost as Host } from '../support/lab.ts';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSystem, type System } from '../../src/run.ts';
import { createLogger } from '../../src/log.ts';
import { api, eventually, randomSshPort, scratch, writeConfig } from './helpers.ts';

// Changing nodepool.yaml under a running `nodepool run` (one process, SQLite, the built-in
// OpenStack simulator, static hosts played by ssh2 servers on loopback): each change takes effect
// without a restart, and a broken file changes nothing.

const tmp = scratch();
const sshPort = randomSshPort();
const path = join(tmp.dir, 'nodepool.yaml');
const logs: { level: number; msg: string; line?: number; field?: string; labelsChanged?: string[] }[] = [];
let hosts: Host[];
let sys: System;
let base: string;

function yaml(o: { minReady: number; hosts: Host[] }): string {
  return `
reload-interval: 0.1
labels:
  - name: ubuntu-jammy
    min-ready: ${o.minReady}
  - name: vendor-gpu
${labProvidersYaml(sshPort, o.hosts)}api: {listen: 127.0.0.1, port: 0}
store: {path: state/nodepool.sqlite}
cloud-sim: {clouds: [sim-a], boot-delay: 0.2, delete-delay: 0.1, ssh-port: ${sshPort}}
`;
}

before(async () => {
  hosts = await Promise.all([startLabHost(), startLabHost()]);
  const config = writeConfig(tmp.dir, yaml({ minReady: 0, hosts: [hosts[0]] }));
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => { logs.push(JSON.parse(s)); } } });
  sys = await startSystem({ config, logger, env: {} });
  base = sys.apiUrl;
});

after(async () => {
  await sys?.stop();
  await Promise.all((hosts ?? []).map((h) => h.close()));
  tmp.done();
});

const nodes = async () => (await api<{ nodes: any[] }>(base, 'GET', '/api/v1/nodes')).body.nodes;
const ready = async (label: string) => (await nodes()).filter((n) => n.label === label && n.state === 'ready');
const reloads = async (result: string) => {
  const text = (await fetch(`${base}/metrics`).then((r) => r.text()));
  return Number(new RegExp(`nodepool_config_reloads_total\\{result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? NaN);
};
const onHost = (h: Host) => async () => (await nodes()).filter((n) => n.provider === 'vendor-lab' && n.connection_port === h.port);

test('the configured static host is ready at start', async () => {
  await eventually('host 1 ready', async () => (await onHost(hosts[0])()).some((n) => n.state === 'ready'));
});

test("raising a label's min-ready in the file brings the ready nodes, without a restart", async () => {
  assert.equal((await ready('ubuntu-jammy')).length, 0);
  writeFileSync(path, yaml({ minReady: 2, hosts: [hosts[0]] }));
  await eventually('two ready ubuntu-jammy nodes', async () => (await ready('ubuntu-jammy')).length >= 2, 20_000);
  const line = logs.find((l) => l.msg === 'configuration reloaded');
  assert.deepEqual(line?.labelsChanged, ['ubuntu-jammy'], 'the reload says what changed');
  assert.equal(await reloads('applied'), 1);
  assert.equal(await reloads('refused'), 0);
});

test('a static host added to the file becomes a ready node', async () => {
  writeFileSync(path, yaml({ minReady: 2, hosts }));
  await eventually('host 2 ready', async () => (await onHost(hosts[1])()).some((n) => n.state === 'ready'), 20_000);
});

test('a static host removed from the file is gone once released, and not registered again', async () => {
  // Both hosts in use.
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await api(base, 'POST', '/api/v1/requests', { labels: ['vendor-gpu'], requestor: 'third-party-ci' });
    assert.equal(r.status, 201);
    ids.push(r.body.id);
  }
  const got = await Promise.all(ids.map((id) => api(base, 'GET', `/api/v1/requests/${id}?wait=20`).then((r) => r.body)));
  for (const r of got) assert.equal(r.state, 'fulfilled', JSON.stringify(r));
  const onSecond = ids[got.findIndex((r) => r.nodes[0].connection_port === hosts[1].port)];
  writeFileSync(path, yaml({ minReady: 2, hosts: [hosts[0]] }));
  await eventually('reloaded', async () => (await reloads('applied')) === 3);
  // In use: the job keeps its node.
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual((await onHost(hosts[1])()).map((n) => n.state), ['in-use']);
  await api(base, 'POST', `/api/v1/requests/${onSecond}/release`, { state: 'used' });
  await eventually('host 2 forgotten', async () => (await onHost(hosts[1])()).length === 0);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await onHost(hosts[1])()).length, 0, 'the removed host is not registered again');
});

test('an invalid file is refused with its line; the system keeps serving with the old configuration', async () => {
  writeFileSync(path, yaml({ minReady: 3, hosts: [hosts[0]] }).replace('max-servers: 4', 'max-servers: -4'));
  await eventually('refused', async () => (await reloads('refused')) === 1);
  const error = logs.find((l) => l.level === 50 && l.field === 'providers[0].pools[0].max-servers');
  assert.ok(error, JSON.stringify(logs.filter((l) => l.level >= 40)));
  assert.equal(error.line, 16);
  const r = await api(base, 'POST', '/api/v1/requests', { labels: ['ubuntu-jammy'], requestor: 'ci' });
  const done = (await api(base, 'GET', `/api/v1/requests/${r.body.id}?wait=20`)).body;
  assert.equal(done.state, 'fulfilled', JSON.stringify(done));
  // min-ready stays 2 (not the 3 of the refused file): two spare nodes again, not three.
  await eventually('two ready again', async () => (await ready('ubuntu-jammy')).length === 2, 20_000);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await ready('ubuntu-jammy')).length, 2);
  assert.equal(sys.launcher.config.labels[0].minReady, 2);
});
