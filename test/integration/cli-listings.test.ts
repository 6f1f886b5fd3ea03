import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.ts';
import { addNode, apiHarness, fulfil, type Harness } from '../unit/api-helpers.ts';
import { scratch } from './helpers.ts';

/**
 * An operator who knows Nodepool looks around with `nodepool`: labels, providers, a summary, one
 * request, one provider; first through the running system's API, then, with the API down,
 * through the store itself, and gets the same rows both ways.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = scratch('np-cli-');
let h: Harness;
let url: string;
let configPath: string;

before(async () => {
  h = apiHarness();
  configPath = join(dir.dir, 'nodepool.yaml');
  writeFileSync(configPath, `
labels:
  - name: ubuntu-jammy
    min-ready: 2
  - name: ubuntu-noble
providers:
  - name: sim-east
    driver: openstack
    cloud: sim-east
    cloud-images: [{ name: jammy }]
    pools:
      - name: main
        max-servers: 20
        labels:
          - { name: ubuntu-jammy, flavor-name: m1.small, cloud-image: jammy }
          - { name: ubuntu-noble, flavor-name: m1.small, cloud-image: jammy }
store:
  path: ${h.dbPath}
`);
  await h.app.close();
  // The same store, served by an API that knows the configuration.
  const { buildApiApp } = await import('../../src/api/app.ts');
  const { silentLogger } = await import('../../src/log.ts');
  h.app = buildApiApp({ store: h.store, logger: silentLogger(), now: () => h.clock.now, requestLeaseTimeoutMs: 600_000, status: { config: loadConfig(configPath) } });
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => { await h.app.close(); await h.close(); dir.done(); });

function nodepool(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['bin/nodepool.js', '-c', configPath, ...args], { cwd: root, env: { ...process.env, NODEPOOL_LOG_LEVEL: 'silent' } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    child.stdin?.end(input ?? '');
  });
}

test('label list, provider list and status read the same over the API and from the store', async () => {
  await addNode(h.store, { label: 'ubuntu-jammy', now: h.clock.now });
  await addNode(h.store, { label: 'ubuntu-jammy', state: 'building', now: h.clock.now });
  const waiting = (await h.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { labels: ['ubuntu-noble'], requestor: 'zuul' } })).json();
  const [labels, storeLabels, providersJson, summary, storeSummary] = await Promise.all([
    nodepool(['--url', url, 'label', 'list']),
    nodepool(['--store', 'label', 'list', '--json']),
    nodepool(['--url', url, 'provider', 'list', '--json']),
    nodepool(['--url', url, 'status']),
    nodepool(['--store', 'status', '--json']),
  ]);
  for (const r of [labels, storeLabels, providersJson, summary, storeSummary]) assert.equal(r.code, 0, r.stderr);
  assert.match(labels.stdout, /\| Label +\| Min Ready \| Ready \| Building \| In Use \| Hold \| Providers \|/);
  assert.match(labels.stdout, /\| ubuntu-jammy \| 2 +\| 1 +\| 1 +\| 0 +\| 0 +\| sim-east +\|/);
  assert.deepEqual(JSON.parse(storeLabels.stdout), (await h.app.inject({ method: 'GET', url: '/label-list?format=json' })).json());

  const [east] = JSON.parse(providersJson.stdout);
  assert.deepEqual([east.provider, east.health, east.nodes, east.max_servers], ['sim-east', 'unknown', 2, 20]);

  assert.match(summary.stdout, /^nodepool status at /);
  assert.match(summary.stdout, /Nodes: 2 \(building 1, ready 1\)/);
  assert.match(summary.stdout, /Requests waiting: 1 \(requested 1, pending 0; oldest waiting 00:00:00:00\)/);
  assert.match(summary.stdout, /\| Provider +\| Health +\| Nodes \| Max Servers \|/);
  const s = JSON.parse(storeSummary.stdout);
  assert.equal(s.requests.waiting_list[0].id, waiting.id);
  assert.deepEqual(s.nodes.by_state, (await h.app.inject({ method: 'GET', url: '/api/v1/status' })).json().nodes.by_state);
});

test('request show and cancel, over the API and from the store', async () => {
  const asked = (await h.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { labels: ['ubuntu-jammy', 'ubuntu-jammy'], requestor: 'zuul' } })).json();
  const nodes = await fulfil(h.store, asked, h.clock.now);
  const open = (await h.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { labels: ['ubuntu-jammy'], requestor: 'zuul' } })).json();
  const [shown, shownJson] = await Promise.all([
    nodepool(['--url', url, 'request', 'show', asked.id]),
    nodepool(['--store', 'request', 'show', asked.id, '--json']),
  ]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`\\| State +\\| fulfilled +\\|`));
  for (const n of nodes) assert.ok(shown.stdout.includes(`| ${n.id} |`));
  assert.deepEqual(JSON.parse(shownJson.stdout).nodes.map((n: { id: string }) => n.id), nodes.map((n) => n.id));

  const canceled = await nodepool(['--store', 'request', 'cancel', open.id, '--json']);
  assert.equal(canceled.code, 0, canceled.stderr);
  assert.equal(JSON.parse(canceled.stdout).state, 'canceled');
  const again = await nodepool(['--url', url, 'request', 'cancel', open.id]);
  assert.deepEqual([again.code, again.stderr], [1, `nodepool: request ${open.id} is already canceled\n`]);
  const missing = await nodepool(['--url', url, 'request', 'show', 'nope']);
  assert.deepEqual([missing.code, missing.stderr], [1, 'nodepool: request nope not found\n']);
});

test('info shows a provider; erase asks first, and forgets its records with --force', async () => {
  await addNode(h.store, { provider: 'sim-gone', now: h.clock.now });
  await addNode(h.store, { provider: 'sim-gone', now: h.clock.now });
  const [info, unasked, unknown] = await Promise.all([
    nodepool(['--store', 'info', 'sim-gone']),
    nodepool(['--url', url, 'erase', 'sim-gone']),
    nodepool(['--url', url, 'info', 'sim-nowhere']),
  ]);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /^Provider sim-gone:/);
  assert.match(info.stdout, /Nodes \(2\):/);
  assert.match(info.stdout, /\| sim-gone +\| not configured \|/);
  // No terminal to ask on: refused as a usage error, nothing erased.
  assert.equal(unasked.code, 2);
  assert.match(unasked.stderr, /give --force/);
  assert.deepEqual([unknown.code, unknown.stderr], [1, 'nodepool: provider sim-nowhere not found\n']);

  const erased = await nodepool(['--url', url, 'erase', 'sim-gone', '--force']);
  assert.deepEqual([erased.code, erased.stdout], [0, 'erased provider sim-gone: 2 node record(s) removed\n'], erased.stderr);
  assert.equal((await h.store.listNodes({ provider: 'sim-gone' })).length, 0);
});

test('image-list and dib-image-list answer Nodepool\'s columns, empty until images are built', async () => {
  const [images, dib] = await Promise.all([
    nodepool(['--url', url, 'image-list']),
    nodepool(['--store', 'dib-image-list', '--json']),
  ]);
  assert.match(images.stdout, /\| Build ID \| Upload ID \| Provider \| Image \| Provider Image Name \| Provider Image ID \| State \|/);
  assert.equal(dib.stdout, '[]\n');
});

test('hold --expires takes a duration; delete --now waits until the node is gone', async () => {
  const node = await addNode(h.store, { now: h.clock.now });
  const held = await nodepool(['--store', 'hold', node.id, '--expires', '1h30m', '--json']);
  assert.equal(held.code, 0, held.stderr);
  const row = JSON.parse(held.stdout);
  assert.equal(row.state, 'hold');
  const expires = Date.parse(row.hold_expires) - Date.now();
  assert.ok(expires > 5390_000 && expires <= 5400_000, String(expires));

  // The launcher's part, played here: once the node is marked deleting, its server goes and the record with it.
  const unsubscribe = h.store.subscribe((e) => {
    if (e.kind === 'node' && e.id === node.id && e.state === 'deleting') setTimeout(() => void h.store.removeNode(node.id, 'test-launcher'), 100);
  });
  const deleted = await nodepool(['--url', url, 'delete', node.id, '--now']);
  unsubscribe();
  assert.deepEqual([deleted.code, deleted.stdout], [0, `node ${node.id}: deleted\n`], deleted.stderr);
});
