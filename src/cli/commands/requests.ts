import { REQUEST_COLUMNS } from '../../status/rows.ts';
import { formatTable, renderRows } from '../../status/format.ts';
import type { RequestView } from '../../status/views.ts';
import { withBackend } from '../backend.ts';
import { write, type GlobalOptions } from '../context.ts';

/** `nodepool request list|show|cancel` (and Nodepool's `request-list`). */

export async function listRequests(g: GlobalOptions, o: { json?: boolean; state?: string; detail?: boolean }): Promise<void> {
  const rows = await withBackend(g, (b) => b.requests({ state: o.state }));
  write(renderRows(rows, REQUEST_COLUMNS, o.json ? 'json' : 'text', { detail: o.detail }));
}

/** A request as its scheduler sees it: its fields, then its nodes with what a job logs in with. */
function renderRequest(r: RequestView): string {
  const fields: [string, string][] = [
    ['ID', r.id], ['State', r.state], ['Labels', r.labels.join(',')], ['Requestor', r.requestor], ['Priority', String(r.priority)],
    ['Tenant', r.tenant ?? ''], ['Provider', r.provider ?? ''], ['Pool', r.pool ?? ''], ['Reason', r.reason ?? ''],
    ['Created', r.created_at], ['Fulfilled', r.fulfilled_at ?? ''], ['Lease Expires', r.lease_expires_at ?? ''],
  ];
  const nodes = r.nodes.length
    ? formatTable(['Node', 'Label', 'State', 'Interface IP', 'Port', 'Username'],
      r.nodes.map((n) => [n.id, n.label, n.state, n.interface_ip ?? '', String(n.connection_port), n.username]))
    : '';
  return formatTable(['Field', 'Value'], fields) + nodes;
}

export async function showRequest(g: GlobalOptions, id: string, o: { json?: boolean }): Promise<void> {
  const r = await withBackend(g, (b) => b.request(id));
  write(o.json ? JSON.stringify(r) : renderRequest(r));
}

export async function cancelRequest(g: GlobalOptions, id: string, o: { json?: boolean }): Promise<void> {
  const r = await withBackend(g, (b) => b.cancelRequest(id));
  write(o.json ? JSON.stringify(r) : renderRequest(r));
}
