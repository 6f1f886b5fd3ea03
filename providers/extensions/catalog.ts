/**
 * The catalog extension: what a server is made from (flavors, images, networks), looked up by the
 * names nodepool.yaml uses. A driver without it gets those names as they are in `createServer`
 * (`flavorId`, `imageId`, `networkIds`) and resolves them itself; its labels then cost one
 * instance each and no cores or RAM in the launcher's quota arithmetic.
 */

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
}

export interface Image {
  id: string;
  name: string;
  status: string;
}

export interface Network {
  id: string;
  name: string;
  external: boolean;
}

export interface CatalogExtension {
  /** Lists the flavors the project may use. */
  listFlavors(): Promise<Flavor[]>;
  /** Finds an active image by name (or id); null when there is none. */
  findImage(nameOrId: string): Promise<Image | null>;
  /** Finds a network by name (or id); null when there is none. */
  findNetwork(nameOrId: string): Promise<Network | null>;
}
