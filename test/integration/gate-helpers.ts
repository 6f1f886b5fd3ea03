import { createServer, type AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { silentLogger } from '../../src/log.ts';
import { startSystem, type System } from '../../src/run.ts';
import type { Item } from '../../src/gate/model.ts';
import { eventually, randomSshPort, scratch, writeConfig } from './helpers.ts';

/**
 * The whole system with a gate: the API, a launcher on the simulated clouds (every node a real
 * SSH server), the Gerrit simulator and the gate, in one process, as `nodepool run` starts them.
 * Tests upload changes and vote through the simulator's admin API, as developers and reviewers
 * would through Gerrit, and read what the gate reported on the changes.
 */

export const run = promisify(execFile);

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface GateWorld {
  sys: System;
  dir: string;
  gerrit: string;
  sshPort: number;
  gerritSsh: number;
  done(): Promise<void>;
}

/** nodepool.yaml around a gate section (YAML indented under `gate:`); `extra` goes at the top level. */
export function worldYaml(o: { sshPort: number; gerritSsh: number; gerritHttp: number; gate: string; bootDelay?: number; maxServers?: number; apiPort?: number }): string {
  return `
labels:
  - name: ubuntu-jammy
  - name: centos-9-stream
providers:
  - name: sim-a
    driver: openstack
    cloud: sim-a
    boot-timeout: 30
    launch-timeout: 60
    list-interval: 0.02
    cloud-images:
      - {name: ubuntu, image-name: ubuntu-22.04, username: zuul}
    pools:
      - name: main
        max-servers: ${o.maxServers ?? 20}
        networks: [private]
        labels:
          - {name: ubuntu-jammy, flavor-name: m1.small, cloud-image: ubuntu, connection-port: ${o.sshPort}}
          - {name: centos-9-stream, flavor-name: m1.small, cloud-image: ubuntu, connection-port: ${o.sshPort}}
api: {listen: 127.0.0.1, port: ${o.apiPort ?? 0}}
store: {path: state/nodepool.sqlite}
cloud-sim: {clouds: [sim-a], boot-delay: ${o.bootDelay ?? 0.2}, delete-delay: 0.1, ssh-port: ${o.sshPort}}
gate:
  nodepool: {heartbeat-interval: 1}
  executor: {workspace-dir: gate/work, log-dir: gate/logs, max-builds: 20}
  connections:
    - {name: gerrit, driver: gerrit, server: 127.0.0.1, port: ${o.gerritSsh}, user: zuul, password: secret, http-url: 'http://127.0.0.1:${o.gerritHttp}', simulated: true}
${o.gate.replace(/^/gm, '  ')}
`;
}

/** With `gateProcess`, the gate is left to a `nodepool gate` process the test starts (the API then listens on a fixed port). */
export async function startWorld(gate: string, o: { bootDelay?: number; maxServers?: number; gateProcess?: boolean; reconnectMs?: number } = {}): Promise<GateWorld> {
  const tmp = scratch('np-gate-');
  const sshPort = randomSshPort();
  const gerritSsh = await freePort();
  const gerritHttp = await freePort();
  const apiPort = o.gateProcess ? await freePort() : 0;
  const config = writeConfig(tmp.dir, worldYaml({ sshPort, gerritSsh, gerritHttp, gate, apiPort, ...o }));
  const sys = await startSystem({ config, logger: silentLogger(), env: {}, gate: o.gateProcess ? false : { reconnectMs: o.reconnectMs ?? 100 } });
  return {
    sys, dir: tmp.dir, gerrit: `http://127.0.0.1:${gerritHttp}`, sshPort, gerritSsh,
    done: async () => { await sys.stop(); tmp.done(); },
  };
}

export async function sim<T = any>(w: { gerrit: string }, path: string, body?: unknown): Promise<T> {
  const res = await fetch(w.gerrit + path, {
    method: body === undefined ? 'GET' : 'POST', headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`gerrit-sim ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export interface SimChange {
  number: number;
  patchset: number;
  revision: string;
  url: string;
  status: string;
  merged_as: string | null;
  votes: Record<string, { username: string; value: number }[]>;
  messages: { author: string; message: string; tag: string | null; patchset: number }[];
}

export const upload = (w: GateWorld, project: string, subject: string, files: Record<string, string | null>, body?: string) =>
  sim<SimChange>(w, '/sim/changes', { project, subject, files, owner: 'developer', ...(body ? { body } : {}) });

export const approve = (w: GateWorld, n: number) => sim<SimChange>(w, `/sim/changes/${n}/review`, { as: 'core', labels: { 'Code-Review': 2, Workflow: 1 } });

export const comment = (w: GateWorld, n: number, message: string) => sim<SimChange>(w, `/sim/changes/${n}/review`, { as: 'developer', message });

export const change = (w: GateWorld, n: number) => sim<SimChange>(w, `/sim/changes/${n}`);

/** The gate's reports on a change (its tagged messages by the account `user`), oldest first. */
export async function reports(w: GateWorld, n: number, user = 'zuul'): Promise<SimChange['messages']> {
  return (await change(w, n)).messages.filter((m) => m.author === user && m.tag?.startsWith('autogenerated:nodepool-gate'));
}

/** Waits until the gate has reported on change `n` `count` times; returns those reports. */
export async function reported(w: GateWorld, n: number, count = 1, timeoutMs = 60_000, user = 'zuul'): Promise<SimChange['messages']> {
  return eventually(`${count} report(s) on change ${n}`, async () => {
    const r = await reports(w, n, user);
    return r.length >= count ? r : null;
  }, timeoutMs, 100);
}

export async function items(w: GateWorld): Promise<Item[]> {
  return w.sys.store.gate.listItems();
}

/** Nodes still allocated to a request (in-use, or ready for one). */
export async function allocated(w: GateWorld): Promise<number> {
  return (await w.sys.store.listNodes()).filter((n) => n.allocatedTo !== null && n.state !== 'used' && n.state !== 'deleting').length;
}

export async function branchLog(w: GateWorld, project: string): Promise<{ sha: string; subject: string; parents: string[] }[]> {
  return (await sim<{ log: { sha: string; subject: string; parents: string[] }[] }>(w, `/sim/log/${project}`)).log;
}
