import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadClouds, resolveCloud } from '../../providers/openstack/clouds-yaml/index.ts';
import type { LoadCloudsOptions } from '../../providers/openstack/clouds-yaml/index.ts';
import { ConfigError, UnknownCloudError } from '../../src/config/errors.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/config/clouds');
const cwd = join(fixtures, 'cwd');
const home = join(fixtures, 'home');
const site = join(fixtures, 'site');
const userDir = join(home, '.config/openstack');
/** An empty folder, removed when this file's tests are done. */
const made: string[] = [];
const empty = () => { const d = mkdtempSync(join(tmpdir(), 'np-clouds-')); made.push(d); return d; };
after(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

/** A machine: the working directory, the home folder, the system folder and the environment. */
function machine(opts: LoadCloudsOptions) {
  return loadClouds({ env: {}, cwd: empty(), home: empty(), siteDirs: [site], ...opts });
}

function lineOf(file: string, snippet: string | RegExp): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  return lines.findIndex((l) => (typeof snippet === 'string' ? l.includes(snippet) : snippet.test(l))) + 1;
}

test("the project folder's clouds.yaml wins over the user's and the system's", () => {
  const loaded = machine({ cwd, home });
  assert.deepEqual(loaded.files, [join(cwd, 'clouds.yaml'), join(userDir, 'secure.yaml')]);
  const vexx = resolveCloud(loaded, 'vexxhost');
  assert.equal(vexx.password, 'from-the-project-folder');
  assert.equal(vexx.regionName, 'ca-ymq-1');
  assert.equal(loaded.entries['site-cloud'], undefined, 'the system file is not read once one is found');
});

test("without a project file, the user's clouds.yaml is read and secure.yaml's secrets merged into it", () => {
  const loaded = machine({ home });
  assert.deepEqual(loaded.files, [join(userDir, 'clouds.yaml'), join(userDir, 'secure.yaml')]);

  const rax = resolveCloud(loaded, 'rax');
  assert.equal(rax.authType, 'password');
  assert.equal(rax.authUrl, 'https://identity.api.rackspacecloud.com/v3');
  assert.equal(rax.username, 'nodepool');
  assert.equal(rax.password, 'rax-secret', 'from secure.yaml');
  assert.equal(rax.projectId, '637776', 'a number in YAML is read as the id it is');
  assert.equal(rax.userDomainName, 'Default');
  assert.equal(rax.regionName, 'DFW', 'the first of its regions');
  assert.equal(rax.interface, 'public');
  assert.equal(rax.verify, true);
  assert.equal(rax.cacert, join(home, 'certs/rax-ca.pem'));
});

test('the system file is the last place looked', () => {
  const loaded = machine({});
  assert.deepEqual(loaded.files, [join(site, 'clouds.yaml')]);
  assert.equal(resolveCloud(loaded, 'site-cloud').projectName, 'ci');
  assert.equal(loaded.defaultCloud, 'site-cloud', 'the only cloud is the default');
});

test('XDG_CONFIG_HOME moves the user folder, as it does for openstacksdk', () => {
  const loaded = machine({ env: { XDG_CONFIG_HOME: join(home, '.config') } });
  assert.equal(loaded.files[0], join(userDir, 'clouds.yaml'));
});

test('OS_CLIENT_CONFIG_FILE and OS_CLIENT_SECURE_FILE are read before every default location', () => {
  const loaded = machine({
    cwd,
    home,
    env: {
      OS_CLIENT_CONFIG_FILE: join(fixtures, 'override/ci-clouds.yaml'),
      OS_CLIENT_SECURE_FILE: join(fixtures, 'override/ci-secure.yaml'),
    },
  });
  assert.deepEqual(loaded.files, [join(fixtures, 'override/ci-clouds.yaml'), join(fixtures, 'override/ci-secure.yaml')]);
  const vexx = resolveCloud(loaded, 'vexxhost');
  assert.equal(vexx.username, 'ci-override');
  assert.equal(vexx.password, 'override-secret');
  assert.equal(vexx.regionName, 'sjc1');
  assert.equal(loaded.searched[0], join(fixtures, 'override/ci-clouds.yaml'));
});

test('OS_* variables make a cloud named envvars, the default unless OS_CLOUD names another', () => {
  const env = {
    OS_AUTH_URL: 'https://keystone.example/v3',
    OS_USERNAME: 'nodepool',
    OS_PASSWORD: 'env-secret',
    OS_PROJECT_NAME: 'ci',
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_NAME: 'Default',
    OS_REGION_NAME: 'RegionOne',
    OS_INTERFACE: 'internal',
  };
  const loaded = machine({ env });
  assert.equal(loaded.defaultCloud, 'envvars');
  assert.deepEqual(loaded.clouds.envvars, {
    cloud: 'envvars',
    authType: 'password',
    authUrl: 'https://keystone.example/v3',
    username: 'nodepool',
    userId: undefined,
    password: 'env-secret',
    userDomainName: 'Default',
    userDomainId: undefined,
    projectName: 'ci',
    projectId: undefined,
    projectDomainName: 'Default',
    projectDomainId: undefined,
    applicationCredentialId: undefined,
    applicationCredentialName: undefined,
    applicationCredentialSecret: undefined,
    regionName: 'RegionOne',
    interface: 'internal',
    verify: true,
    cacert: undefined,
  });
  assert.ok(loaded.clouds['site-cloud'], 'file clouds are still there');

  assert.equal(machine({ env: { ...env, OS_CLOUD: 'site-cloud' } }).defaultCloud, 'site-cloud');
  assert.equal(machine({ env: { ...env, OS_CLOUD_NAME: 'from-env' } }).clouds['from-env'].username, 'nodepool');
});

test('a cloud named both by OS_CLOUD_NAME and in a file is refused, as openstacksdk refuses it', () => {
  const loaded = machine({ env: { OS_CLOUD_NAME: 'site-cloud', OS_AUTH_URL: 'https://keystone.example/v3' } });
  const e = catchConfigError(() => resolveCloud(loaded, 'site-cloud'));
  assert.ok(e.issues.some((i) => i.path === 'OS_CLOUD_NAME' && /rename one/.test(i.message)));
});

test('OS_CLOUD or OS_REGION_NAME alone make no envvars cloud', () => {
  const loaded = machine({ env: { OS_CLOUD: 'site-cloud', OS_REGION_NAME: 'RegionOne' } });
  assert.equal(loaded.entries.envvars, undefined);
});

test('application credentials come from clouds.yaml with the secret from secure.yaml, or from OS_* variables', () => {
  const ovh = resolveCloud(machine({ home }), 'ovh');
  assert.equal(ovh.authType, 'v3applicationcredential');
  assert.equal(ovh.applicationCredentialId, '3c5a2f0e9b7d4e21a8f0c6d2b1e9a7f4');
  assert.equal(ovh.applicationCredentialSecret, 'ovh-secret');
  assert.equal(ovh.regionName, 'BHS1');

  const env = machine({
    env: {
      OS_AUTH_TYPE: 'v3applicationcredential',
      OS_AUTH_URL: 'https://keystone.example/v3',
      OS_APPLICATION_CREDENTIAL_ID: 'abc',
      OS_APPLICATION_CREDENTIAL_SECRET: 'shh',
    },
  });
  const fromEnv = resolveCloud(env, 'envvars');
  assert.equal(fromEnv.authType, 'v3applicationcredential');
  assert.equal(fromEnv.applicationCredentialSecret, 'shh');
});

test('a region of the regions list brings its own values; a region the cloud does not have is refused', () => {
  const loaded = machine({ home });
  const iad = resolveCloud(loaded, 'rax', 'IAD');
  assert.equal(iad.regionName, 'IAD');
  assert.equal(iad.interface, 'internal');
  assert.equal(resolveCloud(loaded, 'rax', 'ORD').interface, 'public');

  assert.throws(() => resolveCloud(loaded, 'rax', 'SYD'), /region "SYD" is not a region of cloud "rax" .*its regions: DFW, ORD, IAD/);
  // A cloud without regions works in whichever region its provider names.
  assert.equal(resolveCloud(loaded, 'limestone', 'RegionTwo').regionName, 'RegionTwo');
});

test('older spellings: flat keys, dashes, domain_name for both domains, insecure', () => {
  const lime = resolveCloud(machine({ home }), 'limestone');
  assert.equal(lime.authUrl, 'https://auth.limestone.example/v3');
  assert.equal(lime.projectName, 'ci');
  assert.equal(lime.userDomainName, 'limestone');
  assert.equal(lime.projectDomainName, 'limestone');
  assert.equal(lime.verify, false);
});

test('a broken entry does not stop the others, and is reported with its file and line when named', () => {
  const loaded = machine({ home });
  assert.ok(loaded.clouds.rax);
  assert.equal(loaded.clouds.broken, undefined);

  const file = join(userDir, 'clouds.yaml');
  assert.throws(
    () => resolveCloud(loaded, 'broken'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.issues, [
        {
          file,
          path: 'clouds.broken.auth.auth_url',
          line: lineOf(file, '  broken:'),
          column: 3,
          message: 'missing auth_url: the Keystone URL',
        },
      ]);
      assert.match(e.message, /^cloud "broken" \(region RegionOne\) cannot be used: 1 problem\n/);
      assert.ok(e.message.includes(`${file}:${lineOf(file, '  broken:')}:3: clouds.broken.auth.auth_url: missing auth_url`));
      return true;
    },
  );
});

test('a value of the wrong kind is reported where it is written, in clouds.yaml or in secure.yaml', () => {
  const loaded = machine({ home });
  const clouds = join(userDir, 'clouds.yaml');
  const secure = join(userDir, 'secure.yaml');

  const verify = catchConfigError(() => resolveCloud(loaded, 'self-signed')).issues;
  assert.deepEqual(verify.map((i) => [i.file, i.path, i.line]), [[clouds, 'clouds.self-signed.verify', lineOf(clouds, 'verify: no')]]);
  assert.equal(verify[0].message, 'must be true or false');

  const secret = catchConfigError(() => resolveCloud(loaded, 'blank-secret')).issues;
  assert.deepEqual(
    secret.map((i) => [i.file, i.path, i.line]),
    [[secure, 'clouds.blank-secret.auth.application_credential_secret', lineOf(secure, /application_credential_secret:$/)]],
  );

  const oidc = catchConfigError(() => resolveCloud(loaded, 'unsupported')).issues;
  assert.equal(oidc[0].line, lineOf(clouds, 'auth_type: v3oidcpassword'));
  assert.match(oidc[0].message, /auth_type "v3oidcpassword" is not supported/);
});

test('an environment cloud missing a variable names the variable', () => {
  const loaded = machine({ env: { OS_AUTH_URL: 'https://keystone.example/v3', OS_USERNAME: 'nodepool' } });
  const issues = catchConfigError(() => resolveCloud(loaded, 'envvars')).issues;
  assert.deepEqual(issues.map((i) => [i.file, i.path]), [['(environment)', 'OS_PASSWORD']]);
});

test('a cloud no file defines is an error naming the cloud, the clouds there are and every place looked', () => {
  const loaded = machine({ home });
  const e = catchConfigError(() => resolveCloud(loaded, 'raks'));
  assert.ok(e instanceof UnknownCloudError);
  assert.equal(e.cloud, 'raks');
  assert.match(e.message, /^cloud "raks" is not defined in clouds.yaml or by OS_\* variables \(clouds defined: rax, ovh, limestone/);
  assert.ok(e.message.includes(`looked in: ${loaded.searched[0].replace('clouds.yaml', '')}{clouds,secure}.{yaml,yml,json}, `));
  assert.ok(e.message.includes(`${userDir}/{clouds,secure}.{yaml,yml,json}`));
  assert.ok(e.message.endsWith(`${site}/{clouds,secure}.{yaml,yml,json})`));
  assert.ok(e.searched.includes(join(userDir, 'secure.yml')));
});

test('a clouds.yaml that is not valid YAML is passed over for the next, and named if a cloud is then missing', () => {
  const halfEdited = join(fixtures, 'half-edited');
  const loaded = machine({ cwd: halfEdited, home });
  assert.equal(loaded.files[0], join(userDir, 'clouds.yaml'));
  assert.equal(loaded.fileIssues.length, 1);
  const skipped = loaded.fileIssues[0];
  assert.equal(skipped.file, join(halfEdited, 'clouds.yaml'));
  assert.match(skipped.message, /^skipped: YAML: /);

  const e = catchConfigError(() => resolveCloud(loaded, 'vexxhost'));
  assert.ok(e.message.includes(`  ${join(halfEdited, 'clouds.yaml')}:`), e.message);
});

test('an OS_CLIENT_CONFIG_FILE that does not exist is named when the cloud is not found', () => {
  const loaded = machine({ home, env: { OS_CLIENT_CONFIG_FILE: join(fixtures, 'override/ci-cluods.yaml') } });
  assert.equal(loaded.files[0], join(userDir, 'clouds.yaml'), 'the next file is read, as openstacksdk does');
  const e = catchConfigError(() => resolveCloud(loaded, 'ci'));
  assert.ok(e.message.includes(`(environment): OS_CLIENT_CONFIG_FILE: names ${join(fixtures, 'override/ci-cluods.yaml')}, which does not exist`));
});

function catchConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail('no error');
}

test("api_timeout gives a cloud's calls their time limit, in seconds; a value that is not one is reported on its line", () => {
  const dir = empty();
  const file = join(dir, 'clouds.yaml');
  writeFileSync(file, [
    'clouds:',
    '  patient:',
    '    auth: {auth_url: "https://keystone.example/v3", username: ci, password: pw, project_name: ci}',
    '    api_timeout: 90',
    '  plain:',
    '    auth: {auth_url: "https://keystone.example/v3", username: ci, password: pw, project_name: ci}',
    '  hasty:',
    '    auth: {auth_url: "https://keystone.example/v3", username: ci, password: pw, project_name: ci}',
    '    api_timeout: soon',
    '',
  ].join('\n'));
  const loaded = machine({ env: { OS_CLIENT_CONFIG_FILE: file } });
  assert.equal(resolveCloud(loaded, 'patient').apiTimeout, 90);
  assert.equal(resolveCloud(loaded, 'plain').apiTimeout, undefined, 'absent: the default of 30 s');
  const issues = catchConfigError(() => resolveCloud(loaded, 'hasty')).issues;
  assert.deepEqual(issues.map((i) => [i.path, i.line, i.message]), [['clouds.hasty.api_timeout', 9, 'must be a number of seconds above 0']]);
});
