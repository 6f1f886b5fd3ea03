import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DiskImageConfig } from '../../src/config/types.ts';
import type { BuildRecord, ImageFlags, UploadRecord } from '../../src/model.ts';
import { planBuilder, type BuilderAction, type BuilderPlanInput } from '../../src/builder/plan.ts';

// One image used by two providers, one builder; time is a number we pass in.

const T0 = 10_000_000;
const DAY = 86_400_000;
const jammy: DiskImageConfig = {
  name: 'jammy', elements: ['vm'], envVars: {}, formats: ['qcow2'], rebuildAge: 86_400, buildTimeout: 3600, dibCmd: 'x', pause: false, username: 'zuul',
};

const build = (id: string, o: Partial<BuildRecord> = {}): BuildRecord => ({
  id, image: 'jammy', builder: 'me', state: 'ready', formats: ['qcow2'],
  files: [{ format: 'qcow2', path: `/img/${id}.qcow2`, size: 10, md5: 'm', sha256: 's' }],
  logPath: null, reason: null, leaseOwner: null, leaseExpires: null, createdAt: T0 - 1000, stateTime: T0 - 900, ...o,
});

const upload = (id: string, buildId: string, provider: string, o: Partial<UploadRecord> = {}): UploadRecord => ({
  id, buildId, image: 'jammy', provider, state: 'ready', format: 'qcow2', externalId: `g-${id}`, externalName: `jammy-${buildId}`,
  bytes: 10, size: 10, validation: 'none', validationNode: null, reason: null, leaseOwner: null, leaseExpires: null,
  createdAt: T0 - 500, stateTime: T0 - 400, ...o,
});

function plan(o: Partial<BuilderPlanInput> = {}) {
  return planBuilder({
    now: T0, builder: 'me', images: [jammy],
    uses: new Map([['jammy', [{ provider: 'east', paused: false }, { provider: 'west', paused: false }]]]),
    builds: [], uploads: [], flags: new Map(), inflight: new Set(), uploadNotBefore: new Map(),
    buildRetryMs: 300_000, keepBuilds: 2, keepFailed: 3, ...o,
  });
}

const types = (actions: BuilderAction[]) => actions.map((a) => Object.values(a).join(' '));

test('an image nobody has built yet is built at once, and only once while it builds', () => {
  assert.deepEqual(types(plan().actions), ['build jammy']);
  assert.deepEqual(plan({ inflight: new Set(['build:jammy']) }).actions, []);
  assert.deepEqual(plan({ builds: [build('b1', { state: 'building', leaseOwner: 'me', leaseExpires: T0 + 1000 })] }).actions, []);
});

test('a ready build is rebuilt once older than rebuild-age; until then the plan says when to look again', () => {
  const fresh = build('b1', { createdAt: T0 - DAY + 60_000 });
  const ups = [upload('u1', 'b1', 'east'), upload('u2', 'b1', 'west')];
  const p = plan({ builds: [fresh], uploads: ups });
  assert.deepEqual(p.actions, []);
  assert.equal(p.nextWakeAt, T0 + 60_000);
  assert.deepEqual(types(plan({ builds: [build('b1', { createdAt: T0 - DAY })], uploads: ups }).actions), ['build jammy']);
});

test('an operator\'s build request is met by a build started after it; a paused image builds nothing', () => {
  const b = build('b1');
  const ups = [upload('u1', 'b1', 'east'), upload('u2', 'b1', 'west')];
  const flags = (f: Partial<ImageFlags>) => new Map([['jammy', { image: 'jammy', paused: false, pausedReason: null, buildRequestedAt: null, updatedAt: T0, ...f }]]);
  assert.deepEqual(types(plan({ builds: [b], uploads: ups, flags: flags({ buildRequestedAt: T0 - 10 }) }).actions), ['build jammy']);
  assert.deepEqual(plan({ builds: [b], uploads: ups, flags: flags({ buildRequestedAt: b.createdAt - 1 }) }).actions, []);
  assert.deepEqual(plan({ flags: flags({ paused: true }) }).actions, []);
  assert.deepEqual(plan({ images: [{ ...jammy, pause: true }] }).actions, []);
});

test('failed builds are retried later and later, not in a loop', () => {
  const failed = (id: string, at: number) => build(id, { state: 'failed', files: [], createdAt: at - 100, stateTime: at });
  const once = plan({ builds: [failed('f1', T0 - 1000)] });
  assert.deepEqual(once.actions, []);
  assert.equal(once.nextWakeAt, T0 - 1000 + 300_000);
  const twice = plan({ builds: [failed('f2', T0 - 1000), failed('f1', T0 - 400_000)] });
  assert.equal(twice.nextWakeAt, T0 - 1000 + 600_000);
  assert.deepEqual(types(plan({ builds: [failed('f1', T0 - 300_000)] }).actions), ['build jammy']);
});

test('the newest ready build is uploaded to every provider using the image, one upload per provider', () => {
  const b = build('b1');
  assert.deepEqual(types(plan({ builds: [b] }).actions), ['upload b1 east', 'upload b1 west']);
  assert.deepEqual(types(plan({ builds: [b], uploads: [upload('u1', 'b1', 'east', { state: 'uploading', leaseOwner: 'me', leaseExpires: T0 + 1 })] }).actions), ['upload b1 west']);
  const uses = new Map([['jammy', [{ provider: 'east', paused: true }, { provider: 'west', paused: false }]]]);
  assert.deepEqual(types(plan({ builds: [b], uses }).actions), ['upload b1 west'], 'a provider paused for the image gets nothing new');
  assert.deepEqual(types(plan({ builds: [build('b1', { builder: 'other' })] }).actions), [], 'only the builder holding the files uploads them');
});

test('a provider in upload backoff waits while the other provider gets its upload', () => {
  const p = plan({ builds: [build('b1')], uploads: [upload('u1', 'b1', 'east', { state: 'failed' })], uploadNotBefore: new Map([['east', T0 + 30_000]]) });
  assert.deepEqual(types(p.actions), ['upload b1 west']);
  assert.equal(p.nextWakeAt, T0 + 30_000);
});

test('uploads asking for validation are validated, by the builder that made them', () => {
  const b = build('b1');
  const ups = [upload('u1', 'b1', 'east', { validation: 'pending' }), upload('u2', 'b1', 'west', { validation: 'passed' })];
  assert.deepEqual(types(plan({ builds: [b], uploads: ups }).actions), ['validate u1']);
  assert.deepEqual(plan({ builds: [b], uploads: ups, inflight: new Set(['validate:u1']) }).actions, []);
});

test('two ready builds are kept; an older one is retired, and a retired build goes after its uploads', () => {
  const builds = [build('b3', { createdAt: T0 - 100 }), build('b2', { createdAt: T0 - 200 }), build('b1', { createdAt: T0 - 300 })];
  const ups = builds.flatMap((b) => [upload(`${b.id}e`, b.id, 'east'), upload(`${b.id}w`, b.id, 'west')]);
  assert.deepEqual(types(plan({ builds, uploads: ups }).actions), ['retire-build b1 older than the 2 newest usable builds']);
  const retiring = [builds[0], builds[1], build('b1', { state: 'deleting' })];
  assert.deepEqual(types(plan({ builds: retiring, uploads: ups }).actions), ['delete-upload b1e build b1 is deleted', 'delete-upload b1w build b1 is deleted']);
  assert.deepEqual(types(plan({ builds: retiring, uploads: ups.filter((u) => u.buildId !== 'b1') }).actions), ['remove-build b1']);
});

test('work left by a builder whose lease ran out is failed, so it is done again', () => {
  const stale = build('b1', { state: 'building', builder: 'gone', leaseOwner: 'gone', leaseExpires: T0 - 1 });
  const staleUpload = upload('u1', 'b0', 'east', { state: 'uploading', leaseOwner: 'gone', leaseExpires: T0 - 1 });
  const checking = upload('u2', 'b0', 'west', { validation: 'running', leaseOwner: 'gone', leaseExpires: T0 - 1 });
  const p = plan({ builds: [stale, build('b0', { createdAt: T0 - 5000 })], uploads: [staleUpload, checking] });
  assert.deepEqual(types(p.actions).filter((t) => !t.startsWith('upload')), ['fail-stale-build b1', 'fail-stale-upload u1', 'revalidate u2']);
});

test('an upload deleted by an operator is deleted in its cloud (and, being of the newest build, uploaded afresh); a failed upload is dropped once a retry worked', () => {
  const b = build('b1');
  const ups = [upload('u3', 'b1', 'east', { state: 'deleting' }), upload('u2', 'b1', 'west'), upload('u1', 'b1', 'west', { state: 'failed' })];
  assert.deepEqual(types(plan({ builds: [b], uploads: ups }).actions), [
    'upload b1 east', 'delete-upload u1 a later upload succeeded', 'delete-upload u3 deleted by an operator',
  ]);
});

test('builds that failed their check do not count among the two kept: the last good one stays in use', () => {
  const builds = [build('b4', { createdAt: T0 - 100 }), build('b3', { createdAt: T0 - 200 }), build('b2', { createdAt: T0 - 300 }), build('b1', { createdAt: T0 - 400 })];
  const checked = (b: string, validation: UploadRecord['validation']) => [upload(`${b}e`, b, 'east', { validation }), upload(`${b}w`, b, 'west', { validation })];
  const ups = [...checked('b4', 'failed'), ...checked('b3', 'failed'), ...checked('b2', 'passed'), ...checked('b1', 'passed')];
  assert.deepEqual(plan({ builds, uploads: ups }).actions, []);
  assert.deepEqual(types(plan({ builds, uploads: ups, keepFailed: 1 }).actions), ['retire-build b3 more than 1 builds that failed their check']);
});
