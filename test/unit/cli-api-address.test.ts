import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { apiClient, urlFromListen } from '../../src/cli/context.ts';
import { UnavailableError } from '../../src/ops/errors.ts';

const example = fileURLToPath(new URL('../../nodepool.example.yaml', import.meta.url));

test('without --url the CLI finds the API where the config says it listens', async () => {
  assert.equal((await apiClient({ config: example })).url, 'http://127.0.0.1:8022');
  assert.equal((await apiClient({ config: 'missing.yaml', url: 'http://10.0.0.5:8022/' })).url, 'http://10.0.0.5:8022');
  await assert.rejects(apiClient({ config: '/nonexistent/nodepool.yaml' }), (err: Error) =>
    err instanceof UnavailableError && /no --url given.*nonexistent/.test(err.message));
});

test('a wildcard listen address is reached on loopback, and IPv6 hosts get brackets', () => {
  assert.equal(urlFromListen('0.0.0.0', 8022), 'http://127.0.0.1:8022');
  assert.equal(urlFromListen('::', 8022), 'http://[::1]:8022');
  assert.equal(urlFromListen('192.0.2.10', 80), 'http://192.0.2.10:80');
  assert.equal(urlFromListen('fd00::1', 8022), 'http://[fd00::1]:8022');
});
