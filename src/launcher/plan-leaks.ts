import type { PlanPass } from './plan-pass.ts';

/**
 * Promise 1: a server with our tags that the store does not know is noted on one complete list
 * and deleted if it is still there on a later one (no race with a launch in flight).
 */
export function leaks(pass: PlanPass): void {
  const byId = pass.nodesById;
  for (const [provider, view] of pass.input.cloud) {
    if (!view.fullRefreshedAt) continue;
    for (const s of view.servers.values()) {
      if (s.metadata.nodepool_provider_name !== provider || s.state === 'deleted') continue;
      const node = byId.get(s.metadata.nodepool_node_id ?? '');
      // A node still creating may adopt this server; a node that has another server id owns that one.
      const known = node && (node.serverId === s.id || (node.serverId === null && node.hostname === s.name));
      if (known) continue;
      const key = `${provider}/${s.id}`;
      if (pass.input.inflight.has(`leak:${key}`)) continue;
      const first = pass.input.leakSightings.get(key);
      if (first === undefined) pass.actions.push({ type: 'note-leak', provider, serverId: s.id });
      else if (first < view.fullRefreshSeq) pass.actions.push({ type: 'delete-leak', provider, serverId: s.id, name: s.name });
    }
  }
}