import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** `nodepool` processes of the integration tests, started with the real CLI. */

const BIN = join(import.meta.dirname, '../../bin/nodepool.js');

export interface Proc {
  name: string;
  child: ChildProcess;
  /** stderr (the JSON log lines) so far. */
  log(): string;
  /** stdout so far. */
  stdout(): string;
  /** Resolves when a line of stdout or stderr matches. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<void>;
}

/**
 * `nodepool ARGS` as a process, its output kept. `bin`: another checkout's bin/nodepool.js;
 * `cwd`: where it runs (relative paths in its configuration are read from there).
 */
export function startProc(name: string, args: string[], env: NodeJS.ProcessEnv, o: { bin?: string; cwd?: string } = {}): Proc {
  const child = spawn(process.execPath, [o.bin ?? BIN, ...args], {
    cwd: o.cwd, env: { ...process.env, NODEPOOL_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); for (const w of waiters) w(); });
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); for (const w of waiters) w(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => { for (const w of waiters) w(); resolve(); }));
  return {
    name, child, exited, log: () => err, stdout: () => out,
    waitFor: (re, timeoutMs = 20_000) => new Promise<void>((resolve, reject) => {
      const check = () => {
        if (re.test(out) || re.test(err)) { done(); resolve(); }
        else if (child.exitCode !== null || child.signalCode !== null) { done(); reject(new Error(`${name} exited before ${re}: ${err.slice(-2000)}`)); }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`${name}: no ${re} within ${timeoutMs} ms: ${err.slice(-2000)}`)); }, timeoutMs);
      const done = () => { clearTimeout(timer); waiters.delete(check); };
      waiters.add(check);
      check();
    }),
  };
}
