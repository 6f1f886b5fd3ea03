import { connect as netConnect } from 'node:net';
import { generateEd25519Key } from '../ssh-keys.ts';
import ssh2 from 'ssh2';

// ssh2 is CommonJS: its classes are only on the default export under ESM.
const { Client } = ssh2;

/** A throwaway ed25519 key for one check. */
export function throwawayKey(): string {
  return generateEd25519Key().privateKey;
}

export interface CheckResult {
  code: number | null;
  /** The end of stdout and stderr, for the reason shown to operators. */
  output: string;
}

/**
 * Logs in over SSH and runs one command; resolves with its exit status and the last 2 KB of its
 * output. Rejects when no session could be had (the caller retries until its deadline: a new
 * node's sshd may not be up yet). The socket is made by hand with no Nagle delay, as the
 * launcher's host-key scan does.
 */
export function runCheck(o: { host: string; port: number; username: string; privateKey: string; command: string; timeoutMs: number }): Promise<CheckResult> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host: o.host, port: o.port });
    sock.setNoDelay(true);
    const client = new Client();
    let output = '';
    let settled = false;
    const finish = (err: Error | null, result?: CheckResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      sock.destroy();
      if (err) reject(err);
      else resolve(result!);
    };
    const timer = setTimeout(() => finish(new Error(`no answer over SSH from ${o.host}:${o.port} within ${o.timeoutMs} ms`)), o.timeoutMs);
    sock.once('error', (e) => finish(e));
    sock.once('connect', () => {
      client.on('error', (e) => finish(e));
      client.on('ready', () => {
        client.exec(o.command, (err, stream) => {
          if (err) return finish(err);
          const keep = (d: Buffer) => { output = (output + d.toString()).slice(-2048); };
          stream.on('data', keep);
          stream.stderr.on('data', keep);
          stream.on('close', (code: number | null) => finish(null, { code: code ?? null, output: output.trim() }));
        });
      });
      // The node is new and its key was never seen: it is recorded by the check, not pinned.
      client.connect({ sock, username: o.username, privateKey: o.privateKey, readyTimeout: o.timeoutMs, hostVerifier: () => true });
    });
  });
}
