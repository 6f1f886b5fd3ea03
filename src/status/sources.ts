import type { Config } from '../config/types.ts';
import { OPEN_REQUEST_STATES } from '../model.ts';
import type { Store } from '../store/store.ts';
import { NO_IMAGES, type ImageRow, type ImageSource } from './images.ts';
import { labelRows, labelSpecs, type LabelRow, type LabelSpec } from './labels.ts';
import { providerRows, type ProviderLive, type ProviderRow } from './providers.ts';
import { readNodes } from '../store/node-reads.ts';
import { nodeRows, type NodeRow } from './rows.ts';
import { buildSummary, type StatusSummary } from './summary.ts';

/**
 * What the listings read besides nodes and requests: the configuration (labels, providers),
 * the live state of the providers a launcher in this process serves, and the image records.
 * The HTTP status paths and the CLI in `--store` mode build one of these and call the same
 * query functions below.
 */
export interface StatusSources {
  /** Labels and providers as this process's configuration has them; null without one. */
  config: Pick<Config, 'labels' | 'providers' | 'diskimages'> | null;
  /** Label names to show when there is no configuration (an API built for tests). */
  labelNames?: () => string[];
  /** What launchers know of each provider: a launcher in this process, the others as published (./launcher-live.ts). */
  providers: () => Promise<ReadonlyMap<string, ProviderLive>>;
  images: ImageSource;
}

export const NO_LIVE: () => Promise<ReadonlyMap<string, ProviderLive>> = async () => new Map();

export function statusSources(o: Partial<StatusSources> = {}): StatusSources {
  return { config: o.config ?? null, labelNames: o.labelNames, providers: o.providers ?? NO_LIVE, images: o.images ?? NO_IMAGES };
}

function specsOf(src: StatusSources): LabelSpec[] {
  if (src.config) return labelSpecs(src.config);
  return [...new Set(src.labelNames?.() ?? [])].map((name) => ({ name, minReady: null, providers: [] }));
}

export async function queryLabelRows(store: Store, src: StatusSources): Promise<LabelRow[]> {
  return labelRows(specsOf(src), await readNodes(store));
}

export async function queryProviderRows(store: Store, src: StatusSources, now: number): Promise<ProviderRow[]> {
  const [nodes, live] = await Promise.all([readNodes(store), src.providers()]);
  return providerRows(src.config, nodes, live, now);
}

export async function querySummary(store: Store, src: StatusSources, now: number): Promise<StatusSummary> {
  const [nodes, open, live] = await Promise.all([readNodes(store), store.listRequests({ states: OPEN_REQUEST_STATES }), src.providers()]);
  return buildSummary(nodes, open, labelRows(specsOf(src), nodes), providerRows(src.config, nodes, live, now), now);
}

export interface ProviderInfo {
  provider: ProviderRow;
  nodes: NodeRow[];
  images: ImageRow[];
}

/** `nodepool info <provider>`: the provider's row, its nodes and its image uploads. Null when nothing knows it. */
export async function queryProviderInfo(store: Store, src: StatusSources, name: string, now: number): Promise<ProviderInfo | null> {
  const [nodes, live] = await Promise.all([readNodes(store), src.providers()]);
  const row = providerRows(src.config, nodes, live, now).find((r) => r.provider === name);
  if (!row) return null;
  const images = (await src.images.imageRows(now)).filter((r) => r.provider === name);
  return { provider: row, nodes: nodeRows(nodes.filter((n) => n.provider === name), now), images };
}
