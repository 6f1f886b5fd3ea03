/**
 * From nodepool.yaml as written (kebab-case, validated) to the `Config` the rest of the system
 * reads (camelCase, every default and every inherited value filled in), so no other part needs to
 * know where a value may come from.
 */
import { fakeDriverSchema } from '../../providers/fake/schema.ts';
import { resolveStaticPools, type StaticProviderYaml } from '../../providers/static/schema.ts';
import type { NodepoolYaml } from './schema.ts';
import type { CloudImageConfig, Config, DiskImageConfig, PoolConfig, PoolLabelConfig, ProviderConfig } from './types.ts';
import { resolveBuilder, resolveDiskimages, resolveProviderDiskimages } from './resolve-diskimages.ts';

/** Nodepool's defaults for a node reached without cloud-image settings. */
const DEFAULT_USERNAME = 'zuul';
const DEFAULT_SSH_PORT = 22;

export function resolveConfig(y: NodepoolYaml, path: string | null): Config {
  const diskimages = resolveDiskimages(y);
  return {
    path,
    labels: y.labels.map((l) => ({ name: l.name, minReady: l['min-ready'], maxReadyAge: l['max-ready-age'] })),
    providers: y.providers.map((p) => (p.driver === 'static' ? resolveStaticProvider(p) : resolveProvider(p, diskimages))),
    tenantResourceLimits: y['tenant-resource-limits'].map((t) => ({
      tenantName: t['tenant-name'], maxServers: t['max-servers'], maxCores: t['max-cores'], maxRam: t['max-ram'],
    })),
    api: {
      listen: y.api.listen,
      port: y.api.port,
      requestLeaseTimeout: y.api['request-lease-timeout'],
      maxNodesPerRequest: y.api['max-nodes-per-request'],
      readPublic: y.api['read-public'],
      tokens: y.api.tokens.map((t) => ({ name: t.name, role: t.role, hash: t.hash })),
    },
    secrets: { keyFile: y.secrets['key-file'] ?? null },
    status: { sampleInterval: y.status['sample-interval'], retention: y.status.retention, publishInterval: y.status['publish-interval'] },
    store: { driver: y.store.driver, path: y.store.path, url: y.store.url ?? null, poolSize: y.store['pool-size'] },
    cloudSim: {
      clouds: y['cloud-sim'].clouds,
      port: y['cloud-sim'].port,
      bootDelay: y['cloud-sim']['boot-delay'],
      deleteDelay: y['cloud-sim']['delete-delay'],
      sshPort: y['cloud-sim']['ssh-port'],
    },
    diskimages,
    builder: resolveBuilder(y),
    reloadInterval: y['reload-interval'],
    gate: null,
  };
}

type YamlProvider = Exclude<NodepoolYaml['providers'][number], { driver: 'static' }>;
type YamlPool = YamlProvider['pools'][number];
type YamlPoolLabel = YamlPool['labels'][number];

/** What a pool label inherits from the image it boots: the login. */
type ImageLogin = { username?: string; connectionPort?: number };

function resolveProvider(p: YamlProvider, diskimages: DiskImageConfig[]): ProviderConfig {
  const cloudImages: CloudImageConfig[] = p['cloud-images'].map((i) => ({
    name: i.name,
    imageName: i['image-id'] ?? i['image-name'] ?? i.name,
    username: i.username,
    connectionPort: i['connection-port'],
  }));
  const providerDiskimages = resolveProviderDiskimages(p);
  const images = new Map<string, ImageLogin>(cloudImages.map((i) => [`cloud-image:${i.name}`, i]));
  for (const d of providerDiskimages) {
    images.set(`diskimage:${d.name}`, { username: diskimages.find((i) => i.name === d.name)?.username, connectionPort: d.connectionPort });
  }
  return {
    name: p.name,
    driver: p.driver,
    cloud: p.cloud,
    ...(p.driver === 'fake' ? { fake: p.fake ?? fakeDriverSchema.parse({}) } : {}),
    regionName: p['region-name'],
    bootTimeout: p['boot-timeout'],
    launchTimeout: p['launch-timeout'],
    launchRetries: p['launch-retries'],
    rate: p.rate,
    refreshInterval: p['refresh-interval'],
    fullRefreshInterval: Math.max(p['full-refresh-interval'], p['refresh-interval']),
    listInterval: p['list-interval'],
    computeMicroversion: p['compute-microversion'],
    maxConcurrency: p['max-concurrency'],
    cleanFloatingIps: p['clean-floating-ips'],
    cloudImages,
    diskimages: providerDiskimages,
    imageUploadTimeout: p['image-upload-timeout'],
    pools: p.pools.map((pool) => resolvePool(pool, images)),
  };
}

/**
 * A static provider as the launcher sees every provider: each pool serves the labels of its hosts
 * and holds at most one node per host slot (`max-parallel-jobs`); the hosts themselves, with their
 * logins and pinned keys, are the driver's (`staticPools`).
 */
function resolveStaticProvider(p: StaticProviderYaml): ProviderConfig {
  const staticPools = resolveStaticPools(p);
  return {
    name: p.name, driver: 'static', cloud: '', staticPools,
    bootTimeout: p['launch-timeout'], launchTimeout: p['launch-timeout'], launchRetries: 1, rate: 0, refreshInterval: 10, fullRefreshInterval: 10,
    listInterval: 1, computeMicroversion: '', maxConcurrency: 0, cleanFloatingIps: false, cloudImages: [], diskimages: [],
    pools: staticPools.map((pool) => ({
      name: pool.name, priority: pool.priority, networks: [], availabilityZones: [], autoFloatingIp: false, floatingIpNetwork: '',
      maxServers: pool.nodes.reduce((n, h) => n + h.maxParallelJobs, 0),
      labels: [...new Set(pool.nodes.flatMap((h) => h.labels))].map((label) => {
        const h = pool.nodes.find((x) => x.labels.includes(label))!;
        return { name: label, instanceProperties: {}, connectionPort: h.connectionPort, username: h.username, hostKeyChecking: h.hostKeyChecking };
      }),
    })),
  };
}

function resolvePool(pool: YamlPool, images: Map<string, ImageLogin>): PoolConfig {
  return {
    name: pool.name,
    maxServers: pool['max-servers'],
    maxCores: pool['max-cores'],
    maxRam: pool['max-ram'],
    networks: pool.networks,
    availabilityZones: pool['availability-zones'],
    autoFloatingIp: pool['auto-floating-ip'],
    floatingIpNetwork: pool['floating-ip-network'],
    priority: pool.priority,
    labels: pool.labels.map((l) => resolvePoolLabel(l, images.get(l.diskimage ? `diskimage:${l.diskimage}` : `cloud-image:${l['cloud-image']}`))),
  };
}

function resolvePoolLabel(l: YamlPoolLabel, image: ImageLogin | undefined): PoolLabelConfig {
  return {
    name: l.name,
    flavorName: l['flavor-name'],
    minRam: l['min-ram'],
    cloudImage: l['cloud-image'],
    diskimage: l.diskimage,
    keyName: l['key-name'],
    userdata: l.userdata,
    instanceProperties: l['instance-properties'],
    connectionPort: l['connection-port'] ?? image?.connectionPort ?? DEFAULT_SSH_PORT,
    username: l.username ?? image?.username ?? DEFAULT_USERNAME,
    hostKeyChecking: l['host-key-checking'],
    volumeSize: l['volume-size'],
  };
}
