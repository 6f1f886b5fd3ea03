import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { eventually, freePort, scannedOnPortConfig, scratch } from './helpers.ts';
import { startProc } from './proc.ts';

/**
 * A node's SSH port takes connections and drops them (sshd restarting, a proxy with no backend):
 * the launcher scans it again and again, until the launch-timeout. An operator who deletes the
 * node meanwhile stops the scanning, and the node goes away with its server.
 */
test('deleting a node whose host-key scan keeps failing stops the scan, and the node goes', async (t) => {
  const tmp = scratch('np-scan-cancel-');
  t.after(() => tmp.done());
  let connections = 0;
  const dropping = createServer((s) => { connections++; s.destroy(); });
  t.after(() => new Promise((r) => dropping.close(() => r(undefined))));
  // Taken below on the node's own address once the cloud gave it one.
  const port = await freePort();
  const config = scannedOnPortConfig(tmp.dir, { scanPort: port, minReady: 0 });
  const run = startProc('nodepool run', ['run', '--config', config.path!], { NODEPOOL_LOG_LEVEL: 'silent' }, { cwd: tmp.dir });
  t.after(async () => { if (run.child.exitCode === null) { run.child.kill('SIGTERM'); await run.exited; } });
  await run.waitFor(/API listening at (\S+)/, 60_000);
  const apiUrl = /API listening at (\S+)/.exec(run.stdout())![1];

  const asked = await (await fetch(`${apiUrl}/api/v1/requests`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ labels: ['jammy'], requestor: 'ci' }),
  })).json() as { id: string };
  let node: { id: string; ip: string } | null = null;
  await eventually('the node to have its address', async () => {
    const rows = await (await fetch(`${apiUrl}/node-list?format=json&detail=1`)).json() as { id: string; state: string; public_ipv4: string | null; private_ipv4: string | null }[];
    const n = rows.find((r) => r.state === 'building' && (r.public_ipv4 || r.private_ipv4));
    node = n ? { id: n.id, ip: (n.public_ipv4 ?? n.private_ipv4)! } : null;
    return node !== null;
  }, 30_000, 50);
  const { id: nodeId, ip } = node!;
  await new Promise<void>((r) => dropping.listen(port, ip, r));
  await eventually('the node to be scanned again and again', async () => connections >= 3, 30_000, 50);

  const deleted = await fetch(`${apiUrl}/api/v1/nodes/${nodeId}`, { method: 'DELETE' });
  assert.equal(deleted.status < 300, true, `DELETE answered ${deleted.status}`);
  await eventually('the node to be gone', async () => {
    const res = await fetch(`${apiUrl}/api/v1/nodes/${nodeId}`);
    return res.status === 404;
  }, 30_000, 50);
  // A retry already waiting may still connect once; after that, nothing (the scan would go on for 600 s).
  await new Promise((r) => setTimeout(r, 1200));
  const after = connections;
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(connections, after, 'no scan of the deleted node after it went');
  const req = await (await fetch(`${apiUrl}/api/v1/requests/${asked.id}`)).json() as { state: string };
  assert.notEqual(req.state, 'fulfilled');
});
