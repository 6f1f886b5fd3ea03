/**
 * What a fresh simulated cloud contains unless told otherwise: Nova's classic m1.* flavors and
 * default quotas, a few public images, and devstack's `private` (shared) and `public`
 * (external) networks.
 */
import type { FlavorSpec, ImageSpec, NetworkSpec } from './types.ts';

export const DEFAULT_FLAVORS: FlavorSpec[] = [
  { id: '1', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1 },
  { id: '2', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20 },
  { id: '3', name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40 },
  { id: '4', name: 'm1.large', vcpus: 4, ram: 8192, disk: 80 },
  { id: '5', name: 'm1.xlarge', vcpus: 8, ram: 16384, disk: 160 },
];

export const DEFAULT_IMAGES: ImageSpec[] = [
  { name: 'ubuntu-22.04' },
  { name: 'ubuntu-24.04' },
  { name: 'centos-9-stream' },
  { name: 'cirros' },
];

export const DEFAULT_NETWORKS: NetworkSpec[] = [
  { name: 'private', shared: true, external: false },
  { name: 'public', shared: false, external: true },
];

/** Nova's default quota (instances, cores, ram MiB). */
export const DEFAULT_QUOTA = { instances: 10, cores: 20, ram: 51200 };

/**
 * Neutron's quota of the resources the simulator has: floatingip as Neutron's default
 * (`neutron-quotas-show-200`); port unlimited unless set, because Neutron's 500 would stop the
 * scale tests and benchmarks (thousands of servers) that raise only Nova's quota.
 */
export const DEFAULT_NETWORK_QUOTA = { floatingip: 100, port: -1 };

/** Cinder's default quota (volumes, gigabytes). */
export const DEFAULT_VOLUME_QUOTA = { volumes: 10, gigabytes: 1000 };

/** Nova's other absolute limits, reported by GET /limits. */
export const FIXED_LIMITS = { maxServerMeta: 128, maxTotalKeypairs: 100, maxServerGroups: 10, maxServerGroupMembers: 10 };

export const DEFAULTS = {
  region: 'RegionOne',
  bootDelayMs: 1000,
  deleteDelayMs: 500,
  deletedVisibleMs: 300,
  sshPort: 2022,
  sshDelayMs: 0,
  tokenTtlMs: 3_600_000,
  /** The recorded cloud took 4.2 s; small here so tests need not wait. */
  floatingIpNovaDelayMs: 100,
  volumeDelayMs: 100,
};

/** Nova's `[api] max_limit`: the page cap without `limit`. */
export const NOVA_MAX_LIMIT = 1000;
/** Glance's `limit_param_default` and `api_limit_max`. */
export const GLANCE_DEFAULT_LIMIT = 25;
export const GLANCE_MAX_LIMIT = 1000;
/** How long and how many deleted servers stay visible to `changes-since`. */
export const DELETED_RETENTION_MS = 10 * 60_000;
export const DELETED_RETENTION_COUNT = 10_000;
