import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { silentLogger } from '../../src/log.ts';
import { Sampler } from '../../src/metrics/sampler.ts';
import { addNode, apiHarness } from '../unit/api-helpers.ts';

/**
 * An operator opens the status page in a browser (Debian's chromium, headless, driven by
 * playwright-core): the page loads, lists the node just created, and its plots have points.
 */

const CHROMIUM = '/usr/bin/chromium';
// Without these Chromium reaches for the network (updates, sync, QUIC), which is closed here.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

test('the status page loads, shows a node the test created, and plots the sampled points', async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  const h = apiHarness();
  const node = await addNode(h.store, { label: 'ubuntu-noble', now: h.clock.now - 30_000 });
  await h.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { labels: ['ubuntu-jammy'], requestor: 'zuul' } });
  // Three points a minute apart, the last one now, as the sampler takes them every sample-interval.
  const sampler = new Sampler({ store: h.store, logger: silentLogger(), intervalMs: 60_000, retentionMs: 86400_000 });
  for (const ago of [120_000, 60_000, 0]) await sampler.sampleOnce(h.clock.now - ago);
  const url = await h.app.listen({ host: '127.0.0.1', port: 0 });

  const profile = mkdtempSync(join(tmpdir(), 'np-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 1000 } });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/`);
    await page.waitForSelector('body[data-loaded="true"]');
    assert.deepEqual(errors, []);

    assert.equal(await page.locator('#nodes td', { hasText: node.id }).count(), 1);
    assert.equal(await page.locator('#waiting tbody tr').count(), 1);
    assert.match(await page.locator('#pools').innerText(), /ubuntu-noble\s+sim-east\s+1/);
    // Nodes by state: one series (ready) with the three points; requests waiting likewise.
    assert.equal(await page.locator('#plot-nodes circle.pt').count(), 3);
    assert.equal(await page.locator('#plot-nodes').getAttribute('data-points'), '3');
    assert.equal(await page.locator('#plot-waiting circle.pt').count(), 3);
    assert.equal(await page.locator('#plot-wait text.empty').count(), 1);
    assert.ok((await page.screenshot({ fullPage: true })).length > 10_000);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
    await h.close();
  }
});
