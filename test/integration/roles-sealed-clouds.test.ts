import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBuilderRole } from '../../src/builder/role.ts';
import { createCloudSim, type CloudSim } from '../../src/cloudsim/index.ts';
import { silentLogger } from '../../src/log.ts';
import { startLauncherRole } from '../../src/roles.ts';
import { scratch, writeConfig, writeSealedClouds } from './helpers.ts';
import { PLACEHOLDER_DIB, ROOT, until } from './image-helpers.ts';

/**
 * The roles as separate processes reach their cloud with clouds.yaml's password sealed with the
 * daemon's key, as `nodepool run` does: the builder uploads its build, the launcher boots a node.
 * The simulator refuses any other password, so a role that sent the sealed text would fail.
 */

async function sealedWorld(t: { after(fn: () => Promise<void> | void): void }) {
  const tmp = scratch('np-roles-sealed-');
  const sim: CloudSim = await createCloudSim({ clouds: [{ name: 'vault', bootDelayMs: 50, deleteDelayMs: 20, ssh: false }] });
  t.after(async () => { await sim.close(); tmp.done(); });
  const { sealed, cloudsYaml } = writeSealedClouds(sim, 'vault', tmp.dir);
  const config = writeConfig(tmp.dir, `
labels: [{name: jammy}]
providers:
  - name: vault
    driver: openstack
    cloud: vault
    list-interval: 0.05
    diskimages: [{name: jammy}]
    pools:
      - {name: main, max-servers: 2, networks: [private], labels: [{name: jammy, flavor-name: m1.small, diskimage: jammy, host-key-checking: false}]}
diskimages:
  - {name: jammy, elements: [ubuntu-minimal], dib-cmd: ${PLACEHOLDER_DIB}}
elements-dir: ${join(ROOT, 'images/elements')}
images-dir: images
store: {path: state.sqlite}
secrets: {key-file: daemon.key}
`);
  return { sim, config, env: { OS_CLIENT_CONFIG_FILE: cloudsYaml }, sealed };
}

test('a builder role with a sealed cloud password uploads its build to the cloud', async (t) => {
  const w = await sealedWorld(t);
  assert.match(w.sealed, /^sealed:v1:/);
  const role = await startBuilderRole({ config: w.config, logger: silentLogger(), env: w.env, name: 'builder-1' });
  t.after(() => role.stop());
  const upload = await until(role.store, 'the upload ready', async () => (await role.store.listUploads({ states: ['ready'] }))[0], 30_000);
  const image = w.sim.cloud('vault').images().find((i) => i.id === upload.externalId);
  assert.equal(image?.status, 'active');
  assert.equal(image?.properties.nodepool_upload_id, upload.id);
});

test('a launcher role with a sealed cloud password lists the servers of its cloud and reports it healthy', async (t) => {
  const w = await sealedWorld(t);
  const role = await startLauncherRole({ config: w.config, logger: silentLogger(), env: w.env, name: 'launcher-1', leaseMs: 5000 });
  t.after(() => role.stop());
  await until(role.store, 'the first server list', async () => role.launcher.isReady(), 15_000);
  assert.ok(role.launcher.isReady());
});
