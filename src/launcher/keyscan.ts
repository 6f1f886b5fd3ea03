import { connect as netConnect } from 'node:net';
import { Client } from 'ssh2';

/**
 * Reads a node's SSH host key the way `ssh-keyscan` does: a real SSH handshake that stops as soon
 * as the server has proved it holds the key. No login is attempted.
 *
 * The socket is made by hand with `setNoDelay(true)`: ssh2's own connect took 48 ms to `ready` on
 * loopback (Nagle meeting delayed ACKs) against 3.7 ms this way (FACTS.md, p50 of 100).
 */
export function scanHostKey(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host, port });
    sock.setNoDelay(true);
    const client = new Client();
    let key: string | null = null;
    let settled = false;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      sock.destroy();
      if (key) resolve(key);
      else reject(err ?? new Error('no host key offered'));
    };
    const timer = setTimeout(() => finish(new Error(`SSH handshake with ${host}:${port} timed out`)), timeoutMs);
    sock.once('error', (e) => finish(e));
    sock.once('connect', () => {
      client.on('error', (e) => finish(key ? null : e));
      client.connect({
        sock,
        username: 'nodepool-keyscan',
        readyTimeout: timeoutMs,
        // Accept the key only to record it; we stop before authenticating.
        hostVerifier: (raw: Buffer) => {
          key = openSshKey(raw);
          setImmediate(() => finish(null));
          return true;
        },
        authHandler: () => false,
      });
    });
  });
}

/** `ssh-ed25519 AAAA...` from the wire form of a public key (string type name, then data). */
export function openSshKey(raw: Buffer): string {
  const len = raw.readUInt32BE(0);
  const type = raw.subarray(4, 4 + len).toString('ascii');
  return `${type} ${raw.toString('base64')}`;
}

/** Retries a scan until it succeeds or the deadline passes (the node may still be booting sshd). */
export async function scanUntil(host: string, port: number, deadline: number, now: () => number, isCanceled: () => boolean): Promise<string> {
  let delay = 20;
  let last: unknown = null;
  while (now() < deadline && !isCanceled()) {
    try {
      return await scanHostKey(host, port, Math.max(1000, Math.min(10_000, deadline - now())));
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, deadline - now()))));
      delay = Math.min(delay * 2, 1000);
    }
  }
  throw new Error(`no SSH on ${host}:${port}: ${last instanceof Error ? last.message : 'canceled'}`);
}
