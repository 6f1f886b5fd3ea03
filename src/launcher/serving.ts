import type { NodeRecord, RequestRecord } from '../model.ts';
import type { Action } from './actions.ts';

/**
 * A launcher may serve a subset of the providers (`nodepool launcher --providers a,b`). It plans
 * with the whole configuration, so that a label is known, min-ready is counted and the best pool
 * for a request is chosen as every other launcher chooses it, and carries out only the actions
 * that act in one of its providers; the launchers of the other providers carry out the rest.
 */

/** The provider an action acts in; null for one any launcher may take (failing a request nobody can serve). */
export function actionProvider(a: Action, nodes: ReadonlyMap<string, NodeRecord>, requests: ReadonlyMap<string, RequestRecord>): string | null {
  if ('provider' in a) return a.provider;
  if ('nodeId' in a) return nodes.get(a.nodeId)?.provider ?? null;
  if (a.type === 'fulfill-request') return requests.get(a.requestId)?.provider ?? null;
  return null;
}

export function servedActions(actions: Action[], served: ReadonlySet<string>, nodes: NodeRecord[], requests: RequestRecord[]): Action[] {
  const byNode = new Map(nodes.map((n) => [n.id, n]));
  const byRequest = new Map(requests.map((r) => [r.id, r]));
  return actions.filter((a) => {
    const p = actionProvider(a, byNode, byRequest);
    return p === null || served.has(p);
  });
}
