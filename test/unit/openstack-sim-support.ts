/**
 * The OpenStack driver pointed at the cloud simulator over real HTTP: one cloud, the driver
 * logged in with the clouds.yaml the simulator writes, both closed with the test.
 */
import type { CloudCredentials } from '../../providers/openstack/clouds-yaml/index.ts';
import { createCloudSim, type CloudSim, type CloudSimCloudOptions } from '../../src/cloudsim/index.ts';
import { createOpenStackProvider } from '../../providers/openstack/index.ts';

export function simCredentials(sim: CloudSim, name: string): CloudCredentials {
  const entry = sim.cloudsYaml().clouds[name];
  return {
    cloud: name, authType: 'password', authUrl: entry.auth.auth_url, username: entry.auth.username, password: entry.auth.password,
    projectName: entry.auth.project_name, userDomainName: entry.auth.user_domain_name, projectDomainName: entry.auth.project_domain_name,
    regionName: entry.region_name, interface: 'public', verify: true,
  };
}

export async function simWithDriver(t: { after(fn: () => Promise<void>): void }, cloud: Partial<CloudSimCloudOptions> = {}, timeoutMs?: number) {
  const sim = await createCloudSim({ clouds: [{ name: 'alpha', ssh: false, bootDelayMs: 30, deleteDelayMs: 20, volumeDelayMs: 20, ...cloud }] });
  const p = createOpenStackProvider({ name: 'alpha', credentials: simCredentials(sim, 'alpha'), timeoutMs });
  t.after(async () => {
    await p.close();
    await sim.close();
  });
  return { sim, p, cloud: sim.cloud('alpha') };
}
