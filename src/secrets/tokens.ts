import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API tokens. A token is 32 random bytes (base64url, prefixed `np_` so a leaked one is easy to
 * grep for); the configuration keeps only its SHA-256. A slow password hash is not needed:
 * 256 random bits cannot be guessed, whatever the speed of the hash.
 */

export type Role = 'admin' | 'requestor' | 'read';

/** What each role may do includes what the roles below it may. */
export const ROLE_RANK: Record<Role, number> = { read: 0, requestor: 1, admin: 2 };

export function newToken(): string {
  return `np_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

export interface TokenHolder {
  name: string;
  role: Role;
}

/** The configured tokens, looked up by the hash of what a caller presents. */
export class TokenBook {
  private readonly entries: { digest: Buffer; holder: TokenHolder }[];

  constructor(tokens: readonly { name: string; role: Role; hash: string }[]) {
    this.entries = tokens.map((t) => ({ digest: Buffer.from(t.hash.slice('sha256:'.length), 'hex'), holder: { name: t.name, role: t.role } }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The holder of `token`, or null. Every entry is compared, in constant time each. */
  find(token: string): TokenHolder | null {
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: TokenHolder | null = null;
    for (const e of this.entries) if (timingSafeEqual(e.digest, digest)) found = e.holder;
    return found;
  }
}
