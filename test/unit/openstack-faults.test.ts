import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloudError, isCloudError } from '../../providers/errors.ts';
import type { FaultSpec } from '../../src/cloudsim/index.ts';
import { simWithDriver } from './openstack-sim-support.ts';

/** What the driver reports for each injected answer. */
const EXPECTED_KIND: Record<string, string> = {
  'nova 500': 'transient', 'nova 503': 'transient', 'nova reset': 'transient', 'nova 429': 'rate-limit', 'nova quota': 'quota',
};

const MIXED: FaultSpec = {
  seed: 7,
  errors: [{ service: 'nova', route: '/flavors/detail', rate: 0.2, answer: [500, 503, 429, 'quota', 'reset'], retryAfterSeconds: 2 }],
};

async function outcomes(t: Parameters<typeof simWithDriver>[0]): Promise<{ kinds: string[]; injected: Record<string, number>; errors: CloudError[] }> {
  const { p, cloud } = await simWithDriver(t, { faults: MIXED });
  const kinds: string[] = [];
  const errors: CloudError[] = [];
  for (let i = 0; i < 60; i++) {
    try {
      await p.catalog.listFlavors();
      kinds.push('ok');
    } catch (e) {
      assert.ok(e instanceof CloudError, `every failure is classified: ${String(e)}`);
      kinds.push(e.kind);
      errors.push(e);
    }
  }
  return { kinds, injected: cloud.injected(), errors };
}

test('an injected 20% error rate with a fixed seed gives the same classes in the same order, one per injected answer', async (t) => {
  const first = await outcomes(t);
  const again = await outcomes(t);
  assert.deepEqual(first.kinds, again.kinds, 'repeatable with the seed');

  const failed = first.kinds.filter((k) => k !== 'ok').length;
  assert.ok(failed >= 6 && failed <= 20, `about 20% of 60 calls failed: ${failed}`);
  const expected: Record<string, number> = {};
  for (const [answer, n] of Object.entries(first.injected)) expected[EXPECTED_KIND[answer]] = (expected[EXPECTED_KIND[answer]] ?? 0) + n;
  const seen: Record<string, number> = {};
  for (const k of first.kinds) if (k !== 'ok') seen[k] = (seen[k] ?? 0) + 1;
  assert.deepEqual(seen, expected);
  assert.deepEqual(Object.keys(seen).sort(), ['quota', 'rate-limit', 'transient'], 'this seed mixes every class');

  // Retry-After stays in the classification; the driver itself did not wait.
  for (const e of first.errors.filter((x) => x.kind === 'rate-limit')) assert.equal(e.retryAfterMs, 2000);
  for (const e of first.errors.filter((x) => x.kind === 'quota')) assert.deepEqual([e.status, e.service], [403, 'nova']);
});

test('a cloud offline resets or times out every call: transient either way, and fine again once it is back', async (t) => {
  const { p, cloud } = await simWithDriver(t, {}, 300);
  await p.catalog.listFlavors();
  await cloud.setOffline('reset');
  await assert.rejects(p.catalog.listFlavors(), (e: unknown) => isCloudError(e, 'transient') && /ECONNRESET|socket hang up/.test((e as Error).message));
  await cloud.setOffline('timeout');
  await assert.rejects(p.getLimits(), (e: unknown) => isCloudError(e, 'transient') && /ETIMEDOUT|ECONNABORTED|timeout/i.test((e as Error).message));
  await cloud.setOffline(false);
  assert.equal((await p.getLimits()).maxInstances, 10);
});

test('an injected Cinder or Neutron quota fault is a quota error', async (t) => {
  const { p, cloud } = await simWithDriver(t, {
    faults: { errors: [{ service: 'cinder', rate: 1, answer: 'quota' }, { service: 'neutron', method: 'POST', rate: 1, answer: 'quota' }] },
  });
  const external = (await p.catalog.findNetwork('public'))!;
  await assert.rejects(p.volumes.list(), (e: unknown) => isCloudError(e, 'quota') && (e as CloudError).status === 413);
  await assert.rejects(p.floatingIps.create(external.id, {}), (e: unknown) => isCloudError(e, 'quota') && (e as CloudError).status === 409);
  assert.deepEqual(cloud.injected(), { 'cinder quota': 1, 'neutron quota': 1 });
});
