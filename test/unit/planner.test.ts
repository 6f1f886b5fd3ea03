import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../../src/config/types.ts';
import type { NodeRecord, RequestRecord } from '../../src/model.ts';
import type { ServerView } from '../../providers/provider.ts';
import { plan, type Action, type LaunchFailure, type PlanInput, type ProviderCloudView, type ProviderConditions } from '../../src/launcher/planner.ts';
import { CREATE_CALL_LIMIT_MS } from '../../src/launcher/evidence.ts';
import { ORPHANED_CREATE, ORPHAN_GRACE_MS } from '../../src/launcher/plan-nodes.ts';
import { UNCLAIMED_MS } from '../../src/launcher/plan-claims.ts';
import { buildTopology } from '../../src/launcher/topology.ts';

// A small world: two providers; `east` has two labels, `west` only jammy. Time is a number we pass in.

const T0 = 1_000_000;

function config(opts: { minReady?: Record<string, number>; maxServers?: number; maxReadyAge?: number } = {}): Config {
  const label = (name: string) => ({
    name, cloudImage: name, flavorName: 'm1.small', instanceProperties: {}, connectionPort: 22, username: 'zuul', hostKeyChecking: true,
  });
  const provider = (name: string, labels: string[], priority: number) => ({
    name, driver: 'openstack' as const, cloud: name, bootTimeout: 60, launchTimeout: 600, launchRetries: 3, rate: 0,
    refreshInterval: 10, fullRefreshInterval: 60, listInterval: 1, maxConcurrency: 0, cleanFloatingIps: false, computeMicroversion: '2.79', cloudImages: labels.map((l) => ({ name: l, imageName: l })),
    pools: [{ name: 'main', maxServers: opts.maxServers ?? 5, networks: [], availabilityZones: [], autoFloatingIp: false, floatingIpNetwork: 'public', priority, labels: labels.map(label) }],
  });
  return {
    path: null,
    labels: ['jammy', 'noble'].map((name) => ({ name, minReady: opts.minReady?.[name] ?? 0, maxReadyAge: opts.maxReadyAge ?? 0 })),
    providers: [provider('east', ['jammy', 'noble'], 100), provider('west', ['jammy'], 100)],
    tenantResourceLimits: [],
    api: { listen: '127.0.0.1', port: 0, requestLeaseTimeout: 600 },
    store: { driver: 'sqlite', path: ':memory:' },
    cloudSim: { clouds: [], port: 0, bootDelay: 1, deleteDelay: 0.5, sshPort: 2022 },
  };
}

let seq = 0;
function node(o: Partial<NodeRecord> & { label?: string; provider?: string }): NodeRecord {
  const id = o.id ?? `n${++seq}`;
  return {
    id, label: 'jammy', provider: 'east', pool: 'main', state: 'ready', step: null, serverId: `s-${id}`, hostname: `np-${id}`,
    interfaceIp: '127.1.0.1', publicIpv4: null, privateIpv4: '127.1.0.1', publicIpv6: null, az: null, connectionPort: 22,
    username: 'zuul', hostKeys: [], allocatedTo: null, attempt: 1, leaseOwner: null, leaseExpires: null, holdReason: null,
    holdExpires: null, comment: null, createdAt: T0 - 5000, stateTime: T0 - 5000, launchStartedAt: T0 - 5000, createAnsweredAt: T0 - 4000, pythonPath: null, ...o,
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
  return { servers: new Map(servers.map((s) => [s.id, s])), gone: new Map(), refreshedAt: at, fullRefreshedAt: at, fullRefreshSeq: seqNo };
}

/** The view after an incremental (changes-since) list sent at `at` on top of a complete one sent at `full`. */
function incremental(servers: ServerView[], full: number, at: number, gone: string[] = []): ProviderCloudView {
  return { ...view(servers, full), refreshedAt: at, gone: new Map(gone.map((id) => [id, at])) };
}

type World = { cfg?: Config; nodes?: NodeRecord[]; requests?: RequestRecord[]; east?: ProviderCloudView; west?: ProviderCloudView;
  now?: number; inflight?: string[]; startedAt?: number; deleteCalledAt?: [string, number][]; deleteAnsweredAt?: [string, number][]; leaks?: [string, number][];
  /** The providers this launcher serves (`--providers`); default every one. */
  served?: string[] };

function inputOf(o: World): PlanInput {
  // Unless a test gives the cloud's view, every node's server is there and ACTIVE.
  const seen = (provider: string) => view((o.nodes ?? []).filter((n) => n.provider === provider && n.serverId).map((n) => server(n.serverId!)));
  return {
    now: o.now ?? T0, launcher: 'me', topology: buildTopology(o.cfg ?? config()), nodes: o.nodes ?? [], requests: o.requests ?? [],
    cloud: new Map([['east', o.east ?? seen('east')], ['west', o.west ?? seen('west')]]), inflight: new Set(o.inflight ?? []), startedAt: o.startedAt,
    deleteCalledAt: new Map(o.deleteCalledAt ?? []), deleteAnsweredAt: new Map(o.deleteAnsweredAt ?? []), leakSightings: new Map(o.leaks ?? []),
    served: o.served ? new Set(o.served) : null,
  };
}

function run(o: World): Action[] {
  return plan(inputOf(o)).actions;
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

test('a launcher serving some providers leaves a request to the launcher of its best pool, and claims it in its own once nobody has for UNCLAIMED_MS', () => {
  // Both pools are empty and alike: east, the first, is the best; this launcher serves west.
  const r = request({ stateTime: T0 - 100 });
  const early = plan(inputOf({ requests: [r], served: ['west'] }));
  assert.deepEqual(early.actions, [{ type: 'claim-request', requestId: r.id, provider: 'east', pool: 'main', allocate: [], launch: ['jammy'] }],
    'the plan picks east, as every launcher does (the launcher carries out only what acts in west)');
  assert.equal(early.nextWakeAt, r.stateTime + UNCLAIMED_MS, 'it looks again when the request has waited long enough');
  // Every launcher serving everything: no such wait.
  assert.equal(plan(inputOf({ requests: [r] })).nextWakeAt, null);

  const late = run({ requests: [r], served: ['west'], now: r.stateTime + UNCLAIMED_MS });
  assert.deepEqual(late, [{ type: 'claim-request', requestId: r.id, provider: 'west', pool: 'main', allocate: [], launch: ['jammy'] }]);
  // A ready node of its own is handed out, not a new one launched.
  const ready = node({ provider: 'west' });
  assert.deepEqual(run({ nodes: [ready], requests: [r], served: ['west'], now: r.stateTime + UNCLAIMED_MS }),
    [{ type: 'claim-request', requestId: r.id, provider: 'west', pool: 'main', allocate: [ready.id], launch: [] }]);
  // A request only east can serve stays east's.
  const noble = request({ labels: ['noble'], stateTime: T0 - UNCLAIMED_MS });
  assert.deepEqual(run({ requests: [noble], served: ['west'] }), [{ type: 'claim-request', requestId: noble.id, provider: 'east', pool: 'main', allocate: [], launch: ['noble'] }]);
});

test('a launcher serving some providers makes room in its own full pool once a request left to another has waited UNCLAIMED_MS', () => {
  const cfg = config({ maxServers: 1 });
  cfg.providers[1].pools[0].labels = cfg.providers[0].pools[0].labels;
  // Each pool full with a ready node of the other label; east is the pool every launcher waits on.
  const eastNoble = node({ provider: 'east', label: 'noble' });
  const westNoble = node({ provider: 'west', label: 'noble' });
  const r = request({ stateTime: T0 - 100 });
  const deleted = (actions: Action[]) => actions.filter((a) => a.type === 'delete-node').map((a) => (a as { nodeId: string }).nodeId);
  assert.deepEqual(deleted(run({ cfg, nodes: [eastNoble, westNoble], requests: [r], served: ['west'] })), [eastNoble.id]);
  assert.deepEqual(deleted(run({ cfg, nodes: [eastNoble, westNoble], requests: [r], served: ['west'], now: r.stateTime + UNCLAIMED_MS })), [westNoble.id]);
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

test('a request waiting for room keeps what room its pool has: younger small requests do not take it', () => {
  const cfg = config({ maxServers: 3 });
  const inUse = (provider: string, holder: string) => node({ provider, state: 'in-use', allocatedTo: holder });
  const holders = ['x', 'y'].map((id) => request({ id, state: 'fulfilled', holderExpires: T0 + 60_000 }));
  // Each provider has one slot left; a two-node request fits in neither and waits.
  const busy = [inUse('east', 'x'), inUse('east', 'x'), inUse('west', 'y'), inUse('west', 'y')];
  const big = request({ labels: ['jammy', 'jammy'], createdAt: T0 - 300 });
  const small = [request({ createdAt: T0 - 200 }), request({ createdAt: T0 - 100 })];
  const claims = () => run({ cfg, nodes: busy, requests: [...holders, big, ...small] })
    .filter((a) => a.type === 'claim-request') as Extract<Action, { type: 'claim-request' }>[];
  // The big request waits on one pool; only the other pool's slot goes to the oldest small request.
  const first = claims();
  assert.equal(first.length, 1);
  assert.equal(first[0].requestId, small[0].id);
  // A slot freed in the pool the big request waits on goes to it, not to the small one still waiting.
  const waitedOn = first[0].provider === 'east' ? 'west' : 'east';
  busy.splice(busy.findIndex((n) => n.provider === waitedOn), 1);
  busy.push(inUse(first[0].provider, 'x'));
  const next = claims();
  assert.deepEqual(next.map((c) => [c.requestId, c.provider]), [[big.id, waitedOn]]);
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

test('a lost create answer is recovered by finding the server by name, or retried when a list sent after the call could have ended never showed it', () => {
  const sent = T0 - 40_000;
  const n = node({ state: 'building', step: 'creating', serverId: null, launchStartedAt: sent, createAnsweredAt: null });
  assert.deepEqual(run({ nodes: [n], east: view([server('found', { name: n.hostname, state: 'building' })]) }),
    [{ type: 'adopt-server', nodeId: n.id, serverId: 'found' }]);
  // The call may have made its server as late as its timeout after it was sent.
  assert.deepEqual(types(run({ nodes: [n], east: view([], sent + 10_000) })), []);
  assert.deepEqual(types(run({ nodes: [n], east: view([], sent + CREATE_CALL_LIMIT_MS + 1) })), ['retry-create']);
});

test("a request's node whose lost create call made no server listed within ORPHAN_GRACE_MS is replaced, without using an attempt; a node for min-ready waits the call out", () => {
  const sent = T0 - 12_000;
  const r = request({ state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const n = node({ state: 'building', step: 'creating', serverId: null, allocatedTo: r.id, launchStartedAt: sent, createAnsweredAt: null });
  // A complete list sent before the grace ran out says nothing yet.
  assert.deepEqual(run({ nodes: [n], requests: [r], east: view([], sent + ORPHAN_GRACE_MS - 1) }), []);
  assert.deepEqual(run({ nodes: [n], requests: [r], east: view([], sent + ORPHAN_GRACE_MS + 1) }),
    [{ type: 'launch-failed', nodeId: n.id, reason: ORPHANED_CREATE, retry: true, kind: 'orphaned' }]);
  // This process's own call, still running, is waited for.
  assert.deepEqual(run({ nodes: [n], requests: [r], east: view([], sent + ORPHAN_GRACE_MS + 1), inflight: [`create:${n.id}`] }), []);
  // So is one it sent whose task just ended: the rows this pass read may be older than its answer.
  const mine = { ...n, leaseOwner: 'me', leaseExpires: T0 + 30_000 };
  assert.deepEqual(run({ nodes: [mine], requests: [r], east: view([], sent + ORPHAN_GRACE_MS + 1), startedAt: sent - 60_000 }), []);
  // After a restart under the same name, the call was the previous process's.
  assert.deepEqual(types(run({ nodes: [mine], requests: [r], east: view([], sent + ORPHAN_GRACE_MS + 1), startedAt: sent + 1 })), ['launch-failed']);
  // A server the lost call made, once listed, is adopted as before.
  assert.deepEqual(types(run({ nodes: [n], requests: [r], east: view([server('made', { name: n.hostname, state: 'building' })]) })), ['adopt-server']);
  const forMinReady = { ...n, allocatedTo: null };
  assert.deepEqual(types(run({ nodes: [forMinReady], east: view([], sent + ORPHAN_GRACE_MS + 1) })), []);
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

test('a deleted server is forgotten once a complete list sent after the delete call answered no longer shows it', () => {
  const d = node({ state: 'deleting', serverId: 'sd' });
  const called: [string, number][] = [[d.id, T0 - 50]];
  const answered: [string, number][] = [[d.id, T0 - 20]];
  assert.deepEqual(types(run({ nodes: [d] })), ['delete-server']);
  assert.deepEqual(types(run({ nodes: [d], deleteCalledAt: called, deleteAnsweredAt: answered, east: view([server('sd', { state: 'deleting' })], T0) })), []);
  assert.deepEqual(types(run({ nodes: [d], deleteCalledAt: called, deleteAnsweredAt: answered, east: view([], T0) })), ['remove-node']);
});

// ---- evidence newer than the call: what a server list may say about one server ----

/**
 * One row per situation: a node, the cloud view the launcher holds, the delete call's times, and
 * what the planner does. A create was sent at SENT and answered at ANSWERED (a real Nova under a
 * burst answered after 3-8.5 s); complete lists are sent at the times named.
 */
const SENT = T0 - 9000;
const ANSWERED = T0 - 3000;
const evidenceTable: { says: string; node: Partial<NodeRecord>; east: ProviderCloudView; called?: number; answered?: number; now?: number; expect: string[] }[] = [
  { says: 'a booting server missing from a complete list sent before its create call answered is not judged vanished',
    node: { state: 'building', step: 'booting', serverId: 'slow', launchStartedAt: SENT, createAnsweredAt: ANSWERED }, east: view([], ANSWERED - 1000), expect: [] },
  { says: 'one missing from a complete list sent after the answer is',
    node: { state: 'building', step: 'booting', serverId: 'slow', launchStartedAt: SENT, createAnsweredAt: ANSWERED }, east: view([], ANSWERED + 1), expect: ['launch-failed'] },
  { says: 'an incremental list after the answer that does not name it says nothing',
    node: { state: 'building', step: 'booting', serverId: 'slow', launchStartedAt: SENT, createAnsweredAt: ANSWERED }, east: incremental([], ANSWERED - 1000, T0 - 10), expect: [] },
  { says: 'a node from before answer times were kept waits out the create call\'s longest time',
    node: { state: 'building', step: 'booting', serverId: 'old', launchStartedAt: SENT, createAnsweredAt: null }, east: view([], T0 - 10), expect: [] },
  { says: '... and is judged by a complete list sent after it',
    node: { state: 'building', step: 'booting', serverId: 'old', launchStartedAt: SENT, createAnsweredAt: null }, east: view([], SENT + CREATE_CALL_LIMIT_MS + 1), now: T0 + 30_000, expect: ['launch-failed'] },
  { says: 'a lost create answer is retried only when a complete list sent after the call could have ended lacks its server',
    node: { state: 'building', step: 'creating', serverId: null, launchStartedAt: SENT, createAnsweredAt: null }, east: view([], SENT + 10_000), expect: [] },
  { says: '... which it does once that list comes',
    node: { state: 'building', step: 'creating', serverId: null, launchStartedAt: SENT, createAnsweredAt: null }, east: view([], SENT + CREATE_CALL_LIMIT_MS + 1), now: T0 + 30_000, expect: ['retry-create'] },
  { says: 'a node deleted while its create call ran is not judged never created by a list sent before that call answered',
    node: { state: 'deleting', step: 'creating', serverId: null, launchStartedAt: SENT, createAnsweredAt: ANSWERED }, east: view([], ANSWERED - 1000), expect: [] },
  { says: '... but by one sent after',
    node: { state: 'deleting', step: 'creating', serverId: null, launchStartedAt: SENT, createAnsweredAt: ANSWERED }, east: view([], ANSWERED + 1), expect: ['remove-node'] },
  { says: 'a server whose DELETE has not answered is not gone, whatever a list says',
    node: { state: 'deleting', serverId: 'sd' }, east: view([], T0 - 10), called: T0 - 50, expect: [] },
  { says: 'nor is one missing from a complete list sent before the DELETE answered',
    node: { state: 'deleting', serverId: 'sd' }, east: view([], T0 - 30), called: T0 - 50, answered: T0 - 20, expect: [] },
  { says: 'nor one an incremental list after the answer does not name (it was made after the last complete list)',
    node: { state: 'deleting', serverId: 'sd' }, east: incremental([], T0 - 30, T0 - 5), called: T0 - 50, answered: T0 - 20, expect: [] },
  { says: 'a server still listed (task_state deleting) after the answer is not gone',
    node: { state: 'deleting', serverId: 'sd' }, east: view([server('sd', { state: 'deleting' })], T0 - 5), called: T0 - 50, answered: T0 - 20, expect: [] },
  { says: 'a server a list showed DELETED is gone',
    node: { state: 'deleting', serverId: 'sd' }, east: incremental([], T0 - 30, T0 - 5, ['sd']), called: T0 - 50, answered: T0 - 20, expect: ['remove-node'] },
  { says: 'a server missing from a complete list sent after the DELETE answered is gone',
    node: { state: 'deleting', serverId: 'sd' }, east: view([], T0 - 5), called: T0 - 50, answered: T0 - 20, expect: ['remove-node'] },
];

for (const row of evidenceTable) {
  test(`evidence: ${row.says}`, () => {
    const n = node(row.node);
    const acts = run({
      nodes: [n], east: row.east, now: row.now,
      deleteCalledAt: row.called === undefined ? [] : [[n.id, row.called]],
      deleteAnsweredAt: row.answered === undefined ? [] : [[n.id, row.answered]],
    });
    assert.deepEqual(types(acts), row.expect);
  });
}

test('a node being deleted holds its slot until its server is gone: a request on the full pool waits', () => {
  const cfg = config({ maxServers: 1 });
  cfg.providers.pop();
  const d = node({ state: 'deleting', serverId: 'sd' });
  assert.deepEqual(run({ cfg, nodes: [d], requests: [request({})], deleteCalledAt: [[d.id, T0 - 50]], deleteAnsweredAt: [[d.id, T0 - 20]], east: view([], T0 - 30) }), []);
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

// ---- quota, health and spillover ----

function conditions(o: Partial<ProviderConditions> = {}): ProviderConditions {
  return { health: 'healthy', labelCost: new Map(), cloudRoom: null, pausedUntil: new Map(), backoffUntil: new Map(), ...o };
}

function runWith(o: Parameters<typeof run>[0] & { east?: ProviderCloudView; cond?: Record<string, Partial<ProviderConditions>>; declined?: [string, string[]][]; failures?: [string, LaunchFailure][] }): Action[] {
  const seen = (provider: string) => view((o.nodes ?? []).filter((n) => n.provider === provider && n.serverId).map((n) => server(n.serverId!)));
  return plan({
    now: o.now ?? T0, launcher: 'me', topology: buildTopology(o.cfg ?? config()), nodes: o.nodes ?? [], requests: o.requests ?? [],
    cloud: new Map([['east', o.east ?? seen('east')], ['west', o.west ?? seen('west')]]), inflight: new Set(o.inflight ?? []),
    deleteCalledAt: new Map(o.deleteCalledAt ?? []), deleteAnsweredAt: new Map(o.deleteAnsweredAt ?? []), leakSightings: new Map(o.leaks ?? []),
    conditions: new Map(Object.entries(o.cond ?? {}).map(([k, v]) => [k, conditions(v)])),
    declined: new Map((o.declined ?? []).map(([r, ps]) => [r, new Set(ps)])),
    launchFailures: new Map(o.failures ?? []),
  }).actions;
}

const claimsOf = (acts: Action[]) => acts.filter((a) => a.type === 'claim-request') as Extract<Action, { type: 'claim-request' }>[];
const small = { instances: 1, cores: 2, ram: 2048 };

test('the cloud limits less what servers we do not manage use are never exceeded, so the cloud never says no', () => {
  const cfg = config({ maxServers: 10 });
  cfg.providers.pop();
  const rs = [request({}), request({}), request({})];
  // The cloud leaves room for 4 cores: two small nodes.
  const acts = runWith({ cfg, requests: rs, cond: { east: { labelCost: new Map([['main/jammy', small]]), cloudRoom: { instances: 10, cores: 4, ram: 100_000 } } } });
  assert.equal(claimsOf(acts).length, 2);
});

test('a pool never launches past its max-cores', () => {
  const cfg = config({ maxServers: 10 });
  cfg.providers.pop();
  cfg.providers[0].pools[0].maxCores = 5;
  const acts = runWith({ cfg, requests: [request({}), request({}), request({})], cond: { east: { labelCost: new Map([['main/jammy', small]]) } } });
  assert.equal(claimsOf(acts).length, 2);
});

test('a tenant never holds more than its limit across providers', () => {
  const cfg = config({ maxServers: 10 });
  cfg.tenantResourceLimits = [{ tenantName: 'acme', maxServers: 1 }];
  const held = request({ id: 'held', state: 'fulfilled', tenant: 'acme', holderExpires: T0 + 60_000 });
  const busy = node({ state: 'in-use', allocatedTo: 'held' });
  const mine = request({ tenant: 'acme' });
  const other = request({ tenant: 'globex' });
  const acts = runWith({ cfg, nodes: [busy], requests: [held, mine, other] });
  assert.deepEqual(claimsOf(acts).map((c) => c.requestId), [other.id]);
});

test('a paused pool launches nothing until its pause ends; the request waits', () => {
  const cfg = config();
  cfg.providers.pop();
  const r = request({});
  const paused = { east: { pausedUntil: new Map([['main', T0 + 5000]]) } };
  assert.deepEqual(runWith({ cfg, requests: [r], cond: paused }), []);
  assert.equal(claimsOf(runWith({ cfg, requests: [r], cond: paused, now: T0 + 5000 })).length, 1);
});

test('a label in backoff is not launched there; another provider with the label is used', () => {
  const r = request({});
  const acts = runWith({ requests: [r], cond: { east: { backoffUntil: new Map([['jammy', T0 + 1000]]) } } });
  assert.deepEqual(claimsOf(acts).map((c) => c.provider), ['west']);
});

test('an unhealthy provider gets no new launches; its ready nodes are not handed out either', () => {
  const ready = node({ provider: 'east' });
  const r = request({});
  const acts = runWith({ nodes: [ready], requests: [r], cond: { east: { health: 'unhealthy' } } });
  assert.deepEqual(claimsOf(acts).map((c) => [c.provider, c.allocate.length]), [['west', 0]]);
});

test('a degraded provider is used only after a healthy one', () => {
  const r = request({});
  assert.deepEqual(claimsOf(runWith({ requests: [r], cond: { west: { health: 'degraded' } } })).map((c) => c.provider), ['east']);
  assert.deepEqual(claimsOf(runWith({ requests: [r], cond: { east: { health: 'degraded' } } })).map((c) => c.provider), ['west']);
});

test('"No valid host" moves the request to another provider that has its labels instead of retrying there', () => {
  const r = request({ state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const n = node({ state: 'building', step: 'booting', serverId: 'sx', allocatedTo: r.id });
  const acts = runWith({ nodes: [n], requests: [r], east: view([server('sx', { state: 'error', status: 'ERROR', fault: { code: 500, message: 'No valid host was found.', kind: 'capacity' } })]) });
  assert.deepEqual(types(acts), ['launch-failed', 'decline-request']);
  assert.equal((acts[0] as { moved?: boolean }).moved, true);
});

test('a declined request is claimed by another provider, and by the one that declined only when no other can', () => {
  const r = request({});
  assert.deepEqual(claimsOf(runWith({ requests: [r], declined: [[r.id, ['east']]] })).map((c) => c.provider), ['west']);
  const noble = request({ labels: ['noble'] });
  assert.deepEqual(claimsOf(runWith({ requests: [noble], declined: [[noble.id, ['east']]] })).map((c) => c.provider), ['east']);
});

test('a declined request goes back to the provider that declined it when the others are full', () => {
  const cfg = config({ maxServers: 1 });
  const holder = request({ id: 'h', state: 'fulfilled', holderExpires: T0 + 60_000 });
  const busyWest = node({ provider: 'west', state: 'in-use', allocatedTo: 'h' });
  const r = request({});
  assert.deepEqual(claimsOf(runWith({ cfg, nodes: [busyWest], requests: [holder, r], declined: [[r.id, ['east']]] })).map((c) => c.provider), ['east']);
});

test('a quota fault on a server (the quota race) does not use an attempt nor fail the request: the slot is retried even after the last attempt', () => {
  const r = request({ labels: ['noble'], state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const n = node({ label: 'noble', state: 'building', step: 'booting', serverId: 'sq', allocatedTo: r.id, attempt: 3 });
  const acts = runWith({ nodes: [n], requests: [r], east: view([server('sq', { state: 'error', status: 'ERROR', fault: { code: 413, message: 'Quota exceeded for instances', kind: 'quota' } })]) });
  assert.deepEqual(acts, [
    { type: 'launch-failed', nodeId: n.id, reason: 'server went to ERROR: 413 Quota exceeded for instances', retry: true, kind: 'quota' },
    { type: 'pause-pool', provider: 'east', pool: 'main', reason: 'server went to ERROR: 413 Quota exceeded for instances' },
  ]);
});

test('a request waiting on a full pool makes room by deleting the oldest ready node of another label, never an in-use or held one', () => {
  const cfg = config({ maxServers: 3 });
  cfg.providers.pop();
  const holder = request({ id: 'h', state: 'fulfilled', holderExpires: T0 + 60_000 });
  const inUse = node({ label: 'noble', state: 'in-use', allocatedTo: 'h', stateTime: T0 - 9000 });
  const held = node({ label: 'noble', state: 'hold', stateTime: T0 - 8000 });
  const older = node({ label: 'noble', stateTime: T0 - 7000 });
  const r = request({ labels: ['jammy'] });
  const acts = runWith({ cfg, nodes: [inUse, held, older], requests: [holder, r] });
  assert.deepEqual(acts.map((a) => [a.type, (a as { nodeId?: string }).nodeId]), [['delete-node', older.id]]);
  // Once that node is on its way out, nothing more is deleted.
  const leaving = { ...older, state: 'deleting' as const };
  assert.deepEqual(runWith({ cfg, nodes: [inUse, held, leaving], requests: [holder, r], deleteCalledAt: [[older.id, T0 - 1]], east: view([server(inUse.serverId!), server(held.serverId!), server(older.serverId!, { state: 'deleting' })]) }), []);
});

test('max-concurrency bounds the launches in flight in a provider', () => {
  const cfg = config({ minReady: { jammy: 5 } });
  cfg.providers.pop();
  cfg.providers[0].maxConcurrency = 2;
  assert.equal(runWith({ cfg }).filter((a) => a.type === 'launch').length, 2);
});

// ---- retries on a full pool: the attempts are the request slot's ----

test('on a full pool a failed launch with attempts left is retried in its own slot, not relaunched as a first attempt', () => {
  const cfg = config({ maxServers: 1 });
  cfg.providers.pop();
  const r = request({ state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const n = node({ state: 'building', step: 'booting', serverId: 'se', allocatedTo: r.id, attempt: 2 });
  const acts = runWith({ cfg, nodes: [n], requests: [r], east: view([server('se', { state: 'error', status: 'ERROR' })]) });
  assert.deepEqual(acts, [{ type: 'launch-failed', nodeId: n.id, reason: 'server went to ERROR', retry: true }]);
  const last = node({ ...n, id: 'last', attempt: 3 });
  assert.deepEqual(runWith({ cfg, nodes: [last], requests: [r], east: view([server('se', { state: 'error', status: 'ERROR' })]) }),
    [{ type: 'launch-failed', nodeId: 'last', reason: 'server went to ERROR', retry: false, failRequest: 'launch of jammy in east failed after 3 attempts: server went to ERROR' }]);
});

test('a retry that took a failed node\'s slot in a full pool creates its server only once the failed server is gone', () => {
  const cfg = config({ maxServers: 1 });
  cfg.providers.pop();
  const r = request({ state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const failed = node({ state: 'deleting', serverId: 'se', comment: 'server went to ERROR' });
  const retry = node({ state: 'building', step: 'pending', serverId: null, allocatedTo: r.id, attempt: 2, launchStartedAt: null, createAnsweredAt: null });
  const called: [string, number][] = [[failed.id, T0 - 100]];
  assert.deepEqual(types(runWith({ cfg, nodes: [failed, retry], requests: [r], deleteCalledAt: called, east: view([server('se')], T0 - 10) })), []);
  // The failed node is gone: the retry is created.
  assert.deepEqual(runWith({ cfg, nodes: [retry], requests: [r] }), [{ type: 'create-server', nodeId: retry.id }]);
  // With room in the pool it does not wait for the failed server.
  const roomy = config({ maxServers: 2 });
  roomy.providers.pop();
  assert.deepEqual(types(runWith({ cfg: roomy, nodes: [failed, retry], requests: [r], deleteCalledAt: called, east: view([server('se')], T0 - 10) })), ['create-server']);
});

test('a retry of a launch the cloud refused (no server made) does not wait for the failed record to go', () => {
  const cfg = config({ maxServers: 1 });
  cfg.providers.pop();
  const r = request({ state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const refused = node({ state: 'failed', step: null, serverId: null, comment: 'create failed: config: flavor not found' });
  const retry = node({ state: 'building', step: 'pending', serverId: null, allocatedTo: r.id, attempt: 2, launchStartedAt: null, createAnsweredAt: null });
  assert.deepEqual(runWith({ cfg, nodes: [refused, retry], requests: [r] }).map((a) => [a.type, (a as { nodeId: string }).nodeId]),
    [['delete-node', refused.id], ['create-server', retry.id]]);
  // A failed create whose server may exist all the same (a 5xx after the call left) holds the slot.
  const unsure = node({ state: 'deleting', step: 'creating', serverId: null, createAnsweredAt: T0 - 100 });
  assert.deepEqual(types(runWith({ cfg, nodes: [unsure, retry], requests: [r], east: view([], T0 - 200) })), []);
});

test('a node waiting to create its server waits for room in the cloud and for a paused pool', () => {
  const cfg = config({ maxServers: 5 });
  cfg.providers.pop();
  const r = request({ state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const failed = node({ state: 'failed', serverId: 'se', leaseOwner: 'other', leaseExpires: T0 + 10_000 });
  const retry = node({ state: 'building', step: 'pending', serverId: null, allocatedTo: r.id, attempt: 2, launchStartedAt: null, createAnsweredAt: null });
  const oneLeft = { east: { cloudRoom: { instances: 1, cores: 100, ram: 100_000 } } };
  assert.deepEqual(runWith({ cfg, nodes: [failed, retry], requests: [r], cond: oneLeft }), []);
  assert.deepEqual(types(runWith({ cfg, nodes: [retry], requests: [r], cond: oneLeft })), ['create-server']);
  const paused = { east: { pausedUntil: new Map([['main', T0 + 5000]]) } };
  assert.deepEqual(runWith({ cfg, nodes: [retry], requests: [r], cond: paused }), []);
  assert.deepEqual(types(runWith({ cfg, nodes: [retry], requests: [r], cond: paused, now: T0 + 5000 })), ['create-server']);
});

test('a create call running in this process holds its slot: a waiting node does not take it', () => {
  const cfg = config({ maxServers: 1 });
  cfg.providers.pop();
  const creating = node({ state: 'building', step: 'pending', serverId: null, launchStartedAt: null, createAnsweredAt: null });
  const waiting = node({ state: 'building', step: 'pending', serverId: null, launchStartedAt: null, createAnsweredAt: null });
  assert.deepEqual(runWith({ cfg, nodes: [creating, waiting], inflight: [`create:${creating.id}`] }), []);
});

test('a request holding more nodes than it asked for (two launchers launched for it at once) hands the extra back and is fulfilled', () => {
  const r = request({ labels: ['jammy', 'jammy'], state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const [a, b, c] = [node({ allocatedTo: r.id, createdAt: T0 - 300 }), node({ allocatedTo: r.id, createdAt: T0 - 200 }), node({ allocatedTo: r.id, createdAt: T0 - 100 })];
  assert.deepEqual(run({ nodes: [a, b, c], requests: [r] }), [
    { type: 'unallocate-node', nodeId: c.id },
    { type: 'fulfill-request', requestId: r.id, nodeIds: [a.id, b.id] },
  ]);
  // A ready extra is kept before a booting one.
  const booting = { ...a, state: 'building' as const, step: 'booting' as const };
  assert.deepEqual(run({ nodes: [booting, b, c], requests: [r], east: view([server(a.serverId!, { state: 'building' }), server(b.serverId!), server(c.serverId!)]) }), [
    { type: 'unallocate-node', nodeId: a.id },
    { type: 'fulfill-request', requestId: r.id, nodeIds: [b.id, c.id] },
  ]);
});

// ---- failed launch tasks: the applier reports what happened, the planner decides what follows ----

test('a create the cloud refused for quota pauses the pool and is made again by the same node, without failing anything', () => {
  const r = request({ state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const n = node({ state: 'building', step: 'creating', serverId: null, allocatedTo: r.id, attempt: 3 });
  const failures: [string, LaunchFailure][] = [[n.id, { stage: 'create', reason: 'quota: Quota exceeded for instances', kind: 'quota', nothingMade: true }]];
  assert.deepEqual(runWith({ nodes: [n], requests: [r], failures }), [
    { type: 'pause-pool', provider: 'east', pool: 'main', reason: 'quota: Quota exceeded for instances' },
    { type: 'create-later', nodeId: n.id, reason: 'quota: Quota exceeded for instances', kind: 'quota' },
  ]);
});

test('a create throttled with a 429 is made again after the backoff, without using an attempt', () => {
  const n = node({ state: 'building', step: 'creating', serverId: null, attempt: 1 });
  const failures: [string, LaunchFailure][] = [[n.id, { stage: 'create', reason: 'rate-limit: slow down', kind: 'rate-limit', throttled: true, retryAfterMs: 2000, since: T0 - 50 }]];
  assert.deepEqual(runWith({ nodes: [n], failures }), [
    { type: 'create-later', nodeId: n.id, reason: 'rate-limit: slow down', kind: 'rate-limit', retryAfterMs: 2000, since: T0 - 50 },
  ]);
});

test('a refused create is retried with the attempts left, then fails the request; the record says no server was made', () => {
  const r = request({ state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const f: LaunchFailure = { stage: 'create', reason: 'config: flavor not found', kind: 'configuration', nothingMade: true };
  const first = node({ state: 'building', step: 'creating', serverId: null, allocatedTo: r.id, attempt: 1 });
  assert.deepEqual(runWith({ nodes: [first], requests: [r], failures: [[first.id, f]] }),
    [{ type: 'launch-failed', nodeId: first.id, reason: 'create failed: config: flavor not found', retry: true, kind: 'configuration', nothingMade: true }]);
  const last = node({ ...first, id: 'last-create', attempt: 3 });
  assert.deepEqual(runWith({ nodes: [last], requests: [r], failures: [[last.id, f]] }), [{
    type: 'launch-failed', nodeId: last.id, reason: 'create failed: config: flavor not found', retry: false, kind: 'configuration', nothingMade: true,
    failRequest: 'launch of jammy in east failed after 3 attempts: create failed: config: flavor not found',
  }]);
});

test('a create that failed for want of capacity moves the request to another provider that has its labels', () => {
  const r = request({ state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const n = node({ state: 'building', step: 'creating', serverId: null, allocatedTo: r.id, attempt: 1 });
  const acts = runWith({ nodes: [n], requests: [r], failures: [[n.id, { stage: 'create', reason: 'capacity: No valid host was found', kind: 'capacity', since: T0 - 10 }]] });
  assert.deepEqual(acts, [
    { type: 'launch-failed', nodeId: n.id, reason: 'create failed: capacity: No valid host was found', retry: false, kind: 'capacity', moved: true, since: T0 - 10 },
    { type: 'decline-request', requestId: r.id, provider: 'east', reason: 'create failed: capacity: No valid host was found' },
  ]);
});

test('a failure is acted on only once its task is over, and a scan that gave up is a failed launch', () => {
  const r = request({ state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const n = node({ state: 'building', step: 'scanning', allocatedTo: r.id, attempt: 1 });
  const failures: [string, LaunchFailure][] = [[n.id, { stage: 'scan', reason: 'launch timeout: connection refused' }]];
  assert.deepEqual(runWith({ nodes: [n], requests: [r], failures, inflight: [`scan:${n.id}`] }), []);
  assert.deepEqual(runWith({ nodes: [n], requests: [r], failures }), [{ type: 'launch-failed', nodeId: n.id, reason: 'launch timeout: connection refused', retry: true }]);
});

test('an ACTIVE server without an address is a failed launch', () => {
  const r = request({ state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const n = node({ state: 'building', step: 'booting', serverId: 'bare', allocatedTo: r.id, attempt: 1 });
  assert.deepEqual(runWith({ nodes: [n], requests: [r], east: view([server('bare', { privateIpv4: null })]) }),
    [{ type: 'launch-failed', nodeId: n.id, reason: 'server is ACTIVE but has no address', retry: true }]);
});

test('a pending request that lost its node is given a spare node of its pool, and launches only what is still missing', () => {
  const r = request({ labels: ['jammy', 'noble'], state: 'pending', provider: 'east', pool: 'main', leaseOwner: 'me', leaseExpires: T0 + 30_000 });
  const ok = node({ allocatedTo: r.id });
  const gone = node({ allocatedTo: r.id, label: 'noble', state: 'deleting' });
  const spare = node({ label: 'noble' });
  const elsewhere = node({ label: 'noble', provider: 'west' });
  const acts = run({ nodes: [ok, gone, spare, elsewhere], requests: [r], deleteCalledAt: [[gone.id, T0 - 10]] });
  const topUp = acts.filter((a) => a.type === 'launch-for-request');
  assert.deepEqual(topUp, [{ type: 'launch-for-request', requestId: r.id, provider: 'east', pool: 'main', allocate: [spare.id], labels: [] }]);
  // With no spare node of its pool, the missing label is launched.
  const alone = run({ nodes: [ok, gone, elsewhere], requests: [r], deleteCalledAt: [[gone.id, T0 - 10]] }).filter((a) => a.type === 'launch-for-request');
  assert.deepEqual(alone, [{ type: 'launch-for-request', requestId: r.id, provider: 'east', pool: 'main', allocate: [], labels: ['noble'] }]);
});
