import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOpenStackProvider } from '../../providers/openstack/index.ts';
import { loadClouds, resolveCloud } from '../../providers/openstack/clouds-yaml/index.ts';
import { eventually, randomSshPort, scratch } from './helpers.ts';
import { startProc, type Proc } from './proc.ts';

/**
 * Several nodepool processes on one PostgreSQL database against one simulator process, each
 * started with the real CLI as an operator would: `nodepool cloud-sim`, `nodepool launcher`,
 * `nodepool api`. Every process is stopped (or killed) by `stop()`.
 */

/**
 * How long a process may take to start: about a second on a quiet machine, over 20 s seen at load
 * 12 on two cores (other work on the machine), when a process start is not what a test is about.
 */
const STARTED_WITHIN_MS = 60_000;

export interface ClusterOptions {
  dbUrl: string;
  /** The `store:` section, when not PostgreSQL at `dbUrl` (e.g. an SQLite file every process opens). */
  storeYaml?: string;
  clouds: string[];
  bootDelay: number;
  /** YAML of `labels:` and `providers:` (the store, API and simulator sections are added). */
  yaml: (o: { sshPort: number }) => string;
}

export interface Cluster {
  dir: string;
  configPath: string;
  env: NodeJS.ProcessEnv;
  procs: Proc[];
  /** Writes another configuration beside the first, with a different store URL (e.g. another role). */
  configWithUrl(url: string, file: string): string;
  launcher(name: string, extra?: string[], configPath?: string): Promise<Proc>;
  api(name: string): Promise<{ proc: Proc; url: string }>;
  /** Server list of one simulated cloud. */
  servers(cloud: string): ReturnType<ReturnType<typeof createOpenStackProvider>['listServers']>;
  stop(): Promise<void>;
}

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const tmp = scratch('np-cluster-');
  const cloudsYaml = join(tmp.dir, 'clouds.yaml');
  const sshPort = randomSshPort();
  const env = { OS_CLIENT_CONFIG_FILE: cloudsYaml };
  const procs: Proc[] = [];
  procs.push(startProc('cloud-sim', ['cloud-sim', '--clouds', o.clouds.join(','), '--boot-delay', String(o.bootDelay),
    '--delete-delay', '0.1', '--ssh-port', String(sshPort), '--clouds-yaml', cloudsYaml], {}));
  try {
    await eventually('the simulator', async () => existsSync(cloudsYaml), STARTED_WITHIN_MS);
  } catch (err) {
    // Nothing is left running: a simulator still starting would keep the test file from ending.
    procs[0]!.child.kill('SIGKILL');
    await procs[0]!.exited;
    tmp.done();
    throw err;
  }
  const body = o.yaml({ sshPort });
  const write = (url: string, file: string) => {
    const path = join(tmp.dir, file);
    const store = o.storeYaml ?? `store: {driver: postgres, url: '${url}', pool-size: 4}`;
    writeFileSync(path, `${body}\napi: {listen: 127.0.0.1, port: 0}\n${store}\n`);
    return path;
  };
  const configPath = write(o.dbUrl, 'nodepool.yaml');
  const adapters = new Map<string, ReturnType<typeof createOpenStackProvider>>();
  const cluster: Cluster = {
    dir: tmp.dir, configPath, env, procs,
    configWithUrl: write,
    async launcher(name, extra = [], cfg = configPath) {
      const p = startProc(name, ['-c', cfg, 'launcher', '--name', name, ...extra], env);
      procs.push(p);
      await p.waitFor(/nodepool: launcher /, STARTED_WITHIN_MS);
      return p;
    },
    async api(name) {
      const p = startProc(name, ['-c', configPath, 'api', '--name', name], env);
      procs.push(p);
      await p.waitFor(/API listening at (\S+)/, STARTED_WITHIN_MS);
      return { proc: p, url: /API listening at (\S+)/.exec(p.stdout())![1] };
    },
    servers(cloud) {
      let a = adapters.get(cloud);
      if (!a) {
        a = createOpenStackProvider({ name: cloud, credentials: resolveCloud(loadClouds({ env, siteDirs: [] }), cloud) });
        adapters.set(cloud, a);
      }
      return a.listServers();
    },
    async stop() {
      for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
      await Promise.all(procs.map((p) => Promise.race([p.exited, new Promise((r) => setTimeout(r, 10_000))])));
      for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      // NP_CLUSTER_LOGS=<dir> keeps every process's log, for a failure to be read afterwards.
      if (process.env.NP_CLUSTER_LOGS) {
        mkdirSync(process.env.NP_CLUSTER_LOGS, { recursive: true });
        for (const p of procs) writeFileSync(join(process.env.NP_CLUSTER_LOGS, `${p.name}.log`), p.stdout() + p.log());
      }
      for (const a of adapters.values()) await a.close();
      tmp.done();
    },
  };
  return cluster;
}
