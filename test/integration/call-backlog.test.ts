import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { createCloudSim } from '../../src/cloudsim/index.ts';
import { startSystem } from '../../src/run.ts';
import { silentLogger } from '../../src/log.ts';
import { api, eventually, randomSshPort, scratch, writeConfig } from './helpers.ts';

// More launches than the cloud's connections carry at once. Creates beyond what is in flight wait
// in the store as pending nodes, where no timeout runs; queued behind the connections, their calls
// would time out before they were ever sent, and each such node would fail, be deleted and be
// launched again.

test('200 requests at once against creates answered after 1 s with a 2 s call timeout: every node created once, none failed', async () => {
  const tmp = scratch();
  const sim = await createCloudSim({ clouds: [{ name: 'busy', bootDelayMs: 100, deleteDelayMs: 50, ssh: false, quota: { instances: -1, cores: -1, ram: -1 } }] });
  try {
    await sim.cloud('busy').setFaults({ latency: [{ service: 'nova', method: 'POST', route: '/servers', ms: 1000 }] });
    const clouds = sim.cloudsYaml();
    (clouds.clouds.busy as Record<string, unknown>).api_timeout = 2;
    const cloudsYaml = join(tmp.dir, 'clouds.yaml');
    writeFileSync(cloudsYaml, YAML.stringify(clouds));
    const sys = await startSystem({
      config: writeConfig(tmp.dir, `
labels: [{name: jammy}]
providers:
  - name: busy
    driver: openstack
    cloud: busy
    list-interval: 0.2
    boot-timeout: 60
    launch-timeout: 90
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools:
      - name: main
        max-servers: 300
        networks: [private]
        labels: [{name: jammy, flavor-name: m1.small, cloud-image: jammy, connection-port: ${randomSshPort()}, host-key-checking: false}]
api: {listen: 127.0.0.1, port: 0}
store: {path: state.sqlite}
`),
      logger: silentLogger(), env: { OS_CLIENT_CONFIG_FILE: cloudsYaml },
    });
    try {
      const ids = await Promise.all(Array.from({ length: 200 }, async () =>
        (await api(sys.apiUrl, 'POST', '/api/v1/requests', { labels: ['jammy'], requestor: 'ci' })).body.id as string));
      // The creates are spread over time: while the first are in flight, the others wait, as nodes
      // whose create call has not been made or as requests not yet claimed (a pass claims at most
      // 64, and none while the provider has no call to spare).
      const pending = await eventually('requests waiting for their create call', async () => {
        const building = await sys.store.listNodes({ states: ['building'] });
        const nodes = building.filter((n) => n.step === 'pending').length;
        const requests = (await sys.store.listRequests({ states: ['requested'] })).length;
        const creating = building.filter((n) => n.step === 'creating').length;
        return creating > 0 && creating <= 64 && nodes + requests > 0 ? nodes + requests : undefined;
      }, 10_000, 20);
      assert.ok(pending > 0);
      for (const id of ids) {
        const r = (await api(sys.apiUrl, 'GET', `/api/v1/requests/${id}?wait=60`)).body;
        assert.equal(r.state, 'fulfilled', JSON.stringify(r));
      }
      const calls = sim.cloud('busy').stats().calls;
      assert.equal(calls['nova POST /servers'], 200, `each node's server created once: ${JSON.stringify(calls)}`);
      const metrics = await (await fetch(`${sys.apiUrl}/metrics`)).text();
      const launches = (result: string) => [...metrics.matchAll(new RegExp(`^nodepool_launch_total\\{[^}]*result="${result}"[^}]*\\} (\\d+)$`, 'gm'))]
        .reduce((a, m) => a + Number(m[1]), 0);
      assert.equal(launches('ready'), 200);
      assert.equal(launches('failed'), 0, 'no launch failed');
      for (const id of ids) await api(sys.apiUrl, 'POST', `/api/v1/requests/${id}/release`, { state: 'used' });
      await eventually('every server gone', async () => sim.cloud('busy').servers().every((s) => s.status === 'DELETED'), 30_000, 100);
    } finally {
      await sys.stop();
    }
  } finally {
    await sim.close();
    tmp.done();
  }
});
