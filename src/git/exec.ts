import { spawn } from 'node:child_process';

/**
 * Runs the real `git` (no library re-implements merges the way git does). Every caller goes
 * through here, so the environment is the same everywhere: no user or system configuration, no
 * prompts, a fixed identity unless one is given.
 */

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class GitError extends Error {
  constructor(readonly args: readonly string[], readonly result: GitResult) {
    super(`git ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'GitError';
  }
}

export interface GitOptions {
  cwd: string;
  /** Written to git's standard input. */
  input?: string | Buffer;
  env?: Record<string, string>;
  /** Resolve with a non-zero exit instead of throwing (a merge that conflicts). */
  allowFailure?: boolean;
}

const BASE_ENV: Record<string, string> = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'nodepool', GIT_AUTHOR_EMAIL: 'nodepool@localhost',
  GIT_COMMITTER_NAME: 'nodepool', GIT_COMMITTER_EMAIL: 'nodepool@localhost',
  LANG: 'C',
};

export function git(args: readonly string[], opts: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', ...BASE_ENV, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    child.on('close', (code) => {
      const result = { code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      if (result.code !== 0 && !opts.allowFailure) reject(new GitError(args, result));
      else resolve(result);
    });
  });
}

/** `git … | trim`: one line of output (a sha, a ref). */
export async function gitLine(args: readonly string[], opts: GitOptions): Promise<string> {
  return (await git(args, opts)).stdout.trim();
}
