/** The volume extension (Cinder): the launcher's cleanup sweep deletes our volumes whose node is gone. */

/** A volume of the project. */
export interface VolumeView {
  id: string;
  name: string;
  /** Cinder's status word (creating, available, in-use, deleting, error...). */
  status: string;
  sizeGb: number;
  /** Ours carry our tags here. */
  metadata: Record<string, string>;
  /** Servers it is attached to. */
  attachedTo: string[];
  created: string | null;
}

export interface VolumeExtension {
  /** Lists the project's volumes with their metadata, status and attachments, following pagination. */
  list(): Promise<VolumeView[]>;
  /** Asks the cloud to delete a volume (Cinder 202); one already gone is not an error. */
  delete(id: string): Promise<void>;
}
