// The page leads: picking a preset (or opening its link) puts the panels its "What to look for"
// talks about first, marks them, and brings them into view on a laptop and on a phone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openPage, outputDir, waitFor } from './harness.mjs';

const training = (page) => waitFor(page, () => window.bottleneck?.stats()?.examples_seen > 0, undefined, 30_000);

/** Where each of the preset's point panels stands in the viewport. */
const pointRects = (page, names) =>
  page.evaluate((names) => names.map((name) => {
    const section = document.querySelector(`section[data-section="${name}"]`);
    const r = section.getBoundingClientRect();
    return { name, top: Math.round(r.top), bottom: Math.round(r.bottom), marked: section.classList.contains('is-point'), hidden: section.hidden, viewport: innerHeight };
  }), names);

for (const [label, viewport] of [['laptop', { width: 1366, height: 768 }], ['phone', { width: 390, height: 844 }]]) {
  test(`at ${viewport.width} × ${viewport.height} (${label}): every preset's point is on screen once picked`, async () => {
    const { page, consoleErrors, close } = await openPage('', { viewport, hasTouch: label === 'phone' });
    try {
      await training(page);
      const all = await page.evaluate(() => window.bottleneck.describe().presets.map((p) => ({ name: p.name, point: p.point })));
      // The page opens on the first preset: pick every other one, then come back to it.
      const presets = [...all.slice(1), all[0]];
      const report = [];
      for (const { name, point } of presets) {
        await page.selectOption('#preset', name);
        await waitFor(page, (n) => window.bottleneck.state().preset === n, name, 20_000);
        // The layout settles (canvases redrawn at their new widths) with the point kept in view.
        await page.waitForTimeout(1500);
        const rects = await pointRects(page, point.filter((p) => p !== 'scatter'));
        for (const r of rects) {
          assert.ok(r.marked, `${name}: ${r.name} is marked as the point`);
          assert.ok(!r.hidden, `${name}: ${r.name} is shown`);
          assert.ok(r.top >= -1 && r.top < r.viewport - 120, `${name}: ${r.name} starts on screen (top ${r.top} of ${r.viewport})`);
        }
        report.push(`${name}: ${rects.map((r) => `${r.name} ${r.top}–${r.bottom}`).join(', ')}`);
        await page.screenshot({ path: join(outputDir, `point-${label}-${name}.png`) });
      }
      console.log(`point panels at ${viewport.width}×${viewport.height}: ${report.join('; ')}`);
      // Panels that are not the point go back where the page has them.
      await page.selectOption('#preset', 'convnetjs');
      await waitFor(page, () => window.bottleneck.state().preset === 'convnetjs', undefined, 20_000);
      assert.equal(await page.evaluate(() => document.querySelectorAll('.is-point').length), 1, 'only the loss graph is marked for convnetjs');
      assert.deepEqual(consoleErrors, []);
    } finally {
      await close();
    }
  });
}

test('a link to a preset opens with its point in view', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=tied-sigmoid', { viewport: { width: 1366, height: 768 } });
  try {
    await training(page);
    await page.waitForTimeout(1500);
    const [filters] = await pointRects(page, ['filters']);
    assert.ok(filters.marked && filters.top >= -1 && filters.top < filters.viewport - 120, JSON.stringify(filters));
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});
