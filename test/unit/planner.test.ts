import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../../src/config/types.ts';
import type { NodeRecord, RequestRecord } from '../../src/model.ts';
import type { ServerView } from '../../providers/provider.ts';
import { plan, type Action, type PlanInput, type ProviderCloudView, CREATE_GRACE_MS } from '../../src/launcher/planner.ts';
import { buildTopology } from '../../src/launcher/topology.ts';

// A small world: two providers; `east` has two labels, `west` only jammy. Time is a number we pass in.

const T0 = 1_000_000;

function config(opts: { minReady?: Record<string, number>; maxServers?: number; maxReadyAge?: number } = {}): Config {
  const label = (name: string) => ({
    name, cloudImage: name, flavorName: 'm1.small', instanceProperties: {}, connectionPort: 22, username: 'zuul', hostKeyChecking: true,
  });
  const provider = (name: string, labels: string[], priority: number) => ({
    name, driver: 'openstack' as const, cloud: name, bootTimeout: 60, launchTimeout: 600, launchRetries: 3, rate: 0,
    refreshInterval: 10, listInterval: 1, maxConcurrency: 0, computeMicroversion: '2.79', cloudImages: labels.map((l) => ({ name: l, imageName: l })),
    pools: [{ name: 'main', maxServers: opts.maxServers ?? 5, networks: [], availabilityZones: [], priority, labels: labels.map(label) }],
  });
  return {
    path: null,
    labels: ['jammy', 'noble'].map((name) => ({ name, minReady: opts.minReady?.[name] ?? 0, maxReadyAge: opts.maxReadyAge ?? 0 })),
    providers: [provider('east', ['jammy', 'noble'], 100), provider('west', ['jammy'], 100)],
    tenantResourceLimits: [],
    api: { listen: '127.0.0.1', port: 0, requestLeaseTimeout: 600 },
    store: { driver: 'sqlite', path: ':memory:' },
    cloudSim: { enabled: false, port: 0, bootDelay: 1, deleteDelay: 0.5, sshPort: 2022 },
  };
}

let seq = 0;
function node(o: Partial<NodeRecord> & { label?: string; provider?: string }): NodeRecord {
  const id = o.id ?? `n${++seq}`;
  return {
    id, label: 'jammy', provider: 'east', pool: 'main', state: 'ready', step: null, serverId: `s-${id}`, hostname: `np-${id}`,
    interfaceIp: '127.1.0.1', publicIpv4: null, privateIpv4: '127.1.0.1', publicIpv6: null, az: null, connectionPort: 22,
    username: 'zuul', hostKeys: [], allocatedTo: null, attempt: 1, leaseOwner: null, leaseExpires: null, holdReason: null,
    holdExpires: null, comment: null, createdAt: T0 - 5000, stateTime: T0 - 5000, launchStartedAt: T0 - 5000, ...o,
  };
}

function request(o: Partial<RequestRecord>): RequestRecord {
  return {
    id: o.id ?? `r${++seq}`, state: 'requested', labels: ['jammy'], requestor: 'ci', priority: 100, tenant: null, provider: null,
    pool: null, nodes: [], reason: null, leaseOwner: null, leaseExpires: null, holderExpires: null, createdAt: T0 - 100,
    stateTime: T0 - 100, fulfilledAt: null, ...o,
  };
}

function server(id: string, o: Partial<ServerView> = {}): ServerView {
  return {
    id, name: `np-${id}`, state: 'active', status: 'ACTIVE', metadata: {}, tags: [], publicIpv4: null, privateIpv4: '127.1.0.9',
    publicIpv6: null, az: 'nova', fault: null, created: null, updated: null, ...o,
  };
}

function view(servers: ServerView[] = [], at: number | null = T0 - 10, seqNo = 1): ProviderCloudView {
  return { servers: new Map(servers.map((s) => [s.id, s])), refreshedAt: at, fullRefreshedAt: at, fullRefreshSeq: seqNo };
}

function run(o: { cfg?: Config; nodes?: NodeRecord[]; requests?: RequestRecord[]; east?: ProviderCloudView; west?: ProviderCloudView;
  now?: number; inflight?: string[]; deleteCalledAt?: [string, number][]; leaks?: [string, number][] }): Action[] {
  // Unless a test gives the cloud's view, every node's server is there and ACTIVE.
  const seen = (provider: string) => view((o.nodes ?? []).filter((n) => n.provider === provider && n.serverId).map((n) => server(n.serverId!)));
  const input: PlanInput = {
    now: o.now ?? T0, launcher: 'me', topology: buildTopology(o.cfg ?? config()), nodes: o.nodes ?? [], requests: o.requests ?? [],
    cloud: new Map([['east', o.east ?? seen('east')], ['west', o.west ?? seen('west')]]), inflight: new Set(o.inflight ?? []),
    deleteCalledAt: new Map(o.deleteCalledAt ?? []), leakSightings: new Map(o.leaks ?? []),
  };
  return plan(input).actions;
}

const types = (actions: Action[]) => actions.map((a) => a.type);

test('a request for an unknown label fails at once with the label named', () => {
  const r = request({ labels: ['jammy', 'fedora-40'] });
  assert.deepEqual(run({ requests: [r] }), [{ type: 'fail-request', requestId: r.id, reason: 'unknown label: fedora-40' }]);
});

test('a request whose labels no single provider has fails: nodes of a request share one provider', () => {
  const cfg = config();
  cfg.providers[0].pools[0].labels = cfg.providers[0].pools[0].labels.filter((l) => l.name === 'noble');
  const r = request({ labels: ['jammy', 'noble'] });
  const [a] = run({ cfg, requests: [r] });
  assert.equal(a.type, 'fail-request');
  assert.match((a as { reason: string }).reason, /no pool provides all of the labels jammy, noble/);
});

test('a request larger than every max-servers fails instead of waiting for ever', () => {
  const r = request({ labels: ['jammy', 'jammy', 'jammy'] });
  const [a] = run({ cfg: config({ maxServers: 2 }), requests: [r] });
  assert.equal(a.type, 'fail-request');
  assert.match((a as { reason: string }).reason, /larger than max-servers/);
});

test('ready nodes are handed out before anything is launched, from the provider that has them', () => {
  const ready = node({ provider: 'west' });
  const r = request({ labels: ['jammy', 'jammy'] });
  const [a] = run({ nodes: [ready], requests: [r] });
  assert.deepEqual(a, { type: 'claim-request', requestId: r.id, provider: 'west', pool: 'main', allocate: [ready.id], launch: ['jammy'] });
});

test('a two-label request goes to the one provider that has both labels', () => {
  const r = request({ labels: ['jammy', 'noble'] });
  const [a] = run({ requests: [r] });
  assert.deepEqual(a, { type: 'claim-request', requestId: r.id, provider: 'east', pool: 'main', allocate: [], launch: ['jammy', 'noble'] });
});

test('a full pool makes the request wait, not fail', () => {
  const cfg = config({ maxServers: 1 });
  const busy = [node({ provider: 'east', state: 'in-use', allocatedTo: 'x' }), node({ provider: 'west', state: 'in-use', allocatedTo: 'y' })];
  const holder = [request({ id: 'x', state: 'fulfilled', holderExpires: T0 + 60_000 }), request({ id: 'y', state: 'fulfilled', holderExpires: T0 + 60_000 })];
  const r = request({ labels: ['jammy'] });
  assert.deepEqual(run({ cfg, nodes: busy, requests: [...holder, r] }), []);
});

test('one ready node is never given to two requests in the same pass', () => {
  const ready = node({ provider: 'east' });
  const [r1, r2] = [request({ createdAt: T0 - 200 }), request({ createdAt: T0 - 100 })];
  const claims = run({ nodes: [ready], requests: [r2, r1] }).filter((a) => a.type === 'claim-request') as Extract<Action, { type: 'claim-request' }>[];
  assert.deepEqual(claims.map((c) => [c.requestId, c.allocate.length, c.launch.length]), [[r1.id, 1, 0], [r2.id, 0, 1]]);
});

test('higher priority (lower number) requests are served first when room is short', () => {
  const cfg = config({ maxServers: 1 });
  cfg.providers.pop();
  const low = request({ priority: 200, createdAt: T0 - 500 });
  const high = request({ priority: 50, createdAt: T0 - 10 });
  const claims = run({ cfg, requests: [low, high] }).filter((a) => a.type === 'claim-request');
  assert.deepEqual(claims.map((c) => (c as { requestId: string }).requestId), [high.id]);
});

test('min-ready tops up each label and spreads it over the providers that have it', () => {
  const acts = run({ cfg: config({ minReady: { jammy: 2, noble: 1 } }) });
  const launches = acts.filter((a) => a.type === 'launch').map((a) => `${(a as { label: string }).label}@${(a as { provider: string }).provider}`).sort();
  assert.deepEqual(launches, ['jammy@east', 'jammy@west', 'noble@east']);
});

test('min-ready counts nodes already booting', () => {
  const booting = node({ state: 'building', step: 'booting', serverId: 's1' });
  const acts = run({ cfg: config({ minReady: { jammy: 1 } }), nodes: [booting], east: view([server('s1', { state: 'building', status: 'BUILD' })]) });
  assert.deepEqual(types(acts), []);
});

test('a pending record is created in the cloud; an ACTIVE server moves on to the SSH scan', () => {
  const pending = node({ state: 'building', step: 'pending', serverId: null });
  const booting = node({ state: 'building', step: 'booting', serverId: 'sb' });
  const acts = run({ nodes: [pending, booting], east: view([server('sb')]) });
  assert.deepEqual(types(acts), ['create-server', 'server-active']);
});

test('work already running in this process is not started twice', () => {
  const pending = node({ state: 'building', step: 'pending', serverId: null });
  assert.deepEqual(run({ nodes: [pending], inflight: [`create:${pending.id}`] }), []);
});

test('a node leased by another live launcher is left alone; an expired lease is taken over', () => {
  const theirs = node({ state: 'building', step: 'pending', serverId: null, leaseOwner: 'other', leaseExpires: T0 + 1000 });
  assert.deepEqual(run({ nodes: [theirs] }), []);
  assert.deepEqual(types(run({ nodes: [theirs], now: T0 + 1001 })), ['create-server']);
});

test('a server in ERROR fails the launch and, for a request with attempts left, retries it', () => {
  const r = request({ state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const n = node({ state: 'building', step: 'booting', serverId: 'se', allocatedTo: r.id, attempt: 1 });
  const acts = run({ nodes: [n], requests: [r], east: view([server('se', { state: 'error', status: 'ERROR', fault: { code: 500, message: 'No valid host was found. ' } })]) });
  assert.deepEqual(acts, [{ type: 'launch-failed', nodeId: n.id, reason: 'server went to ERROR: 500 No valid host was found.', retry: true }]);
  const last = node({ ...n, id: 'last', attempt: 3 });
  assert.equal((run({ nodes: [last], requests: [r], east: view([server('se', { state: 'error', status: 'ERROR' })]) })[0] as { retry: boolean }).retry, false);
});

test('a server still in BUILD after boot-timeout fails the launch', () => {
  const n = node({ state: 'building', step: 'booting', serverId: 'sx', launchStartedAt: T0 - 61_000 });
  const [a] = run({ nodes: [n], east: view([server('sx', { state: 'building', status: 'BUILD' })]) });
  assert.equal(a.type, 'launch-failed');
  assert.match((a as { reason: string }).reason, /boot timeout/);
});

test('a lost create answer is recovered by finding the server by name, or retried when it never appeared', () => {
  const n = node({ state: 'building', step: 'creating', serverId: null, launchStartedAt: T0 - 20_000 });
  assert.deepEqual(run({ nodes: [n], east: view([server('found', { name: n.hostname, state: 'building' })]) }),
    [{ type: 'adopt-server', nodeId: n.id, serverId: 'found' }]);
  assert.deepEqual(types(run({ nodes: [n], east: view([], T0 - 20_000 + CREATE_GRACE_MS + 1) })), ['retry-create']);
  assert.deepEqual(types(run({ nodes: [n], east: view([], T0 - 20_000 + 5) })), []);
});

test('a request is fulfilled when all its nodes are ready, in the order of its labels', () => {
  const r = request({ labels: ['noble', 'jammy'], state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const j = node({ label: 'jammy', allocatedTo: r.id });
  const nb = node({ label: 'noble', allocatedTo: r.id });
  assert.deepEqual(run({ nodes: [j, nb], requests: [r] }), [{ type: 'fulfill-request', requestId: r.id, nodeIds: [nb.id, j.id] }]);
  const stillBooting = { ...nb, state: 'building' as const, step: 'booting' as const };
  assert.deepEqual(types(run({ nodes: [j, stillBooting], requests: [r], east: view([server(nb.serverId!, { state: 'building' })]) })), []);
});

test('a node of a pending request deleted by an operator is launched again', () => {
  const r = request({ labels: ['jammy', 'jammy'], state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const ok = node({ allocatedTo: r.id });
  const gone = node({ allocatedTo: r.id, state: 'deleting' });
  const acts = run({ nodes: [ok, gone], requests: [r], deleteCalledAt: [[gone.id, T0 - 10]] });
  assert.ok(acts.some((a) => a.type === 'launch-for-request' && a.labels.join() === 'jammy'));
});

test('used nodes are deleted; in-use nodes are not, until their requestor lease expires', () => {
  const r = request({ state: 'fulfilled', holderExpires: T0 + 5000 });
  const inUse = node({ state: 'in-use', allocatedTo: r.id });
  const used = node({ state: 'used', allocatedTo: 'old' });
  assert.deepEqual(run({ nodes: [inUse, used], requests: [r] }).map((a) => [a.type, (a as { nodeId: string }).nodeId]), [['delete-node', used.id]]);
  assert.deepEqual(types(run({ nodes: [inUse], requests: [r], now: T0 + 5000 })), ['return-used']);
});

test('a held node is kept until its hold expires', () => {
  const held = node({ state: 'hold', holdReason: 'debug', holdExpires: T0 + 1000 });
  assert.deepEqual(run({ nodes: [held] }), []);
  assert.deepEqual(types(run({ nodes: [held], now: T0 + 1000 })), ['delete-node']);
});

test('a ready node older than max-ready-age is replaced', () => {
  const old = node({ stateTime: T0 - 3_600_001 });
  assert.deepEqual(types(run({ cfg: config({ maxReadyAge: 3600 }), nodes: [old] })), ['delete-node']);
});

test('a deleted server is forgotten once a list after the delete call no longer shows it', () => {
  const d = node({ state: 'deleting', serverId: 'sd' });
  assert.deepEqual(types(run({ nodes: [d] })), ['delete-server']);
  assert.deepEqual(types(run({ nodes: [d], deleteCalledAt: [[d.id, T0 - 5]], east: view([server('sd', { state: 'deleting' })], T0) })), []);
  assert.deepEqual(types(run({ nodes: [d], deleteCalledAt: [[d.id, T0 - 5]], east: view([], T0) })), ['remove-node']);
});

test('a ready node whose server vanished from the cloud is forgotten', () => {
  const n = node({});
  assert.deepEqual(types(run({ nodes: [n], east: view([], T0) })), ['remove-node']);
});

test('a tagged server unknown to the store is deleted only when seen on two complete lists', () => {
  const leak = server('lost', { metadata: { nodepool_provider_name: 'east', nodepool_node_id: 'no-such-node' } });
  const foreign = server('theirs', { metadata: {} });
  assert.deepEqual(run({ east: view([leak, foreign], T0, 4) }), [{ type: 'note-leak', provider: 'east', serverId: 'lost' }]);
  assert.deepEqual(run({ east: view([leak, foreign], T0, 4), leaks: [['east/lost', 4]] }), []);
  assert.deepEqual(types(run({ east: view([leak, foreign], T0, 5), leaks: [['east/lost', 4]] })), ['delete-leak']);
});

test('a server whose node is still being created is not a leak', () => {
  const n = node({ state: 'building', step: 'creating', serverId: null });
  const s = server('new', { name: n.hostname, state: 'building', metadata: { nodepool_provider_name: 'east', nodepool_node_id: n.id } });
  assert.ok(!run({ nodes: [n], east: view([s], T0, 9), leaks: [['east/new', 1]] }).some((a) => a.type === 'delete-leak'));
});
