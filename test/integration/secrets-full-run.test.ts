import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createCloudSim } from '../../src/cloudsim/index.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { startSystem } from '../../src/run.ts';
import { hashToken, newToken } from '../../src/secrets/tokens.ts';
import { randomSshPort, scratch, writeSealedClouds } from './helpers.ts';

/**
 * A whole run with secrets in it: the cloud password sealed in clouds.yaml, API tokens for an
 * operator, a scheduler and a dashboard, reads not public. The system boots a node, serves a
 * request, refuses calls without the right token, holds and deletes a node, is scraped; then
 * every log line (at trace level) and every answer it gave is searched for the secrets.
 */
test('no secret reaches the logs, the status answers or the error messages of a full run', async () => {
  const tmp = scratch('np-secrets-run-');
  const sshPort = randomSshPort();
  const sim = await createCloudSim({ clouds: [{ name: 'vault', bootDelayMs: 100, deleteDelayMs: 50, sshPort }] });
  let lines = '';
  const sink = new Writable({ write(chunk, _enc, cb) { lines += chunk.toString(); cb(); } });
  const answers: string[] = [];
  try {
    const { password, keyFile: key } = writeSealedClouds(sim, 'vault', tmp.dir);
    const admin = newToken();
    const zuul = newToken();
    const grafana = newToken();
    writeFileSync(join(tmp.dir, 'nodepool.yaml'), `
labels:
  - {name: ubuntu-jammy, min-ready: 1}
providers:
  - name: vault
    driver: openstack
    cloud: vault
    list-interval: 0.02
    cloud-images: [{name: jammy, image-name: ubuntu-22.04}]
    pools:
      - name: main
        max-servers: 4
        networks: [private]
        labels: [{name: ubuntu-jammy, flavor-name: m1.small, cloud-image: jammy, connection-port: ${sshPort}}]
api:
  port: 0
  read-public: false
  tokens:
    - {name: ops, role: admin, hash: ${hashToken(admin)}}
    - {name: zuul, role: requestor, hash: ${hashToken(zuul)}}
    - {name: grafana, role: read, hash: ${hashToken(grafana)}}
store: {path: state.sqlite}
secrets: {key-file: daemon.key}
status: {sample-interval: 0.2}
`);
    const config = loadConfig(join(tmp.dir, 'nodepool.yaml'));
    const logger = createLogger({ level: 'trace', destination: sink });
    const sys = await startSystem({ config, logger, env: { OS_CLIENT_CONFIG_FILE: join(tmp.dir, 'clouds.yaml') } });
    const call = async (method: string, path: string, token?: string, body?: unknown) => {
      const res = await fetch(sys.apiUrl + path, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}), accept: 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      answers.push(text);
      return { status: res.status, text, json: () => JSON.parse(text) };
    };
    try {
      const req = await call('POST', '/api/v1/requests', zuul, { labels: ['ubuntu-jammy'], requestor: 'zuul' });
      assert.equal(req.status, 201, req.text);
      const done = await call('GET', `/api/v1/requests/${req.json().id}?wait=30`, zuul);
      assert.equal(done.json().state, 'fulfilled', done.text);
      const node = done.json().nodes[0].id;

      assert.equal((await call('GET', '/node-list')).status, 401);
      assert.equal((await call('POST', `/api/v1/nodes/${node}/hold`, `${admin}x`, {})).status, 401);
      assert.equal((await call('POST', `/api/v1/nodes/${node}/hold`, zuul, {})).status, 403);
      assert.equal((await call('POST', `/api/v1/requests/${req.json().id}/release`, zuul, { state: 'hold', reason: 'look at it' })).status, 200);
      assert.equal((await call('DELETE', `/api/v1/nodes/${node}`, admin)).status, 202);
      for (const path of ['/node-list', '/request-list', '/label-list', '/provider-list', '/api/v1/status', '/api/v1/series', '/metrics']) {
        assert.equal((await call('GET', path, grafana)).status, 200, path);
      }
      const metrics = answers[answers.length - 1]!;
      assert.match(metrics, /^nodepool_launch_total\{provider="vault",label="ubuntu-jammy",az="[^"]*",result="ready"\} [1-9]/m);
      assert.match(metrics, /^nodepool_task_total\{provider="vault",service="keystone",method="POST",status="201"\} [1-9]/m);
    } finally {
      await sys.stop();
    }

    const secrets = { password, admin, zuul, grafana, 'secret key': JSON.parse(readFileSync(key, 'utf8')).secret_key as string };
    assert.ok(lines.includes('"node ready"') && lines.includes('"request refused"'), 'the run logged its work');
    for (const [what, value] of Object.entries(secrets)) {
      assert.ok(!lines.includes(value), `the ${what} is in the log`);
      assert.ok(!answers.some((a) => a.includes(value)), `the ${what} is in an answer`);
    }
  } finally {
    await sim.close();
    tmp.done();
  }
});
