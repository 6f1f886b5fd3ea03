import type { RequestView } from '../api/contract.ts';
import type { NodesetConfig } from './config/types.ts';
import { shq } from './node-ssh.ts';

/**
 * What every node of a job is told about the job's nodes (as multinode devstack and TripleO jobs
 * need): names, groups, labels, private and public addresses, SSH ports and users. Written on each
 * node as `~/nodepool/inventory.json`, as the one-address-per-line files of Nodepool's old
 * `/etc/nodepool` (primary_node, sub_nodes, …, without the leading /etc) and as environment
 * variables in `~/nodepool/env`, which every step sources. `~/.ssh/config` names every node, so
 * `ssh -F ~/.ssh/config <node> …` reaches it with the build's own key and pinned host keys.
 */

export interface InventoryNode {
  name: string;
  label: string;
  groups: string[];
  id: string;
  provider: string;
  az: string | null;
  interface_ip: string;
  private_ipv4: string | null;
  public_ipv4: string | null;
  ssh_port: number;
  username: string;
  host_keys: string[];
  /** The node's Python interpreter, or `auto` (Ansible's `ansible_python_interpreter`). */
  python_path: string;
}

export interface Inventory {
  primary: string;
  nodes: InventoryNode[];
  groups: Record<string, string[]>;
}

export function buildInventory(nodeset: NodesetConfig, request: RequestView): Inventory {
  const nodes = nodeset.nodes.map((n, i): InventoryNode => {
    const v = request.nodes[i];
    if (!v) throw new Error(`request ${request.id} has no node for ${n.name} (${n.label})`);
    return {
      name: n.name, label: v.label, groups: nodeset.groups.filter((g) => g.nodes.includes(n.name)).map((g) => g.name), id: v.id,
      provider: v.provider, az: v.az, interface_ip: v.interface_ip ?? v.private_ipv4 ?? v.public_ipv4 ?? '', private_ipv4: v.private_ipv4,
      public_ipv4: v.public_ipv4, ssh_port: v.connection_port, username: v.username, host_keys: v.host_keys,
      python_path: v.python_path,
    };
  });
  return { primary: nodes[0]!.name, nodes, groups: Object.fromEntries(nodeset.groups.map((g) => [g.name, g.nodes])) };
}

/** `overcloud-0` → `OVERCLOUD_0`. */
export const envName = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]+/g, '_');

const privateIp = (n: InventoryNode) => n.private_ipv4 ?? n.interface_ip;

/** Environment of every step on `node`: the inventory, the change and the job's vars. */
export function inventoryEnv(inv: Inventory, node: string, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {
    NODEPOOL_NODE_NAME: node,
    NODEPOOL_PRIMARY: inv.primary,
    NODEPOOL_NODES: inv.nodes.map((n) => n.name).join(' '),
    NODEPOOL_GROUPS: Object.keys(inv.groups).join(' '),
  };
  for (const n of inv.nodes) {
    const k = `NODEPOOL_NODE_${envName(n.name)}`;
    env[`${k}_IP`] = privateIp(n);
    env[`${k}_PUBLIC_IP`] = n.public_ipv4 ?? n.interface_ip;
    env[`${k}_SSH_PORT`] = String(n.ssh_port);
    env[`${k}_USER`] = n.username;
    env[`${k}_LABEL`] = n.label;
  }
  for (const [g, members] of Object.entries(inv.groups)) env[`NODEPOOL_GROUP_${envName(g)}`] = members.join(' ');
  return { ...env, ...extra };
}

/** Files of `~/nodepool/` on `node` (path relative to the home folder → content). */
export function inventoryFiles(inv: Inventory, node: string, env: Record<string, string>, extra: Record<string, string> = {}): Record<string, string> {
  const me = inv.nodes.find((n) => n.name === node)!;
  const primary = inv.nodes.find((n) => n.name === inv.primary)!;
  const subs = inv.nodes.filter((n) => n.name !== inv.primary);
  const lines = (xs: string[]) => (xs.length ? `${xs.join('\n')}\n` : '');
  return {
    'nodepool/inventory.json': `${JSON.stringify({ ...inv, this_node: node }, null, 2)}\n`,
    'nodepool/node_name': `${node}\n`,
    'nodepool/node': `${me.public_ipv4 ?? me.interface_ip}\n`,
    'nodepool/node_private': `${privateIp(me)}\n`,
    'nodepool/primary_node': `${primary.public_ipv4 ?? primary.interface_ip}\n`,
    'nodepool/primary_node_private': `${privateIp(primary)}\n`,
    'nodepool/sub_nodes': lines(subs.map((n) => n.public_ipv4 ?? n.interface_ip)),
    'nodepool/sub_nodes_private': lines(subs.map(privateIp)),
    'nodepool/provider': `${me.provider}\n`,
    'nodepool/env': Object.entries(env).map(([k, v]) => `export ${k}=${shq(v)}`).join('\n') + '\n',
    ...extra,
  };
}

/** `~/.ssh/` on a node: the build's key, every node's pinned host keys, a Host entry per node (paths under `home`). */
export function sshFiles(inv: Inventory, home: string, buildKey: { private: string; public: string }): Record<string, string> {
  const known = inv.nodes.flatMap((n) => n.host_keys.map((k) => `${n.ssh_port === 22 ? privateIp(n) : `[${privateIp(n)}]:${n.ssh_port}`} ${k}`));
  const config = inv.nodes.map((n) => [
    `Host ${n.name}`, `  HostName ${privateIp(n)}`, `  Port ${n.ssh_port}`, `  User ${n.username}`,
    `  IdentityFile ${home}/.ssh/id_ed25519`, `  IdentitiesOnly yes`, `  UserKnownHostsFile ${home}/.ssh/known_hosts`,
    '  StrictHostKeyChecking yes', '  BatchMode yes', '',
  ].join('\n'));
  return {
    '.ssh/id_ed25519': buildKey.private.endsWith('\n') ? buildKey.private : `${buildKey.private}\n`,
    '.ssh/id_ed25519.pub': `${buildKey.public}\n`,
    '.ssh/known_hosts': `${known.join('\n')}\n`,
    '.ssh/config': config.join('\n'),
  };
}
