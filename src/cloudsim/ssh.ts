/**
 * The SSH side of a simulated node: its own host key, a listener at each of its addresses, and
 * `exec` requests run with /bin/sh in the node's scratch directory. This is what makes a
 * simulated server usable by the real readiness check, host-key scan and job runner.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { generateEd25519Key } from '../ssh-keys.ts';
import net from 'node:net';
import ssh2 from 'ssh2';
import type { Connection, ParsedKey, ServerChannel } from 'ssh2';
import type { Logger } from '../log.ts';

const { Server, utils } = ssh2;

export interface SshNodeOptions {
  /** Server id, for logs. */
  id: string;
  /** Private host key, OpenSSH format. */
  hostKey: string;
  /** The only public key accepted (OpenSSH line); null accepts any key that signs correctly. */
  authorizedKey: string | null;
  cwd: string;
  logger: Logger;
  /** Sessions are reset until this time (a guest still booting its SSH daemon). */
  readyAt?: number;
}

/** A fresh ed25519 host key pair (see ../ssh-keys.ts). */
export const generateHostKey = generateEd25519Key;

export class SshNode {
  private readonly server: InstanceType<typeof Server>;
  private readonly authorized: ParsedKey | null;
  private readonly listeners = new Map<string, net.Server>();
  private readonly sockets = new Set<net.Socket>();
  private readonly children = new Set<ChildProcess>();
  private port = 0;
  private closed = false;

  constructor(private readonly o: SshNodeOptions) {
    const parsed = o.authorizedKey ? utils.parseKey(o.authorizedKey) : null;
    this.authorized = parsed instanceof Error ? null : Array.isArray(parsed) ? parsed[0] : parsed;
    if (parsed instanceof Error) o.logger.warn({ server: o.id, err: parsed.message }, 'unreadable keypair; SSH will accept no key');
    this.server = new Server({ hostKeys: [o.hostKey] }, (client) => this.onClient(client));
  }

  /** Starts listening at `ip:port`; rejects (EADDRINUSE...) without keeping anything open. */
  listen(ip: string, port: number): Promise<void> {
    this.port = port;
    const srv = net.createServer((sock) => this.onSocket(sock));
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, ip, () => {
        srv.off('error', reject);
        if (this.closed) {
          srv.close();
          reject(new Error(`node ${this.o.id} closed while its listener started`));
          return;
        }
        srv.on('error', (err) => this.o.logger.warn({ server: this.o.id, err: err.message }, 'ssh listener error'));
        this.listeners.set(ip, srv);
        resolve();
      });
    });
  }

  /** Stops listening at one address (a floating IP taken away); its open sessions stay. */
  async unlisten(ip: string): Promise<void> {
    const srv = this.listeners.get(ip);
    if (!srv) return;
    this.listeners.delete(ip);
    await new Promise<void>((r) => srv.close(() => r()));
  }

  /** Stops listening and drops every connection; `resume()` listens again at the same addresses. */
  async suspend(): Promise<void> {
    for (const c of this.children) killGroup(c);
    for (const s of this.sockets) s.destroy();
    await Promise.all([...this.listeners.values()].map((srv) => new Promise<void>((r) => srv.close(() => r()))));
  }

  async resume(): Promise<void> {
    if (this.closed) return;
    const ips = [...this.listeners.keys()];
    this.listeners.clear();
    for (const ip of ips) {
      await this.listen(ip, this.port).catch((err: Error) =>
        this.o.logger.warn({ server: this.o.id, ip, err: err.message }, 'ssh listener could not come back'));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.suspend();
    this.listeners.clear();
  }

  private onSocket(sock: net.Socket): void {
    if (this.closed || Date.now() < (this.o.readyAt ?? 0)) {
      sock.resetAndDestroy();
      return;
    }
    // Without this, each SSH round trip waits for a delayed ACK (~40 ms on loopback).
    sock.setNoDelay(true);
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => {});
    this.server.injectSocket(sock);
  }

  private onClient(client: Connection): void {
    let username = 'root';
    client.on('error', (err) => this.o.logger.debug({ server: this.o.id, err: err.message }, 'ssh client error'));
    client.on('authentication', (ctx) => {
      username = ctx.username;
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      const allowed = this.authorized;
      if (this.o.authorizedKey && (!allowed || !ctx.key.data.equals(allowed.getPublicSSH()))) return ctx.reject(['publickey']);
      // A client first asks whether a key would do, then signs with it.
      if (!ctx.signature || !ctx.blob) return ctx.accept();
      const parsed = allowed ?? utils.parseKey(ctx.key.data);
      const key = Array.isArray(parsed) ? parsed[0] : parsed;
      if (key instanceof Error || key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
      ctx.accept();
    });
    client.on('session', (accept) => {
      const session = accept();
      session.on('pty', (ok) => ok?.());
      session.on('env', (ok) => ok?.());
      session.on('shell', (_ok, reject) => reject?.());
      session.on('subsystem', (_ok, reject) => reject?.());
      session.on('exec', (ok, _reject, info) => this.exec(ok(), info.command, username));
    });
  }

  private exec(stream: ServerChannel, command: string, username: string): void {
    // The node's home, made at its first command rather than at boot.
    try {
      mkdirSync(this.o.cwd, { recursive: true });
    } catch (err) {
      stream.stderr.write(`${(err as Error).message}\n`);
      stream.exit(127);
      stream.end();
      return;
    }
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: this.o.cwd,
      // Its own process group, so closing the session also stops what the command started.
      detached: true,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.o.cwd, USER: username, LOGNAME: username, SHELL: '/bin/sh', LANG: 'C.UTF-8' },
    });
    this.children.add(child);
    child.stdout.pipe(stream, { end: false });
    child.stderr.pipe(stream.stderr, { end: false });
    stream.pipe(child.stdin);
    child.stdin.on('error', () => {});
    stream.on('error', () => {});
    stream.on('close', () => killGroup(child));
    child.on('error', (err) => {
      this.children.delete(child);
      stream.stderr.write(`${err.message}\n`);
      stream.exit(127);
      stream.end();
    });
    child.on('close', (code, signal) => {
      this.children.delete(child);
      if (code !== null) stream.exit(code);
      else stream.exit((signal ?? 'SIGKILL').replace(/^SIG/, ''), false, '');
      stream.end();
    });
  }
}

function killGroup(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
