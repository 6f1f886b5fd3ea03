import { UnavailableError } from '../ops/errors.ts';
import { ApiClient } from './api-client.ts';

/** Global options every command receives. */
export interface GlobalOptions {
  config: string;
  url?: string;
}

export function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** `http://<api.listen>:<api.port>`, with a wildcard listen address reached on loopback. */
export function urlFromListen(listen: string, port: number): string {
  const host = listen === '0.0.0.0' || listen === '' ? '127.0.0.1' : listen === '::' ? '::1' : listen;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The running system's API: `--url`, else the `api` section of the configuration. The config is
 * read only when no URL was given, so `--url` works on a machine without the config file.
 */
export async function apiClient(opts: GlobalOptions): Promise<ApiClient> {
  if (opts.url) return new ApiClient(opts.url.replace(/\/+$/, ''));
  const { loadConfig } = await import('../config/load.ts');
  let api;
  try {
    api = loadConfig(opts.config).api;
  } catch (err) {
    const first = (err as Error).message.split('\n').slice(0, 2).map((l) => l.trim()).join(': ');
    throw new UnavailableError(`no --url given and the API address cannot be read from the config: ${first}`);
  }
  return new ApiClient(urlFromListen(api.listen, api.port));
}
