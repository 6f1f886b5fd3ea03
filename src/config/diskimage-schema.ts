/**
 * The disk-image parts of nodepool.yaml, with Nodepool's key names and meanings
 * (zuul-ci.org/docs/nodepool, "diskimages", "elements-dir", "images-dir", a provider's
 * "diskimages"), plus `validation`, which Nodepool does not have.
 *
 * A diskimage's keys have no schema defaults because a `parent` passes its values down to the
 * images that name it; ./resolve-diskimages.ts applies inheritance, then the defaults written in
 * each description.
 */
import { z } from 'zod';

const name = z.string().min(1, 'must not be empty');
const seconds = z.number().nonnegative();
const notUsedYet = (what: string) => `Accepted for compatibility with Nodepool; not used yet (${what}).`;

const envValue = z
  .union([z.string(), z.number(), z.boolean()], { error: 'must be a string' })
  // `DIB_RELEASE: 22.04` in YAML is a number an operator meant as text.
  .transform((v) => String(v));

export const validationSchema = z
  .strictObject({
    command: name.describe('Command run over SSH on a test node booted from a new upload; exit status 0 lets launches use the upload.'),
    timeout: seconds
      .positive()
      .default(600)
      .describe('Seconds for the whole check: boot, SSH and the command. Default 600.'),
    'private-key': name
      .optional()
      .describe("SSH private key for the test node, matching the pool label's key-name. Default: a fresh key per check (enough for images that accept any key, like the simulator's)."),
  })
  .describe('Check every upload of this image on a test node before launches use it. Default: no check.');

export const diskimageSchema = z
  .strictObject({
    name: name.describe('Image name: what provider `diskimages` and pool labels name.'),
    abstract: z.boolean().optional().describe('Only a parent for other images; never built. Default: false.'),
    parent: name.optional().describe('An image whose values this one inherits (elements are added after the parent\'s, env-vars merged).'),
    elements: z.array(name).optional().describe('diskimage-builder elements, in order. Default: none.'),
    'env-vars': z.record(z.string(), envValue).optional().describe('Environment of the build command (DIB_* settings). Default: none.'),
    formats: z.array(name).optional().describe('Output formats (qcow2, raw, vhd...); each provider gets the first. Default: [qcow2].'),
    'rebuild-age': seconds.optional().describe('Seconds after which a ready build is replaced by a new one. Default: 86400.'),
    'build-timeout': seconds.positive().optional().describe('Seconds a build may take before it is stopped and failed. Default: 28800.'),
    'dib-cmd': name.optional().describe('Build command, given the elements and options of disk-image-create. Default: disk-image-create.'),
    pause: z.boolean().optional().describe('Build nothing new for this image (uploads of ready builds go on). Default: false.'),
    release: envValue.optional().describe('Distribution release, passed as DIB_RELEASE. Default: the elements\' own.'),
    username: name.optional().describe('User to log in as on nodes booted from this image. Default: zuul.'),
    validation: validationSchema.optional(),
    'python-path': z.string().optional().describe(notUsedYet('the node\'s Python interpreter')),
    'shell-type': z.string().optional().describe(notUsedYet('the node\'s shell')),
    'build-checksum': z.boolean().optional().describe(notUsedYet('outputs are always checksummed')),
  })
  .describe('An image the builder makes with diskimage-builder from the elements under elements-dir.');

export const providerDiskimageSchema = z
  .strictObject({
    name: name.describe('A diskimage from the top-level `diskimages` to upload to this provider.'),
    pause: z.boolean().default(false).describe('Upload nothing new of this image here (ready uploads stay in use).'),
    meta: z
      .record(z.string(), envValue)
      .default({})
      .describe('Extra Glance properties set on every upload, besides our own tags.'),
    'connection-port': z.number().int().min(1).max(65535).optional().describe('SSH port of nodes booted from it. Default: 22.'),
    'config-drive': z.boolean().optional().describe(notUsedYet('config drive')),
  })
  .describe('A built image this provider uses: every new build is uploaded here.');

/** Top-level keys of the builder (Nodepool's names). */
export const builderKeys = {
  'elements-dir': name
    .default('images/elements')
    .describe("Folder of diskimage-builder elements (ELEMENTS_PATH), relative to this file's folder."),
  'images-dir': name
    .default('state/images')
    .describe("Folder the builder writes images to, relative to this file's folder."),
  'build-log-dir': name
    .optional()
    .describe("Folder of the per-build logs, relative to this file's folder. Default: `logs` inside images-dir."),
  'build-log-retention': z
    .number()
    .int()
    .min(1)
    .default(7)
    .describe('Build logs kept per image (failed builds\' included).'),
};

export const IGNORED_DISKIMAGE_KEYS: readonly (readonly string[])[] = [
  ['diskimages', '*', 'python-path'],
  ['diskimages', '*', 'shell-type'],
  ['diskimages', '*', 'build-checksum'],
  ['providers', '*', 'diskimages', '*', 'config-drive'],
];
