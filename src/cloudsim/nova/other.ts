/**
 * Nova besides servers: version documents, flavors, absolute limits, keypairs and
 * availability zones.
 */
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { FIXED_LIMITS, NOVA_MAX_LIMIT } from '../defaults.ts';
import { MAX_MINOR, MIN_MINOR, badRequest, json, links, nextLink, notFound, readLimit, schemaError } from './common.ts';
import { SimError, isObject, parseJson, type RouteDef, type SimReply, type SimRequest } from '../service.ts';
import type { CloudState, FlavorRecord, KeypairRecord } from '../state.ts';
import { isoMicros, pyRepr } from '../util.ts';

const V21_UPDATED = '2013-07-23T11:33:21Z';

function versionRoot(req: SimRequest): SimReply {
  const root = req.cloud.endpoints().compute.replace(/\/v2\.1$/, '');
  return json(200, {
    versions: [
      { id: 'v2.0', status: 'SUPPORTED', version: '', min_version: '', updated: '2011-01-21T11:33:21Z', links: [{ rel: 'self', href: `${root}/v2/` }] },
      { id: 'v2.1', status: 'CURRENT', version: `2.${MAX_MINOR}`, min_version: `2.${MIN_MINOR}`, updated: V21_UPDATED, links: [{ rel: 'self', href: `${root}/v2.1/` }] },
    ],
  });
}

function versionV21(req: SimRequest): SimReply {
  return json(200, {
    version: {
      id: 'v2.1', status: 'CURRENT', version: `2.${MAX_MINOR}`, min_version: `2.${MIN_MINOR}`, updated: V21_UPDATED,
      links: [
        { rel: 'self', href: `${req.cloud.endpoints().compute}/` },
        { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
      ],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
    },
  });
}

function flavorDetail(cloud: CloudState, f: FlavorRecord, mv: number): Record<string, unknown> {
  const v: Record<string, unknown> = {
    id: f.id, name: f.name, ram: f.ram, disk: f.disk,
    // Before 2.75 a flavor without swap says "" instead of 0.
    swap: mv >= 75 ? f.swap : f.swap || '',
    'OS-FLV-EXT-DATA:ephemeral': f.ephemeral, 'OS-FLV-DISABLED:disabled': false, vcpus: f.vcpus,
    'os-flavor-access:is_public': true, rxtx_factor: 1.0, links: links(cloud, 'flavors', f.id),
  };
  if (mv >= 55) v.description = f.description;
  if (mv >= 61) v.extra_specs = { ...f.extraSpecs };
  return v;
}

function flavorList(detail: boolean) {
  return (req: SimRequest): SimReply => {
    const { cloud, query } = req;
    const mv = req.microversion!;
    const limit = readLimit(query, NOVA_MAX_LIMIT);
    const minDisk = Number(query.get('minDisk') ?? 0);
    const minRam = Number(query.get('minRam') ?? 0);
    // Nova sorts flavors by flavorid (a string) ascending.
    let flavors = cloud.flavors.filter((f) => f.disk >= minDisk && f.ram >= minRam).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const marker = query.get('marker');
    if (marker !== null) {
      const i = flavors.findIndex((f) => f.id === marker);
      if (i < 0) throw badRequest(`Marker ${marker} could not be found.`);
      flavors = flavors.slice(i + 1);
    }
    const page = flavors.slice(0, limit);
    const body: Record<string, unknown> = {
      flavors: page.map((f) => {
        if (detail) return flavorDetail(cloud, f, mv);
        const brief: Record<string, unknown> = { id: f.id, name: f.name, links: links(cloud, 'flavors', f.id) };
        if (mv >= 55) brief.description = f.description;
        return brief;
      }),
    };
    if (page.length > 0 && page.length === limit) {
      body.flavors_links = [nextLink(`${cloud.endpoints().compute}/flavors${detail ? '/detail' : ''}`, query, page[page.length - 1].id)];
    }
    return json(200, body);
  };
}

function flavorShow(req: SimRequest): SimReply {
  const f = req.cloud.findFlavor(req.params.id);
  if (!f) throw notFound(`Flavor ${req.params.id} could not be found.`);
  return json(200, { flavor: flavorDetail(req.cloud, f, req.microversion!) });
}

function limits(req: SimRequest): SimReply {
  const { cloud } = req;
  const mv = req.microversion!;
  const used = cloud.usage();
  const absolute: Record<string, number> = {
    maxTotalInstances: cloud.quota.instances, maxTotalCores: cloud.quota.cores, maxTotalRAMSize: cloud.quota.ram,
    maxServerMeta: FIXED_LIMITS.maxServerMeta,
  };
  // Older microversions still report limits Nova has since dropped.
  if (mv < 39) absolute.maxImageMeta = 128;
  if (mv < 57) Object.assign(absolute, { maxPersonality: 5, maxPersonalitySize: 10240 });
  Object.assign(absolute, {
    maxTotalKeypairs: FIXED_LIMITS.maxTotalKeypairs, maxServerGroups: FIXED_LIMITS.maxServerGroups,
    maxServerGroupMembers: FIXED_LIMITS.maxServerGroupMembers,
  });
  // Before 2.36 Nova also reports Neutron's floating IP quota and usage.
  if (mv < 36) Object.assign(absolute, { maxSecurityGroups: 10, maxSecurityGroupRules: 20, maxTotalFloatingIps: cloud.networkQuota.floatingip });
  Object.assign(absolute, { totalRAMUsed: used.ram, totalCoresUsed: used.cores, totalInstancesUsed: used.instances });
  if (mv < 36) Object.assign(absolute, { totalSecurityGroupsUsed: 1, totalFloatingIpsUsed: cloud.floatingIps.size });
  absolute.totalServerGroupsUsed = 0;
  return json(200, { limits: { rate: [], absolute } });
}

/** Nova's keypair fingerprint: MD5 of the key blob, colon separated. */
function fingerprint(publicKey: string): string | undefined {
  const parsed = ssh2.utils.parseKey(publicKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error) return undefined;
  return createHash('md5').update(key.getPublicSSH()).digest('hex').replace(/(..)(?!$)/g, '$1:');
}

/** Adds a keypair to the project (the API and the control handle both use this). */
export function importKeypair(cloud: CloudState, name: string, publicKey: string, type = 'ssh'): KeypairRecord {
  if (cloud.keypairs.has(name)) throw new SimError(409, `Key pair '${name}' already exists.`);
  const fp = fingerprint(publicKey);
  if (!fp) throw badRequest('Keypair data is invalid: failed to generate fingerprint');
  const kp = { id: ++cloud.keypairSeq, name, publicKey: publicKey.trim(), fingerprint: fp, type, createdAt: Date.now() };
  cloud.keypairs.set(name, kp);
  return kp;
}

function keypairList(req: SimRequest): SimReply {
  const mv = req.microversion!;
  let all = [...req.cloud.keypairs.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  const marker = mv >= 35 ? req.query.get('marker') : null;
  if (marker !== null) {
    const i = all.findIndex((k) => k.name === marker);
    if (i < 0) throw badRequest(`Marker ${marker} could not be found.`);
    all = all.slice(i + 1);
  }
  const limit = mv >= 35 && req.query.has('limit') ? readLimit(req.query, NOVA_MAX_LIMIT) : all.length;
  const page = all.slice(0, limit);
  const body: Record<string, unknown> = {
    keypairs: page.map((k) => ({
      keypair: { name: k.name, public_key: k.publicKey, fingerprint: k.fingerprint, ...(mv >= 2 ? { type: k.type } : {}) },
    })),
  };
  if (mv >= 35 && req.query.has('limit') && page.length > 0 && page.length === limit) {
    body.keypairs_links = [nextLink(`${req.cloud.endpoints().compute}/os-keypairs`, req.query, page[page.length - 1].name)];
  }
  return json(200, body);
}

function keypairCreate(req: SimRequest): SimReply {
  const mv = req.microversion!;
  const parsed = parseJson(req.body);
  if (!parsed.ok) throw badRequest('Malformed request body');
  const body = parsed.value;
  if (!isObject(body) || !isObject(body.keypair)) throw badRequest("'keypair' is a required property");
  const k = body.keypair;
  if (typeof k.name !== 'string' || k.name.length < 1 || k.name.length > 255) {
    throw schemaError('name', k.name, `${pyRepr(k.name)} is not a 'keypair_name'`);
  }
  const type = mv >= 2 && typeof k.type === 'string' ? k.type : 'ssh';
  let privateKey: string | undefined;
  let publicKey = k.public_key;
  if (typeof publicKey !== 'string') {
    // 2.92 stopped generating keys; before that Nova makes an RSA pair and returns the private half once.
    if (mv >= 92) throw schemaError('keypair', k, "'public_key' is a required property");
    const pair = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048, comment: 'Generated-by-Nova' });
    privateKey = pair.private;
    publicKey = pair.public;
  }
  const kp = importKeypair(req.cloud, k.name, publicKey as string, type);
  const out: Record<string, unknown> = { name: kp.name, public_key: kp.publicKey, fingerprint: kp.fingerprint, user_id: req.cloud.userId };
  if (mv >= 2) out.type = kp.type;
  if (privateKey) out.private_key = privateKey;
  return json(mv >= 2 ? 201 : 200, { keypair: out });
}

function keypairOf(req: SimRequest): KeypairRecord {
  const kp = req.cloud.keypairs.get(req.params.name);
  if (!kp) throw notFound(`Keypair ${req.params.name} not found for user ${req.cloud.userId}`);
  return kp;
}

function keypairShow(req: SimRequest): SimReply {
  const kp = keypairOf(req);
  const out: Record<string, unknown> = {
    public_key: kp.publicKey, user_id: req.cloud.userId, name: kp.name, created_at: isoMicros(kp.createdAt),
    deleted: false, deleted_at: null, updated_at: null, fingerprint: kp.fingerprint, id: kp.id,
  };
  if (req.microversion! >= 2) out.type = kp.type;
  return json(200, { keypair: out });
}

function keypairDelete(req: SimRequest): SimReply {
  req.cloud.keypairs.delete(keypairOf(req).name);
  return { status: req.microversion! >= 2 ? 204 : 202, contentType: 'application/json' };
}

function availabilityZones(): SimReply {
  return json(200, { availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true }, hosts: null }] });
}

export const otherRoutes: RouteDef[] = [
  { method: 'GET', path: '/compute/', auth: false, handler: versionRoot },
  { method: 'GET', path: '/compute/v2.1/', auth: false, handler: versionV21 },
  { method: 'GET', path: '/compute/v2.1/flavors', auth: true, handler: flavorList(false) },
  { method: 'GET', path: '/compute/v2.1/flavors/detail', auth: true, handler: flavorList(true) },
  { method: 'GET', path: '/compute/v2.1/flavors/:id', auth: true, handler: flavorShow },
  { method: 'GET', path: '/compute/v2.1/limits', auth: true, handler: limits },
  { method: 'GET', path: '/compute/v2.1/os-keypairs', auth: true, handler: keypairList },
  { method: 'POST', path: '/compute/v2.1/os-keypairs', auth: true, handler: keypairCreate },
  { method: 'GET', path: '/compute/v2.1/os-keypairs/:name', auth: true, handler: keypairShow },
  { method: 'DELETE', path: '/compute/v2.1/os-keypairs/:name', auth: true, handler: keypairDelete },
  { method: 'GET', path: '/compute/v2.1/os-availability-zone', auth: true, handler: availabilityZones },
];
