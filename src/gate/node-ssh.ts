import net from 'node:net';
import type { Readable } from 'node:stream';
import ssh2 from 'ssh2';

/**
 * SSH to a job's nodes, the host key pinned to what the node-request API returned (scanned by the
 * launcher at boot): a node answering with another key is refused, never trusted on first use.
 */

export interface NodeLogin {
  host: string;
  port: number;
  username: string;
  /** known_hosts form: `ssh-ed25519 AAAA…`. */
  hostKeys: string[];
  privateKey: string;
}

export class NodeSshError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeSshError';
  }
}

export function connectNode(login: NodeLogin, timeoutMs = 30_000): Promise<ssh2.Client> {
  const pinned = new Set(login.hostKeys.map((k) => k.trim().split(/\s+/)[1]).filter(Boolean));
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let mismatch = false;
    const fail = (err: Error) => { client.end(); reject(mismatch ? new NodeSshError(`${login.host}:${login.port} answered with a host key the node-request API did not give`) : err); };
    client.once('error', fail);
    client.once('ready', () => { client.off('error', fail); client.on('error', () => {}); resolve(client); });
    const sock = net.connect({ host: login.host, port: login.port });
    // Without it each round trip waits for a delayed ACK (FACTS.md: 48 ms against 3.7 ms).
    sock.setNoDelay(true);
    sock.once('error', fail);
    sock.once('connect', () => client.connect({
      sock, username: login.username, privateKey: login.privateKey, readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => {
        const ok = pinned.has(key.toString('base64'));
        if (!ok) mismatch = true;
        return ok;
      },
    }));
  });
}

export interface ExecOptions {
  /** Sent to the command's standard input, then closed. */
  stdin?: Readable | Buffer | string;
  onStdout?(chunk: Buffer): void;
  onStderr?(chunk: Buffer): void;
  /** Closes the channel: the remote command is ended (its session goes away). */
  signal?: AbortSignal;
}

/** Runs one command; resolves with its exit status (null when it ended by a signal or was cut off). */
export function execOn(client: ssh2.Client, command: string, o: ExecOptions = {}): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return resolve({ code: null, signal: 'ABORTED' });
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let code: number | null = null;
      let sig: string | null = null;
      const abort = () => { sig = 'ABORTED'; stream.close(); };
      o.signal?.addEventListener('abort', abort, { once: true });
      stream.on('exit', (c: number | null, s?: string) => { code = c; if (s) sig = s; });
      stream.on('data', (d: Buffer) => o.onStdout?.(d));
      stream.stderr.on('data', (d: Buffer) => o.onStderr?.(d));
      stream.on('close', () => {
        o.signal?.removeEventListener('abort', abort);
        resolve({ code, signal: sig });
      });
      if (o.stdin === undefined) stream.end();
      else if (typeof o.stdin === 'string' || Buffer.isBuffer(o.stdin)) stream.end(o.stdin);
      else o.stdin.pipe(stream);
    });
  });
}

/** Runs a command and collects its output (small outputs: inventory checks, file writes). */
export async function execCollect(client: ssh2.Client, command: string, stdin?: string | Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const r = await execOn(client, command, { stdin, onStdout: (d) => out.push(d), onStderr: (d) => err.push(d) });
  return { code: r.code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** Single-quotes a value for /bin/sh. */
export function shq(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}
