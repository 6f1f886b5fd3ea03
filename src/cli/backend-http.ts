import type { DibImageRow, ImageRow } from '../status/images.ts';
import type { LabelRow } from '../status/labels.ts';
import type { ProviderRow } from '../status/providers.ts';
import type { NodeRow, RequestRow } from '../status/rows.ts';
import type { ProviderInfo } from '../status/sources.ts';
import type { StatusSummary } from '../status/summary.ts';
import type { RequestView } from '../status/views.ts';
import type { NodepoolClient } from '../client/client.ts';
import { RemoteError } from '../ops/errors.ts';
import type { Backend } from './backend.ts';
import { apiClient, type GlobalOptions } from './context.ts';

const enc = encodeURIComponent;

/** The running system, over its HTTP API: status paths as JSON, writes through /api/v1. */
export class HttpBackend implements Backend {
  private constructor(private readonly api: NodepoolClient) {}

  static async open(g: GlobalOptions): Promise<HttpBackend> {
    return new HttpBackend(await apiClient(g));
  }

  private list<T>(path: string, params: Record<string, unknown> = {}): Promise<T[]> {
    return this.api.call<T[]>('get', path, { params: { ...params, format: 'json' } });
  }

  nodes(f: { label?: string; provider?: string; state?: string }): Promise<NodeRow[]> {
    return this.api.nodes(f);
  }

  node(id: string): Promise<NodeRow> {
    return this.api.node(id);
  }

  holdNode(id: string, o: { reason?: string; expiresSeconds?: number }): Promise<NodeRow> {
    return this.api.holdNode(id, { reason: o.reason, expires: o.expiresSeconds });
  }

  deleteNode(id: string): Promise<NodeRow> {
    return this.api.deleteNode(id);
  }

  async nodeGone(id: string): Promise<boolean> {
    try {
      await this.node(id);
      return false;
    } catch (err) {
      if (err instanceof RemoteError && err.httpStatus === 404) return true;
      throw err;
    }
  }

  requests(f: { state?: string }): Promise<RequestRow[]> {
    return this.list<RequestRow>('/request-list', f);
  }

  request(id: string): Promise<RequestView> {
    return this.api.getRequest(id);
  }

  cancelRequest(id: string): Promise<RequestView> {
    return this.api.cancelRequest(id);
  }

  labels(): Promise<LabelRow[]> { return this.list<LabelRow>('/label-list'); }
  providers(): Promise<ProviderRow[]> { return this.list<ProviderRow>('/provider-list'); }
  images(): Promise<ImageRow[]> { return this.list<ImageRow>('/image-list'); }
  dibImages(): Promise<DibImageRow[]> { return this.list<DibImageRow>('/dib-image-list'); }
  summary(): Promise<StatusSummary> { return this.api.call<StatusSummary>('get', '/api/v1/status'); }

  providerInfo(name: string): Promise<ProviderInfo> {
    return this.api.call<ProviderInfo>('get', `/api/v1/providers/${enc(name)}`);
  }

  erase(name: string): Promise<{ provider: string; nodes: number }> {
    return this.api.call('post', `/api/v1/providers/${enc(name)}/erase`, { data: {} });
  }

  async close(): Promise<void> {}
}
