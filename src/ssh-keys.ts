import ssh2 from 'ssh2';

const { utils } = ssh2;

/**
 * A fresh ed25519 key pair, both halves in OpenSSH form (the public one as `ssh-ed25519 AAAA…`,
 * without a comment): host keys of the simulator's and gerrit-sim's servers, the gate's build
 * keys, the builder's throwaway check keys. ssh2 1.17 drops a leading zero byte of the public key
 * (about 1 key in 256 then fails to parse), so such keys are discarded.
 */
export function generateEd25519Key(): { privateKey: string; publicKey: string } {
  for (;;) {
    const k = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(k.private) instanceof Error)) {
      return { privateKey: k.private, publicKey: k.public.trim().split(/\s+/).slice(0, 2).join(' ') };
    }
  }
}
