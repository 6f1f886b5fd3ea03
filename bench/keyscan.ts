/**
 * `npm run bench:keyscan`: CPU and time per host-key scan, the key exchange only (what the launcher
 * does, src/launcher/kex-scan.ts) against a full ssh2 handshake stopped at host-key verification
 * (what it did before). The SSH server (ssh2, ed25519 host key, as the simulator's nodes) runs in
 * a child process, so the CPU read here is the scanner's alone.
 *
 * Options (environment): BENCH_SCANS=300 (per round)  BENCH_ROUNDS=3
 */
import { fork } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import ssh2 from 'ssh2';
import { scanHostKey } from '../src/launcher/keyscan.ts';

const SCANS = Number(process.env.BENCH_SCANS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

if (process.argv[2] === 'server') {
  const pair = ssh2.utils.generateKeyPairSync('ed25519');
  const server = new ssh2.Server({ hostKeys: [pair.private] }, (c) => { c.on('error', () => undefined); c.on('authentication', (ctx) => ctx.reject()); });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

/** The former scan: ssh2's client handshake, ended in its host verifier. */
function ssh2Scan(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host, port });
    sock.setNoDelay(true);
    const client = new ssh2.Client();
    let done = false;
    const finish = (err: Error | null, key?: string) => {
      if (done) return;
      done = true;
      client.end();
      sock.destroy();
      if (key) resolve(key); else reject(err);
    };
    sock.once('error', (e) => finish(e));
    sock.once('connect', () => {
      client.on('error', (e) => finish(e));
      client.connect({
        sock, username: 'scan', readyTimeout: 5000, authHandler: () => false,
        hostVerifier: (raw: Buffer) => { setImmediate(() => finish(null, `key ${raw.length}`)); return true; },
      });
    });
  });
}

async function round(name: string, scan: (host: string, port: number) => Promise<string>, port: number): Promise<{ cpu: number; wall: number }> {
  for (let i = 0; i < 20; i++) await scan('127.0.0.1', port);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < SCANS; i++) await scan('127.0.0.1', port);
  const wall = (performance.now() - t0) / SCANS;
  const c = process.cpuUsage(cpu0);
  const cpu = (c.user + c.system) / 1000 / SCANS;
  console.log(`${name.padEnd(34)} ${cpu.toFixed(2).padStart(6)} ms CPU/scan ${wall.toFixed(2).padStart(7)} ms/scan (${SCANS} in a row)`);
  return { cpu, wall };
}

async function main(): Promise<void> {
  const child = fork(import.meta.filename, ['server'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((r) => child.once('message', (m: { port: number }) => r(m.port)));
  console.log(`# host-key scan, ${new Date().toISOString()}, Node ${process.version}; server: ssh2 in another process, ed25519 key`);
  const kex: number[] = [];
  const full: number[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      full.push((await round('ssh2 handshake (before)', ssh2Scan, port)).cpu);
      kex.push((await round('key exchange only (now)', (h, p) => scanHostKey(h, p, 5000), port)).cpu);
    }
  } finally {
    child.disconnect();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`median CPU per scan: ssh2 handshake ${median(full).toFixed(2)} ms, key exchange only ${median(kex).toFixed(2)} ms (${(median(full) / median(kex)).toFixed(1)}x less)`);
}
