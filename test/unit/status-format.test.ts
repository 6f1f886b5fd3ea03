import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newNodeRecord, newRequestRecord } from '../../src/store/records.ts';
import { formatAge, formatTable, renderRecord, renderRows } from '../../src/status/format.ts';
import { NODE_COLUMNS, nodeRow, REQUEST_COLUMNS, requestRow } from '../../src/status/rows.ts';
import { requestView } from '../../src/status/views.ts';

const T0 = Date.UTC(2024, 0, 1);

test('ages print as Nodepool prints them: days, hours, minutes, seconds', () => {
  assert.equal(formatAge(0), '00:00:00:00');
  assert.equal(formatAge(5025), '00:01:23:45');
  assert.equal(formatAge(86400 * 3 + 59), '03:00:00:59');
  assert.equal(formatAge(86400 * 120), '120:00:00:00');
  assert.equal(formatAge(-4), '00:00:00:00', 'a clock a little behind never shows a negative age');
});

test('a table has a bordered header and left-aligned columns as wide as their widest cell', () => {
  assert.equal(formatTable(['ID', 'State'], [['1', 'ready'], ['1234', 'in-use']]), [
    '+------+--------+',
    '| ID   | State  |',
    '+------+--------+',
    '| 1    | ready  |',
    '| 1234 | in-use |',
    '+------+--------+',
    '',
  ].join('\n'));
  assert.equal(formatTable(['ID'], []), '+----+\n| ID |\n+----+\n+----+\n');
});

test('a node row shows the address a job uses, its age in state, and whether a launcher holds it', () => {
  const n = { ...newNodeRecord({ label: 'l', provider: 'p', pool: 'main', connectionPort: 22, username: 'zuul', now: T0 }), interfaceIp: '10.1.0.5' };
  const row = nodeRow({ ...n, leaseOwner: 'launcher-1', leaseExpires: T0 + 60_000 }, T0 + 5025_000);
  assert.equal(row.public_ipv4, '10.1.0.5');
  assert.equal(row.age, 5025);
  assert.equal(row.locked, 'unlocked', 'the lease ran out');
  assert.equal(nodeRow({ ...n, leaseOwner: 'launcher-1', leaseExpires: T0 + 60_000 }, T0 + 1000).locked, 'locked');
  assert.equal(nodeRow({ ...n, publicIpv4: '203.0.113.9' }, T0).public_ipv4, '203.0.113.9');

  const table = renderRows([row], NODE_COLUMNS, 'text');
  assert.ok(table.includes('| 00:01:23:45 |'));
  assert.ok(!table.includes('Host Keys'), 'host keys are too long for a table row');
  assert.ok(renderRecord(row, NODE_COLUMNS).includes('| Host Keys '));
  assert.deepEqual(JSON.parse(renderRows([row], NODE_COLUMNS, 'json', { fields: ['id', 'age'] })), [{ id: n.id, age: 5025 }]);
});

test('a request row lists labels and nodes; its scheduler view shows nodes only once fulfilled', () => {
  const r = newRequestRecord({ labels: ['a', 'b'], requestor: 'zuul', now: T0 });
  const text = renderRows([requestRow({ ...r, nodes: ['n1', 'n2'] }, T0)], REQUEST_COLUMNS, 'text');
  assert.ok(text.includes('| a,b '));
  assert.ok(text.includes('| n1,n2 '));
  const node = newNodeRecord({ label: 'a', provider: 'p', pool: 'main', connectionPort: 22, username: 'zuul', now: T0 });
  assert.deepEqual(requestView({ ...r, state: 'pending', nodes: [node.id] }, () => node).nodes, []);
  const view = requestView({ ...r, state: 'fulfilled', nodes: [node.id, 'gone'], fulfilledAt: T0 }, (id) => (id === node.id ? node : null));
  assert.deepEqual(view.nodes.map((n) => n.id), [node.id]);
  assert.equal(view.fulfilled_at, new Date(T0).toISOString());
});
