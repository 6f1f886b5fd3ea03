import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../src/store/index.ts';
import { eventually, freePort, scannedOnPortConfig, scratch } from './helpers.ts';
import { startProc } from './proc.ts';

/**
 * An operator stops `nodepool run` with SIGTERM while a node's SSH never answers (sshd not up,
 * a firewall): the process ends promptly instead of waiting out the node's launch-timeout, and
 * the node stays `building` in the store, so the next start carries on with it.
 */

test('SIGTERM stops nodepool run while a host-key scan is still retrying, leaving the node to resume', async (t) => {
  const tmp = scratch('np-run-stop-');
  t.after(() => tmp.done());
  const config = scannedOnPortConfig(tmp.dir, { scanPort: await freePort(), minReady: 1 });
  const run = startProc('nodepool run', ['run', '--config', config.path!], { NODEPOOL_LOG_LEVEL: 'silent' }, { cwd: tmp.dir });
  t.after(() => { if (run.child.exitCode === null) run.child.kill('SIGKILL'); });
  await run.waitFor(/API listening at (\S+)/, 60_000);
  const apiUrl = /API listening at (\S+)/.exec(run.stdout())![1];

  // The server is ACTIVE and has its address: the launcher is scanning a port that never answers.
  await eventually('the node to be scanned', async () => {
    const rows = await (await fetch(`${apiUrl}/node-list?format=json&detail=1`)).json() as any[];
    return rows.some((n) => n.state === 'building' && (n.public_ipv4 || n.private_ipv4));
  }, 30_000, 50);

  run.child.kill('SIGTERM');
  // Without the stop reaching the scan, the process would stay up for the 600 s launch-timeout.
  await run.exited;
  assert.equal(run.child.exitCode, 0, run.log());

  const store = await openStore(config.store);
  try {
    const nodes = await store.listNodes();
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0]!.state, 'building', 'the node is left for the next start, not failed');
  } finally {
    await store.close();
  }
});
