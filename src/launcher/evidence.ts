import type { NodeRecord } from '../model.ts';
import type { ProviderCloudView } from './plan-input.ts';

/**
 * What a server list can say about one server: only what it saw after the call that changed the
 * server answered. A real Nova took 3–8.5 s to answer POST /servers during a burst of 10 (a list
 * sent meanwhile lacks the server), and lists a deleted server (task_state deleting) for 0.5–0.9 s
 * after its DELETE answered. Absence counts only in a complete list; an incremental
 * (changes-since) list that does not name a server says nothing of it.
 */

/**
 * The longest a create call can take: the OpenStack client's timeout (30 s). Nova makes the server
 * (its build request, which lists show) while it handles POST /servers. When the answer was lost
 * (its process died), the server may have been made as late as this after the call was sent; a
 * server that still appears later carries our tags and is cleaned up as a leak.
 */
export const CREATE_CALL_LIMIT_MS = 30_000;

/** The time after which a complete list must show the node's server if the create call made one. */
export function createAnsweredBy(n: NodeRecord): number {
  return n.createAnsweredAt ?? (n.launchStartedAt ?? n.createdAt) + CREATE_CALL_LIMIT_MS;
}

/** Whether a complete list sent after the create call answered lacks the server (`name` for a server whose id we never learned). */
export function missingAfterCreate(view: ProviderCloudView | undefined, n: NodeRecord): boolean {
  if (!view?.fullRefreshedAt || view.fullRefreshedAt <= createAnsweredBy(n)) return false;
  if (n.serverId) return !view.servers.has(n.serverId);
  for (const s of view.servers.values()) if (s.name === n.hostname) return false;
  return true;
}

/**
 * Whether the server is gone: a list showed it DELETED (final, whenever it was seen), or a
 * complete list sent after `since` (the delete call's answer; the moment a node was last known to
 * have its server) lacks it.
 */
export function serverGone(view: ProviderCloudView | undefined, serverId: string, since: number | undefined): boolean {
  if (!view) return false;
  if (view.gone.has(serverId)) return true;
  return since !== undefined && !!view.fullRefreshedAt && view.fullRefreshedAt > since && !view.servers.has(serverId);
}
