import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { openStore } from '../../src/store/index.ts';
import { eventually, randomSshPort, scratch, writeConfig } from './helpers.ts';
import { startProc } from './proc.ts';

/**
 * An operator stops `nodepool run` with SIGTERM while a node's SSH never answers (sshd not up,
 * a firewall): the process ends promptly instead of waiting out the node's launch-timeout, and
 * the node stays `building` in the store, so the next start carries on with it.
 */

/** A port nobody listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

test('SIGTERM stops nodepool run while a host-key scan is still retrying, leaving the node to resume', async (t) => {
  const tmp = scratch('np-run-stop-');
  t.after(() => tmp.done());
  const deadPort = await closedPort();
  const config = writeConfig(tmp.dir, `
labels:
  - {name: jammy, min-ready: 1}
providers:
  - name: sim-a
    driver: openstack
    cloud: sim-a
    launch-timeout: 600
    list-interval: 0.05
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools:
      - name: main
        max-servers: 2
        networks: [private]
        labels: [{name: jammy, flavor-name: m1.small, cloud-image: jammy, connection-port: ${deadPort}}]
api: {listen: 127.0.0.1, port: 0}
store: {path: state.sqlite}
cloud-sim: {clouds: [sim-a], boot-delay: 0.1, delete-delay: 0.1, ssh-port: ${randomSshPort()}}
`);
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
