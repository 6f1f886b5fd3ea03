import { REQUEST_COLUMNS, type RequestRow } from '../../status/rows.ts';
import { renderRows } from '../../status/format.ts';
import { apiClient, write, type GlobalOptions } from '../context.ts';

/** `nodepool request list` (and `request-list`): the rows of the `/request-list` status path. */
export async function listRequests(g: GlobalOptions, o: { json?: boolean; state?: string }): Promise<void> {
  const api = await apiClient(g);
  const rows = await api.call<RequestRow[]>('get', '/request-list', { params: { format: 'json', state: o.state } });
  write(renderRows(rows, REQUEST_COLUMNS, o.json ? 'json' : 'text'));
}
