import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The configuration of a provider with `driver: static` (Nodepool's static driver): existing
 * hosts, listed under `pools[].nodes`, handed out as nodes and never booted or deleted. Key names
 * and meanings are Nodepool's ("Static Driver" in its documentation).
 */

const name = z.string().min(1, 'must not be empty');
const port = z.number().int().min(1).max(65535);

/** Key types a pinned host key may have (what an SSH server offers and `ssh-keyscan` prints). */
export const HOST_KEY_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'] as const;

const hostKey = z
  .string({ error: 'must be a host key such as "ssh-ed25519 AAAA…"' })
  .trim()
  .refine((k) => {
    const [type, blob] = k.split(/\s+/);
    return (HOST_KEY_TYPES as readonly string[]).includes(type ?? '') && keyTypeOf(blob ?? '') === type;
  }, `must be a host key in known_hosts form: "<type> <base64 key of that type>" (as ssh-keyscan prints it), the type one of ${HOST_KEY_TYPES.join(', ')}`)
  // Only the type and the key itself: a comment after them (`root@host`) is not part of the key.
  .transform((k) => k.split(/\s+/).slice(0, 2).join(' '));

/** The key type written inside a base64 SSH public key blob (RFC 4253 §6.6); null when it is not one. */
function keyTypeOf(blob: string): string | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return null;
  const raw = Buffer.from(blob, 'base64');
  if (raw.length < 4) return null;
  const len = raw.readUInt32BE(0);
  return len > 0 && len < 64 && raw.length >= 4 + len ? raw.subarray(4, 4 + len).toString('latin1') : null;
}

/** A string or a list of strings, as Nodepool accepts for `labels` and `host-key`. */
const oneOrMany = <T extends z.ZodType<string>>(item: T) => z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(item, { error: 'must be a string or a list of strings' }));

export const staticNodeSchema = z
  .strictObject({
    name: name
      .refine((v) => isIP(v) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(v), 'must be a host name or an IP address')
      .describe('The host: its name or IP address, which is also the address nodes on it are reached at.'),
    labels: oneOrMany(name)
      .refine((l) => l.length > 0, 'must name at least one label')
      .describe('Labels the host serves (a name or a list).'),
    username: name.default('zuul').describe('User the scheduler logs in as. Default: `zuul`.'),
    'connection-type': z.literal('ssh').default('ssh')
      .describe('How the host is reached: `ssh`.'),
    'connection-port': port.default(22).describe('SSH port of the host. Default: 22.'),
    'host-key': oneOrMany(hostKey).optional()
      .describe('Host key(s) the host must present, in known_hosts form; a host presenting another key is taken out of service. Default: the key scanned is trusted.'),
    'host-key-checking': z.boolean().default(true)
      .describe('Scan the host (and check `host-key`) before each use; false: hand it out without host keys.'),
    'max-parallel-jobs': z.number().int().min(1).max(1000).default(1)
      .describe('Jobs the host may run at once: one node per job.'),
    'python-path': name.default('auto').describe("The Python interpreter on the host, passed on to the scheduler. Default: `auto`."),
  })
  .refine((n) => !(n['host-key'] && n['host-key-checking'] === false), {
    path: ['host-key-checking'], message: 'is false, so the pinned host-key would never be checked: remove one of them',
  })
  .describe('One existing host.');

export const staticPoolSchema = z
  .strictObject({
    name: name.describe('Pool name, unique within its provider.'),
    priority: z.number().int().default(100).describe('When several pools can serve a request, lower numbers are tried first.'),
    nodes: z.array(staticNodeSchema).min(1, 'must list at least one host').describe('The hosts of this pool.'),
  })
  .describe('A group of existing hosts.');

export const staticProviderSchema = z
  .strictObject({
    name: name.describe('Provider name, unique.'),
    driver: z.literal('static').describe('Existing hosts handed out as nodes (Nodepool\'s static driver).'),
    'launch-timeout': z.number().positive().default(60)
      .describe('Seconds a host may take to answer SSH before its slot is taken out of service (and checked again a minute later).'),
    pools: z.array(staticPoolSchema).default([]).describe('Pools of this provider.'),
  })
  .describe('Existing hosts (third-party hardware) as nodes.');

export type StaticProviderYaml = z.output<typeof staticProviderSchema>;

/** One host as the driver uses it (camelCase, defaults filled in). */
export interface StaticHost {
  name: string;
  labels: string[];
  username: string;
  connectionPort: number;
  hostKeys: string[];
  hostKeyChecking: boolean;
  maxParallelJobs: number;
  pythonPath: string;
}

export interface StaticPoolConfig {
  name: string;
  priority: number;
  nodes: StaticHost[];
}

export function resolveStaticPools(y: StaticProviderYaml): StaticPoolConfig[] {
  return y.pools.map((p) => ({
    name: p.name,
    priority: p.priority,
    nodes: p.nodes.map((n) => ({
      name: n.name, labels: [...new Set(n.labels)], username: n.username, connectionPort: n['connection-port'],
      hostKeys: n['host-key'] ?? [], hostKeyChecking: n['host-key-checking'], maxParallelJobs: n['max-parallel-jobs'],
      pythonPath: n['python-path'],
    })),
  }));
}
