import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { extensionOf } from './paths.ts';

/** What one run of `disk-image-create` (or the configured dib-cmd) needs. */
export interface BuildCommand {
  /** The command and any leading arguments of its own, split on spaces (Nodepool's `dib-cmd`). */
  dibCmd: string;
  elements: string[];
  formats: string[];
  envVars: Record<string, string>;
  release?: string;
  /** ELEMENTS_PATH. */
  elementsDir: string;
  /** `-o`: outputs are `<outputBase>.<ext>`. */
  outputBase: string;
  logPath: string;
  timeoutMs: number;
  /** Aborted at shutdown: the command is stopped like at its timeout. */
  signal?: AbortSignal;
  /** Grace between SIGTERM and SIGKILL. Default 10 s. */
  killGraceMs?: number;
}

export class BuildFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BuildFailed';
  }
}

/** The argument list Nodepool's builder gives disk-image-create: trace, formats, checksums, output, elements. */
export function buildArgs(c: BuildCommand): { file: string; args: string[]; env: Record<string, string> } {
  const [file, ...own] = c.dibCmd.trim().split(/\s+/);
  const args = [...own, '-x', '-t', c.formats.join(','), '--checksum', '-o', c.outputBase, ...c.elements];
  const env: Record<string, string> = { ELEMENTS_PATH: c.elementsDir, ...c.envVars };
  if (c.release !== undefined) env.DIB_RELEASE = c.release;
  return { file, args, env };
}

/**
 * Runs the build command with its output in the build's log file, under the build timeout;
 * resolves with the output file of each format once the command exited 0 and wrote them all.
 * The command runs in its own process group so that a timeout stops everything it started
 * (diskimage-builder runs dozens of nested scripts and chroots).
 */
export async function runBuildCommand(c: BuildCommand): Promise<{ format: string; path: string }[]> {
  const { file, args, env } = buildArgs(c);
  await mkdir(dirname(c.logPath), { recursive: true });
  await mkdir(dirname(c.outputBase), { recursive: true });
  const log = createWriteStream(c.logPath, { flags: 'a' });
  const started = Date.now();
  log.write(`# ${new Date(started).toISOString()} ${file} ${args.join(' ')}\n`);
  log.write(`# environment: ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  try {
    const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stopped: string | null; spawnError?: Error }>((resolve) => {
      const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let stopped: string | null = null;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = (why: string) => {
        if (stopped || child.exitCode !== null || child.pid === undefined) return;
        stopped = why;
        log.write(`\n# stopping the build: ${why}\n`);
        try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
        killTimer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, c.killGraceMs ?? 10_000);
      };
      const timer = setTimeout(() => stop(`build-timeout of ${c.timeoutMs / 1000} s passed`), c.timeoutMs);
      const onAbort = () => stop('the builder is stopping');
      c.signal?.addEventListener('abort', onAbort);
      if (c.signal?.aborted) onAbort();
      child.stdout.pipe(log, { end: false });
      child.stderr.pipe(log, { end: false });
      const finish = (r: { code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }) => {
        clearTimeout(timer);
        clearTimeout(killTimer);
        c.signal?.removeEventListener('abort', onAbort);
        resolve({ ...r, stopped });
      };
      child.once('error', (err) => finish({ code: null, signal: null, spawnError: err }));
      child.once('close', (code, signal) => finish({ code, signal }));
    });
    const took = Math.round((Date.now() - started) / 1000);
    log.write(`\n# exit ${outcome.code ?? outcome.signal ?? outcome.spawnError?.message} after ${took} s\n`);
    if (outcome.spawnError) throw new BuildFailed(`cannot run ${file}: ${outcome.spawnError.message}`);
    if (outcome.stopped) throw new BuildFailed(outcome.stopped);
    if (outcome.code !== 0) throw new BuildFailed(`${file} exited with ${outcome.code ?? `signal ${outcome.signal}`} after ${took} s (see the build log)`);
    const outputs = c.formats.map((format) => ({ format, path: `${c.outputBase}.${extensionOf(format)}` }));
    for (const o of outputs) {
      const s = await stat(o.path).catch(() => null);
      if (!s?.isFile()) throw new BuildFailed(`${file} exited 0 but wrote no ${o.format} output (${o.path})`);
    }
    return outputs;
  } finally {
    await new Promise<void>((resolve) => log.end(resolve));
  }
}
