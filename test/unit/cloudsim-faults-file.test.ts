import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../src/log.ts';
import { FaultPlan, FaultSpecError, seededRandom } from '../../src/cloudsim/fault-plan.ts';
import { faultsForCloud } from '../../src/cloudsim/fault-spec.ts';
import { runCloudSim } from '../../src/cloudsim/main.ts';

const nova = { service: 'nova', method: 'GET', route: '/flavors', path: '/compute/v2.1/flavors' };

test('the same seed gives the same draws; a 20% rate fails about a fifth of the calls', () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  assert.deepEqual(Array.from({ length: 5 }, a), Array.from({ length: 5 }, b));
  assert.notDeepEqual(Array.from({ length: 5 }, seededRandom(8)), Array.from({ length: 5 }, seededRandom(7)));

  const plan = new FaultPlan({ seed: 1, errors: [{ service: 'nova', rate: 0.2 }] });
  let failed = 0;
  for (let i = 0; i < 10_000; i++) if (plan.callFault(nova)) failed++;
  assert.ok(failed > 1800 && failed < 2200, `${failed} of 10,000`);
  assert.equal(plan.injected.get('nova 500'), failed);
  assert.equal(plan.callFault({ ...nova, service: 'neutron' }), undefined);
});

test('a rule matches by service, method, route and path; the first one that fires wins', () => {
  const plan = new FaultPlan({
    errors: [
      { route: '/servers/{id}', method: 'delete', rate: 1, answer: 'timeout' },
      { path: 'flavors$', rate: 1, answer: 429, retryAfterSeconds: 9 },
    ],
    latency: [{ service: 'nova', ms: 10 }, { method: 'GET', ms: 5, jitterMs: 0 }],
  });
  assert.deepEqual(plan.callFault({ service: 'nova', method: 'DELETE', route: '/servers/{id}', path: '/compute/v2.1/servers/x' }), { answer: 'timeout', retryAfterSeconds: 1 });
  assert.equal(plan.callFault({ service: 'nova', method: 'GET', route: '/servers/{id}', path: '/compute/v2.1/servers/x' }), undefined);
  assert.deepEqual(plan.callFault(nova), { answer: 429, retryAfterSeconds: 9 });
  assert.equal(plan.latencyMs(nova), 15);
  assert.equal(plan.latencyMs({ ...nova, service: 'glance', method: 'POST' }), 0);
});

test('a spec with a mistake is refused, naming the field; the faults in force stay', () => {
  const plan = new FaultPlan({ leakPorts: true });
  assert.throws(() => plan.set({ boots: { errorRate: -1 } }), (e: Error) => e instanceof FaultSpecError && /^boots\.errorRate: /.test(e.message));
  assert.throws(() => plan.patch({ errors: [{ rate: 0.1, path: '(' }] }), /errors\.0\.path: must be a regular expression/);
  assert.throws(() => plan.set({ offline: 'maybe' }), { name: 'FaultSpecError', message: /^offline: / });
  assert.equal(plan.view().leakPorts, true);
  plan.patch({ leakPorts: null });
  assert.equal(plan.view().leakPorts, false, 'null removes a key');
});

test('a faults file gives each cloud the default, with its own keys on top', () => {
  const file = {
    default: { seed: 5, errors: [{ rate: 0.1 }], boots: { errorRate: 0.05 } },
    clouds: { east: { offline: 'timeout', unmanagedServers: { count: 2, flavor: 'm1.small' } }, west: { errors: [] } },
  };
  const east = faultsForCloud(file, 'east');
  assert.deepEqual([east.seed, east.errors.length, east.offline, east.boots?.errorRate, east.unmanagedServers], [5, 1, 'timeout', 0.05, { count: 2, flavor: 'm1.small' }]);
  assert.deepEqual(faultsForCloud(file, 'west').errors, []);
  assert.deepEqual(faultsForCloud(file, 'north').errors, [{ rate: 0.1, answer: 500, retryAfterSeconds: 1 }]);
  assert.throws(() => faultsForCloud({ clouds: { east: { latency: [{ ms: -1 }] } } }, 'east'), /cloud east: latency\.0\.ms: /);
  assert.throws(() => faultsForCloud({ cloud: {} }, 'east'), /faults file: .*cloud/);
});

test('nodepool cloud-sim reads a faults file, and its flags go on top', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cloudsim-faults-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'faults.yaml');
  await writeFile(file, [
    'default:',
    '  latency: [{service: neutron, ms: 1}]',
    'clouds:',
    '  east:',
    '    leakPorts: 0.5',
    '    unmanagedServers: {count: 1}',
  ].join('\n'));
  const sim = await runCloudSim({
    host: '127.0.0.1', port: 0, clouds: ['east', 'west'], bootDelayMs: 10, deleteDelayMs: 10, sshPort: 2022,
    faultsFile: file, seed: 99, errorRate: 0.2, unmanagedServers: 3, logger: silentLogger(),
  });
  t.after(() => sim.close());
  const east = sim.cloud('east').faults();
  assert.deepEqual([east.seed, east.leakPorts, east.latency.length], [99, 0.5, 1]);
  assert.deepEqual(east.errors, [{ rate: 0.2, answer: [500, 503, 429], retryAfterSeconds: 1 }]);
  assert.equal(sim.cloud('east').inventory().servers.filter((s) => s.unmanaged).length, 3, 'the flag over the file');
  assert.equal(sim.cloud('west').faults().leakPorts, false);

  await writeFile(file, 'clouds: {east: {errors: [{rate: 2}]}}');
  await assert.rejects(runCloudSim({
    host: '127.0.0.1', port: 0, clouds: ['east'], bootDelayMs: 10, deleteDelayMs: 10, sshPort: 2022, faultsFile: file, logger: silentLogger(),
  }), /faults file, cloud east: errors\.0\.rate/);
});
