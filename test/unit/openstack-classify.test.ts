import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudErrorKind } from '../../providers/errors.ts';
import { isCloudError } from '../../providers/errors.ts';
import {
  classifyAnswer, classifyNetworkError, classifyServerFault, parseRetryAfter, createOpenStackProvider,
} from '../../providers/openstack/index.ts';
import { readErrorBody } from '../../providers/openstack/classify.ts';
import { loadSample, sampleNames, type Sample } from './openstack-replay.ts';

const NOW = Date.parse('2026-11-26T12:00:00Z');

function classifySample(s: Sample) {
  const headers = Object.fromEntries(Object.entries(s.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return classifyAnswer({
    service: s.service, method: s.request.method, url: s.endpoint + s.request.path,
    status: s.response.status, headers, body: s.response.body, now: NOW,
  });
}

/** Every failure recorded on the real cloud and the class it must get. */
const RECORDED_FAILURES: Record<string, CloudErrorKind> = {
  'keystone-auth-tokens-application-credential-401': 'config',
  'keystone-auth-tokens-password-401': 'config',
  'nova-servers-detail-401': 'config',
  'nova-servers-create-400-image-min-disk': 'config',
  'nova-servers-create-400-image-not-active': 'config',
  'nova-servers-create-400-malformed-json': 'config',
  'nova-servers-create-400-missing-networks': 'config',
  'nova-servers-create-400-unknown-flavor': 'config',
  'nova-servers-create-400-unknown-image': 'config',
  'nova-os-quota-sets-update-400-below-usage': 'config',
  'nova-servers-create-403-cores-quota': 'quota',
  'nova-servers-create-403-instances-quota': 'quota',
  'nova-servers-create-403-instances-quota-min-count': 'quota',
  'nova-servers-create-403-port-quota': 'quota',
  'nova-servers-create-403-ram-quota': 'quota',
  'nova-servers-show-404': 'not-found',
  'nova-servers-show-404-unknown': 'not-found',
  'glance-images-show-404': 'not-found',
  'glance-images-show-404-html': 'not-found',
  'neutron-floatingips-show-404': 'not-found',
  'neutron-floatingips-create-409-quota': 'quota',
  'neutron-ports-create-409-quota': 'quota',
};

describe('classifying the failures recorded on a real cloud', () => {
  test('every recorded 4xx/5xx answer has an expected class here', () => {
    const failures = sampleNames().filter((n) => loadSample(n).response.status >= 400);
    assert.deepEqual(failures, Object.keys(RECORDED_FAILURES).sort());
  });

  for (const [name, kind] of Object.entries(RECORDED_FAILURES)) {
    test(`${name} is ${kind}`, () => {
      const s = loadSample(name);
      const e = classifySample(s);
      assert.equal(e.kind, kind);
      assert.equal(e.status, s.response.status);
      assert.ok(e.requestId?.startsWith('req-'), 'request id kept for the cloud operator');
    });
  }

  test('the cloud message is in the error, without Glance\'s HTML line breaks', () => {
    const e = classifySample(loadSample('glance-images-show-404'));
    assert.match(e.message, /No image found with ID 7723cd5e-b995-433c-9ef2-57a1ccddc537$/);
    assert.doesNotMatch(e.message, /<br/);
  });

  test('a Neutron 409 is read by its exception type', () => {
    assert.equal(readErrorBody(loadSample('neutron-ports-create-409-quota').response.body).neutronType, 'OverQuota');
  });

  test('server faults: NoValidHost is capacity, the quota recheck (413) is quota', () => {
    const fault = (n: string) => (loadSample(n).response.body as any).server.fault;
    assert.equal(classifyServerFault(fault('nova-servers-show-200-error')).kind, 'capacity');
    assert.equal(classifyServerFault(fault('nova-servers-show-200-error-admin')).kind, 'capacity');
    assert.equal(classifyServerFault(fault('nova-servers-show-200-error-quota-recheck')).kind, 'quota');
  });
});

describe('classifying answers the recorded cloud could not show', () => {
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    classifyAnswer({ service: 'nova', method: 'POST', url: 'https://nova/v2.1/servers', status, headers, body, now: NOW });

  test('a 403 forbidden that is not about quota (policy) is configuration', () => {
    const e = answer(403, { forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:servers:create to be performed." } });
    assert.equal(e.kind, 'config');
  });

  test('a quota-like text outside Nova\'s forbidden shape is not taken for quota', () => {
    assert.equal(answer(403, { error: { code: 403, message: 'Quota exceeded for something', title: 'Forbidden' } }).kind, 'config');
  });

  test('413 overLimit is quota, or a rate limit when it says when to retry', () => {
    const body = { overLimit: { code: 413, message: 'Quota exceeded for instances: Requested 1, but already used 10 of 10 instances' } };
    assert.equal(answer(413, body).kind, 'quota');
    const limited = answer(413, { overLimit: { code: 413, message: 'This request was rate-limited.', retryAfter: '30' } }, { 'retry-after': '30' });
    assert.equal(limited.kind, 'rate-limit');
    assert.equal(limited.retryAfterMs, 30_000);
  });

  test('429 is a rate limit, with Retry-After in seconds or as an HTTP date', () => {
    assert.equal(answer(429, null, { 'retry-after': '7' }).retryAfterMs, 7000);
    const e = answer(429, null, { 'retry-after': 'Wed, 26 Nov 2026 12:01:30 GMT' });
    assert.equal(e.kind, 'rate-limit');
    assert.equal(e.retryAfterMs, 90_000);
    assert.equal(answer(429, null).retryAfterMs, undefined);
  });

  test('server errors are transient; a 503 keeps its Retry-After', () => {
    for (const status of [500, 502, 503, 504]) assert.equal(answer(status, { computeFault: { code: status, message: 'x' } }).kind, 'transient');
    assert.equal(answer(503, '<html>Service Unavailable</html>', { 'retry-after': '120' }).retryAfterMs, 120_000);
  });

  test('a 409 is transient unless Neutron names a quota or address exhaustion', () => {
    assert.equal(answer(409, { conflictingRequest: { code: 409, message: 'Cannot delete while resizing' } }).kind, 'transient');
    assert.equal(answer(409, { NeutronError: { type: 'IpAddressGenerationFailure', message: 'No more IP addresses available on network x.', detail: '' } }).kind, 'capacity');
    assert.equal(answer(409, { NeutronError: { type: 'PortInUse', message: 'Quota exceeded (but this is not the type)', detail: '' } }).kind, 'transient');
  });

  test('406 (unsupported microversion) is configuration, an unexpected status is fatal', () => {
    assert.equal(answer(406, { computeFault: { code: 406, message: 'Version 2.79 is not supported by the API.' } }).kind, 'config');
    assert.equal(answer(418, null).kind, 'fatal');
  });

  test('Retry-After that is neither seconds nor a date is ignored; a past date is no wait', () => {
    assert.equal(parseRetryAfter('soon', NOW), undefined);
    assert.equal(parseRetryAfter('Wed, 26 Nov 2026 11:00:00 GMT', NOW), 0);
  });

  test('other server faults are transient; 403 faults are quota', () => {
    assert.equal(classifyServerFault({ code: 500, message: 'Build of instance x aborted: Failed to allocate the network(s)' }).kind, 'transient');
    assert.equal(classifyServerFault({ code: 403, message: 'Quota exceeded for cores' }).kind, 'quota');
  });

  test('connection failures are transient, certificate failures configuration', () => {
    const ctx = { service: 'nova', method: 'GET', url: 'https://nova/v2.1/servers/detail' };
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN']) {
      assert.equal(classifyNetworkError(Object.assign(new Error(code), { code }), ctx).kind, 'transient', code);
    }
    assert.equal(classifyNetworkError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), ctx).kind, 'transient');
    assert.equal(classifyNetworkError(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), ctx).kind, 'config');
  });
});

describe('failures without an answer, for real', () => {
  test('a refused connection is transient', async () => {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((r) => server.close(() => r()));
    const p = createOpenStackProvider({ name: 'x', credentials: { cloud: 'x', authType: 'password', authUrl: `http://127.0.0.1:${port}`, username: 'u', password: 'p', interface: 'public', verify: true } });
    await assert.rejects(p.authenticate(), (e: unknown) => isCloudError(e, 'transient') && /ECONNREFUSED/.test(e.message));
    await p.close();
  });

  test('a cloud that does not answer in time is transient', async () => {
    const held: http.ServerResponse[] = [];
    const server = http.createServer((_req, res) => { held.push(res); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const p = createOpenStackProvider({ name: 'x', timeoutMs: 100, credentials: { cloud: 'x', authType: 'password', authUrl: `http://127.0.0.1:${port}`, username: 'u', password: 'p', interface: 'public', verify: true } });
    await assert.rejects(p.authenticate(), (e: unknown) => isCloudError(e, 'transient'));
    await p.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
});

/**
 * Cinder and Neutron answers the recorded cloud did not show, written from their sources: Cinder's
 * QuotaError (code 413, header `Retry-After: 0`) through its fault wrapper (exception name before
 * the message, `retryAfter` copied into the body), Cinder's NotFound and Invalid, Neutron's
 * ExternalGatewayForFloatingIPNotFound (a NotFound, 404).
 */
describe('classifying Cinder answers, and Neutron answers the recorded cloud could not show', () => {
  const answer = (service: string, status: number, body: unknown, headers: Record<string, string> = {}) =>
    classifyAnswer({ service, method: 'POST', url: `https://${service}/v2.0/x`, status, headers, body, now: NOW });

  test('Cinder over quota is quota, although it says Retry-After: 0', () => {
    const volumes = answer('cinder', 413, {
      overLimit: { code: 413, message: "VolumeLimitExceeded: Maximum number of volumes allowed (10) exceeded for quota 'volumes'.", retryAfter: '0' },
    }, { 'retry-after': '0' });
    assert.equal(volumes.kind, 'quota');
    const gigabytes = answer('cinder', 413, {
      overLimit: { code: 413, message: 'VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 10G, quota is 1000G and 995G has been consumed.', retryAfter: '0' },
    }, { 'retry-after': '0' });
    assert.equal(gigabytes.kind, 'quota');
  });

  test('Cinder: a volume not found is not-found, deleting an attached one is configuration', () => {
    assert.equal(answer('cinder', 404, { itemNotFound: { code: 404, message: 'Volume 5aa119a8-d25b-45a7-8d1b-88e127885635 could not be found.' } }).kind, 'not-found');
    const attached = answer('cinder', 400, { badRequest: { code: 400, message: 'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.' } });
    assert.equal(attached.kind, 'config');
  });

  test('Neutron: no router from the port to the external network is configuration, not a floating IP gone', () => {
    const e = answer('neutron', 404, {
      NeutronError: { type: 'ExternalGatewayForFloatingIPNotFound', message: 'External network 8d9b57eb-2630-41ef-947f-643bbb317e28 is not reachable from subnet e2d8d848-f454-4d3d-b363-8a28244b95e9.  Therefore, cannot associate Port a4f9428a-fa05-4449-8dee-34dec177590a with a Floating IP.', detail: '' },
    });
    assert.equal(e.kind, 'config');
    assert.equal(answer('neutron', 404, { NeutronError: { type: 'PortNotFound', message: 'Port x could not be found.', detail: '' } }).kind, 'not-found');
    assert.equal(answer('neutron', 409, { NeutronError: { type: 'IpAddressGenerationFailure', message: 'No more IP addresses available on network 8d9b57eb-2630-41ef-947f-643bbb317e28.', detail: '' } }).kind, 'capacity');
  });
});
