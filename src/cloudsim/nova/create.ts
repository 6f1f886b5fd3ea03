/**
 * POST /servers: Nova's request validation (its JSON-schema messages, then flavor, image,
 * key, network and quota checks, each with the reference's status and words), then the 202
 * stub. Quota is checked synchronously against every server not yet DELETED.
 */
import { FIXED_LIMITS } from '../defaults.ts';
import { badRequest, json, links, schemaError } from './common.ts';
import { SimError, isObject, parseJson, type SimReply, type SimRequest } from '../service.ts';
import type { CloudState, NetworkRecord, Quota, ServerRecord } from '../state.ts';
import type { BootFault } from '../types.ts';
import { pyRepr, randomAlnum, uuid } from '../util.ts';

/** Keys Nova's create schema knows, with the microversion that added them. */
const KNOWN_KEYS: Record<string, number> = {
  name: 1, imageRef: 1, flavorRef: 1, adminPass: 1, metadata: 1, networks: 1, 'OS-DCF:diskConfig': 1,
  accessIPv4: 1, accessIPv6: 1, personality: 1, key_name: 1, availability_zone: 1, block_device_mapping: 1,
  block_device_mapping_v2: 1, config_drive: 1, min_count: 1, max_count: 1, return_reservation_id: 1,
  security_groups: 1, user_data: 1, description: 19, tags: 52, trusted_image_certificates: 63, host: 74,
  hypervisor_hostname: 74, hostname: 90,
};
const MAX_TAGS = 50;

function count(server: Record<string, unknown>, key: 'min_count' | 'max_count'): number | undefined {
  const v = server[key];
  if (v === undefined) return undefined;
  const ok = (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^[0-9]+$/.test(v));
  if (!ok) throw schemaError(key, v, `${pyRepr(v)} does not match '^[0-9]*$'`);
  const n = Number(v);
  if (n < 1) throw schemaError(key, v, `${pyRepr(v)} is less than the minimum of 1`);
  return n;
}

/** The JSON-schema part: types, lengths, required keys, unknown keys. */
function validateSchema(server: Record<string, unknown>, mv: number): void {
  const name = server.name;
  if (name !== undefined) {
    if (typeof name !== 'string') throw schemaError('name', name, `${pyRepr(name)} is not of type 'string'`);
    if (name.length < 1) throw schemaError('name', name, `${pyRepr(name)} is too short`);
    if (name.length > 255) throw schemaError('name', name, `${pyRepr(name)} is too long`);
  }
  const flavorRef = server.flavorRef;
  if (flavorRef !== undefined && typeof flavorRef !== 'string' && typeof flavorRef !== 'number') {
    throw schemaError('flavorRef', flavorRef, `${pyRepr(flavorRef)} is not of type 'string', 'integer'`);
  }
  const metadata = server.metadata;
  if (metadata !== undefined) {
    if (!isObject(metadata)) throw schemaError('metadata', metadata, `${pyRepr(metadata)} is not of type 'object'`);
    for (const [k, v] of Object.entries(metadata)) {
      if (!/^[a-zA-Z0-9-_:. ]{1,255}$/.test(k)) {
        throw schemaError('metadata', metadata, `Additional properties are not allowed (${pyRepr(k)} was unexpected)`);
      }
      if (typeof v !== 'string') throw schemaError(k, v, `${pyRepr(v)} is not of type 'string'`);
      if (v.length > 255) throw schemaError(k, v, `${pyRepr(v)} is too long`);
    }
  }
  const networks = server.networks;
  if (networks !== undefined) {
    const ok = networks === 'none' || networks === 'auto' || (Array.isArray(networks) && networks.every(isObject));
    if (!ok) throw schemaError('networks', networks, `${pyRepr(networks)} is not valid under any of the given schemas`);
  }
  if (mv >= 52 && server.tags !== undefined) {
    const tags = server.tags;
    if (!Array.isArray(tags)) throw schemaError('tags', tags, `${pyRepr(tags)} is not of type 'array'`);
    if (tags.length > MAX_TAGS) throw schemaError('tags', tags, `${pyRepr(tags)} is too long`);
    tags.forEach((t, i) => {
      if (typeof t !== 'string') throw schemaError(String(i), t, `${pyRepr(t)} is not of type 'string'`);
      if (t.length < 1) throw schemaError(String(i), t, `${pyRepr(t)} is too short`);
      if (t.length > 60) throw schemaError(String(i), t, `${pyRepr(t)} is too long`);
      if (/[,/]/.test(t)) throw schemaError(String(i), t, `${pyRepr(t)} does not match '^[^,/]*$'`);
    });
  }
  if (mv >= 19 && server.description !== undefined && server.description !== null) {
    const d = server.description;
    if (typeof d !== 'string') throw schemaError('description', d, `${pyRepr(d)} is not of type 'string', 'null'`);
    if (d.length > 255) throw schemaError('description', d, `${pyRepr(d)} is too long`);
  }
  if (server.key_name !== undefined && typeof server.key_name !== 'string') {
    throw schemaError('key_name', server.key_name, `${pyRepr(server.key_name)} is not of type 'string'`);
  }
  count(server, 'min_count');
  count(server, 'max_count');
  const required = mv >= 37 ? ['name', 'flavorRef', 'networks'] : ['name', 'flavorRef'];
  for (const key of required) {
    if (server[key] === undefined) throw schemaError('server', server, `${pyRepr(key)} is a required property`);
  }
  const unknown = Object.keys(server).filter((k) => !(k in KNOWN_KEYS) || KNOWN_KEYS[k] > mv);
  if (unknown.length > 0) {
    const what = unknown.length === 1 ? `${pyRepr(unknown[0])} was` : `${unknown.map((k) => pyRepr(k)).join(', ')} were`;
    throw schemaError('server', server, `Additional properties are not allowed (${what} unexpected)`);
  }
}

/** The networks the server gets one port on. */
function resolveNetworks(cloud: CloudState, networks: unknown): NetworkRecord[] {
  const usable = cloud.networks.filter((n) => !n.external && (n.shared || n.projectId === cloud.projectId));
  if (networks === 'none') return [];
  if (networks === undefined || networks === 'auto') {
    // Before 2.37 (and with "auto"), Nova picks the one network the project can use.
    if (usable.length > 1) throw new SimError(409, 'Multiple possible networks found, use a Network ID to be more specific.');
    return usable;
  }
  return (networks as Record<string, unknown>[]).map((n) => {
    if (typeof n.port === 'string') {
      if (cloud.ports.has(n.port)) throw new SimError(409, `Port ${n.port} is still in use.`);
      throw badRequest(`Port id ${n.port} could not be found.`);
    }
    if (typeof n.uuid !== 'string') throw badRequest(`Bad networks format: network uuid is not in proper format (${String(n.uuid ?? '')})`);
    const net = cloud.findNetwork(n.uuid);
    if (!net) throw badRequest(`Network ${n.uuid} could not be found.`);
    return net;
  });
}

/**
 * How many servers fit (Nova's headroom arithmetic): `max` when all fit, else the most that
 * fit if that is at least `min`; otherwise the 403 naming every exceeded resource.
 */
function fitQuota(cloud: CloudState, vcpus: number, ram: number, min: number, max: number): number {
  const q = cloud.quota;
  const used = cloud.usage();
  const want: Quota = { instances: max, cores: max * vcpus, ram: max * ram };
  const resources = ['instances', 'cores', 'ram'] as const;
  const overs = resources.filter((r) => q[r] >= 0 && used[r] + want[r] > q[r]);
  if (overs.length === 0) return max;
  const room = (r: (typeof resources)[number]) => (q[r] < 0 ? Infinity : Math.max(0, q[r] - used[r]));
  let allowed = room('instances');
  if (vcpus) allowed = Math.min(allowed, Math.floor(room('cores') / vcpus));
  if (ram) allowed = Math.min(allowed, Math.floor(room('ram') / ram));
  if (allowed >= min && allowed > 0) return Math.min(allowed, max);
  const requested: Record<string, string> = { instances: min === max ? String(min) : `${min}-${max}`, cores: String(want.cores), ram: String(want.ram) };
  const list = (f: (r: (typeof resources)[number]) => string) => overs.map(f).join(', ');
  throw new SimError(403, `Quota exceeded for ${list((r) => r)}: Requested ${list((r) => requested[r])}, but already used ${list((r) => String(used[r]))} of ${list((r) => String(q[r]))} ${list((r) => r)}`);
}

/**
 * Nova checks the Neutron port quota in the API too (recorded: `nova-servers-create-403-port-quota`):
 * ports already over the limit, or not enough left for this boot.
 */
function checkPortQuota(cloud: CloudState, needed: number): void {
  const limit = cloud.networkQuota.port;
  if (limit < 0 || needed === 0) return;
  const used = cloud.ports.size;
  if (used > limit) throw new SimError(403, `The number of defined ports: ${used} is over the limit: ${limit}`);
  if (used + needed > limit) throw new SimError(403, 'Maximum number of ports exceeded');
}

/** The boot volume of `block_device_mapping_v2` (image -> volume, boot_index 0), if the boot asks for one. */
function bootFromVolume(server: Record<string, unknown>): { imageId: string; size: number; deleteOnTermination: boolean } | undefined {
  const bdms = server.block_device_mapping_v2;
  if (!Array.isArray(bdms)) return undefined;
  const root = bdms.find((b) => isObject(b) && String(b.boot_index) === '0');
  if (!isObject(root) || root.source_type !== 'image' || root.destination_type !== 'volume') return undefined;
  if (typeof root.uuid !== 'string') throw badRequest('Block Device Mapping is Invalid: missing uuid of the image.');
  const size = Number(root.volume_size);
  if (!Number.isInteger(size) || size < 1) throw badRequest('Block Device Mapping is Invalid: You specified more local devices than the limit allows');
  return { imageId: root.uuid, size, deleteOnTermination: root.delete_on_termination === true };
}

export function createServer(req: SimRequest): SimReply {
  const { cloud } = req;
  const mv = req.microversion!;
  const parsed = parseJson(req.body);
  if (!parsed.ok) throw badRequest('Malformed request body');
  const body = parsed.value;
  if (!isObject(body)) throw badRequest(`${pyRepr(body)} is not of type 'object'`);
  if (body.server === undefined) throw badRequest("'server' is a required property");
  const server = body.server;
  if (!isObject(server)) throw schemaError('server', server, `${pyRepr(server)} is not of type 'object'`);
  validateSchema(server, mv);

  const flavor = cloud.findFlavor(String(server.flavorRef));
  if (!flavor) throw badRequest(`Flavor ${String(server.flavorRef)} could not be found.`);
  const az = server.availability_zone;
  if (az !== undefined && az !== null && az !== 'nova') throw badRequest('The requested availability zone is not available');
  const bootVolume = bootFromVolume(server);
  const imageRef = bootVolume?.imageId ?? (typeof server.imageRef === 'string' ? server.imageRef : '');
  const image = cloud.findImage(imageRef);
  if (!image) throw badRequest('Can not find requested image');
  if (image.status !== 'active') throw badRequest(`Image ${image.id} is not active.`);
  if (bootVolume && image.minDisk > bootVolume.size) {
    throw badRequest(`Volume is smaller than the minimum size specified in image metadata. Volume size is ${bootVolume.size * 2 ** 30} bytes, minimum size is ${image.minDisk * 2 ** 30} bytes.`);
  }
  if (!bootVolume && flavor.disk > 0 && image.minDisk > flavor.disk) {
    throw badRequest(`Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is ${flavor.disk * 2 ** 30} bytes, minimum size is ${image.minDisk * 2 ** 30} bytes.`);
  }
  const keyName = typeof server.key_name === 'string' ? server.key_name : null;
  const keypair = keyName === null ? undefined : cloud.keypairs.get(keyName);
  if (keyName !== null && !keypair) throw badRequest('Invalid key_name provided.');
  const networks = resolveNetworks(cloud, server.networks);
  const metadata = (server.metadata ?? {}) as Record<string, string>;
  if (Object.keys(metadata).length > FIXED_LIMITS.maxServerMeta) {
    throw new SimError(403, `Maximum number of metadata items exceeds ${FIXED_LIMITS.maxServerMeta}`);
  }
  const min = count(server, 'min_count') ?? 1;
  const max = count(server, 'max_count') ?? min;
  if (min > max) throw badRequest('min_count must be <= max_count');
  const n = fitQuota(cloud, flavor.vcpus, flavor.ram, min, max);
  checkPortQuota(cloud, networks.length * min);

  const groups = Array.isArray(server.security_groups)
    ? server.security_groups.map((g) => (isObject(g) && typeof g.name === 'string' ? g.name : 'default'))
    : ['default'];
  const adminPass = typeof server.adminPass === 'string' ? server.adminPass : randomAlnum(12);
  const reservationId = `r-${randomAlnum(8).toLowerCase()}`;
  const created: ServerRecord[] = [];
  for (let i = 0; i < n; i++) {
    const now = Date.now();
    // Counted faults first (the next n boots), then the rates.
    const queued = cloud.faults.takeBootPlan();
    const { plan, fault }: { plan: ServerRecord['plan']; fault?: BootFault } = queued.plan === 'boot' ? cloud.plan.bootPlan() ?? queued : queued;
    const s: ServerRecord = {
      id: uuid(), seq: cloud.nextSeq(), name: n > 1 ? `${server.name}-${i + 1}` : String(server.name),
      flavor: { ...flavor }, imageId: image.id, networkIds: networks.map((x) => x.id), keyName,
      authorizedKey: keypair?.publicKey ?? null, metadata: { ...metadata }, tags: mv >= 52 ? [...((server.tags as string[]) ?? [])] : [],
      description: typeof server.description === 'string' ? server.description : null, securityGroups: groups,
      reservationId, created: now, updated: now, launchedAt: null, terminatedAt: null,
      deletedAt: null, status: 'BUILD', taskState: 'scheduling', vmState: 'building', powerState: 0, scheduled: false,
      fault: null, portIds: [], volumes: [], plan, planFault: fault, timers: new Set(),
      bootVolume: bootVolume && { size: bootVolume.size, deleteOnTermination: bootVolume.deleteOnTermination },
    };
    cloud.addServer(s);
    cloud.lifecycle.boot(s);
    created.push(s);
  }
  if (server.return_reservation_id === true) return json(202, { reservation_id: reservationId });
  const first = created[0];
  const self = links(cloud, 'servers', first.id);
  return json(202, {
    server: {
      id: first.id, links: self, 'OS-DCF:diskConfig': 'MANUAL',
      security_groups: groups.map((name) => ({ name })), adminPass,
    },
  }, { Location: self[0].href });
}
