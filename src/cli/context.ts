import { readFileSync } from 'node:fs';
import { UnavailableError, UsageError } from '../ops/errors.ts';
import { NodepoolClient } from '../client/client.ts';

/** Global options every command receives. */
export interface GlobalOptions {
  config: string;
  url?: string;
  /** Read and write the store named in the configuration instead of asking the running system. */
  store?: boolean;
  /** File holding the API token; else NODEPOOL_TOKEN. */
  tokenFile?: string;
}

export { write } from './output.ts';

/** `http://<api.listen>:<api.port>`, with a wildcard listen address reached on loopback. */
export function urlFromListen(listen: string, port: number): string {
  const host = listen === '0.0.0.0' || listen === '' ? '127.0.0.1' : listen === '::' ? '::1' : listen;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The running system's API: `--url`, else the `api` section of the configuration. The config is
 * read only when no URL was given, so `--url` works on a machine without the config file.
 */
export async function apiClient(opts: GlobalOptions): Promise<NodepoolClient> {
  const token = readToken(opts);
  if (opts.url) return new NodepoolClient({ url: opts.url, token });
  const { loadConfig } = await import('../config/load.ts');
  let api;
  try {
    api = loadConfig(opts.config).api;
  } catch (err) {
    const first = (err as Error).message.split('\n').slice(0, 2).map((l) => l.trim()).join(': ');
    throw new UnavailableError(`no --url given and the API address cannot be read from the config: ${first}`);
  }
  return new NodepoolClient({ url: urlFromListen(api.listen, api.port), token });
}

/** The API token: the first line of --token-file, else NODEPOOL_TOKEN; never a command-line value (ps would show it). */
function readToken(opts: GlobalOptions): string | undefined {
  if (opts.tokenFile) {
    try {
      return readFileSync(opts.tokenFile, 'utf8').split('\n')[0]!.trim() || undefined;
    } catch (err) {
      throw new UsageError(`cannot read --token-file ${opts.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return process.env.NODEPOOL_TOKEN || undefined;
}
