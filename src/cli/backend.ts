import type { DibImageRow, ImageRow } from '../status/images.ts';
import type { LabelRow } from '../status/labels.ts';
import type { ProviderRow } from '../status/providers.ts';
import type { NodeRow, RequestRow } from '../status/rows.ts';
import type { ProviderInfo } from '../status/sources.ts';
import type { StatusSummary } from '../status/summary.ts';
import type { RequestView } from '../status/views.ts';
import type { GlobalOptions } from './context.ts';

/**
 * What a command reads and changes, whichever way the CLI reaches the system: the running
 * system's HTTP API (`--url`, the default), or the store itself (`--store`), through the same
 * query functions and operations the API uses. Both give the same rows, so a command formats
 * them once.
 */
export interface Backend {
  nodes(filter: { label?: string; provider?: string; state?: string }): Promise<NodeRow[]>;
  node(id: string): Promise<NodeRow>;
  holdNode(id: string, o: { reason?: string; expiresSeconds?: number }): Promise<NodeRow>;
  deleteNode(id: string): Promise<NodeRow>;
  /** Whether the node's record is gone (its server deleted). */
  nodeGone(id: string): Promise<boolean>;
  requests(filter: { state?: string }): Promise<RequestRow[]>;
  request(id: string): Promise<RequestView>;
  cancelRequest(id: string): Promise<RequestView>;
  labels(): Promise<LabelRow[]>;
  providers(): Promise<ProviderRow[]>;
  images(): Promise<ImageRow[]>;
  dibImages(): Promise<DibImageRow[]>;
  summary(): Promise<StatusSummary>;
  providerInfo(name: string): Promise<ProviderInfo>;
  erase(name: string): Promise<{ provider: string; nodes: number }>;
  close(): Promise<void>;
}

export async function openBackend(g: GlobalOptions): Promise<Backend> {
  if (g.store) return (await import('./backend-store.ts')).StoreBackend.open(g);
  return (await import('./backend-http.ts')).HttpBackend.open(g);
}

/** Runs `fn` with a backend and closes it, whatever happens. */
export async function withBackend<T>(g: GlobalOptions, fn: (b: Backend) => Promise<T>): Promise<T> {
  const b = await openBackend(g);
  try {
    return await fn(b);
  } finally {
    await b.close();
  }
}
