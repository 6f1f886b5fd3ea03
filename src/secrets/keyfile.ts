import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { sodium } from './sodium.ts';
import { keyId, newKeyPair, type KeyPair } from './sealed.ts';

/**
 * The daemon's key pair on disk. The key file (mode 0600) holds both halves as JSON and is read
 * by the daemon only; `<key file>.pub` holds the public half, one base64 line, and may be handed
 * to anyone who needs to seal a value for this daemon.
 */

const KIND = 'nodepool-sealed-box-key';

export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

const b64 = (b: Uint8Array) => sodium.to_base64(b, sodium.base64_variants.ORIGINAL);
const unb64 = (s: string) => sodium.from_base64(s, sodium.base64_variants.ORIGINAL);

/** Writes a new key pair; refuses to replace an existing key file (its sealed values would be lost). */
export function writeKeyFiles(path: string): { publicPath: string; keyId: string } {
  const kp = newKeyPair();
  const body = JSON.stringify({ kind: KIND, key_id: keyId(kp.publicKey), public_key: b64(kp.publicKey), secret_key: b64(kp.secretKey) });
  try {
    writeFileSync(path, `${body}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KeyFileError(code === 'EEXIST'
      ? `${path} already exists; values sealed for it would no longer open with a new key (remove it first if that is meant)`
      : `cannot write ${path}: ${(e as Error).message}`);
  }
  // The mode given to writeFileSync passes through the umask; say it again so it is exactly 0600.
  chmodSync(path, 0o600);
  const publicPath = `${path}.pub`;
  writeFileSync(publicPath, `${b64(kp.publicKey)}\n`, { mode: 0o644 });
  return { publicPath, keyId: keyId(kp.publicKey) };
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KeyFileError(`cannot read the ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

export function readKeyPair(path: string): KeyPair {
  const text = readText(path, 'key file');
  let parsed: { kind?: unknown; public_key?: unknown; secret_key?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeyFileError(`${path} is not a key file written by \`nodepool secret keygen\``);
  }
  if (parsed.kind !== KIND || typeof parsed.public_key !== 'string' || typeof parsed.secret_key !== 'string') {
    throw new KeyFileError(`${path} is not a key file written by \`nodepool secret keygen\``);
  }
  try {
    const kp = { publicKey: unb64(parsed.public_key), secretKey: unb64(parsed.secret_key) };
    if (kp.publicKey.length !== 32 || kp.secretKey.length !== 32) throw new Error('length');
    return kp;
  } catch {
    throw new KeyFileError(`${path}: the key is damaged`);
  }
}

/** The public half, from a `.pub` file or from the key file itself. */
export function readPublicKey(path: string): Uint8Array {
  const text = readText(path, 'public key file').trim();
  if (text.startsWith('{')) return readKeyPair(path).publicKey;
  let key: Uint8Array;
  try {
    key = unb64(text);
  } catch {
    throw new KeyFileError(`${path} is not a public key written by \`nodepool secret keygen\``);
  }
  if (key.length !== 32) throw new KeyFileError(`${path} is not a public key written by \`nodepool secret keygen\``);
  return key;
}
