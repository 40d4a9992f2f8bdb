// The plain page in real headless chromium: it loads without console errors, trains live
// (examples seen rises, the loss falls), pauses and resumes, and takes a learning rate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openPage, outputDir, waitFor } from './harness.mjs';

const stats = (page) => page.evaluate(() => window.bottleneck.stats());

test('the page trains live and its loss falls', async () => {
  const { page, consoleErrors, close } = await openPage();
  try {
    await waitFor(page, () => window.bottleneck && window.bottleneck.stats().examplesSeen > 0);
    const early = await stats(page);
    // Wait for the moving average to settle well below its first readings.
    await page.waitForTimeout(6000);
    const later = await stats(page);
    assert.ok(later.examplesSeen > early.examplesSeen, 'examples seen keeps rising');
    assert.ok(Number.isFinite(later.trainMse) && later.trainMse < early.trainMse, `train MSE/px ${early.trainMse} -> ${later.trainMse}`);
    assert.ok(Number.isFinite(later.validMse), 'validation loss is shown');
    const shown = await page.textContent('#stat-examples');
    assert.ok(Number(shown.replace(/,/g, '')) > 0, `examples seen on the page: ${shown}`);
    await page.screenshot({ path: join(outputDir, 'page.png'), fullPage: true });
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('pause stops the examples counter and resume restarts it', async () => {
  const { page, consoleErrors, close } = await openPage();
  try {
    await waitFor(page, () => window.bottleneck && window.bottleneck.stats().examplesSeen > 0);
    await page.click('#pause');
    const paused = await stats(page);
    await page.waitForTimeout(500);
    assert.equal((await stats(page)).examplesSeen, paused.examplesSeen, 'no training while paused');
    assert.equal(await page.textContent('#pause'), 'resume');
    await page.click('#pause');
    await waitFor(page, (n) => window.bottleneck.stats().examplesSeen > n, paused.examplesSeen);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('adadelta says it has no learning rate; rmsprop takes a new one', async () => {
  const { page, close } = await openPage();
  try {
    await waitFor(page, () => window.bottleneck !== undefined);
    assert.equal(await page.isDisabled('#lr'), true);
    assert.match(await page.textContent('#lr-note'), /adadelta has no learning rate/);
  } finally {
    await close();
  }
  const turnoff = await openPage('?preset=turnoff');
  try {
    const { page } = turnoff;
    await waitFor(page, () => window.bottleneck && window.bottleneck.stats().examplesSeen > 0);
    await page.fill('#lr', '0.0005');
    await page.click('#lr-apply');
    assert.match(await page.textContent('#status'), /learning rate is now 0.0005/);
    const before = (await stats(page)).examplesSeen;
    await waitFor(page, (n) => window.bottleneck.stats().examplesSeen > n, before);
  } finally {
    await turnoff.close();
  }
});
