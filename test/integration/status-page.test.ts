import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/log.ts';
import { Sampler } from '../../src/metrics/sampler.ts';
import { addNode, apiHarness } from '../unit/api-helpers.ts';
import { launchChromium } from '../support/chromium.ts';

/**
 * An operator opens the status page in a browser (headless Chromium driven by playwright-core):
 * the page loads, lists the node just created, and its plots have points. The page as the
 * browser drew it is kept in test-results/status-page.png.
 */

const SCREENSHOT = join(import.meta.dirname, '../../test-results/status-page.png');

test('the status page loads, shows a node the test created, and plots the sampled points', async (t) => {
  const h = apiHarness();
  const node = await addNode(h.store, { label: 'ubuntu-noble', now: h.clock.now - 30_000 });
  await h.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { labels: ['ubuntu-jammy'], requestor: 'zuul' } });
  // Three points a minute apart, the last one now, as the sampler takes them every sample-interval.
  const sampler = new Sampler({ store: h.store, logger: silentLogger(), intervalMs: 60_000, retentionMs: 86400_000 });
  for (const ago of [120_000, 60_000, 0]) await sampler.sampleOnce(h.clock.now - ago);
  const url = await h.app.listen({ host: '127.0.0.1', port: 0 });

  const { browser, source } = await launchChromium();
  t.diagnostic(`browser: ${source}`);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
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
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(statSync(SCREENSHOT).size > 10_000, 'a drawn page, not a blank one');
  } finally {
    await browser.close();
    await h.close();
  }
});
