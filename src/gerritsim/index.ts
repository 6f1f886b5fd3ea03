/**
 * A small Gerrit for tests and the quick start (`nodepool gerrit-sim`): Gerrit's SSH
 * `stream-events`, its REST review, query, submit and abandon endpoints, git over HTTP (and as
 * bare repositories on disk), and an admin API under `/sim/` to create projects, upload changes
 * and vote as any account. See README.md beside this file.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { silentLogger, type Logger } from '../log.ts';
import { generateEd25519Key as generateHostKey } from '../ssh-keys.ts';
import { adminRoutes } from './admin.ts';
import { Gerrit } from './gerrit.ts';
import { gitHttpRoutes } from './git-http.ts';
import { Repos } from './repos.ts';
import { restRoutes } from './rest.ts';
import { GerritSshd } from './ssh.ts';

export { Gerrit } from './gerrit.ts';
export { XSSI_PREFIX } from './rest.ts';

export interface GerritSimOptions {
  host?: string;
  /** HTTP port (REST, git, admin); 0 = any. */
  httpPort?: number;
  /** SSH port (stream-events); 0 = any. */
  sshPort?: number;
  /** Where the bare repositories live; default a temporary folder removed at close. */
  dir?: string;
  /** Accounts (username, HTTP password, name); default admin, zuul, developer and core, password `secret`. */
  accounts?: { username: string; password?: string; name?: string; email?: string }[];
  /** Projects created at start (each with a README on master). */
  projects?: string[];
  logger?: Logger;
  now?: () => number;
}

export interface GerritSim {
  /** `http://host:port`: REST under `/a/`, git at `/<project>`, the admin API under `/sim/`. */
  readonly url: string;
  readonly sshPort: number;
  readonly host: string;
  /** The SSH host key's public half, `ssh-ed25519 AAAA…`: what a gate connection's `host-key` pins. */
  readonly hostKey: string;
  readonly gerrit: Gerrit;
  readonly repos: Repos;
  /** The bare repository of a project on disk (git over a local path). */
  gitPath(project: string): string;
  /** Drops every stream-events connection; readers must reconnect. */
  dropStreams(): number;
  close(): Promise<void>;
}

export const DEFAULT_ACCOUNTS = [
  { username: 'admin', name: 'Administrator' },
  { username: 'zuul', name: 'Zuul' },
  { username: 'developer', name: 'Developer' },
  { username: 'core', name: 'Core Reviewer' },
];

export async function createGerritSim(o: GerritSimOptions = {}): Promise<GerritSim> {
  const logger = o.logger ?? silentLogger();
  const host = o.host ?? '127.0.0.1';
  const ownDir = o.dir === undefined;
  const dir = o.dir ?? await mkdtemp(path.join(os.tmpdir(), 'gerritsim-'));
  const repos = new Repos(path.join(dir, 'git'));
  let url = '';
  const gerrit = new Gerrit(repos, { now: o.now ?? Date.now, logger, webUrl: () => url });
  const accounts: NonNullable<GerritSimOptions['accounts']> = o.accounts ?? DEFAULT_ACCOUNTS;
  for (const a of accounts) {
    gerrit.addAccount({
      username: a.username, name: a.name ?? a.username, email: a.email ?? `${a.username}@example.org`, password: a.password ?? 'secret',
    });
  }
  const app = Fastify({ logger: false, forceCloseConnections: true, routerOptions: { maxParamLength: 500 } });
  const key = await hostKeyIn(ownDir ? null : dir);
  const sshd = new GerritSshd(gerrit, key.privateKey, logger.child({ component: 'gerrit-sim-ssh' }));
  restRoutes(app, gerrit, logger.child({ component: 'gerrit-sim' }), { account: (id) => gerrit.account(id), gitUrl: (p) => `${url}/${p}` });
  adminRoutes(app, gerrit, repos, { dropStreams: () => sshd.dropAll() });
  gitHttpRoutes(app, gerrit, repos, logger.child({ component: 'gerrit-sim' }));
  try {
    await app.listen({ host, port: o.httpPort ?? 0 });
    const port = (app.server.address() as { port: number }).port;
    url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    await sshd.listen(host, o.sshPort ?? 0);
    for (const p of o.projects ?? []) await gerrit.createProject(p);
  } catch (err) {
    await sshd.close().catch(() => {});
    await app.close();
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  logger.info({ url, sshPort: sshd.port, hostKey: key.publicKey, projects: o.projects ?? [] }, 'gerrit simulator listening');
  let closing: Promise<void> | undefined;
  return {
    url, host, sshPort: sshd.port, hostKey: key.publicKey, gerrit, repos,
    gitPath: (p) => repos.dir(p),
    dropStreams: () => sshd.dropAll(),
    close() {
      closing ??= (async () => {
        await sshd.close();
        await app.close();
        if (ownDir) await rm(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

/**
 * The SSH host key: kept in the simulator's folder (`ssh_host_ed25519_key`, as sshd names it) when
 * it has one of its own, so a gate that pinned it still connects after a restart; else made anew.
 */
async function hostKeyIn(dir: string | null): Promise<{ privateKey: string; publicKey: string }> {
  if (dir === null) return generateHostKey();
  const file = path.join(dir, 'ssh_host_ed25519_key');
  try {
    const [privateKey, publicKey] = await Promise.all([readFile(file, 'utf8'), readFile(`${file}.pub`, 'utf8')]);
    return { privateKey, publicKey: publicKey.trim() };
  } catch {
    const k = generateHostKey();
    await mkdir(dir, { recursive: true });
    await writeFile(file, k.privateKey, { mode: 0o600 });
    await writeFile(`${file}.pub`, `${k.publicKey}\n`);
    return k;
  }
}
