/**
 * `npm run bench:plan`: the CPU time of one planning pass (src/launcher/planner.ts, a pure
 * function) in the middle of a burst, as a launcher sees it: 4 providers of one pool each,
 * BENCH_PLAN_REQUESTS (500) one-node requests, a quarter of them still waiting for a claim, the
 * rest claimed across the providers with their nodes booting or ready. Timed for a launcher that
 * serves every provider and for one that serves one of them (`--providers`), after a warm-up (a
 * launcher runs for weeks: its passes are compiled code). Median and p90 of BENCH_PLAN_PASSES
 * (300) passes, and the time per request of the fleet.
 */
import { parseConfig } from '../src/config/load.ts';
import { plan, type PlanInput, type ProviderCloudView } from '../src/launcher/planner.ts';
import { buildTopology } from '../src/launcher/topology.ts';
import type { NodeRecord, RequestRecord } from '../src/model.ts';
import type { ServerView } from '../providers/provider.ts';

const REQUESTS = Number(process.env.BENCH_PLAN_REQUESTS ?? 500);
const PASSES = Number(process.env.BENCH_PLAN_PASSES ?? 300);
const WARMUP = Number(process.env.BENCH_PLAN_WARMUP ?? 200);
const PROVIDERS = ['p1', 'p2', 'p3', 'p4'];
const NOW = 1_800_000_000_000;

const config = parseConfig(`labels: [{name: jammy}]
providers:
${PROVIDERS.map((p) => `  - name: ${p}
    driver: openstack
    cloud: ${p}
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools:
      - {name: main, max-servers: 6000, networks: [private], labels: [{name: jammy, flavor-name: m1.tiny, cloud-image: jammy, host-key-checking: false}]}`).join('\n')}
`, 'bench.yaml');
const topology = buildTopology(config);

function fleet(owner: (provider: string) => string): { nodes: NodeRecord[]; requests: RequestRecord[]; cloud: Map<string, ProviderCloudView> } {
  const nodes: NodeRecord[] = [];
  const requests: RequestRecord[] = [];
  const servers = new Map(PROVIDERS.map((p) => [p, new Map<string, ServerView>()]));
  for (let i = 0; i < REQUESTS; i++) {
    const id = `r${String(i).padStart(5, '0')}`;
    const claimed = i >= REQUESTS / 4;
    const provider = PROVIDERS[i % PROVIDERS.length]!;
    const leased = { leaseOwner: claimed ? owner(provider) : null, leaseExpires: claimed ? NOW + 30_000 : null };
    requests.push({
      id, state: claimed ? 'pending' : 'requested', labels: ['jammy'], requestor: 'bench', priority: 100, tenant: null,
      provider: claimed ? provider : null, pool: claimed ? 'main' : null, nodes: [], reason: null, ...leased, holderExpires: null,
      createdAt: NOW - 2000 + i, stateTime: NOW - 1000 + i, fulfilledAt: null,
    });
    if (!claimed) continue;
    const ready = i % 2 === 0;
    const nid = `n${String(i).padStart(5, '0')}`;
    const serverId = `s-${nid}`;
    nodes.push({
      id: nid, label: 'jammy', provider, pool: 'main', state: ready ? 'ready' : 'building', step: ready ? null : 'booting', serverId,
      hostname: `np-${nid}`, interfaceIp: ready ? '127.1.0.1' : null, publicIpv4: null, privateIpv4: ready ? '127.1.0.1' : null, publicIpv6: null,
      az: 'nova', connectionPort: 22, username: 'zuul', hostKeys: [], allocatedTo: id, attempt: 1, ...leased, holdReason: null, holdExpires: null,
      comment: null, createdAt: NOW - 1000 + i, stateTime: NOW - 900 + i, launchStartedAt: NOW - 1000 + i, createAnsweredAt: NOW - 800 + i, pythonPath: null,
    });
    servers.get(provider)!.set(serverId, {
      id: serverId, name: `np-${nid}`, state: ready ? 'active' : 'building', status: ready ? 'ACTIVE' : 'BUILD', metadata: {}, tags: [],
      publicIpv4: null, privateIpv4: '127.1.0.1', publicIpv6: null, az: 'nova', fault: null, created: null, updated: null,
    });
  }
  const cloud = new Map(PROVIDERS.map((p) => [p, { servers: servers.get(p)!, gone: new Map(), refreshedAt: NOW - 10, fullRefreshedAt: NOW - 10, fullRefreshSeq: 1 } as ProviderCloudView]));
  return { nodes, requests, cloud };
}

function input(served: ReadonlySet<string> | null, launcher: string): PlanInput {
  // Claimed requests and their nodes are held by their provider's launcher.
  const { nodes, requests, cloud } = fleet((provider) => (served === null || served.has(provider) ? launcher : `launcher-${provider}`));
  return {
    now: NOW, launcher, topology, nodes, requests, cloud, inflight: new Set(), deleteCalledAt: new Map(), deleteAnsweredAt: new Map(),
    leakSightings: new Map(), served,
  };
}

function time(i: PlanInput): { median: number; p90: number; actions: number } {
  let actions = 0;
  for (let k = 0; k < WARMUP; k++) plan(i);
  const ms: number[] = [];
  for (let k = 0; k < PASSES; k++) {
    const t = process.cpuUsage();
    actions = plan(i).actions.length;
    const d = process.cpuUsage(t);
    ms.push((d.user + d.system) / 1000);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)]!, p90: ms[Math.floor(ms.length * 0.9)]!, actions };
}

console.log(`## One planning pass, ${REQUESTS} requests (${REQUESTS / 4} waiting for a claim), 4 providers, ${PASSES} passes after a warm-up`);
for (const [what, served, launcher] of [
  ['serving every provider', null, 'launcher-all'],
  ['serving one provider of 4', new Set(['p1']), 'launcher-p1'],
] as const) {
  const r = time(input(served, launcher));
  console.log(`${what}: median ${r.median.toFixed(2)} ms, p90 ${r.p90.toFixed(2)} ms (${((1000 * r.median) / REQUESTS).toFixed(1)} µs per request of the fleet), ${r.actions} actions`);
}
