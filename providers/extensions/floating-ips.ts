/**
 * The floating-IP extension (Neutron): pools with `auto-floating-ip` need it, and the launcher's
 * cleanup sweep releases the floating IPs of nodes that are gone. The external network is found
 * through the catalog extension.
 */

/**
 * A floating IP of the project. Ours carry our tags (promise 1), written into its `description`
 * in the same call that allocates it; `tags` is empty for the others.
 */
export interface FloatingIp {
  id: string;
  address: string;
  /** The external network it came from. */
  networkId: string;
  /** The port it is associated with; null when it is free. */
  portId: string | null;
  fixedAddress: string | null;
  /** Neutron's status word (DOWN, ACTIVE, ERROR). */
  status: string;
  tags: Record<string, string>;
  /** ISO time from the cloud. */
  created: string | null;
}

export interface FloatingIpExtension {
  /** Lists the project's floating IPs, ours and others', following pagination. */
  list(): Promise<FloatingIp[]>;
  /** Allocates a floating IP on an external network with our tags written in the same call (Neutron 201). */
  create(networkId: string, tags: Record<string, string>): Promise<FloatingIp>;
  /** Associates a floating IP with the server's port (the one on `networkId` if given); a server without a port yet is a transient error. */
  attach(floatingIpId: string, serverId: string, networkId?: string): Promise<FloatingIp>;
  /** Releases a floating IP, also while associated; one already gone is not an error. */
  delete(id: string): Promise<void>;
}
