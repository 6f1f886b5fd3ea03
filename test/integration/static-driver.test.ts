import { test, before, after } from 'node:test';
import { generateEd25519Key } from '../../src/ssh-keys.ts';
import { labProvidersYaml, startLabHost, type LabHost as Host } from '../support/lab.ts';
import assert from 'node:assert/strict';
import { startSystem, type System } from '../../src/run.ts';
import { silentLogger } from '../../src/log.ts';
import type { Config } from '../../src/config/types.ts';
import { api, eventually, randomSshPort, scratch, sshRun, userKey, writeConfig } from './helpers.ts';

// The static driver through the whole system (one process, SQLite, the real HTTP API): three
// existing hosts (ssh2 servers on loopback stand in for the hardware) and a fourth whose host key
// is not the pinned one, beside an OpenStack provider on the built-in simulator.

const tmp = scratch();
const sshPort = randomSshPort();
const login = userKey();
let hosts: Host[];
let impostorKey: string;
let config: Config;
let sys: System;
let base: string;

before(async () => {
  hosts = await Promise.all(['gpu-1', 'gpu-2', 'gpu-3', 'gpu-4'].map((n) => startLabHost(n)));
  // The fourth host's pinned key is another key than the one it presents.
  impostorKey = generateEd25519Key().publicKey;
  const pinned = (h: Host, i: number) => (i === 3 ? impostorKey : h.publicKey);
  config = writeConfig(tmp.dir, `
labels:
  - name: ubuntu-jammy
  - name: vendor-gpu
${labProvidersYaml(sshPort, hosts, (h, i) => `            username: zuul
            host-key: "${pinned(h, i)}"
            python-path: /usr/bin/python3
`)}api: {listen: 127.0.0.1, port: 0}
store: {path: state/nodepool.sqlite}
cloud-sim: {clouds: [sim-a], boot-delay: 0.2, delete-delay: 0.1, ssh-port: ${sshPort}}
`);
  sys = await startSystem({ config, logger: silentLogger(), env: {} });
  base = sys.apiUrl;
});

after(async () => {
  await sys?.stop();
  await Promise.all((hosts ?? []).map((h) => h.close()));
  tmp.done();
});

const nodes = async () => (await api<{ nodes: any[] }>(base, 'GET', '/api/v1/nodes')).body.nodes;
const request = async (labels: string[]) => {
  const r = await api(base, 'POST', '/api/v1/requests', { labels, requestor: 'third-party-ci' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id as string;
};
const waitFor = (id: string, seconds: number) => api(base, 'GET', `/api/v1/requests/${id}?wait=${seconds}`).then((r) => r.body);
const hostOf = (node: any) => hosts.find((h) => h.port === node.connection_port)!;

/** No two live nodes hold one slot of a host (the store's rule), whatever the moment. */
async function assertOneNodePerSlot(): Promise<void> {
  const live = (await nodes()).filter((n) => n.provider === 'vendor-lab' && n.state !== 'deleting');
  const slots = live.map((n) => n.server_id);
  assert.equal(new Set(slots).size, slots.length, `one node per host slot: ${JSON.stringify(live.map((n) => [n.id, n.state, n.server_id]))}`);
}

const held: string[] = [];

test('three requests for the static label get the three hosts, reachable over SSH with the pinned host key', async () => {
  for (let i = 0; i < 3; i++) held.push(await request(['vendor-gpu']));
  const got = await Promise.all(held.map((id) => waitFor(id, 30)));
  for (const r of got) assert.equal(r.state, 'fulfilled', JSON.stringify(r));
  const handed = got.map((r) => r.nodes[0]);
  assert.deepEqual(handed.map((n: any) => n.provider), ['vendor-lab', 'vendor-lab', 'vendor-lab']);
  assert.deepEqual(handed.map((n: any) => hostOf(n).name).sort(), ['gpu-1', 'gpu-2', 'gpu-3'], 'each working host once, never the one with the wrong key');
  for (const n of handed) {
    const h = hostOf(n);
    assert.equal(n.interface_ip, '127.0.0.1');
    assert.equal(n.username, 'zuul');
    assert.equal(n.python_path, '/usr/bin/python3', 'the host\'s python-path reaches the scheduler');
    assert.deepEqual(n.host_keys, [h.publicKey], 'the host key returned is the pinned one');
    const out = await sshRun({ host: n.interface_ip, port: n.connection_port, username: n.username, hostKey: n.host_keys[0], privateKey: login.private, command: 'hostname' });
    assert.deepEqual(out, { code: 0, stdout: `${h.name}\n` });
  }
  await assertOneNodePerSlot();
});

test('the host presenting another key than the pinned one is out of service, with the reason on its node', async () => {
  const impostor = hosts[3];
  const failed = await eventually('the fourth host failed', async () => (await nodes()).find((n) => n.connection_port === impostor.port && n.state === 'failed'), 20_000);
  const detail = (await api(base, 'GET', `/api/v1/nodes/${failed.id}`)).body;
  assert.match(String(detail.comment), /host key mismatch: 127\.0\.0\.1:\d+ presented ssh-ed25519 SHA256:\S+, not the pinned host-key/);
  assert.equal(detail.allocated_to ?? null, null);
});

let waiting: string;
test('a fourth concurrent request waits, and gets the host released first', async () => {
  waiting = await request(['vendor-gpu']);
  const early = await waitFor(waiting, 2);
  assert.ok(early.state === 'requested' || early.state === 'pending', `still waiting: ${early.state}`);
  const first = await waitFor(held[0], 0);
  const released = hostOf(first.nodes[0]);
  const rel = await api(base, 'POST', `/api/v1/requests/${held[0]}/release`, { state: 'used' });
  assert.equal(rel.status, 200, JSON.stringify(rel.body));
  held.shift();
  const got = await waitFor(waiting, 30);
  assert.equal(got.state, 'fulfilled', JSON.stringify(got));
  assert.equal(hostOf(got.nodes[0]).name, released.name, 'the released host is handed out again');
  assert.notEqual(got.nodes[0].id, first.nodes[0].id, 'as a node of its own');
  const out = await sshRun({ host: '127.0.0.1', port: got.nodes[0].connection_port, username: 'zuul', hostKey: got.nodes[0].host_keys[0], privateKey: login.private, command: 'hostname' });
  assert.equal(out.stdout, `${released.name}\n`);
  held.push(waiting);
  await assertOneNodePerSlot();
});

test('the OpenStack provider serves its label in the same run', async () => {
  const id = await request(['ubuntu-jammy']);
  const got = await waitFor(id, 30);
  assert.equal(got.state, 'fulfilled', JSON.stringify(got));
  assert.equal(got.nodes[0].provider, 'sim-a');
  assert.equal(got.nodes[0].python_path, 'auto');
  const out = await sshRun({ host: got.nodes[0].interface_ip, port: got.nodes[0].connection_port, username: 'zuul', hostKey: got.nodes[0].host_keys[0], privateKey: login.private, command: 'true' });
  assert.equal(out.code, 0);
  await api(base, 'POST', `/api/v1/requests/${id}/release`, { state: 'used' });
});

test('a restart while the hosts are in use hands no host out twice', async () => {
  const inUse = (await nodes()).filter((n) => n.provider === 'vendor-lab' && n.state === 'in-use');
  assert.equal(inUse.length, 3);
  await sys.stop();
  sys = await startSystem({ config, logger: silentLogger(), env: {} });
  base = sys.apiUrl;
  // Every host is still in use: a new request waits, and nothing new is registered meanwhile.
  const next = await request(['vendor-gpu']);
  const early = await waitFor(next, 3);
  assert.ok(early.state === 'requested' || early.state === 'pending', `waits after the restart: ${early.state}`);
  const after = (await nodes()).filter((n) => n.provider === 'vendor-lab' && n.state === 'in-use');
  assert.deepEqual(after.map((n) => n.id).sort(), inUse.map((n) => n.id).sort(), 'the same nodes hold the hosts');
  assert.ok(!(await nodes()).some((n) => n.provider === 'vendor-lab' && (n.state === 'ready' || n.state === 'building') && n.connection_port !== hosts[3].port),
    'no working host registered again while in use');
  await assertOneNodePerSlot();
  // Released after the restart, the host goes to the waiting request.
  const mine = await waitFor(held[1], 0);
  await api(base, 'POST', `/api/v1/requests/${held[1]}/release`, { state: 'used' });
  const got = await waitFor(next, 30);
  assert.equal(got.state, 'fulfilled', JSON.stringify(got));
  assert.equal(hostOf(got.nodes[0]).name, hostOf(mine.nodes[0]).name);
  await assertOneNodePerSlot();
});
