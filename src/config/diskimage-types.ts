/**
 * The disk-image parts of the configuration after validation (see ./diskimage-schema.ts), with
 * every parent's value and every default filled in.
 */

export interface ValidationConfig {
  /** Run over SSH on a test node booted from a new upload; exit 0 lets launches use it. */
  command: string;
  /** Seconds for boot, SSH and the command together. Default 600. */
  timeout: number;
  /** SSH private key file (absolute once loaded from a file); absent: a fresh key per check. */
  privateKey?: string;
}

export interface DiskImageConfig {
  name: string;
  /** diskimage-builder elements, the parents' first. */
  elements: string[];
  /** Environment of the build command, the parents' merged under this image's own. */
  envVars: Record<string, string>;
  /** Output formats; uploads use the first. Default [qcow2]. */
  formats: string[];
  /** Seconds after which a ready build is replaced. Default 86400. */
  rebuildAge: number;
  /** Seconds a build may take. Default 28800. */
  buildTimeout: number;
  /** Build command. Default `disk-image-create`. */
  dibCmd: string;
  /** Build nothing new. Default false. */
  pause: boolean;
  /** DIB_RELEASE, when set. */
  release?: string;
  /** User on nodes booted from it. Default `zuul`. */
  username: string;
  /** Check each upload on a test node before launches use it; absent: no check. */
  validation?: ValidationConfig;
}

export interface ProviderDiskImageConfig {
  name: string;
  /** Upload nothing new here. Default false. */
  pause: boolean;
  /** Extra Glance properties on every upload. */
  meta: Record<string, string>;
  connectionPort?: number;
}

/** Where the builder works (Nodepool's top-level builder keys). */
export interface BuilderConfig {
  /** ELEMENTS_PATH (absolute once loaded from a file). */
  elementsDir: string;
  imagesDir: string;
  buildLogDir: string;
  /** Logs kept per image. Default 7. */
  buildLogRetention: number;
}
