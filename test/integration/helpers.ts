import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect, createServer as netServer } from 'node:net';
import ssh2 from 'ssh2';
import { stringify } from 'yaml';
import type { CloudSim } from '../../src/cloudsim/index.ts';
import { generateHostKey } from '../../src/cloudsim/ssh.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/types.ts';
import { readPublicKey, writeKeyFiles } from '../../src/secrets/keyfile.ts';
import { seal } from '../../src/secrets/sealed.ts';

/** A scratch folder removed by `done()`. */
export function scratch(prefix = 'np-it-'): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A port for the simulator's SSH listeners, so parallel test files do not share one. */
export function randomSshPort(): number {
  return 20000 + Math.floor(Math.random() * 20000);
}

/** Writes a nodepool.yaml into `dir` and loads it the way `nodepool run` does. */
export function writeConfig(dir: string, yaml: string): Config {
  const path = join(dir, 'nodepool.yaml');
  writeFileSync(path, yaml);
  return loadConfig(path);
}

/** A port nobody listens on: bound on 127.0.0.1, then closed. */
export async function freePort(): Promise<number> {
  const srv = netServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * One simulated provider whose label `jammy` is host-key scanned on `scanPort`, not on the
 * simulator's SSH servers' port: for scans that never succeed (a launch-timeout of 600 s).
 */
export function scannedOnPortConfig(dir: string, o: { scanPort: number; minReady: number }): Config {
  return writeConfig(dir, `
labels:
  - {name: jammy, min-ready: ${o.minReady}}
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
        labels: [{name: jammy, flavor-name: m1.small, cloud-image: jammy, connection-port: ${o.scanPort}}]
api: {listen: 127.0.0.1, port: 0}
store: {path: state.sqlite}
cloud-sim: {clouds: [sim-a], boot-delay: 0.1, delete-delay: 0.1, ssh-port: ${randomSshPort()}}
`);
}

/** Polls `fn` until it returns a truthy value or the deadline passes (then throws with `what`). */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) { last = err; }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export async function api<T = any>(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(base + path, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/** A key pair for logging in to nodes (made by the simulator's generator, which skips the keys ssh2 cannot read back). */
export function userKey(): { private: string; public: string } {
  const k = generateHostKey();
  return { private: k.privateKey, public: k.publicKey };
}

/**
 * Logs in to a node over SSH with its host key pinned (the key the API returned) and runs one
 * command; resolves with the output and exit code. A different host key fails the connection.
 */
export function sshRun(o: { host: string; port: number; username: string; hostKey: string; privateKey: string; command: string }): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host: o.host, port: o.port });
    sock.setNoDelay(true);
    const c = new ssh2.Client();
    const pinned = o.hostKey.split(' ')[1];
    c.on('error', reject);
    c.on('ready', () => {
      c.exec(o.command, (err, stream) => {
        if (err) { c.end(); reject(err); return; }
        let stdout = '';
        stream.on('data', (d: Buffer) => { stdout += d.toString(); });
        stream.stderr.on('data', () => {});
        stream.on('close', (code: number) => { c.end(); resolve({ code, stdout }); });
      });
    });
    sock.once('connect', () => c.connect({
      sock, username: o.username, privateKey: o.privateKey,
      hostVerifier: (key: Buffer) => key.toString('base64') === pinned,
    }));
    sock.once('error', reject);
  });
}

/**
 * The simulator's clouds.yaml written into `dir` with the password of `cloud` sealed by a new
 * daemon key (`daemon.key` there, as `secrets.key-file: daemon.key` names it).
 */
export function writeSealedClouds(sim: CloudSim, cloud: string, dir: string): { password: string; sealed: string; keyFile: string; cloudsYaml: string } {
  const keyFile = join(dir, 'daemon.key');
  writeKeyFiles(keyFile);
  const clouds = sim.cloudsYaml();
  const password = clouds.clouds[cloud]!.auth.password as string;
  const sealed = seal(password, readPublicKey(`${keyFile}.pub`));
  clouds.clouds[cloud]!.auth.password = sealed;
  const cloudsYaml = join(dir, 'clouds.yaml');
  writeFileSync(cloudsYaml, stringify(clouds));
  return { password, sealed, keyFile, cloudsYaml };
}
