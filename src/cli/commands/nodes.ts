import { NODE_COLUMNS } from '../../status/rows.ts';
import { renderRecord, renderRows } from '../../status/format.ts';
import { UnavailableError } from '../../ops/errors.ts';
import { withBackend } from '../backend.ts';
import { write, type GlobalOptions } from '../context.ts';

/** `nodepool node list|show|hold|delete` (and Nodepool's `list`, `hold`, `delete`). */

export interface ListOptions {
  detail?: boolean;
  label?: string;
  provider?: string;
  state?: string;
  json?: boolean;
}

export async function listNodes(g: GlobalOptions, o: ListOptions): Promise<void> {
  const rows = await withBackend(g, (b) => b.nodes({ label: o.label, provider: o.provider, state: o.state }));
  write(renderRows(rows, NODE_COLUMNS, o.json ? 'json' : 'text', { detail: o.detail }));
}

export async function showNode(g: GlobalOptions, id: string, o: { json?: boolean }): Promise<void> {
  const node = await withBackend(g, (b) => b.node(id));
  write(o.json ? JSON.stringify(node) : renderRecord(node, NODE_COLUMNS));
}

/** Like Nodepool, a changed node is printed as its `list` row so the operator sees the new state. */
export async function holdNode(g: GlobalOptions, id: string, o: { reason?: string; expires?: number; json?: boolean }): Promise<void> {
  const node = await withBackend(g, (b) => b.holdNode(id, { reason: o.reason, expiresSeconds: o.expires }));
  write(o.json ? JSON.stringify(node) : renderRows([node], NODE_COLUMNS, 'text'));
}

/**
 * Marks the node for deletion; the launcher deletes its server at once (it reacts to the change,
 * it does not poll). With `--now`, waits until the server is gone and the record removed, so a
 * script can go on knowing the node no longer exists.
 */
export async function deleteNode(g: GlobalOptions, id: string, o: { now?: boolean; timeout?: number; json?: boolean }): Promise<void> {
  await withBackend(g, async (b) => {
    const node = await b.deleteNode(id);
    if (o.now) {
      const deadline = Date.now() + (o.timeout ?? 300) * 1000;
      while (!await b.nodeGone(id)) {
        if (Date.now() > deadline) throw new UnavailableError(`node ${id} is still deleting after ${o.timeout ?? 300} s; the launcher may be stopped or its cloud unreachable`);
        await new Promise((r) => setTimeout(r, 250));
      }
      write(o.json ? JSON.stringify({ ...node, state: 'gone' }) : `node ${id}: deleted`);
      return;
    }
    write(o.json ? JSON.stringify(node) : renderRows([node], NODE_COLUMNS, 'text'));
  });
}
