import { test } from 'node:test';
import { generateEd25519Key } from '../../src/ssh-keys.ts';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server as NetServer } from 'node:net';
import ssh2 from 'ssh2';
import { scanHostKey } from '../../src/launcher/keyscan.ts';

/** A real SSH server (ssh2) with one host key; returns its port and the key as known_hosts shows it. */
async function sshServer(type: 'ed25519' | 'ecdsa' | 'rsa'): Promise<{ port: number; publicKey: string; close: () => Promise<void> }> {
  const pair = type === 'rsa' ? ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 })
    : type === 'ecdsa' ? ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 }) : (({ privateKey, publicKey }) => ({ private: privateKey, public: publicKey }))(generateEd25519Key());
  let logins = 0;
  const server = new ssh2.Server({ hostKeys: [pair.private] }, (client) => {
    client.on('authentication', (ctx) => { logins += 1; ctx.reject(); });
    client.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const [kind, data] = pair.public.split(' ');
  return {
    port: (server.address() as AddressInfo).port,
    publicKey: `${kind} ${data}`,
    close: async () => { assert.equal(logins, 0, 'a scan never tries to log in'); await new Promise((r) => server.close(r)); },
  };
}

for (const type of ['ed25519', 'ecdsa', 'rsa'] as const) {
  test(`a scan reads the ${type} host key an SSH server offers, as known_hosts writes it, without logging in`, async () => {
    const s = await sshServer(type);
    try {
      assert.equal(await scanHostKey('127.0.0.1', s.port, 5000), s.publicKey);
      assert.equal(await scanHostKey('127.0.0.1', s.port, 5000), s.publicKey, 'the same key on a second scan');
    } finally {
      await s.close();
    }
  });
}

async function rawServer(onConnect: (sock: import('node:net').Socket) => void): Promise<{ port: number; server: NetServer }> {
  const server = createServer(onConnect);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as AddressInfo).port, server };
}

test('what is not an SSH server is an error that says so: HTTP, a silent port, a closed connection, a refused port', async () => {
  const http = await rawServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  const silent = await rawServer(() => undefined);
  const closing = await rawServer((s) => s.end('SSH-2.0-OpenSSH_9.6\r\n'));
  const garbage = await rawServer((s) => s.write(Buffer.concat([Buffer.from('SSH-2.0-x\r\n'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0])])));
  try {
    await assert.rejects(scanHostKey('127.0.0.1', http.port, 2000), /closed the connection before offering a host key/);
    await assert.rejects(scanHostKey('127.0.0.1', silent.port, 300), /timed out/);
    await assert.rejects(scanHostKey('127.0.0.1', closing.port, 2000), /closed the connection/);
    await assert.rejects(scanHostKey('127.0.0.1', garbage.port, 2000), /not an SSH packet/);
    const free = silent.port;
    silent.server.close();
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(scanHostKey('127.0.0.1', free, 2000), /ECONNREFUSED/);
  } finally {
    for (const s of [http, closing, garbage]) s.server.close();
    silent.server.close();
  }
});

test('a banner before the identification line is passed over (RFC 4253 §4.2)', async () => {
  const real = await sshServer('ed25519');
  // A proxy that prints a banner line, then relays to the real server.
  const { connect } = await import('node:net');
  const proxy = await rawServer((s) => {
    const up = connect(real.port, '127.0.0.1');
    s.write('Welcome to the lab\r\n');
    up.pipe(s);
    s.pipe(up);
    s.on('error', () => up.destroy());
    up.on('error', () => s.destroy());
  });
  try {
    assert.equal(await scanHostKey('127.0.0.1', proxy.port, 5000), real.publicKey);
  } finally {
    proxy.server.close();
    await real.close();
  }
});
