import { userInfo } from 'node:os';
import type { Config } from '../config/types.ts';
import type { NodeState, RequestState } from '../model.ts';
import type { OpContext } from '../ops/context.ts';
import { NotFoundError } from '../ops/errors.ts';
import { deleteNode, holdNode } from '../ops/nodes.ts';
import { eraseProvider } from '../ops/providers.ts';
import { cancelRequest } from '../ops/requests.ts';
import { queryNodeRows, queryRequestRows, queryRequestView } from '../status/query.ts';
import { nodeRow, type NodeRow, type RequestRow } from '../status/rows.ts';
import {
  queryLabelRows, queryProviderInfo, queryProviderRows, querySummary, statusSources, type ProviderInfo, type StatusSources,
} from '../status/sources.ts';
import type { StatusSummary } from '../status/summary.ts';
import type { RequestView } from '../status/views.ts';
import type { DibImageRow, ImageRow } from '../status/images.ts';
import type { LabelRow } from '../status/labels.ts';
import type { ProviderRow } from '../status/providers.ts';
import type { Store } from '../store/store.ts';
import { storeImages } from '../status/image-rows.ts';
import { liveSource, staleAfterMs } from '../status/launcher-live.ts';
import type { Backend } from './backend.ts';
import type { GlobalOptions } from './context.ts';

/**
 * The store itself (`--store`): for when the API is down, or on the store's own host. It reads
 * and writes with the API's query functions and operations; what launchers know in memory
 * (provider health, quota room) is read as they last published it, `unknown` when none did lately.
 */
export class StoreBackend implements Backend {
  private readonly src: StatusSources;

  private constructor(private readonly store: Store, private readonly config: Config) {
    this.src = statusSources({ config, images: storeImages(store), providers: liveSource({ store, staleAfterMs: staleAfterMs(config) }).providers });
  }

  static async open(g: GlobalOptions): Promise<StoreBackend> {
    const { loadConfig } = await import('../config/load.ts');
    const { openStore } = await import('../store/index.ts');
    const config = loadConfig(g.config);
    return new StoreBackend(await openStore(config.store, { migrate: 'none', applicationName: 'nodepool-cli' }), config);
  }

  private ctx(): OpContext {
    return { now: Date.now(), by: `cli:${userInfo().username}`, leaseTimeoutMs: this.config.api.requestLeaseTimeout * 1000 };
  }

  nodes(f: { label?: string; provider?: string; state?: string }): Promise<NodeRow[]> {
    return queryNodeRows(this.store, { label: f.label, provider: f.provider, states: f.state ? [f.state as NodeState] : undefined }, Date.now());
  }

  async node(id: string): Promise<NodeRow> {
    const n = await this.store.getNode(id);
    if (!n) throw new NotFoundError('node', id);
    return nodeRow(n, Date.now());
  }

  async holdNode(id: string, o: { reason?: string; expiresSeconds?: number }): Promise<NodeRow> {
    const ctx = this.ctx();
    const expiresAt = o.expiresSeconds === undefined ? undefined : ctx.now + Math.round(o.expiresSeconds * 1000);
    return nodeRow(await holdNode(this.store, id, { reason: o.reason, expiresAt }, ctx), ctx.now);
  }

  async deleteNode(id: string): Promise<NodeRow> {
    const ctx = this.ctx();
    return nodeRow(await deleteNode(this.store, id, ctx), ctx.now);
  }

  async nodeGone(id: string): Promise<boolean> {
    return (await this.store.getNode(id)) === null;
  }

  requests(f: { state?: string }): Promise<RequestRow[]> {
    return queryRequestRows(this.store, { states: f.state ? [f.state as RequestState] : undefined }, Date.now());
  }

  async request(id: string): Promise<RequestView> {
    const r = await this.store.getRequest(id);
    if (!r) throw new NotFoundError('request', id);
    return queryRequestView(this.store, r);
  }

  async cancelRequest(id: string): Promise<RequestView> {
    return queryRequestView(this.store, await cancelRequest(this.store, id, this.ctx()));
  }

  labels(): Promise<LabelRow[]> { return queryLabelRows(this.store, this.src); }
  providers(): Promise<ProviderRow[]> { return queryProviderRows(this.store, this.src, Date.now()); }
  images(): Promise<ImageRow[]> { return this.src.images.imageRows(Date.now()); }
  dibImages(): Promise<DibImageRow[]> { return this.src.images.dibImageRows(Date.now()); }
  summary(): Promise<StatusSummary> { return querySummary(this.store, this.src, Date.now()); }

  async providerInfo(name: string): Promise<ProviderInfo> {
    const info = await queryProviderInfo(this.store, this.src, name, Date.now());
    if (!info) throw new NotFoundError('provider', name);
    return info;
  }

  erase(name: string): Promise<{ provider: string; nodes: number }> {
    return eraseProvider(this.store, name, this.ctx());
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
