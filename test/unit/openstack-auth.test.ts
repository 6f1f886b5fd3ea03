import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.ts';
import { isCloudError } from '../../providers/errors.ts';
import { createOpenStackProvider, authRequestBody, identityV3Url } from '../../providers/openstack/index.ts';
import { ReplayCloud, loadSample } from './openstack-replay.ts';

const T0 = Date.parse('2026-11-26T11:35:08Z');
const HOUR = 3600_000;

describe('Keystone v3 authentication', () => {
  let cloud: ReplayCloud;
  before(async () => { cloud = await ReplayCloud.start(); });
  after(async () => { await cloud.stop(); });
  beforeEach(() => {
    cloud.reset();
    cloud.reply('keystone-auth-tokens-password-201');
    cloud.reply('nova-flavors-detail-200');
    cloud.reply('nova-limits-200');
  });

  test('a password user gets a project-scoped token with the exact body Keystone was sent in the recording', async () => {
    const recorded = loadSample('keystone-auth-tokens-password-201');
    const p = createOpenStackProvider({ name: 'samples', credentials: cloud.credentials() });
    await p.authenticate();
    const auth = cloud.received('POST', '/identity/v3/auth/tokens');
    assert.equal(auth.length, 1);
    assert.deepEqual(auth[0].body, recorded.request.body);
    assert.equal(auth[0].headers['content-type'], 'application/json');
    await p.close();
  });

  test('the token and the catalog are used for the service calls: one authentication for many calls', async () => {
    const p = createOpenStackProvider({ name: 'samples', credentials: cloud.credentials(), now: () => T0 });
    const flavors = await p.catalog.listFlavors();
    await p.getLimits();
    await p.catalog.listFlavors();
    assert.equal(flavors.length, 6);
    assert.equal(cloud.received('POST', '/identity').length, 1);
    const novaCalls = cloud.received('GET', '/compute/v2.1/');
    assert.equal(novaCalls.length, 3);
    for (const c of novaCalls) assert.equal(c.headers['x-auth-token'], 'tok-1');
    assert.equal(p.callCount(), 4);
    await p.close();
  });

  test('callers that start together share one authentication', async () => {
    const p = createOpenStackProvider({ name: 'samples', credentials: cloud.credentials(), now: () => T0 });
    await Promise.all([p.catalog.listFlavors(), p.getLimits(), p.catalog.listFlavors(), p.getLimits(), p.authenticate()]);
    assert.equal(cloud.received('POST', '/identity').length, 1);
    await p.close();
  });

  test('an application credential authenticates by id and secret, without a scope', async () => {
    const recorded = loadSample('keystone-auth-tokens-application-credential-201');
    cloud.reply('keystone-auth-tokens-application-credential-201');
    const p = createOpenStackProvider({
      name: 'samples',
      credentials: cloud.credentials({
        authType: 'v3applicationcredential', applicationCredentialId: '2c0f10a34eea4d8abc47a08763d394b0',
        applicationCredentialSecret: '<secret>', username: undefined, password: undefined, projectName: undefined,
      }),
    });
    const limits = await p.getLimits();
    assert.equal(limits.maxInstances, 10);
    assert.deepEqual(cloud.received('POST', '/identity')[0].body, recorded.request.body);
    await p.close();
  });

  test('a wrong password is a configuration error that names the cloud', async () => {
    cloud.reply('keystone-auth-tokens-password-401');
    const p = createOpenStackProvider({ name: 'samples', credentials: cloud.credentials({ password: 'wrong-password' }) });
    await assert.rejects(p.catalog.listFlavors(), (e: unknown) => {
      assert.ok(isCloudError(e, 'config'));
      assert.match(e.message, /cloud samples/);
      assert.match(e.message, /password/);
      assert.equal(e.status, 401);
      assert.equal(e.requestId, 'req-b38f8f1e-e9f7-4423-8d33-03ae3c478db3');
      return true;
    });
    assert.equal(cloud.received('GET', '/compute').length, 0);
    await p.close();
  });

  test('a wrong application credential secret is a configuration error too', async () => {
    cloud.reply('keystone-auth-tokens-application-credential-401');
    const p = createOpenStackProvider({
      name: 'samples',
      credentials: cloud.credentials({ authType: 'v3applicationcredential', applicationCredentialId: '2c0f10a34eea4d8abc47a08763d394b0', applicationCredentialSecret: 'wrong-secret' }),
    });
    await assert.rejects(p.authenticate(), (e: unknown) => isCloudError(e, 'config') && /application credential/.test(e.message));
    await p.close();
  });

  test('an auth_url written without /v3 is completed', async () => {
    const p = createOpenStackProvider({ name: 'samples', credentials: cloud.credentials({ authUrl: `${cloud.base}/identity/` }) });
    await p.authenticate();
    assert.equal(cloud.received('POST', '/identity/v3/auth/tokens').length, 1);
    await p.close();
  });

  test('the token is renewed 5 minutes before a 24 h token expires, not earlier', async () => {
    let now = T0;
    const p = createOpenStackProvider({ name: 'samples', credentials: cloud.credentials(), now: () => now });
    await p.getLimits();
    now = T0 + 24 * HOUR - 6 * 60_000;
    await p.getLimits();
    assert.equal(cloud.tokensIssued, 1);
    now = T0 + 24 * HOUR - 4 * 60_000;
    await p.getLimits();
    assert.equal(cloud.tokensIssued, 2);
    assert.equal(cloud.received('GET', '/compute/v2.1/limits').at(-1)!.headers['x-auth-token'], 'tok-2');
    await p.close();
  });

  test('a 10-minute token is renewed when 10% of its life (1 minute) remains', async () => {
    cloud.reply('keystone-auth-tokens-password-201', {
      body: (b) => ({ token: { ...b.token, issued_at: '2026-11-26T11:35:08.000000Z', expires_at: '2026-11-26T11:45:08.000000Z' } }),
    });
    // Keystone's clock is an hour ahead of ours: the lifetime, not the wall time, counts.
    let now = T0 - HOUR;
    const p = createOpenStackProvider({ name: 'samples', credentials: cloud.credentials(), now: () => now });
    await p.getLimits();
    now += 8 * 60_000 + 59_000;
    await p.getLimits();
    assert.equal(cloud.tokensIssued, 1);
    now += 2_000;
    await p.getLimits();
    assert.equal(cloud.tokensIssued, 2);
    await p.close();
  });

  test('a service that answers 401 gets exactly one retry with a renewed token', async () => {
    const ok = loadSample('nova-servers-detail-200');
    const refused = loadSample('nova-servers-detail-401');
    cloud.route('GET', '/compute/v2.1/servers/detail', (req) =>
      cloud.answerFrom(req.headers['x-auth-token'] === 'tok-1' ? refused : ok, req));
    const p = createOpenStackProvider({ name: 'samples', credentials: cloud.credentials(), now: () => T0 });
    const servers = await p.listServers();
    assert.equal(servers.length, 2);
    const calls = cloud.received('GET', '/compute/v2.1/servers/detail');
    assert.deepEqual(calls.map((c) => c.headers['x-auth-token']), ['tok-1', 'tok-2']);
    assert.equal(cloud.tokensIssued, 2);
    await p.close();
  });

  test('a second 401 with a fresh token is a configuration error, not a loop', async () => {
    cloud.reply('nova-servers-detail-401');
    const p = createOpenStackProvider({ name: 'samples', credentials: cloud.credentials(), now: () => T0 });
    await assert.rejects(p.listServers(), (e: unknown) => isCloudError(e, 'config') && e.status === 401);
    assert.equal(cloud.received('GET', '/compute/v2.1/servers/detail').length, 2);
    assert.equal(cloud.tokensIssued, 2);
    await p.close();
  });

  test('every call is logged with its provider, service, status, time and request id, never the token or password', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } }),
    });
    const p = createOpenStackProvider({ name: 'samples-provider', credentials: cloud.credentials(), logger, now: () => T0 });
    await p.catalog.listFlavors();
    const calls = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'cloud call');
    assert.equal(calls.length, 2);
    const [auth, flavors] = calls;
    assert.equal(auth.level, 30);
    assert.equal(auth.service, 'keystone');
    assert.equal(auth.requestId, 'req-1ef32f31-cc9b-4ce4-8f72-1cb0ffbbe2f5');
    assert.equal(flavors.level, 20);
    assert.deepEqual(
      { provider: flavors.provider, service: flavors.service, method: flavors.method, path: flavors.path, status: flavors.status, requestId: flavors.requestId },
      { provider: 'samples-provider', service: 'nova', method: 'GET', path: '/compute/v2.1/flavors/detail', status: 200, requestId: 'req-c5225bc3-9842-4b00-9c8a-eb4d78325587' },
    );
    assert.equal(typeof flavors.ms, 'number');
    const all = lines.join('\n');
    assert.doesNotMatch(all, /tok-1/);
    assert.doesNotMatch(all, /ostest-samples/);
    await p.close();
  });
});

describe('Keystone request bodies and auth_url', () => {
  const base = { cloud: 'c', authUrl: 'https://k', interface: 'public' as const, verify: true };

  test('names without domains default to the Default domain, as openstacksdk does', () => {
    const body = authRequestBody({ ...base, authType: 'password', username: 'u', password: 'p', projectName: 'proj' });
    assert.deepEqual(body, {
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'u', domain: { name: 'Default' }, password: 'p' } } },
        scope: { project: { name: 'proj', domain: { name: 'Default' } } },
      },
    });
  });

  test('ids need no domain: a user id and a project id', () => {
    const body = authRequestBody({ ...base, authType: 'password', userId: 'uid', password: 'p', projectId: 'pid', projectDomainName: 'ignored' });
    assert.deepEqual(body, {
      auth: { identity: { methods: ['password'], password: { user: { id: 'uid', password: 'p' } } }, scope: { project: { id: 'pid' } } },
    });
  });

  test('domain names are used when given', () => {
    const body = authRequestBody({ ...base, authType: 'password', username: 'u', userDomainName: 'ldap', password: 'p', projectName: 'proj', projectDomainName: 'corp' }) as any;
    assert.deepEqual(body.auth.identity.password.user.domain, { name: 'ldap' });
    assert.deepEqual(body.auth.scope.project.domain, { name: 'corp' });
  });

  test('an application credential by name names its user', () => {
    const body = authRequestBody({ ...base, authType: 'v3applicationcredential', applicationCredentialName: 'ci', applicationCredentialSecret: 's', username: 'u' });
    assert.deepEqual(body, {
      auth: { identity: { methods: ['application_credential'], application_credential: { name: 'ci', secret: 's', user: { name: 'u', domain: { name: 'Default' } } } } },
    });
  });

  test('missing secrets are configuration errors', () => {
    assert.throws(() => authRequestBody({ ...base, authType: 'password', username: 'u' }), (e: unknown) => isCloudError(e, 'config') && /password/.test(e.message));
    assert.throws(() => authRequestBody({ ...base, authType: 'v3applicationcredential', applicationCredentialId: 'x' }), (e: unknown) => isCloudError(e, 'config'));
  });

  test('auth_url is completed to the v3 root whichever way it was written', () => {
    assert.equal(identityV3Url('https://keystone.example:5000', 'c'), 'https://keystone.example:5000/v3');
    assert.equal(identityV3Url('https://keystone.example:5000/', 'c'), 'https://keystone.example:5000/v3');
    assert.equal(identityV3Url('https://keystone.example:5000/v3/', 'c'), 'https://keystone.example:5000/v3');
    assert.equal(identityV3Url('https://cloud.example/identity', 'c'), 'https://cloud.example/identity/v3');
    assert.throws(() => identityV3Url('https://keystone.example:5000/v2.0', 'c'), (e: unknown) => isCloudError(e, 'config'));
  });
});
