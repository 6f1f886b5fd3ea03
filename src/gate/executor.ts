import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type ssh2 from 'ssh2';
import type { RequestView } from '../api/contract.ts';
import { generateEd25519Key as generateHostKey } from '../ssh-keys.ts';
import type { Logger } from '../log.ts';
import type { JobConfig, StepConfig } from './config/types.ts';
import { buildInventory, inventoryEnv, inventoryFiles, sshFiles, type Inventory } from './inventory.ts';
import type { BuildResult } from './model.ts';
import { connectNode, execOn, shq } from './node-ssh.ts';

/**
 * Runs one build on its nodes over SSH: every node gets the inventory, its own SSH key for the
 * others and the prepared repositories (`~/src/<project>`, `.git` included); then the job's
 * steps run in order on their hosts, each sourcing `~/nodepool/env`; then its post-run steps,
 * whatever happened; then each node's `~/logs` is brought back. Everything a step prints goes
 * to `job-output.txt` in the build's log folder as it comes (served over HTTP while it runs). The
 * job's timeout covers setup and steps: past it the build is TIMED_OUT.
 */

export interface BuildSpec {
  buildId: string;
  job: JobConfig;
  /** Environment of every step besides the inventory's (ZUUL_* and the job's vars). */
  env: Record<string, string>;
  /** Extra files for `~/nodepool/` (the commits and changes prepared). */
  files: Record<string, string>;
  /** The buildset's prepared repositories, one folder per project. */
  workspaceDir: string;
  projects: string[];
  nodes: RequestView;
  logDir: string;
  /** Aborted when the build is canceled (its item left the queue, or was re-based). */
  signal: AbortSignal;
}

export interface BuildOutcome {
  result: BuildResult;
  error: string | null;
}

/** Post-run steps get this long, even after a timeout, to gather logs. */
const POST_RUN_MS = 120_000;

export class Executor {
  /** `stageDir`: where each build's files for its nodes are written before they are sent (emptied at the gate's start). */
  constructor(private readonly o: { privateKey: string; logger: Logger; stageDir: string; now?: () => number }) {}

  async run(spec: BuildSpec): Promise<BuildOutcome> {
    await mkdir(spec.logDir, { recursive: true });
    const out = createWriteStream(path.join(spec.logDir, 'job-output.txt'), { flags: 'a' });
    const log = (node: string, text: string) => {
      const stamp = new Date((this.o.now ?? Date.now)()).toISOString().replace('T', ' ').replace('Z', '');
      for (const line of text.replace(/\n$/, '').split('\n')) out.write(`${stamp} | ${node} | ${line}\n`);
    };
    const timeout = AbortSignal.timeout(spec.job.timeoutMs);
    const run = AbortSignal.any([timeout, spec.signal]);
    const clients = new Map<string, ssh2.Client>();
    let outcome: BuildOutcome;
    try {
      const inv = buildInventory(spec.job.nodeset, spec.nodes);
      await writeFile(path.join(spec.logDir, 'inventory.json'), `${JSON.stringify(inv, null, 2)}\n`);
      log('executor', `Job ${spec.job.name} (build ${spec.buildId}) on ${inv.nodes.map((n) => `${n.name}=${n.interface_ip} (${n.label}, ${n.provider})`).join(', ')}`);
      await abortable(run, this.setup(spec, inv, clients, log));
      outcome = await this.steps(spec.job.run, spec, inv, clients, log, run);
    } catch (err) {
      outcome = { result: 'ERROR', error: (err as Error).message };
      if (spec.signal.aborted) outcome = { result: 'CANCELED', error: null };
      else if (timeout.aborted) outcome = { result: 'TIMED_OUT', error: `over ${spec.job.timeoutMs / 1000} s` };
      else log('executor', `ERROR: ${(err as Error).message}`);
    }
    if (outcome.result === 'FAILURE' || outcome.result === 'SUCCESS' || outcome.result === 'TIMED_OUT') {
      if (outcome.result === 'TIMED_OUT') log('executor', `TIMED OUT after ${spec.job.timeoutMs / 1000} s`);
      const post = AbortSignal.any([AbortSignal.timeout(POST_RUN_MS), spec.signal]);
      try {
        const inv = buildInventory(spec.job.nodeset, spec.nodes);
        await this.steps(spec.job.postRun, spec, inv, clients, log, post);
        await this.collectLogs(spec, inv, clients);
      } catch (err) {
        log('executor', `post-run: ${(err as Error).message}`);
      }
    }
    log('executor', `Build ${spec.buildId}: ${outcome.result}${outcome.error ? ` (${outcome.error})` : ''}`);
    for (const c of clients.values()) c.end();
    await new Promise<void>((r) => out.end(r));
    return outcome;
  }

  /**
   * Logs in to every node (host keys pinned) and puts the inventory, the SSH files and the
   * repositories there in one round trip: two tar archives in one stream (`tar -i` reads both).
   */
  private async setup(spec: BuildSpec, inv: Inventory, clients: Map<string, ssh2.Client>, log: (n: string, t: string) => void): Promise<void> {
    const key = generateHostKey();
    await mkdir(this.o.stageDir, { recursive: true });
    const stage = await mkdtemp(path.join(this.o.stageDir, `${spec.buildId}-`));
    try {
      await Promise.all(inv.nodes.map(async (n) => {
        const dir = path.join(stage, n.name);
        const env = inventoryEnv(inv, n.name, spec.env);
        // The home folder is known on the node only: `@HOME@` is replaced there.
        const files = { ...inventoryFiles(inv, n.name, env, spec.files), ...sshFiles(inv, '@HOME@', { private: key.privateKey, public: key.publicKey }) };
        for (const [rel, content] of Object.entries(files)) {
          await mkdir(path.dirname(path.join(dir, rel)), { recursive: true, mode: 0o700 });
          await writeFile(path.join(dir, rel), content, { mode: rel.startsWith('.ssh/') ? 0o600 : 0o644 });
        }
        const client = await connectNode({ host: n.interface_ip, port: n.ssh_port, username: n.username, hostKeys: n.host_keys, privateKey: this.o.privateKey });
        clients.set(n.name, client);
        const archives = [tarOf(dir, ['.'])];
        if (spec.projects.length) archives.push(tarOf(spec.workspaceDir, spec.projects, ['--transform', 's,^,src/,']));
        await sendArchives(client, archives, 'cd && tar -xpif - && chmod 700 .ssh && sed -i "s#@HOME@#$HOME#g" .ssh/config'
          + ' && cat .ssh/id_ed25519.pub >> .ssh/authorized_keys && chmod 600 .ssh/authorized_keys');
        log(n.name, `prepared: inventory in ~/nodepool, ${spec.projects.length} repositories in ~/src`);
      }));
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  }

  private async steps(steps: StepConfig[], spec: BuildSpec, inv: Inventory, clients: Map<string, ssh2.Client>, log: (n: string, t: string) => void, signal: AbortSignal): Promise<BuildOutcome> {
    for (const [i, step] of steps.entries()) {
      const hosts = hostsOf(step, inv);
      const title = step.name ?? `step ${i + 1}`;
      const codes = await Promise.all(hosts.map(async (h) => {
        const client = clients.get(h);
        if (!client) throw new Error(`no connection to ${h}`);
        log(h, `RUN START: ${title}`);
        const r = await execOn(client, `cd && . ./nodepool/env && /bin/sh -c ${shq(step.shell)}`, {
          signal, onStdout: (d) => log(h, d.toString('utf8')), onStderr: (d) => log(h, d.toString('utf8')),
        });
        log(h, `RUN END: ${title}: ${r.code === null ? `ended (${r.signal})` : `exit ${r.code}`}`);
        return r;
      }));
      if (signal.aborted) throw new Error('aborted');
      const failed = codes.findIndex((c) => c.code !== 0);
      if (failed >= 0) return { result: 'FAILURE', error: `${title} on ${hosts[failed]}: exit ${codes[failed]!.code ?? codes[failed]!.signal}` };
    }
    return { result: 'SUCCESS', error: null };
  }

  /** Brings back each node's `~/logs` into `<log dir>/<node>/`. */
  private async collectLogs(spec: BuildSpec, inv: Inventory, clients: Map<string, ssh2.Client>): Promise<void> {
    for (const n of inv.nodes) {
      const client = clients.get(n.name);
      if (!client) continue;
      const dir = path.join(spec.logDir, n.name);
      await mkdir(dir, { recursive: true });
      const untar = spawn('tar', ['-xf', '-', '-C', dir], { stdio: ['pipe', 'ignore', 'ignore'] });
      untar.stdin.on('error', () => {});
      const done = new Promise<void>((r) => untar.on('close', () => r()));
      await execOn(client, 'cd && if [ -d logs ]; then tar -cf - -C logs .; fi', { onStdout: (d) => untar.stdin.write(d) });
      untar.stdin.end();
      await done;
    }
  }
}

function hostsOf(step: StepConfig, inv: Inventory): string[] {
  if (!step.hosts.length) return [inv.primary];
  const names = step.hosts.flatMap((h) => (h === 'all' ? inv.nodes.map((n) => n.name) : inv.groups[h] ?? [h]));
  return [...new Set(names)];
}

interface Archive {
  stream: PassThrough;
  done: Promise<string | null>;
}

/** A tar archive of `entries` of `dir`, read at once: a child's unread output is thrown away when it exits. */
function tarOf(dir: string, entries: string[], extra: string[] = []): Archive {
  const tar = spawn('tar', ['-C', dir, '-cf', '-', ...extra, ...entries], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stream = tar.stdout.pipe(new PassThrough());
  let stderr = '';
  tar.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<string | null>((r) => tar.on('close', (code) => r(code === 0 ? null : `tar of ${dir} failed: ${stderr.trim()}`)));
  return { stream, done };
}

/** Streams the archives one after the other into `command` on the node. */
async function sendArchives(client: ssh2.Client, archives: Archive[], command: string): Promise<void> {
  const all = new PassThrough();
  void (async () => {
    for (const a of archives) {
      a.stream.pipe(all, { end: false });
      await new Promise((r) => a.stream.once('end', r));
    }
    all.end();
  })();
  let remoteErr = '';
  const r = await execOn(client, command, { stdin: all, onStderr: (d) => { remoteErr += d.toString(); } });
  for (const a of archives) {
    const problem = await a.done;
    if (problem) throw new Error(problem);
  }
  if (r.code !== 0) throw new Error(`unpacking on the node: exit ${r.code}: ${remoteErr.trim()}`);
}

/** Rejects as soon as `signal` aborts, without waiting for `p`. */
function abortable<T>(signal: AbortSignal, p: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v); }, (e) => { signal.removeEventListener('abort', onAbort); reject(e); });
  });
}
