import { isCloudError } from '../../providers/errors.ts';
import type { NodeRecord } from '../model.ts';
import { ApplyPart, type ApplierContext, type Tasks } from './apply-context.ts';
import type { FloatingIps } from './apply-launch.ts';
import { DELETE_RETRY_MS } from './plan-nodes.ts';
import { ewma } from './provider-runtime.ts';

/**
 * The delete side of the applier: delete calls with their backoff, the times the planner judges a
 * server gone by (./evidence.ts), floating IPs released, and leaked servers.
 */
export class Deletes extends ApplyPart {
  readonly deleteCalledAt = new Map<string, number>();
  /** When the last delete call of each node's server answered: only lists sent after it show the server gone. */
  readonly deleteAnsweredAt = new Map<string, number>();
  /** Leaked servers seen: `<provider>/<server>` → full-list sequence number of the first sighting. */
  readonly leakSightings = new Map<string, number>();
  /** Failed delete calls per node, for their backoff. */
  private readonly deleteFailures = new Map<string, number>();
  leaksDeleted = 0;
  /** Leaked servers deleted, by provider (metrics: nodepool_provider_leaked_total). */
  readonly leaksDeletedBy = new Map<string, number>();

  constructor(ctx: ApplierContext, tasks: Tasks, private readonly floatingIps: FloatingIps) {
    super(ctx, tasks);
  }

  /** Asks the cloud to delete a node's server (a task; the planner asks again after DELETE_RETRY_MS). */
  deleteNodeServer(n: Pick<NodeRecord, 'id' | 'provider' | 'serverId'>): void {
    if (!this.callRoom(n.provider)) return;
    this.tasks.spawn(`delete:${n.id}`, () => this.deleteServer(n.id, n.provider, n.serverId!), n.provider);
  }

  /** The node is gone from the store: learn how long its delete took, forget its calls. */
  removed(n: NodeRecord): void {
    const called = this.deleteCalledAt.get(n.id);
    const rt = this.ctx.providers.get(n.provider);
    if (called !== undefined && rt) rt.deleteEstimateMs = ewma(rt.deleteEstimateMs, Math.max(0, (rt.cache.view.refreshedAt ?? this.ctx.now()) - called));
    this.deleteCalledAt.delete(n.id);
    this.deleteAnsweredAt.delete(n.id);
    this.deleteFailures.delete(n.id);
  }

  /** A tagged server unknown to the store, seen for the first time on a complete list. */
  noteLeak(provider: string, serverId: string): void {
    this.leakSightings.set(`${provider}/${serverId}`, this.ctx.providers.get(provider)!.cache.view.fullRefreshSeq);
    this.log.info({ provider, server: serverId }, 'server with our tags unknown to the store: deleting it if it is still there on the next pass');
  }

  /** Deletes a leaked server still there on a later complete list (asked again at most every 30 s). */
  deleteLeak(provider: string, serverId: string, name: string): void {
    const key = `${provider}/${serverId}`;
    const called = this.deleteCalledAt.get(`leak:${key}`);
    if (called !== undefined && this.ctx.now() - called < 30_000) return;
    this.tasks.spawn(`leak:${key}`, async () => {
      this.log.warn({ provider, server: serverId, name }, 'deleting leaked server');
      const rt = this.ctx.providers.get(provider)!;
      await rt.gate.turn();
      this.deleteCalledAt.set(`leak:${key}`, this.ctx.now());
      await rt.adapter.deleteServer(serverId);
      this.leaksDeleted++;
      this.leaksDeletedBy.set(provider, (this.leaksDeletedBy.get(provider) ?? 0) + 1);
    });
  }

  /** Forgets sightings of servers that are no longer suspects (deleted, or claimed by a node). */
  forgetLeaksExcept(noted: ReadonlySet<string>): void {
    for (const key of this.leakSightings.keys()) if (!noted.has(key)) this.leakSightings.delete(key);
  }

  private async deleteServer(nodeId: string, provider: string, serverId: string): Promise<void> {
    const rt = this.ctx.providers.get(provider)!;
    const started = this.ctx.now();
    try {
      await rt.gate.turn();
      this.deleteCalledAt.set(nodeId, this.ctx.now());
      await rt.adapter.deleteServer(serverId);
      this.deleteAnsweredAt.set(nodeId, this.ctx.now());
      if (this.ctx.topology.providers.get(provider)?.reusableServers) this.log.info({ node: nodeId, provider, server: serverId }, 'server returned to its driver');
      else this.log.info({ node: nodeId, provider, server: serverId }, 'server delete accepted; the node stays until a server list shows the server gone');
      const fip = this.floatingIps.get(nodeId);
      if (fip && rt.adapter.floatingIps) {
        await rt.adapter.floatingIps.delete(fip.id).then(() => this.floatingIps.delete(nodeId),
          (err) => this.log.warn({ node: nodeId, provider, floatingIp: fip.id, err }, 'releasing floating IP failed; the cleanup sweep will'));
      }
    } catch (err) {
      // The planner asks again DELETE_RETRY_MS after the last call; a call that failed is asked
      // again sooner, 1 s, 2 s, 4 s ... (as if it had been made that much less than 30 s ago).
      const n = (this.deleteFailures.get(nodeId) ?? 0) + 1;
      this.deleteFailures.set(nodeId, n);
      this.deleteCalledAt.set(nodeId, this.ctx.now() - DELETE_RETRY_MS + Math.min(DELETE_RETRY_MS, 1000 * 2 ** (n - 1)));
      this.log.warn({ node: nodeId, provider, server: serverId, err }, 'server delete failed; will retry');
      if (isCloudError(err) && (err.kind === 'transient' || err.kind === 'rate-limit')) rt.health.failure(this.ctx.now(), `delete failed: ${err.message}`, started);
    }
  }
}
