/**
 * What the cloud simulator's tests share: a plain HTTP client that logs in the way an OpenStack
 * client does, the recorded samples to compare shapes with, and an SSH exec with a pinned host key.
 */
import net from 'node:net';
import ssh2 from 'ssh2';
import { createCloudSim, type CloudSim, type CloudSimOptions } from '../../src/cloudsim/index.ts';
import { generateHostKey } from '../../src/cloudsim/ssh.ts';

export { loadSample as sample } from '../support/openstack-samples.ts';

export function keys(o: unknown): string[] {
  return Object.keys(o as object).sort();
}

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface CallOptions {
  token?: string;
  /** Compute microversion, sent as `OpenStack-API-Version: compute X`. */
  mv?: string;
  /** JSON body, or a raw string sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
}

export async function call(method: string, url: string, o: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { Accept: 'application/json', ...o.headers };
  if (o.token) headers['X-Auth-Token'] = o.token;
  if (o.mv) headers['OpenStack-API-Version'] = `compute ${o.mv}`;
  let body: string | undefined;
  if (o.body !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  }
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (Glance's text 404, empty answers): keep the text.
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export interface Session {
  token: string;
  identity: string;
  compute: string;
  image: string;
  network: string;
  /** Cinder v3 with the project id, from the `block-storage` entry. */
  volume: string;
}

/** Password login as clouds.yaml describes the cloud; service URLs from the catalog. */
export async function login(sim: CloudSim, cloud: string): Promise<Session> {
  const c = sim.cloudsYaml().clouds[cloud];
  const res = await call('POST', `${c.auth.auth_url}/v3/auth/tokens`, {
    body: {
      auth: {
        identity: { methods: ['password'], password: { user: { name: c.auth.username, domain: { name: c.auth.user_domain_name }, password: c.auth.password } } },
        scope: { project: { name: c.auth.project_name, domain: { name: c.auth.project_domain_name } } },
      },
    },
  });
  if (res.status !== 201) throw new Error(`login to ${cloud} failed: ${res.status} ${res.text}`);
  const url = (type: string) =>
    res.body.token.catalog.find((s: any) => s.type === type).endpoints.find((e: any) => e.interface === 'public').url as string;
  return {
    token: res.headers.get('x-subject-token')!, identity: url('identity'), compute: url('compute'), image: url('image'), network: url('network'),
    volume: url('block-storage'),
  };
}

/** A simulator with fast boots for tests; closes with the test. */
export async function startSim(t: { after(fn: () => Promise<void>): void }, o: Partial<CloudSimOptions> = {}): Promise<CloudSim> {
  const sim = await createCloudSim({ clouds: [{ name: 'alpha', bootDelayMs: 60, deleteDelayMs: 40, ssh: false }], ...o });
  t.after(() => sim.close());
  return sim;
}

/** Polls `check` every `everyMs` until it returns a value (not undefined) or the deadline passes. */
export async function until<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000, what = 'condition', everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A client key pair in OpenSSH form (the simulator's generator skips ssh2's unparseable keys). */
export function newKeyPair(): { private: string; public: string } {
  const k = generateHostKey();
  return { private: k.privateKey, public: k.publicKey };
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * Connects over a no-delay socket (see FACTS.md), pins the host key, runs one command.
 * Rejects on connection or authentication failure.
 */
export function sshExec(o: { host: string; port: number; privateKey: string; hostKey: string; command: string; username?: string }): Promise<ExecResult> {
  const pinned = ssh2.utils.parseKey(o.hostKey);
  if (pinned instanceof Error || Array.isArray(pinned)) throw new Error('unreadable host key');
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: o.host, port: o.port });
    sock.setNoDelay(true);
    const client = new ssh2.Client();
    client.on('error', (err) => {
      sock.destroy();
      reject(err);
    });
    client.on('ready', () => {
      client.exec(o.command, (err, stream) => {
        if (err) return reject(err);
        const out: ExecResult = { stdout: '', stderr: '', code: null };
        stream.on('data', (d: Buffer) => (out.stdout += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
        stream.on('exit', (code: number | null) => (out.code = code));
        stream.on('close', () => {
          client.end();
          resolve(out);
        });
      });
    });
    sock.on('error', (err) => reject(err));
    sock.on('connect', () => {
      client.connect({
        sock, username: o.username ?? 'zuul', privateKey: o.privateKey, readyTimeout: 30_000,
        hostVerifier: (key: Buffer) => key.equals(pinned.getPublicSSH()),
      });
    });
  });
}

/** Boots a server (cirros, m1.tiny) on `private`, or without a network; resolves with its id once ACTIVE. */
export async function bootActive(sim: CloudSim, s: Session, cloud: string, o: { network?: boolean; name?: string; extra?: Record<string, unknown> } = {}): Promise<string> {
  const net = (await call('GET', `${s.network}/v2.0/networks?name=private`, { token: s.token })).body.networks[0].id;
  const img = (await call('GET', `${s.image}/v2/images?name=cirros`, { token: s.token })).body.images[0].id;
  const server = { name: o.name ?? 'node', imageRef: img, flavorRef: '1', networks: o.network === false ? 'none' : [{ uuid: net }], ...o.extra };
  const res = await call('POST', `${s.compute}/servers`, { token: s.token, mv: '2.79', body: { server } });
  if (res.status !== 202) throw new Error(`boot failed: ${res.status} ${res.text}`);
  await sim.cloud(cloud).waitForStatus(res.body.server.id, 'ACTIVE');
  return res.body.server.id as string;
}
