import { createECDH, getDiffieHellman, randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';

/**
 * Reads a node's SSH host key as `ssh-keyscan` does: the SSH transport up to the server's key
 * exchange reply, which carries the host key, then the connection is dropped (no keys derived, no
 * signature checked, no login). RFC 4253 §4.2 (version), §6 (packets), §7 (KEXINIT), §8 and
 * RFC 5656 / RFC 8731 (the KEX init and reply messages: 30 and 31 for every method offered here).
 *
 * A full ssh2 handshake cost about 3.4 ms of CPU per scan here, most of it JavaScript around the
 * key exchange; this costs a key pair and a few small packets.
 */

const CLIENT_VERSION = 'SSH-2.0-nodepool_keyscan';
const MSG_KEXINIT = 20;
const MSG_KEX_INIT = 30;
const MSG_KEX_REPLY = 31;
const MSG_DISCONNECT = 1;
/** More than any server identification, banner or KEX packet needs. */
const MAX_BYTES = 256 * 1024;

/** Host key types asked for, in the order ssh2 and OpenSSH prefer them. */
export const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa',
];

type KexMethod = { name: string; publicValue: () => Buffer };

const ECDH_CURVES: Record<string, string> = { 'ecdh-sha2-nistp256': 'prime256v1', 'ecdh-sha2-nistp384': 'secp384r1', 'ecdh-sha2-nistp521': 'secp521r1' };
const DH_GROUPS: Record<string, string> = {
  'diffie-hellman-group14-sha256': 'modp14', 'diffie-hellman-group16-sha512': 'modp16', 'diffie-hellman-group14-sha1': 'modp14',
};
const KEX_ALGORITHMS = ['curve25519-sha256', 'curve25519-sha256@libssh.org', ...Object.keys(ECDH_CURVES), ...Object.keys(DH_GROUPS)];

/** Our half of the key exchange: the client's public value, as the KEX init message carries it. */
function kexMethod(name: string): KexMethod {
  if (name.startsWith('curve25519')) {
    // No shared secret is ever computed on our side, so any 32 bytes serve (RFC 7748 §5: every
    // 32-byte string is a valid X25519 input); a key pair would cost more than the rest of the scan.
    return { name, publicValue: () => sshString(randomBytes(32)) };
  }
  if (ECDH_CURVES[name]) return { name, publicValue: () => sshString(createECDH(ECDH_CURVES[name]!).generateKeys()) };
  if (DH_GROUPS[name]) {
    return { name, publicValue: () => { const dh = getDiffieHellman(DH_GROUPS[name]!); return mpint(dh.generateKeys()); } };
  }
  throw new Error(`no key exchange method ${name}`);
}

/** Host key types to ask for to receive a key of `type` (an RSA key is offered under its signature names). */
export function algorithmsFor(type: string): string[] {
  return type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
}

/** `algorithms`: the host key types asked for, most wanted first (a pinned key's type, to get that key). */
export function scanHostKeyWire(host: string, port: number, timeoutMs: number, algorithms: readonly string[] = HOST_KEY_ALGORITHMS): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host, port });
    sock.setNoDelay(true);
    let settled = false;
    const finish = (err: Error | null, key?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(key!);
    };
    const timer = setTimeout(() => finish(new Error(`SSH key exchange with ${host}:${port} timed out`)), timeoutMs);
    let buf: Buffer = Buffer.alloc(0);
    let versionSeen = false;
    let kexSent = false;
    sock.once('connect', () => sock.write(`${CLIENT_VERSION}\r\n`));
    sock.on('error', (e) => finish(e));
    sock.on('close', () => finish(new Error(`${host}:${port} closed the connection before offering a host key`)));
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      if (buf.length > MAX_BYTES) return finish(new Error(`${host}:${port} sent ${buf.length} bytes without a host key`));
      try {
        if (!versionSeen) {
          const got = serverVersion(buf);
          if (!got) return;
          versionSeen = true;
          buf = got.rest;
        }
        for (let p = nextPacket(buf); p; p = nextPacket(buf)) {
          buf = p.rest;
          const type = p.payload[0];
          if (type === MSG_KEXINIT && !kexSent) {
            kexSent = true;
            const method = kexMethod(negotiate(KEX_ALGORITHMS, nameList(p.payload, 17, 0), 'key exchange'));
            negotiate(algorithms, nameList(p.payload, 17, 1), 'host key');
            sock.write(Buffer.concat([packet(clientKexInit(algorithms)), packet(Buffer.concat([Buffer.from([MSG_KEX_INIT]), method.publicValue()]))]));
          } else if (type === MSG_KEX_REPLY) {
            return finish(null, openSshKey(readString(p.payload, 1).value));
          } else if (type === MSG_DISCONNECT) {
            const reason = readString(p.payload, 5).value.toString('utf8');
            return finish(new Error(`${host}:${port} disconnected: ${reason}`));
          }
        }
      } catch (e) {
        finish(new Error(`${host}:${port}: ${(e as Error).message}`));
      }
    });
  });
}

/** The server's identification line (lines before it are a banner, RFC 4253 §4.2), and what follows it. */
function serverVersion(buf: Buffer): { version: string; rest: Buffer } | null {
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) return null;
    const line = buf.subarray(start, nl).toString('latin1').replace(/\r$/, '');
    start = nl + 1;
    if (line.startsWith('SSH-')) {
      if (!line.startsWith('SSH-2.0-') && !line.startsWith('SSH-1.99-')) throw new Error(`not SSH 2: ${JSON.stringify(line.slice(0, 80))}`);
      return { version: line, rest: buf.subarray(start) };
    }
    if (start > 16 * 1024) throw new Error('no SSH identification in the first 16 KiB');
  }
}

/** One unencrypted binary packet (before NEWKEYS there is neither cipher nor MAC). */
function nextPacket(buf: Buffer): { payload: Buffer; rest: Buffer } | null {
  if (buf.length < 5) return null;
  const length = buf.readUInt32BE(0);
  if (length < 5 || length > MAX_BYTES) throw new Error(`not an SSH packet (length ${length})`);
  if (buf.length < 4 + length) return null;
  const padding = buf[4]!;
  if (padding >= length) throw new Error('not an SSH packet (padding)');
  return { payload: buf.subarray(5, 4 + length - padding), rest: buf.subarray(4 + length) };
}

function packet(payload: Buffer): Buffer {
  let padding = 8 - ((payload.length + 5) % 8);
  if (padding < 4) padding += 8;
  const out = Buffer.alloc(5 + payload.length + padding);
  out.writeUInt32BE(1 + payload.length + padding, 0);
  out[4] = padding;
  payload.copy(out, 5);
  randomBytes(padding).copy(out, 5 + payload.length);
  return out;
}

function clientKexInit(hostKeyAlgorithms: readonly string[]): Buffer {
  const lists = [
    KEX_ALGORITHMS, hostKeyAlgorithms,
    ['aes128-ctr', 'aes256-ctr', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'],
    ['aes128-ctr', 'aes256-ctr', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'],
    ['hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha1'], ['hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha1'],
    ['none'], ['none'], [], [],
  ];
  return Buffer.concat([Buffer.from([MSG_KEXINIT]), randomBytes(16), ...lists.map((l) => sshString(Buffer.from(l.join(',')))), Buffer.from([0, 0, 0, 0, 0])]);
}

/** The `index`-th name-list of a KEXINIT payload, read from `offset` (after the type byte and cookie). */
function nameList(payload: Buffer, offset: number, index: number): string[] {
  let at = offset;
  for (let i = 0; i < index; i++) at = readString(payload, at).next;
  return readString(payload, at).value.toString('latin1').split(',').filter(Boolean);
}

/** RFC 4253 §7.1: the first of the client's algorithms that the server also offers. */
function negotiate(ours: readonly string[], theirs: readonly string[], what: string): string {
  const found = ours.find((a) => theirs.includes(a));
  if (!found) throw new Error(`no ${what} algorithm in common (server offers ${theirs.join(',') || 'none'})`);
  return found;
}

function readString(buf: Buffer, at: number): { value: Buffer; next: number } {
  if (at + 4 > buf.length) throw new Error('truncated SSH message');
  const len = buf.readUInt32BE(at);
  if (at + 4 + len > buf.length) throw new Error('truncated SSH message');
  return { value: buf.subarray(at + 4, at + 4 + len), next: at + 4 + len };
}

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length, 0);
  return Buffer.concat([len, b]);
}

/** A positive multiple-precision integer (RFC 4251 §5): a leading zero when the top bit is set. */
function mpint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return sshString(v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

/** `ssh-ed25519 AAAA...` from the wire form of a public key (string type name, then data). */
export function openSshKey(raw: Buffer): string {
  const { value: type } = readString(raw, 0);
  return `${type.toString('ascii')} ${raw.toString('base64')}`;
}
