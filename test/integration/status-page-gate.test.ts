import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGateFile } from '../../src/gate/config/load.ts';
import type { Build, Item } from '../../src/gate/model.ts';
import { apiHarness } from '../unit/api-helpers.ts';
import { launchChromium } from '../support/chromium.ts';

/**
 * An operator opens the status page of a system with a gate: below the cards, each pipeline
 * shows its queue, the changes in it with their jobs (state, time, log link), and the changes
 * reported lately. The gate's records are written to the store as the scheduler writes them.
 */

function build(job: string, o: Partial<Build>): Build {
  return { id: `${job}-id`, job, voting: true, state: 'waiting', result: null, requestId: null, nodes: [], startedAt: null, endedAt: null, logUrl: null, error: null, held: false, ...o };
}

function item(n: number, pipeline: string, o: Partial<Item>): Item {
  return {
    id: `item-${n}`, pipeline, queue: pipeline === 'gate' ? 'integrated' : `org/app#${n}`, seq: n, state: 'active', needs: [], enqueuedAt: 0, buildset: null,
    result: null, reason: null, reportedAt: null, updatedAt: 0,
    change: { connection: 'gerrit', project: 'org/app', branch: 'master', number: n, patchset: 1, ref: `refs/changes/0${n}/${n}/1`, revision: 'r', changeId: 'I', subject: `change ${n} subject`, url: `http://review.example.org/c/org/app/+/${n}`, owner: 'dev', message: '' },
    ...o,
  };
}

test('the status page shows the gate: pipelines, queued changes with their jobs, and recent reports', async (t) => {
  const h = apiHarness({ gate: { config: loadGateFile('test/fixtures/gate/valid.yaml') } });
  const now = h.clock.now;
  const bs = (builds: Build[]) => ({ id: 'bs1', base: [], state: 'ready' as const, commits: {}, files: [], conflict: null, builds, createdAt: now });
  await h.store.gate.saveItem(item(1, 'gate', {
    enqueuedAt: now - 90_000,
    buildset: bs([build('unit', { state: 'running', startedAt: now - 30_000, logUrl: 'http://logs.example.org/unit-id/' })]),
  }));
  await h.store.gate.saveItem(item(2, 'gate', {
    enqueuedAt: now - 60_000, buildset: bs([build('unit', { id: 'u2', state: 'done', result: 'FAILURE', startedAt: now - 50_000, endedAt: now - 10_000, logUrl: 'http://logs.example.org/u2/' })]),
  }));
  await h.store.gate.saveItem(item(3, 'check', { state: 'done', result: 'SUCCESS', reportedAt: now - 5_000, updatedAt: now - 5_000 }));
  const url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const { browser, source } = await launchChromium();
  t.diagnostic(`browser: ${source}`);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/`);
    await page.waitForSelector('body[data-gate-loaded="true"]');
    assert.deepEqual(errors, []);
    assert.equal(await page.locator('#gate').isVisible(), true);
    const gate = page.locator('[data-pipeline="gate"]');
    assert.match(await gate.locator('h3').innerText(), /^gate \(2\)$/);
    assert.deepEqual(await gate.locator('.item').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.change)), ['1,1', '2,1']);
    const running = gate.locator('[data-change="1,1"] [data-job="unit"]');
    assert.match(await running.innerText(), /unit\s+running\s+30s/);
    assert.equal(await running.locator('a').getAttribute('href'), 'http://logs.example.org/unit-id/');
    const failed = gate.locator('[data-change="2,1"]');
    assert.equal(await failed.getAttribute('class'), 'item failing');
    assert.match(await failed.innerText(), /unit: FAILURE/);
    assert.match(await page.locator('[data-pipeline="check"]').innerText(), /no changes/);
    assert.match(await page.locator('#gate-recent').innerText(), /3,1\s+org\/app\s+check\s+SUCCESS/);
    assert.ok((await page.screenshot({ fullPage: true })).length > 10_000);
  } finally {
    await browser.close();
    await h.close();
  }
});
