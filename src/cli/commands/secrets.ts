import { UsageError } from '../../ops/errors.ts';
import { write, type GlobalOptions } from '../context.ts';

/** `nodepool secret keygen|seal` and `nodepool token new|hash`: no running system needed. */

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('reading the value from standard input; end with Ctrl-D\n');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  // `echo secret | nodepool secret seal` adds a newline that is not part of the secret.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** `secrets.key-file` of the configuration, when it can be read; the configuration is optional here. */
async function configuredKeyFile(g: GlobalOptions): Promise<string | null> {
  try {
    const { loadConfig } = await import('../../config/load.ts');
    return loadConfig(g.config).secrets?.keyFile ?? null;
  } catch {
    return null;
  }
}

export async function keygen(g: GlobalOptions, file: string | undefined): Promise<void> {
  const { writeKeyFiles } = await import('../../secrets/keyfile.ts');
  const path = file ?? await configuredKeyFile(g) ?? 'nodepool-secret.key';
  const { publicPath, keyId } = writeKeyFiles(path);
  write([
    `wrote the key pair to ${path} (mode 0600; only the daemon reads it) and its public half to ${publicPath}`,
    `key id ${keyId}. The daemon opens sealed values with it once nodepool.yaml says:`,
    '  secrets:',
    `    key-file: ${path}`,
  ].join('\n'));
}

export async function sealValue(g: GlobalOptions, o: { publicKey?: string }): Promise<void> {
  const { readPublicKey } = await import('../../secrets/keyfile.ts');
  const { seal } = await import('../../secrets/sealed.ts');
  let keyPath = o.publicKey;
  if (!keyPath) {
    const keyFile = await configuredKeyFile(g);
    if (!keyFile) throw new UsageError('no --public-key given and no secrets.key-file in the configuration');
    keyPath = `${keyFile}.pub`;
  }
  const publicKey = readPublicKey(keyPath);
  const clear = await readStdin();
  if (clear === '') throw new UsageError('nothing to seal: give the value on standard input');
  write(seal(clear, publicKey));
}

export async function tokenNew(o: { name: string; role: string }): Promise<void> {
  const { hashToken, newToken } = await import('../../secrets/tokens.ts');
  const token = newToken();
  write([
    `token: ${token}`,
    '',
    'Give the token to its holder (clients send `Authorization: Bearer <token>`; the CLI reads',
    'NODEPOOL_TOKEN); it is shown only now. Add its hash to nodepool.yaml under api.tokens:',
    `  - name: ${o.name}`,
    `    role: ${o.role}`,
    `    hash: ${hashToken(token)}`,
  ].join('\n'));
}

export async function tokenHash(): Promise<void> {
  const { hashToken } = await import('../../secrets/tokens.ts');
  const token = await readStdin();
  if (token === '') throw new UsageError('nothing to hash: give the token on standard input');
  write(hashToken(token.trim()));
}
