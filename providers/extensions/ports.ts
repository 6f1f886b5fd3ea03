/** The port extension (Neutron): the launcher's cleanup sweep deletes ports left DOWN by servers that are gone. */

/** A port Nova made for a server (`device_owner` `compute:<zone>`). */
export interface PortView {
  id: string;
  networkId: string;
  /** The server it was made for; a port whose server no longer exists is a leak. */
  deviceId: string;
  deviceOwner: string;
  /** Neutron's status word (ACTIVE, DOWN, BUILD). */
  status: string;
  /** Neutron tags of the port. */
  tags: string[];
  created: string | null;
}

export interface PortExtension {
  /** Lists the ports Nova made for servers, only those in `status` (e.g. DOWN) when given. */
  list(filter?: { status?: string }): Promise<PortView[]>;
  /** Deletes a port; one already gone is not an error. */
  delete(id: string): Promise<void>;
}
