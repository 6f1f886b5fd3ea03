import { createHash } from 'node:crypto';
import { sodium } from './sodium.ts';

/**
 * Sealed secrets: a value encrypted to the daemon's public key with a libsodium sealed box
 * (X25519 + XSalsa20-Poly1305, an anonymous sender). Anyone with the public key can seal; only
 * the daemon's secret key opens it, and any change to the text makes opening fail.
 *
 * Written as `sealed:v1:<key id>:<base64>`, a plain YAML string that clouds.yaml readers other
 * than ours pass over without error. The key id (the first 8 hex digits of the public key's
 * SHA-256) lets a wrong key be told apart from a damaged value.
 */

export const SEALED_PREFIX = 'sealed:v1:';

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** Why a value could not be unsealed; the message never contains the value, sealed or clear. */
export class UnsealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsealError';
  }
}

export function isSealed(v: unknown): v is string {
  return typeof v === 'string' && v.startsWith(SEALED_PREFIX);
}

export function keyId(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 8);
}

export function newKeyPair(): KeyPair {
  const kp = sodium.crypto_box_keypair();
  return { publicKey: kp.publicKey, secretKey: kp.privateKey };
}

export function seal(clear: string, publicKey: Uint8Array): string {
  const box = sodium.crypto_box_seal(sodium.from_string(clear), publicKey);
  return `${SEALED_PREFIX}${keyId(publicKey)}:${sodium.to_base64(box, sodium.base64_variants.ORIGINAL)}`;
}

/** Opens sealed values with one key pair; `null` keys make every sealed value an error saying so. */
export class Unsealer {
  constructor(private readonly key: KeyPair | null, private readonly keySource = 'secrets.key-file') {}

  unseal(sealed: string): string {
    if (!this.key) throw new UnsealError(`is sealed, but no key to open it: set ${this.keySource} in nodepool.yaml to the file \`nodepool secret keygen\` wrote`);
    const body = sealed.slice(SEALED_PREFIX.length);
    const m = /^([0-9a-f]{8}):([A-Za-z0-9+/]+={0,2})$/.exec(body);
    if (!m) throw new UnsealError('is not a sealed value: expected sealed:v1:<key id>:<base64> as `nodepool secret seal` prints it');
    const ours = keyId(this.key.publicKey);
    if (m[1] !== ours) {
      throw new UnsealError(`was sealed for another key (id ${m[1]}); this daemon's key (${this.keySource}) has id ${ours}: seal it again with this key's public half`);
    }
    let box: Uint8Array;
    try {
      box = sodium.from_base64(m[2]!, sodium.base64_variants.ORIGINAL);
    } catch {
      throw new UnsealError('cannot be unsealed: its base64 text is damaged');
    }
    try {
      return sodium.to_string(sodium.crypto_box_seal_open(box, this.key.publicKey, this.key.secretKey));
    } catch {
      throw new UnsealError('cannot be unsealed with this key: the sealed text was altered or cut short');
    }
  }
}
