import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { addNode, apiHarness, fulfil, type Harness } from '../unit/api-helpers.ts';

/**
 * An operator at a shell: `nodepool` spawned as a real process, talking over HTTP to an API app
 * listening on loopback in this test.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
let h: Harness;
let url: string;

before(async () => {
  h = apiHarness();
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => h.close());

function nodepool(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/nodepool.js', ...args], { cwd: root, env: { ...process.env, NODEPOOL_LOG_LEVEL: 'silent' } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

test('node list prints the Nodepool table, and JSON with --json', async () => {
  const jammy = await addNode(h.store, { label: 'ubuntu-jammy', now: h.clock.now - 65_000 });
  const noble = await addNode(h.store, { label: 'ubuntu-noble', provider: 'sim-west', now: h.clock.now });
  const [table, json, detail, filtered] = await Promise.all([
    nodepool('--url', url, 'node', 'list'),
    nodepool('--url', url, 'list', '--json'),
    nodepool('--url', url, 'list', '--detail', '--provider', 'sim-east'),
    nodepool('--url', url, 'node', 'list', '--label', 'ubuntu-noble', '--json'),
  ]);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[1]!, /^\| ID +\| Provider +\| Label +\| Server ID +\| Public IPv4 +\| IPv6 +\| State +\| Age +\| Locked +\|$/);
  const jammyLine = lines.find((l) => l.includes(jammy.id))!;
  assert.match(jammyLine, /\| ubuntu-jammy +\|.*\| ready +\| 00:00:01:05 \| unlocked \|$/);

  assert.equal(json.code, 0, json.stderr);
  const rows = JSON.parse(json.stdout);
  assert.deepEqual(rows.map((r: { id: string }) => r.id).sort(), [jammy.id, noble.id].sort());
  assert.equal(rows.find((r: { id: string }) => r.id === jammy.id).age, 65);

  assert.match(detail.stdout, /\| Hostname +\|/);
  assert.ok(detail.stdout.includes(jammy.hostname));
  assert.ok(!detail.stdout.includes(noble.id));
  assert.deepEqual(JSON.parse(filtered.stdout).map((r: { id: string }) => r.id), [noble.id]);
});

test('an operator holds a node for debugging, then deletes it', async () => {
  const node = await addNode(h.store, { now: h.clock.now });
  const hold = await nodepool('--url', url, 'hold', node.id, '--reason', 'bug 4711');
  assert.equal(hold.code, 0, hold.stderr);
  assert.match(hold.stdout, new RegExp(`\\| ${node.id} \\|.*\\| hold +\\|`));
  const shown = JSON.parse((await nodepool('--url', url, 'node', 'show', node.id, '--json')).stdout);
  assert.equal(shown.hold_reason, 'bug 4711');

  const del = await nodepool('--url', url, 'node', 'delete', node.id);
  assert.equal(del.code, 0, del.stderr);
  assert.match(del.stdout, /\| deleting +\|/);
  const [again, holdDeleting, unknown] = await Promise.all([
    nodepool('--url', url, 'delete', node.id),
    nodepool('--url', url, 'node', 'hold', node.id),
    nodepool('--url', url, 'node', 'show', 'no-such-node'),
  ]);
  assert.deepEqual([again.code, again.stderr], [1, `nodepool: node ${node.id} is already deleting\n`]);
  assert.equal(holdDeleting.code, 1);
  assert.match(holdDeleting.stderr, /is deleting; only ready, in-use or used nodes can be held/);
  assert.deepEqual([unknown.code, unknown.stderr], [1, 'nodepool: node no-such-node not found\n']);
});

test('request list shows what schedulers asked for and what they got', async () => {
  const asked = await h.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { labels: ['ubuntu-jammy', 'ubuntu-jammy'], requestor: 'zuul-gate' } });
  const req = asked.json();
  const nodes = await fulfil(h.store, req, h.clock.now);
  const [table, json] = await Promise.all([
    nodepool('--url', url, 'request', 'list'),
    nodepool('--url', url, 'request-list', '--json'),
  ]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /\| Request ID +\| Priority +\| State +\| Requestor +\| Labels +\|/);
  assert.match(table.stdout, new RegExp(`\\| ${req.id} \\| 100 +\\| fulfilled \\| zuul-gate +\\| ubuntu-jammy,ubuntu-jammy \\|`));
  const row = JSON.parse(json.stdout).find((r: { id: string }) => r.id === req.id);
  assert.deepEqual(row.nodes, nodes.map((n) => n.id));
});

test('an unreachable API is one line naming the URL (exit 1); a wrong command line exits 2', async () => {
  const [down, unknown, missingId, badState] = await Promise.all([
    nodepool('--url', 'http://127.0.0.1:9', 'node', 'list'),
    nodepool('--url', url, 'nodes'),
    nodepool('--url', url, 'node', 'hold'),
    nodepool('--url', url, 'list', '--state', 'sleeping'),
  ]);
  assert.equal(down.code, 1);
  assert.equal(down.stdout, '');
  assert.equal(down.stderr, 'nodepool: cannot reach the nodepool API at http://127.0.0.1:9: connection refused (ECONNREFUSED)\n');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'nodes'/);
  assert.equal(missingId.code, 2);
  assert.match(missingId.stderr, /missing required argument 'id'/);
  assert.equal(badState.code, 2);
});
