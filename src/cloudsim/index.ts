/**
 * A local OpenStack simulator (DESIGN §9): Keystone, Nova, Glance, Neutron and Cinder for
 * several clouds on one HTTP port, servers that boot, fail, hang and delete like Nova's, real SSH
 * on every ACTIVE server's own loopback address, and faults injected at start or at run time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../log.ts';
import { CloudControl } from './control.ts';
import { FaultPlan } from './fault-plan.ts';
import { FaultQueue } from './faults.ts';
import { createHttpApp } from './http.ts';
import { CloudState } from './state.ts';
import type { CloudSimOptions } from './types.ts';
import { addUnmanagedServers } from './unmanaged.ts';

export type * from './types.ts';
export { CloudControl } from './control.ts';
export { FaultSpecError } from './fault-plan.ts';
export type { FaultSpec, FaultSettings } from './fault-spec.ts';

/** clouds.yaml content, as openstacksdk and our provider read it. */
export interface CloudsYaml {
  clouds: Record<string, {
    auth: {
      auth_url: string; username: string; password: string; project_name: string;
      user_domain_name: string; project_domain_name: string;
    };
    region_name: string;
    interface: 'public';
    identity_api_version: 3;
  }>;
}

export interface CloudSim {
  /** Base URL, e.g. `http://127.0.0.1:43123`; each cloud lives under `/<name>/`. */
  readonly url: string;
  cloudsYaml(): CloudsYaml;
  /** The control handle of a cloud; throws for an unknown name. */
  cloud(name: string): CloudControl;
  /** Stops HTTP, every SSH listener and connection, all timers; removes the scratch directory it made. */
  close(): Promise<void>;
}

export async function createCloudSim(options: CloudSimOptions): Promise<CloudSim> {
  const logger = options.logger ?? silentLogger();
  const host = options.host ?? '127.0.0.1';
  if (options.clouds.length === 0) throw new Error('cloud simulator: at least one cloud is needed');
  const ownStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? (await mkdtemp(path.join(os.tmpdir(), 'cloudsim-')));

  const clouds = new Map<string, CloudState>();
  options.clouds.forEach((o, i) => {
    if (!/^[A-Za-z0-9._-]+$/.test(o.name)) throw new Error(`cloud name ${JSON.stringify(o.name)}: use letters, digits, '.', '_' or '-'`);
    if (clouds.has(o.name)) throw new Error(`cloud ${o.name} is defined twice`);
    const plan = new FaultPlan(o.faults);
    const cloud = new CloudState(o, i, logger, new FaultQueue(), plan, stateDir);
    cloud.offline = plan.offline;
    const unmanaged = typeof o.unmanagedServers === 'number' ? { count: o.unmanagedServers } : o.unmanagedServers;
    if (unmanaged && unmanaged.count > 0) addUnmanagedServers(cloud, unmanaged.count, unmanaged.flavor);
    clouds.set(o.name, cloud);
  });

  const app = createHttpApp(clouds, logger);
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('cloud simulator: no TCP address');
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${address.port}`;
  for (const c of clouds.values()) c.baseUrl = url;
  const controls = new Map([...clouds].map(([name, c]) => [name, new CloudControl(c)]));

  let closing: Promise<void> | undefined;
  return {
    url,
    cloudsYaml() {
      const out: CloudsYaml = { clouds: {} };
      for (const c of clouds.values()) {
        out.clouds[c.name] = {
          auth: {
            auth_url: c.endpoints().identity, username: c.username, password: c.password, project_name: c.projectName,
            user_domain_name: 'Default', project_domain_name: 'Default',
          },
          region_name: c.region,
          interface: 'public',
          identity_api_version: 3,
        };
      }
      return out;
    },
    cloud(name) {
      const control = controls.get(name);
      if (!control) throw new Error(`cloud simulator has no cloud ${name}`);
      return control;
    },
    close() {
      closing ??= (async () => {
        await Promise.all([...clouds.values()].map((c) => c.lifecycle.close()));
        await app.close();
        if (ownStateDir) await rm(stateDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
