import { NODE_COLUMNS, type NodeRow } from '../../status/rows.ts';
import { renderRecord, renderRows } from '../../status/format.ts';
import { apiClient, write, type GlobalOptions } from '../context.ts';

/** `nodepool node list|show|hold|delete` (and `list`, `hold`, `delete`), through the running system's API. */

export interface ListOptions {
  detail?: boolean;
  label?: string;
  provider?: string;
  state?: string;
  json?: boolean;
}

export async function listNodes(g: GlobalOptions, o: ListOptions): Promise<void> {
  const api = await apiClient(g);
  const { nodes } = await api.call<{ nodes: NodeRow[] }>('get', '/api/v1/nodes', {
    params: { label: o.label, provider: o.provider, state: o.state },
  });
  write(renderRows(nodes, NODE_COLUMNS, o.json ? 'json' : 'text', { detail: o.detail }));
}

export async function showNode(g: GlobalOptions, id: string, o: { json?: boolean }): Promise<void> {
  const api = await apiClient(g);
  const node = await api.call<NodeRow>('get', `/api/v1/nodes/${encodeURIComponent(id)}`);
  write(o.json ? JSON.stringify(node) : renderRecord(node, NODE_COLUMNS));
}

/** Like Nodepool, a changed node is printed as its `list` row so the operator sees the new state. */
export async function holdNode(g: GlobalOptions, id: string, o: { reason?: string; expires?: number }): Promise<void> {
  const api = await apiClient(g);
  const node = await api.call<NodeRow>('post', `/api/v1/nodes/${encodeURIComponent(id)}/hold`, {
    data: { reason: o.reason, expires: o.expires },
  });
  write(renderRows([node], NODE_COLUMNS, 'text'));
}

export async function deleteNode(g: GlobalOptions, id: string): Promise<void> {
  const api = await apiClient(g);
  const node = await api.call<NodeRow>('delete', `/api/v1/nodes/${encodeURIComponent(id)}`);
  write(renderRows([node], NODE_COLUMNS, 'text'));
}
