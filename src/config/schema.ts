/**
 * The shape of nodepool.yaml: Nodepool's own key names and meanings (zuul-ci.org/docs/nodepool,
 * "Configuration" and "OpenStack Driver"), so an operator of Nodepool can read it at once.
 *
 * Every object is strict: an unknown key is an error, because a typo (`max-server`) silently
 * ignored is a pool without its limit. References between sections (a pool label naming a label
 * or a cloud image) are checked in ./cross-checks.ts; ./resolve.ts turns the result into the
 * camelCase `Config` of ./types.ts.
 */
import { z } from 'zod';
import { fakeDriverSchema } from '../../providers/fake/schema.ts';
import { staticProviderSchema } from '../../providers/static/schema.ts';
import { IGNORED_DISKIMAGE_KEYS, builderKeys, diskimageSchema, providerDiskimageSchema } from './diskimage-schema.ts';

const name = z.string().min(1, 'must not be empty');
const seconds = z.number().nonnegative();
const port = z.number().int().min(1).max(65535);

/**
 * Keys Nodepool has that this system does not use yet. They are accepted so that an existing
 * Nodepool configuration validates, and each one found is reported as a warning (see
 * IGNORED_KEYS), never silently dropped.
 */
const notUsedYet = (what: string) => `Accepted for compatibility with Nodepool; not used yet (${what}).`;

export const labelSchema = z
  .strictObject({
    name: name.describe('Label name: what a node request asks for.'),
    'min-ready': z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe('Ready, unassigned nodes of this label to keep at all times.'),
    'max-ready-age': seconds
      .default(0)
      .describe('Seconds a ready node may wait unused before it is replaced; 0 keeps it for ever.'),
  })
  .describe('A kind of node: served by the pools that list it.');

export const cloudImageSchema = z
  .strictObject({
    name: name.describe('Name pool labels use in `cloud-image`.'),
    'image-name': name
      .optional()
      .describe('Name of the image in the cloud (Glance). Default: `name`. Exclusive with `image-id`.'),
    'image-id': name.optional().describe('Id of the image in the cloud. Exclusive with `image-name`.'),
    username: name.optional().describe('User to log in as on nodes booted from this image. Default: `zuul`.'),
    'connection-port': port.optional().describe('SSH port of nodes booted from this image. Default: 22.'),
  })
  .describe('An image that already exists in the cloud (not built by the builder).');

const stringValue = z
  .union([z.string(), z.number(), z.boolean()], { error: 'must be a string' })
  // Nova metadata values are strings; `build: 42` in YAML is a number an operator meant as text.
  .transform((v) => String(v));

export const poolLabelSchema = z
  .strictObject({
    name: name.describe('A label from the top-level `labels` list that this pool serves.'),
    'flavor-name': name
      .optional()
      .describe('Flavor to boot (name or id). Exactly one of `flavor-name` and `min-ram`.'),
    'min-ram': z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Boot the smallest flavor with at least this much RAM (MiB). Exactly one of `flavor-name` and `min-ram`.'),
    'cloud-image': name
      .optional()
      .describe("Image to boot: a `name` from the provider's `cloud-images`. Exactly one of `cloud-image` and `diskimage`."),
    diskimage: name
      .optional()
      .describe("Built image to boot (its newest ready, validated upload here): a `name` from the provider's `diskimages`."),
    'key-name': name.optional().describe('Nova keypair to install on the node.'),
    userdata: z.string().optional().describe('User data (cloud-init) passed to the server.'),
    'instance-properties': z
      .record(z.string(), stringValue)
      .default({})
      .describe('Extra metadata set on each server, besides our own tags.'),
    'connection-port': port.optional().describe("SSH port of the node. Default: the cloud image's, else 22."),
    username: name.optional().describe("User the scheduler logs in as. Default: the cloud image's, else `zuul`."),
    'host-key-checking': z
      .boolean()
      .default(true)
      .describe('Wait for SSH and scan the host keys before a node is ready.'),
    'volume-size': z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Boot from a new volume of this size (GiB) instead of the local disk.'),
  })
  .describe('One label as booted by this pool.');

export const poolSchema = z
  .strictObject({
    name: name.describe('Pool name, unique within its provider.'),
    'max-servers': z
      .number()
      .int()
      .nonnegative()
      .describe('Most servers this pool may have at once, in any state; 0 disables the pool.'),
    networks: z.array(name).default([]).describe('Networks (names or ids) every server of the pool is attached to.'),
    'availability-zones': z
      .array(name)
      .default([])
      .describe('Availability zones to spread servers over; empty lets the cloud choose.'),
    'auto-floating-ip': z
      .boolean()
      .default(false)
      .describe('Give each node a floating IP from `floating-ip-network` (allocated at boot, released at delete) and reach it there.'),
    'floating-ip-network': name.default('public').describe('External network floating IPs are allocated on.'),
    priority: z
      .number()
      .int()
      .default(100)
      .describe('When several pools can serve a request, lower numbers are tried first.'),
    labels: z.array(poolLabelSchema).default([]).describe('Labels this pool can boot.'),
    'max-cores': z.number().int().nonnegative().optional().describe('Most vCPUs the pool may use (flavor sizes from the cloud); unset = no pool limit.'),
    'max-ram': z.number().int().nonnegative().optional().describe('Most RAM (MiB) the pool may use; unset = no pool limit.'),
  })
  .describe('A share of a provider with its own limits and networks.');

export const providerSchema = z
  .strictObject({
    name: name.describe('Provider name, unique.'),
    driver: z
      .enum(['openstack', 'fake'], { error: 'must be openstack or fake' })
      .describe('Cloud driver: `openstack`, or `fake` (an in-memory cloud in the process, for tests and trials).'),
    cloud: name.describe('Name of the cloud in clouds.yaml (or `envvars` for the OS_* variables); for `driver: fake`, the name of the in-memory cloud (providers naming the same one share it).'),
    fake: fakeDriverSchema.optional(),
    'region-name': name.optional().describe("Region of the cloud. Default: the cloud's region in clouds.yaml."),
    'boot-timeout': seconds.positive().default(60).describe('Seconds to wait for a new server to become ACTIVE.'),
    'launch-timeout': seconds
      .positive()
      .default(3600)
      .describe('Seconds for the whole launch, until the node answers on SSH.'),
    'launch-retries': z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('Attempts to launch a node before its request fails.'),
    rate: seconds.default(0).describe('Seconds to wait between create or delete calls; 0 for no limit.'),
    'refresh-interval': seconds
      .positive()
      .default(10)
      .describe('Seconds between two listings of the servers when nothing is launching: of what changed since the last one, a complete list when full-refresh-interval is due.'),
    'full-refresh-interval': seconds
      .positive()
      .default(60)
      .describe('Seconds between two complete server lists (never more often than refresh-interval); a complete list also feeds leak and floating-IP cleanup.'),
    'list-interval': seconds
      .positive()
      .default(1)
      .describe('Shortest gap in seconds between two server lists while a boot or delete is awaited; lists are timed by the boot times seen in this provider.'),
    'compute-microversion': z
      .string({ error: 'must be a quoted string such as "2.79" (YAML reads 2.10 as the number 2.1)' })
      .regex(/^\d+\.\d+$/, 'must look like "2.79"')
      .default('2.79')
      .describe('Nova API microversion sent with every compute call.'),
    'cloud-images': z.array(cloudImageSchema).default([]).describe('Images already in the cloud that labels can boot.'),
    diskimages: z.array(providerDiskimageSchema).default([]).describe('Built images uploaded to this provider.'),
    'image-upload-timeout': seconds
      .positive()
      .default(3600)
      .describe('Seconds an image upload may take, until the cloud shows it active, before it is failed and tried again.'),
    pools: z.array(poolSchema).default([]).describe('Pools of this provider.'),
    'max-concurrency': z.number().int().nonnegative().default(0).describe('Most launches in flight in this provider at once; 0 = no limit.'),
    'clean-floating-ips': z.boolean().default(false).describe('The project is ours alone: also delete floating IPs we did not allocate once they are not associated.'),
  })
  .describe('One region of one OpenStack cloud.');

/** A provider of any driver: its `driver` picks the shape (`static` has hosts instead of clouds and flavors). */
export const anyProviderSchema = z.discriminatedUnion('driver', [providerSchema, staticProviderSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'must be openstack, fake or static' : undefined),
});

export const apiTokenSchema = z
  .strictObject({
    name: name.describe('Who holds the token; a requestor token may only act on requests whose `requestor` is this name.'),
    role: z
      .enum(['admin', 'requestor', 'read'], { error: 'must be admin, requestor or read' })
      .describe('admin: everything (hold, delete, erase); requestor: its own node requests; read: status only.'),
    hash: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex digits>, as `nodepool token new` or `nodepool token hash` prints it')
      .describe("SHA-256 of the token; the token itself is never stored."),
  })
  .describe('One API token.');

export const apiSchema = z
  .strictObject({
    listen: name.default('127.0.0.1').describe('Address the node-request API and status pages listen on.'),
    port: z.number().int().min(0).max(65535).default(8022).describe('Port of the API (0 = any free port).'),
    'request-lease-timeout': seconds
      .positive()
      .default(600)
      .describe("Seconds a requestor's hold on fulfilled nodes lasts without a heartbeat."),
    'max-nodes-per-request': z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(50)
      .describe('Most nodes one node request may ask for (its `labels`); a request for more is refused with 400. The largest request body accepted follows from it.'),
    'read-public': z
      .boolean()
      .default(true)
      .describe('Status reads (status paths, /metrics, GET /api/v1/...) need no token; false: any configured token.'),
    tokens: z
      .array(apiTokenSchema)
      .default([])
      .describe('API tokens, stored hashed (`nodepool token new` makes one). With none, writes are open to anyone who reaches the API.'),
  })
  .describe('The node-request HTTP API.');

export const secretsSchema = z
  .strictObject({
    'key-file': name
      .optional()
      .describe("The daemon's key pair from `nodepool secret keygen`, relative to this file's folder; opens the `sealed:v1:` values of nodepool.yaml, clouds.yaml and secure.yaml. Default: none."),
  })
  .describe('Sealed secrets.');

export const statusSchema = z
  .strictObject({
    'sample-interval': seconds
      .positive()
      .default(60)
      .describe("Seconds between two points of the status page's plots (requests waiting, wait times, nodes by state, launch failures)."),
    retention: seconds.positive().default(86400).describe('Seconds of plot points kept in the store.'),
    'publish-interval': seconds
      .positive()
      .default(5)
      .describe("Seconds between two writes of each launcher's provider state (health, quota room, paused pools, leaks, cloud calls) to the store, read by processes without that launcher; also written at once when a provider's health changes. A launcher's rows unwritten for 3 intervals show as unknown."),
  })
  .describe('The status page and its time series.');

export const storeSchema = z
  .strictObject({
    driver: z
      .enum(['sqlite', 'postgres'], { error: 'must be sqlite or postgres' })
      .default('sqlite')
      .describe('Store implementation: `sqlite` (one process, a file) or `postgres` (any number of processes).'),
    path: name.default('nodepool.sqlite').describe("SQLite file, relative to the configuration file's folder."),
    url: name
      .optional()
      .describe('PostgreSQL connection URL (`postgres://user@host:5432/db`). Default: the DATABASE_URL variable.'),
    'pool-size': z
      .number()
      .int()
      .min(1)
      .default(10)
      .describe('Most PostgreSQL connections one process opens, besides the one that listens for changes.'),
  })
  .describe('Where nodes, requests and images are recorded.');

export const cloudSimSchema = z
  .strictObject({
    clouds: z
      .array(name)
      .default([])
      .describe('Clouds served by the simulator `nodepool run` starts, by the name providers give in `cloud`. A cloud not listed here must be in clouds.yaml.'),
    enabled: z
      .unknown()
      .refine((v) => v === undefined, 'no longer used: the simulator serves only the clouds listed in cloud-sim.clouds (none by default)')
      .optional()
      .describe('Replaced by `clouds`.'),
    port: z.number().int().min(0).max(65535).default(0).describe("Port of the simulator's HTTP APIs (0 = any free port)."),
    'boot-delay': seconds.default(1).describe('Seconds from create to ACTIVE.'),
    'delete-delay': seconds.default(0.5).describe('Seconds from DELETE to gone.'),
    'ssh-port': port.default(2022).describe('SSH port every simulated server listens on.'),
  })
  .describe('The built-in OpenStack simulator `nodepool run` starts for the clouds named in `clouds`.');

const webappSchema = z
  .strictObject({ port: z.number().int().optional(), listen_address: z.string().optional() })
  .describe(notUsedYet('the API serves status: see `api`'));

const zookeeperServerSchema = z.strictObject({
  host: name,
  port: port.optional(),
  chroot: z.string().optional(),
});

const tenantLimitSchema = z.strictObject({
  'tenant-name': name.describe('Tenant named by requests (`tenant` in the request body).'),
  'max-cores': z.number().int().nonnegative().optional().describe('Most vCPUs the tenant\'s nodes may use across providers.'),
  'max-ram': z.number().int().nonnegative().optional().describe('Most RAM (MiB) the tenant\'s nodes may use.'),
  'max-servers': z.number().int().nonnegative().optional().describe('Most nodes the tenant may hold at once.'),
}).describe('Limits per tenant, across every provider.');

export const nodepoolSchema = z
  .strictObject({
    labels: z.array(labelSchema).default([]).describe('Every kind of node that can be requested.'),
    providers: z.array(anyProviderSchema).default([]).describe('Clouds nodes are booted in.'),
    api: apiSchema.prefault({}),
    store: storeSchema.prefault({}),
    'cloud-sim': cloudSimSchema.prefault({}),
    secrets: secretsSchema.prefault({}),
    status: statusSchema.prefault({}),
    diskimages: z.array(diskimageSchema).default([]).describe('Images the builder makes and uploads to the providers that list them.'),
    ...builderKeys,
    webapp: webappSchema.optional(),
    'zookeeper-servers': z
      .array(zookeeperServerSchema)
      .optional()
      .describe(notUsedYet('state is kept in `store`')),
    'tenant-resource-limits': z.array(tenantLimitSchema).default([]).describe('Limits per tenant named on requests.'),
    'reload-interval': seconds.default(5)
      .describe('Seconds between two reads of this file (and clouds.yaml, secure.yaml) by the running processes: a changed, valid configuration is applied without a restart, an invalid one is refused and logged. 0: read once, at start.'),
    // Checked by the gate's own schema (src/gate/config/), inline here or in the file named.
    gate: z.union([z.string().min(1), z.record(z.string(), z.unknown())], { error: 'must be the gate section or the name of a gate.yaml' })
      .optional().describe('The gating core: its section, or a gate.yaml of its own (relative to this file).'),
  })
  .describe('nodepool.yaml');

/** nodepool.yaml as validated, defaults filled, keys as written. */
export type NodepoolYaml = z.output<typeof nodepoolSchema>;

/** Keys accepted for Nodepool compatibility but without effect yet: each one found is a warning. */
export const IGNORED_KEYS: readonly (readonly string[])[] = [
  ...IGNORED_DISKIMAGE_KEYS,
  ['webapp'],
  ['zookeeper-servers'],
];
