import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, keys, login, sample, startSim, until } from './cloudsim-support.ts';

test('a client discovers identity v3 and logs in with the clouds.yaml password', async (t) => {
  const sim = await startSim(t);
  const auth = sim.cloudsYaml().clouds.alpha.auth;
  assert.equal(auth.auth_url, `${sim.url}/alpha/identity`);

  const root = await call('GET', `${auth.auth_url}/`);
  assert.equal(root.status, 300);
  assert.equal(root.headers.get('location'), `${auth.auth_url}/v3/`);
  assert.equal(root.body.versions.values[0].id, 'v3.14');
  assert.equal((await call('GET', `${auth.auth_url}/v3`)).body.version.links[0].href, `${auth.auth_url}/v3/`);

  const res = await call('POST', `${auth.auth_url}/v3/auth/tokens`, {
    body: {
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'nodepool', domain: { id: 'default' }, password: auth.password } } },
        scope: { project: { name: 'nodepool', domain: { id: 'default' } } },
      },
    },
  });
  assert.equal(res.status, 201);
  assert.match(res.headers.get('x-subject-token') ?? '', /^gAAAAA/);
  assert.equal(res.headers.get('vary'), 'X-Auth-Token');
  assert.match(res.headers.get('x-openstack-request-id') ?? '', /^req-[0-9a-f-]{36}$/);
  const token = res.body.token;
  assert.deepEqual(token.methods, ['password']);
  assert.deepEqual(token.roles.map((r: any) => r.name), ['member', 'reader']);
  assert.ok(Date.parse(token.expires_at) - Date.parse(token.issued_at) >= 3_599_000, 'tokens live an hour by default');
  assert.match(token.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

  // The catalog lists the cloud's endpoints, each public, internal and admin; Cinder under both of its types.
  const byType = Object.fromEntries(token.catalog.map((s: any) => [s.type, s]));
  assert.deepEqual(Object.keys(byType).sort(), ['block-storage', 'compute', 'identity', 'image', 'network', 'volumev3']);
  assert.equal(byType['block-storage'].endpoints[0].url, `${sim.url}/alpha/volume/v3/${sim.cloud('alpha').credentials.projectId}`);
  assert.equal(byType.volumev3.endpoints[0].url, byType['block-storage'].endpoints[0].url);
  assert.equal(byType.compute.endpoints[0].url, `${sim.url}/alpha/compute/v2.1`);
  assert.equal(byType.image.endpoints[0].url, `${sim.url}/alpha/image`);
  assert.equal(byType.network.endpoints[0].url, `${sim.url}/alpha/network`);
  for (const s of token.catalog) {
    assert.deepEqual(s.endpoints.map((e: any) => e.interface).sort(), ['admin', 'internal', 'public']);
    assert.ok(s.endpoints.every((e: any) => e.region === 'RegionOne' && e.region_id === 'RegionOne'));
  }

  const recorded = sample('keystone-auth-tokens-password-201').response.body.token;
  assert.deepEqual(keys(token), keys(recorded));
  assert.deepEqual(keys(token.user), keys(recorded.user));
  assert.deepEqual(keys(token.catalog[0]), keys(recorded.catalog[0]));
  assert.deepEqual(keys(token.catalog[0].endpoints[0]), keys(recorded.catalog[0].endpoints[0]));
  assert.deepEqual(keys((await call('GET', `${auth.auth_url}/v3`)).body), keys(sample('keystone-v3-200').response.body));
});

test('a wrong password or user gets Keystone 401 with WWW-Authenticate', async (t) => {
  const sim = await startSim(t);
  const auth = sim.cloudsYaml().clouds.alpha.auth;
  for (const user of [{ name: 'nodepool', domain: { name: 'Default' }, password: 'wrong-password' }, { name: 'nobody', domain: { name: 'Default' }, password: auth.password }]) {
    const res = await call('POST', `${auth.auth_url}/v3/auth/tokens`, {
      body: { auth: { identity: { methods: ['password'], password: { user } }, scope: { project: { name: 'nodepool', domain: { name: 'Default' } } } } },
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Keystone uri="${auth.auth_url}/v3"`);
    assert.deepEqual(res.body, { error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } });
    assert.equal(res.headers.get('x-subject-token'), null);
  }
  const malformed = await call('POST', `${auth.auth_url}/v3/auth/tokens`, { body: '{}' });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.error.title, 'Bad Request');
  assert.deepEqual(malformed.body.error && keys(malformed.body.error), keys(sample('keystone-auth-tokens-password-401').response.body.error));
});

test('a user makes an application credential, logs in with it, and deletes it', async (t) => {
  const sim = await startSim(t);
  const s = await login(sim, 'alpha');
  const userId = sim.cloud('alpha').credentials.userId;
  const made = await call('POST', `${s.identity}/v3/users/${userId}/application_credentials`, {
    token: s.token, body: { application_credential: { name: 'pool', description: 'pool manager credential' } },
  });
  assert.equal(made.status, 201);
  const cred = made.body.application_credential;
  assert.equal(cred.secret.length, 86);
  assert.equal(cred.project_id, sim.cloud('alpha').credentials.projectId);

  const byId = await call('POST', `${s.identity}/v3/auth/tokens`, {
    body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: cred.id, secret: cred.secret } } } },
  });
  assert.equal(byId.status, 201);
  assert.deepEqual(byId.body.token.methods, ['application_credential']);
  assert.deepEqual(byId.body.token.application_credential, { id: cred.id, name: 'pool', restricted: true });
  assert.equal(byId.body.token.project.id, cred.project_id);
  // The token works against the other services.
  const servers = await call('GET', `${s.compute}/servers`, { token: byId.headers.get('x-subject-token')! });
  assert.equal(servers.status, 200);

  const byName = await call('POST', `${s.identity}/v3/auth/tokens`, {
    body: { auth: { identity: { methods: ['application_credential'], application_credential: { name: 'pool', secret: cred.secret, user: { name: 'nodepool', domain: { name: 'Default' } } } } } },
  });
  assert.equal(byName.status, 201);

  const wrong = await call('POST', `${s.identity}/v3/auth/tokens`, {
    body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: cred.id, secret: 'wrong-secret' } } } },
  });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error.title, 'Unauthorized');

  const gone = await call('DELETE', `${s.identity}/v3/users/${userId}/application_credentials/${cred.id}`, { token: s.token });
  assert.equal(gone.status, 204);
  assert.equal(gone.headers.get('content-type'), null);
  const after = await call('POST', `${s.identity}/v3/auth/tokens`, {
    body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: cred.id, secret: cred.secret } } } },
  });
  assert.equal(after.status, 401);

  assert.deepEqual(keys(cred), keys(sample('keystone-application-credentials-create-201').response.body.application_credential));
  assert.deepEqual(keys(byId.body.token), keys(sample('keystone-auth-tokens-application-credential-201').response.body.token));
});

test('services answer a missing, unknown or expired token with keystonemiddleware 401', async (t) => {
  const sim = await startSim(t, { clouds: [{ name: 'alpha', ssh: false, tokenTtlMs: 300 }] });
  const s = await login(sim, 'alpha');
  const urls = [`${s.compute}/servers/detail`, `${s.image}/v2/images`, `${s.network}/v2.0/networks`];
  for (const url of urls) assert.equal((await call('GET', url, { token: s.token, mv: '2.79' })).status, 200);
  for (const url of urls) {
    for (const token of [undefined, 'gAAAAAnot-a-token']) {
      const res = await call('GET', url, { token, mv: '2.79' });
      assert.equal(res.status, 401, url);
      assert.deepEqual(res.body, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
      assert.equal(res.headers.get('www-authenticate'), `Keystone uri="${s.identity}"`);
      // keystonemiddleware answers before Nova reads the microversion.
      assert.equal(res.headers.get('openstack-api-version'), null);
    }
  }
  const nova401 = await call('GET', `${s.compute}/servers/detail`, { token: 'nope' });
  assert.equal(nova401.headers.get('x-compute-request-id'), nova401.headers.get('x-openstack-request-id'));

  // The token stops working once its lifetime is over.
  await until(async () => ((await call('GET', urls[0], { token: s.token })).status === 401 ? true : undefined), 10_000, 'token expiry');
  assert.deepEqual(keys(nova401.body.error), keys(sample('nova-servers-detail-401').response.body.error));
});
