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
    return { name, top: Math.round(r.top), bottom: Math.round(r.bottom), marked: section.classList.contains('is-point'), hidden: section.hidden, viewport: innerHeight, lookFor: section.querySelector('.point-note')?.textContent ?? '' };
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
        // The new network has trained a batch, so its panels are drawn (on a busy machine the
        // last preset's pictures, of another size, can stand for a second or two).
        await waitFor(page, () => window.bottleneck.stats().examples_seen > 0, undefined, 20_000);
        // The layout settles (canvases redrawn at their new widths) with the point kept in view.
        await page.waitForTimeout(1500);
        const rects = await pointRects(page, point.filter((p) => p !== 'scatter'));
        for (const r of rects) {
          assert.ok(r.marked, `${name}: ${r.name} is marked as the point`);
          if (r === rects[0]) assert.ok(r.lookFor.startsWith('What to look for'), `${name}: the panel says what to look for`);
          assert.ok(!r.hidden, `${name}: ${r.name} is shown`);
          // Its heading and the start of its picture: at least 80 px of it on screen.
          assert.ok(r.top >= -1 && r.top < r.viewport - 80, `${name}: ${r.name} starts on screen (top ${r.top} of ${r.viewport})`);
        }
        report.push(`${name}: ${rects.map((r) => `${r.name} ${r.top}–${r.bottom}`).join(', ')}`);
        await page.screenshot({ path: join(outputDir, `point-${label}-${name}.png`) });
      }
      console.log(`point panels at ${viewport.width}×${viewport.height}: ${report.join('; ')}`);
      // Panels that are not the point go back where the page has them.
      await page.selectOption('#preset', 'convnetjs');
      await waitFor(page, () => window.bottleneck.state().preset === 'convnetjs', undefined, 20_000);
      assert.equal(await page.evaluate(() => document.querySelectorAll('.is-point').length), 2, 'only the scatter and the loss graph are marked for convnetjs');
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

test('on a phone, a vertical swipe that starts on the scatter scrolls the page, and a tap still asks it', async () => {
  const { page, consoleErrors, close } = await openPage('', { viewport: { width: 390, height: 844 }, hasTouch: true });
  try {
    await training(page);
    const b = await page.locator('#canvas-scatter').boundingBox();
    const before = await page.evaluate(() => scrollY);
    // A finger put down on the scatter and moved up 300 px, as real touch events.
    const cdp = await page.context().newCDPSession(page);
    const [x, y] = [Math.round(b.x + b.width / 2), Math.round(b.y + b.height * 0.8)];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y }] });
    for (let i = 1; i <= 10; i++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x, y: y - 30 * i }] });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await waitFor(page, (y0) => scrollY > y0 + 100, before, 5000);
    // A tap on a digit still asks the code.
    await page.evaluate(() => scrollTo(0, 0));
    const box = await page.locator('#canvas-scatter').boundingBox();
    await page.touchscreen.tap(box.x + box.width / 2, box.y + box.height / 2);
    await waitFor(page, () => !/nothing yet/.test(document.getElementById('decoded').getAttribute('aria-label')), undefined, 5000);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('after a snapshot is loaded the status no longer speaks of the run before; the header fits every preset', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=conv-1s-8s');
  try {
    await training(page);
    assert.doesNotMatch(await page.textContent('header'), /28×28/, 'the conv preset works on 36×36 pictures');
    await page.click('#reset');
    await waitFor(page, () => /Started again from seed/.test(document.getElementById('status').textContent));
    const snapshot = (await page.evaluate(() => window.bottleneck.command('save'))).payload.snapshot;
    await page.fill('#paste', snapshot);
    await page.click('#load-paste');
    await waitFor(page, () => /loaded a snapshot/.test(document.getElementById('paste-status').textContent), undefined, 20_000);
    assert.doesNotMatch(await page.textContent('#status'), /Started again/);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('on a phone every button, menu and box is at least 44 px tall', async () => {
  const { page, consoleErrors, close } = await openPage('', { viewport: { width: 390, height: 844 }, hasTouch: true });
  try {
    await training(page);
    const small = await page.evaluate(() => [...document.querySelectorAll('button, select, input:not([type="checkbox"]):not([type="range"]):not([type="file"]), label:has(> input[type="checkbox"])')]
      .filter((el) => el.offsetParent !== null && !el.closest('[hidden]'))
      .map((el) => ({ what: el.id || el.textContent.trim().slice(0, 30), height: Math.round(el.getBoundingClientRect().height) }))
      .filter((t) => t.height < 44));
    assert.deepEqual(small, []);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

/** Scatter positions (fractions of its width) that hit a digit, and one that hits none. */
async function findDigitAndGap(page) {
  const width = await page.evaluate(() => document.getElementById('canvas-scatter').clientWidth);
  let hit = null;
  let miss = null;
  for (let gy = 0.1; gy < 0.95 && !(hit && miss); gy += 0.05) {
    for (let gx = 0.1; gx < 0.95 && !(hit && miss); gx += 0.05) {
      const answer = await page.evaluate((q) => window.bottleneck.query(q), { point: { px: gx * width, py: gy * width, width } });
      if (answer.point.digit) hit ??= { gx, gy };
      else miss ??= { gx, gy };
    }
  }
  return { hit, miss };
}

test('on a phone a tap on the scatter is answered right under it; a tap beside the digits says so; nothing jumps', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=convnetjs', { viewport: { width: 390, height: 844 }, hasTouch: true });
  try {
    await training(page);
    await waitFor(page, () => window.bottleneck.stats().loss.valid_mse !== null, undefined, 30_000);
    await page.evaluate(() => window.bottleneck.command('pause'));
    assert.equal(await page.evaluate(() => document.getElementById('answer-decoded').classList.contains('empty')), true, 'an empty box says it is waiting');
    const { hit, miss } = await findDigitAndGap(page);
    assert.ok(hit && miss, 'a digit and a gap on the scatter');
    // Where the drawing pad stands in its panel (panels above it change height as they train).
    const padIn = () => page.evaluate(() => document.getElementById('pad').getBoundingClientRect().top - document.getElementById('explore').getBoundingClientRect().top);
    const padTop = await padIn();
    await page.locator('#canvas-scatter').scrollIntoViewIfNeeded();
    const b = await page.locator('#canvas-scatter').boundingBox();
    await page.touchscreen.tap(b.x + hit.gx * b.width, b.y + hit.gy * b.width);
    await waitFor(page, () => !document.getElementById('answer-digit').classList.contains('empty'));
    const answer = await page.evaluate(() => { const r = document.getElementById('answer-decoded').getBoundingClientRect(); return { top: r.top, bottom: r.bottom, vh: innerHeight }; });
    assert.ok(answer.top >= 0 && answer.bottom <= answer.vh, `the answer is in the viewport: ${JSON.stringify(answer)}`);
    assert.match(await page.textContent('#answer-caption'), /the digit under your finger/);
    await page.touchscreen.tap(b.x + miss.gx * b.width, b.y + miss.gy * b.width);
    await waitFor(page, () => /No digit there/.test(document.getElementById('answer-caption').textContent));
    assert.match(await page.textContent('#path-caption'), /No digit there: click \(or tap\) right on a digit/);
    const padAfter = await padIn();
    assert.equal(padAfter, padTop, 'the drawing pad stays where it was');
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('a wide code opens on its principal components; a neuron is one click away and a link keeps the choice', async () => {
  let link;
  {
    const { page, consoleErrors, close } = await openPage('?preset=k-sparse', { viewport: { width: 1366, height: 768 } });
    try {
      await training(page);
      assert.equal((await page.evaluate(() => window.bottleneck.state())).view.components, true);
      assert.equal(await page.isChecked('#components'), true);
      await waitFor(page, () => /principal components 1 and 2 \(\d+% of the spread\)/.test(document.getElementById('canvas-scatter').getAttribute('aria-label')), undefined, 10_000);
      await page.selectOption('#scatter-x', '3');
      await waitFor(page, () => !window.bottleneck.state().view.components && window.bottleneck.state().view.x === 3);
      assert.equal(await page.isChecked('#components'), false);
      await waitFor(page, () => /neurons 3 and 1/.test(document.getElementById('canvas-scatter').getAttribute('aria-label')), undefined, 10_000);
      await waitFor(page, () => /pc=false/.test(location.search) && /x=3/.test(location.search));
      link = await page.evaluate(() => location.search);
      assert.deepEqual(consoleErrors, []);
    } finally {
      await close();
    }
  }
  // The link in a fresh browser: the neuron pair again, and the components one click away.
  const { page, consoleErrors, close } = await openPage(link, { viewport: { width: 1366, height: 768 } });
  try {
    await training(page);
    const view = (await page.evaluate(() => window.bottleneck.state())).view;
    assert.equal(view.components, false);
    assert.equal(view.x, 3);
    await page.check('#components');
    await waitFor(page, () => window.bottleneck.state().view.components);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('a file dropped at the top of the page is answered on screen, not only in its section far below', async () => {
  for (const [label, viewport] of [['laptop', { width: 1366, height: 768 }], ['phone', { width: 390, height: 844 }]]) {
    const { page, consoleErrors, close } = await openPage('', { viewport, hasTouch: label === 'phone' });
    try {
      await training(page);
      await page.evaluate(() => window.scrollTo(0, 0));
      // A real drop event carrying a file, as a browser makes it from the desktop.
      const transfer = await page.evaluateHandle(() => {
        const dt = new DataTransfer();
        dt.items.add(new File(['{"format": "bottleneck-snapshot", "version": 1, "layers": ['], 'broken.json', { type: 'application/json' }));
        return dt;
      });
      await page.dispatchEvent('h1', 'dragover', { dataTransfer: transfer });
      await page.dispatchEvent('h1', 'drop', { dataTransfer: transfer });
      await waitFor(page, () => !document.getElementById('drop-answer').hidden);
      const answer = await page.evaluate(() => {
        const el = document.getElementById('drop-answer');
        const r = el.getBoundingClientRect();
        return { text: el.textContent, top: r.top, bottom: r.bottom, error: el.classList.contains('error'), far: document.getElementById('snapshot-status').getBoundingClientRect().top };
      });
      assert.match(answer.text, /broken\.json: .*The current network is unchanged\./);
      assert.ok(answer.top >= 0 && answer.bottom <= viewport.height, `on screen: ${JSON.stringify(answer)}`);
      assert.ok(answer.error);
      assert.ok(answer.far > viewport.height, `its section is below the screen (${answer.far} px), which is why it is said here too`);
      assert.equal(await page.evaluate(() => window.scrollY), 0, 'the page did not move');
      await page.click('#drop-answer-close');
      assert.equal(await page.isHidden('#drop-answer'), true);
      assert.ok((await page.evaluate(() => window.bottleneck.stats())).examples_seen > 0, 'training goes on');
      assert.deepEqual(consoleErrors, []);
    } finally {
      await close();
    }
  }
});

test('every preset\'s name fits its picker on a laptop and on a phone', async () => {
  for (const viewport of [{ width: 1366, height: 768 }, { width: 390, height: 844 }]) {
    const { page, consoleErrors, close } = await openPage('', { viewport });
    try {
      await training(page);
      // The widest name in the picker's own font, against the room left of its arrow (~24 px).
      const fit = await page.evaluate(() => {
        const s = document.getElementById('preset');
        const cs = getComputedStyle(s);
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
        const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 24;
        return [...s.options].map((o) => ({ name: o.text, width: Math.ceil(ctx.measureText(o.text).width), room }));
      });
      for (const f of fit) assert.ok(f.width <= f.room, `${viewport.width} px: "${f.name}" is ${f.width} px in ${f.room} px`);
      assert.deepEqual(consoleErrors, []);
    } finally {
      await close();
    }
  }
});
