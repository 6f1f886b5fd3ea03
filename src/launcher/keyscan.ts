import { scanHostKeyWire } from './kex-scan.ts';

/**
 * Reads a node's SSH host key: the key exchange only, as `ssh-keyscan` does (./kex-scan.ts). The
 * socket has `setNoDelay(true)`: with Nagle meeting delayed ACKs an SSH handshake on loopback took
 * 48 ms against 3.7 ms (FACTS.md, p50 of 100).
 */
export function scanHostKey(host: string, port: number, timeoutMs: number, algorithms?: readonly string[]): Promise<string> {
  return scanHostKeyWire(host, port, timeoutMs, algorithms);
}

/** Retries a scan until it succeeds or the deadline passes (the node may still be booting sshd). */
export async function scanUntil(host: string, port: number, deadline: number, now: () => number, isCanceled: () => boolean, algorithms?: readonly string[]): Promise<string> {
  let delay = 20;
  let last: unknown = null;
  while (now() < deadline && !isCanceled()) {
    try {
      return await scanHostKey(host, port, Math.max(1000, Math.min(10_000, deadline - now())), algorithms);
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, deadline - now()))));
      delay = Math.min(delay * 2, 1000);
    }
  }
  throw new Error(`no SSH on ${host}:${port}: ${last instanceof Error ? last.message : 'canceled'}`);
}
