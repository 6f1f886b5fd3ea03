import type { RequestRecord } from '../model.ts';
import type { NodeFilter, RequestFilter, Store } from '../store/store.ts';
import { readNodes } from '../store/node-reads.ts';
import { nodeRows, requestRows, type NodeRow, type RequestRow } from './rows.ts';
import { requestView, type RequestView } from './views.ts';

/** The store reads behind every listing, shared by the HTTP status paths, the API and the CLI. */

export async function queryNodeRows(store: Store, filter: NodeFilter, now: number): Promise<NodeRow[]> {
  return nodeRows(await readNodes(store, filter), now);
}

export async function queryRequestRows(store: Store, filter: RequestFilter, now: number): Promise<RequestRow[]> {
  return requestRows(await store.listRequests(filter), now);
}

/** One request as its scheduler sees it, with its nodes read from the store. */
export async function queryRequestView(store: Store, req: RequestRecord): Promise<RequestView> {
  if (req.state !== 'fulfilled') return requestView(req, () => null);
  // One read for all its nodes: a multi-node request's answer waited for one read per node.
  const found = new Map((req.nodes.length ? await store.listNodes({ ids: req.nodes }) : []).map((n) => [n.id, n]));
  return requestView(req, (id) => found.get(id));
}

/** Many requests: one read of the nodes instead of one per node. */
export async function queryRequestViews(store: Store, reqs: readonly RequestRecord[]): Promise<RequestView[]> {
  if (!reqs.some((r) => r.state === 'fulfilled')) return reqs.map((r) => requestView(r, () => null));
  const byId = new Map((await readNodes(store)).map((n) => [n.id, n]));
  return reqs.map((r) => requestView(r, (id) => byId.get(id)));
}
