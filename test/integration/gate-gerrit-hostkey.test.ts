import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { pino } from 'pino';
import { generateHostKey } from '../../src/cloudsim/ssh.ts';
import { createGerritSim } from '../../src/gerritsim/index.ts';
import { StreamReader } from '../../src/gate/gerrit/stream.ts';
import { validateGateText } from '../../src/gate/config/load.ts';
import type { ConnectionConfig } from '../../src/gate/config/types.ts';
import { eventually, scratch } from './helpers.ts';

/**
 * The gate's Gerrit connection pins Gerrit's SSH host key (`host-key`): the stream is read from a
 * server showing that key, never from one showing another; without a pin the key is logged.
 */

function capture(): { logger: pino.Logger; lines: any[] } {
  const lines: any[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); done(); } });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

function connection(port: number, hostKeys: string[]): ConnectionConfig {
  return {
    name: 'gerrit', server: '127.0.0.1', port, user: 'zuul', sshKeyFile: null, hostKeys, password: 'secret',
    httpUrl: 'http://127.0.0.1:1', gitUrl: 'http://127.0.0.1:1/{project}', stream: true, simulated: false, demoChange: false,
  };
}

const blob = (line: string) => line.split(/\s+/)[1]!;

test('a pinned host key: events are read from the Gerrit showing it, and a Gerrit showing another key is refused with the key it showed', async () => {
  const sim = await createGerritSim({ projects: ['org/app'] });
  const readers: StreamReader[] = [];
  try {
    const read = (hostKeys: string[]) => {
      const log = capture();
      const lines: string[] = [];
      let connected = 0;
      const r = new StreamReader({
        connection: connection(sim.sshPort, hostKeys), privateKey: generateHostKey().privateKey, logger: log.logger,
        onLine: (l) => lines.push(l), onConnected: () => { connected++; }, minDelayMs: 100, maxDelayMs: 200,
      });
      readers.push(r);
      r.start();
      return { lines, log: log.lines, connected: () => connected };
    };
    const pinned = read([blob(sim.hostKey)]);
    const wrong = read([blob(generateHostKey().publicKey)]);
    const unpinned = read([]);
    await eventually('the pinned and the unpinned readers connected', async () => pinned.connected() > 0 && unpinned.connected() > 0, 10_000);
    await sim.gerrit.uploadChange({ project: 'org/app', subject: 'A change', owner: 'developer', files: { 'a.txt': 'a\n' } });
    await eventually('the pinned reader got the event', async () => pinned.lines.some((l) => JSON.parse(l).type === 'patchset-created'), 10_000);
    // The wrong key: refused on every attempt (with backoff), never connected, never given an event.
    await eventually('the mismatch was refused more than once', async () =>
      wrong.log.filter((l) => /does not match/.test(l.msg)).length >= 2, 10_000);
    assert.equal(wrong.connected(), 0);
    assert.deepEqual(wrong.lines, []);
    const refusal = wrong.log.find((l) => /does not match/.test(l.msg));
    assert.equal(refusal.hostKey, sim.hostKey, 'the refusal names the key the server showed');
    assert.equal(refusal.level, 50);
    // No pin: accepted, with a warning naming the key to pin, once.
    const warned = unpinned.log.filter((l) => /not pinned/.test(l.msg));
    assert.equal(warned.length, 1);
    assert.equal(warned[0].hostKey, sim.hostKey);
    assert.equal(pinned.log.filter((l) => /not pinned|does not match/.test(l.msg)).length, 0);
  } finally {
    for (const r of readers) r.stop();
    await sim.close();
  }
});

test('host-key in gate.yaml: as ssh-keyscan prints it or as a bare key; anything else is an error at its line', () => {
  const key = generateHostKey().publicKey;
  const gate = (hostKey: string) => `connections:
  - name: gerrit
    driver: gerrit
    user: zuul
    host-key: ${hostKey}
pipelines:
  - {name: check, manager: independent, trigger: {gerrit: [{event: patchset-created}]}}
`;
  const bare = validateGateText(gate(JSON.stringify(key)), 'gate.yaml');
  assert.deepEqual(bare.errors, []);
  assert.deepEqual(bare.config!.connections[0]!.hostKeys, [blob(key)]);
  const scanned = validateGateText(gate(JSON.stringify(`[review.example.org]:29418 ${key}`)), 'gate.yaml');
  assert.deepEqual(scanned.config!.connections[0]!.hostKeys, [blob(key)]);
  const bad = validateGateText(gate('not-a-key'), 'gate.yaml');
  assert.equal(bad.config, null);
  assert.deepEqual(bad.errors.map((e) => [e.line, e.path]), [[5, 'connections[0].host-key']]);
  assert.match(bad.errors[0]!.message, /SSH public key/);
});

test('the Gerrit simulator keeps its host key in its folder, so a pinned gate still connects after it restarts', async () => {
  const tmp = scratch('np-gerrit-key-');
  try {
    const dir = join(tmp.dir, 'gerrit');
    const first = await createGerritSim({ dir });
    const key = first.hostKey;
    await first.close();
    const second = await createGerritSim({ dir });
    await second.close();
    assert.match(key, /^ssh-ed25519 [A-Za-z0-9+/=]+$/);
    assert.equal(second.hostKey, key);
    const other = await createGerritSim({});
    await other.close();
    assert.notEqual(other.hostKey, key);
  } finally {
    tmp.done();
  }
});
