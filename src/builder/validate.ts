import { readFile } from 'node:fs/promises';
import type { ProviderAdapter } from '../../providers/provider.ts';
import type { DiskImageConfig, PoolConfig, ProviderConfig } from '../config/types.ts';
import { LaunchSpecResolver } from '../launch-spec.ts';
import type { Logger } from '../log.ts';
import type { UploadRecord } from '../model.ts';
import { newNodeRecord } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import { runCheck, throwawayKey } from './ssh-check.ts';

export interface ValidateContext {
  store: Store;
  adapter: ProviderAdapter;
  logger: Logger;
  builder: string;
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  signal: AbortSignal;
}

export interface Verdict {
  passed: boolean;
  reason: string;
}

/** The first pool label of the provider that boots this image: its flavor, network and login serve the test node. */
function poolLabelFor(provider: ProviderConfig, image: string): { pool: PoolConfig; label: PoolConfig['labels'][number] } | null {
  for (const pool of provider.pools) {
    const label = pool.labels.find((l) => l.diskimage === image);
    if (label) return { pool, label };
  }
  return null;
}

/**
 * Validates one upload before launches use it: a test node boots from it with a pool label's
 * flavor and networks, and the image's check runs on it over SSH; exit 0 passes.
 *
 * The test node is an ordinary node record written before the server is asked for (promise 1),
 * held (`hold`, with the reason and an expiry) so no request gets it and the launcher leaves it
 * alone, then marked `used`, which the launcher deletes like any used node. A builder that dies
 * mid-check leaves a hold that expires into a delete.
 */
export async function validateUpload(ctx: ValidateContext, upload: UploadRecord, image: DiskImageConfig, provider: ProviderConfig): Promise<Verdict> {
  const v = image.validation;
  if (!v || !upload.externalId) return { passed: true, reason: 'no check asked for' };
  const found = poolLabelFor(provider, image.name);
  if (!found) return { passed: false, reason: `no pool label of ${provider.name} boots ${image.name}` };
  const { pool, label } = found;
  const log = ctx.logger.child({ provider: provider.name, image: image.name, upload: upload.id });
  const started = ctx.now();
  const deadline = started + v.timeout * 1000;
  const node = {
    ...newNodeRecord({ label: label.name, provider: provider.name, pool: pool.name, connectionPort: label.connectionPort, username: label.username, now: started }),
    state: 'hold' as const, step: null, holdReason: `validating upload ${upload.id} of ${image.name}`, holdExpires: deadline + 60_000,
    launchStartedAt: started,
  };
  await ctx.store.insertNode(node, ctx.builder);
  await ctx.store.updateUpload(upload.id, { validationNode: node.id }, ctx.builder);
  let verdict: Verdict;
  try {
    const spec = await new LaunchSpecResolver(ctx.adapter, provider).resolve(pool, { ...label, diskimage: undefined, cloudImage: undefined });
    const { id } = await ctx.adapter.createServer({
      name: node.hostname, flavorId: spec.flavorId, imageId: upload.externalId, networkIds: spec.networkIds, keyName: label.keyName,
      userdata: label.userdata,
      metadata: {
        ...label.instanceProperties, nodepool_provider_name: provider.name, nodepool_pool_name: pool.name, nodepool_node_id: node.id,
        nodepool_node_label: label.name, nodepool_launcher: ctx.builder, nodepool_validation_upload: upload.id,
      },
      tags: ['nodepool', `nodepool-provider-${provider.name}`],
    });
    await ctx.store.updateNode(node.id, { serverId: id }, ctx.builder);
    const address = await waitActive(ctx, id, deadline);
    await ctx.store.updateNode(node.id, { interfaceIp: address }, ctx.builder);
    const privateKey = v.privateKey ? await readFile(v.privateKey, 'utf8') : throwawayKey();
    verdict = await checkUntil(ctx, { host: address, port: label.connectionPort, username: label.username, privateKey, command: v.command }, deadline);
  } catch (err) {
    verdict = { passed: false, reason: (err as Error).message };
  }
  log.info({ node: node.id, passed: verdict.passed, reason: verdict.reason, ms: ctx.now() - started }, 'upload validated');
  await ctx.store.updateNode(node.id, { state: 'used', holdReason: null, holdExpires: null, comment: `image check ${verdict.passed ? 'passed' : 'failed'}` },
    ctx.builder, { states: ['hold'] });
  return verdict;
}

async function waitActive(ctx: ValidateContext, serverId: string, deadline: number): Promise<string> {
  let pause = 250;
  for (;;) {
    const s = await ctx.adapter.getServer(serverId);
    if (!s) throw new Error(`test server ${serverId} vanished while booting`);
    if (s.state === 'error') throw new Error(`test server went to ERROR${s.fault ? `: ${s.fault.message}` : ''}`);
    if (s.state === 'active') {
      const ip = s.publicIpv4 ?? s.privateIpv4 ?? s.publicIpv6;
      if (!ip) throw new Error('test server is ACTIVE but has no address');
      return ip;
    }
    if (ctx.now() + pause > deadline) throw new Error('test server was not ACTIVE before the validation timeout');
    await ctx.sleep(pause, ctx.signal);
    // ×1.5, not ×2: a 1 s boot was seen at 1.75 s with doubling, at 1.2 s with this.
    pause = Math.min(pause * 1.5, 5000);
  }
}

/** The node's sshd may come up after ACTIVE: connections are tried until the deadline, the command once. */
async function checkUntil(ctx: ValidateContext, o: { host: string; port: number; username: string; privateKey: string; command: string }, deadline: number): Promise<Verdict> {
  let last = '';
  while (ctx.now() < deadline) {
    try {
      const r = await runCheck({ ...o, timeoutMs: Math.max(1000, Math.min(60_000, deadline - ctx.now())) });
      if (r.code === 0) return { passed: true, reason: 'check passed' };
      return { passed: false, reason: `check \`${o.command}\` exited ${r.code}${r.output ? `: ${r.output.slice(-300)}` : ''}` };
    } catch (err) {
      last = (err as Error).message;
    }
    await ctx.sleep(500, ctx.signal);
  }
  return { passed: false, reason: `no SSH session with the test node before the validation timeout (${last})` };
}
