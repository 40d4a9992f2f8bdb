// The page for everyone, in headless chromium: it fits a phone, a laptop and a wide screen with
// the training pictures in the first screenful and nothing clipped; canvases are sharp at the
// screen's pixel density and carry names that follow training; axe-core finds no serious or
// critical problem on any preset; the keyboard drives it; the address bar holds the whole
// state, so a copied link rebuilds the same page and the same run; panels save as PNG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { openPage, outputDir, waitFor } from './harness.mjs';

const stats = (page) => page.evaluate(() => window.bottleneck.stats());
const state = (page) => page.evaluate(() => window.bottleneck.state());
const command = (page, cmd) => page.evaluate((c) => window.bottleneck.command(c), cmd);
const training = (page) => waitFor(page, () => window.bottleneck?.stats()?.examples_seen > 0, undefined, 30_000);
const presetNames = () => JSON.parse(readFileSync(new URL('../crate/src/presets.json', import.meta.url))).presets.map((p) => p.name);
const outputs = (page) =>
  page.evaluate(async () => {
    const inputs = Array.from({ length: 3 * 784 }, (_, i) => ((i * 7919) % 1000) / 1000);
    return (await window.bottleneck.query({ reconstruct: { inputs } })).outputs;
  });

/** Every shown panel canvas: its box on the page, its backing size and its name. */
const canvases = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('canvas[data-panel]')]
      .filter((c) => !c.closest('[hidden]'))
      .map((c) => {
        const r = c.getBoundingClientRect();
        return { name: c.dataset.panel, left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, label: c.getAttribute('aria-label') };
      }),
  );

const SCREENS = [
  { name: 'phone', viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, hasTouch: true },
  { name: 'tablet', viewport: { width: 768, height: 1024 }, deviceScaleFactor: 2, hasTouch: true },
  { name: 'laptop', viewport: { width: 1400, height: 1000 }, deviceScaleFactor: 1 },
  { name: 'wide', viewport: { width: 1920, height: 1080 }, deviceScaleFactor: 2 },
];

for (const screen of SCREENS) {
  test(`at ${screen.viewport.width} × ${screen.viewport.height} (${screen.name}): no sideways scrolling, a live picture in the first screen, nothing clipped`, async () => {
    const { page, consoleErrors, close } = await openPage('?preset=convnetjs', screen);
    try {
      await training(page);
      await waitFor(page, () => window.bottleneck.stats().loss.valid_mse !== null, undefined, 30_000);
      await page.waitForTimeout(3000);
      // Taken before any assertion, so a failure leaves the picture to look at.
      await page.screenshot({ path: join(outputDir, `screen-${screen.name}-first.png`) });
      await page.screenshot({ path: join(outputDir, `screen-${screen.name}-full.png`), fullPage: true });
      const { scrollWidth, clientWidth, innerHeight } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth, innerHeight }));
      assert.ok(scrollWidth <= clientWidth, `the page is ${scrollWidth} px wide in a ${clientWidth} px window`);
      const shown = await canvases(page);
      for (const c of shown) assert.ok(c.left >= 0 && c.right <= clientWidth + 0.5, `${c.name} spans ${c.left}..${c.right} of ${clientWidth}`);
      // The scatter, a live training picture, stands in the first screenful.
      const scatter = shown.find((c) => c.name === 'scatter');
      assert.ok(scatter.top >= 0 && scatter.bottom <= innerHeight, `the scatter spans ${scatter.top}..${scatter.bottom} of the first ${innerHeight} px`);
      // Sharp: each canvas's backing store is its CSS size times the pixel density, and what
      // is drawn fills it (the worker drew at the width the page gave).
      const backing = await page.evaluate(() =>
        Object.fromEntries([...document.querySelectorAll('canvas[data-panel]')].filter((c) => !c.closest('[hidden]')).map((c) => [c.dataset.panel, c.clientWidth])),
      );
      for (const [name, width] of Object.entries(backing)) {
        const drawn = await page.evaluate((n) => window.bottleneck.pictureSize(n), name);
        assert.ok(Math.abs(drawn.width - Math.round(width * screen.deviceScaleFactor)) <= 1, `${name}: drawn ${drawn.width} device px wide for ${width} CSS px at density ${screen.deviceScaleFactor}`);
      }
      // No control pokes out of its panel either.
      const overflowing = await page.evaluate(() =>
        [...document.querySelectorAll('.panel')].filter((p) => !p.hidden && p.scrollWidth > p.clientWidth + 1).map((p) => p.querySelector('h2')?.textContent),
      );
      assert.deepEqual(overflowing, [], 'panels whose content is wider than they are');
      assert.deepEqual(consoleErrors, []);
    } finally {
      await close();
    }
  });
}

test('axe-core finds no serious or critical violation on any preset, on a laptop and on a phone', async () => {
  const runs = [...presetNames().map((name) => ({ name, screen: SCREENS.find((s) => s.name === 'laptop') })), { name: 'convnetjs', screen: SCREENS[0] }];
  for (const { name, screen } of runs) {
    const { page, consoleErrors, close } = await openPage(`?preset=${name}`, screen);
    try {
      await training(page);
      await page.waitForTimeout(2500);
      const result = await new AxeBuilder({ page }).analyze();
      const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      const described = serious.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join(', ')}`);
      assert.deepEqual(described, [], `${name} at ${screen.viewport.width} px`);
      assert.deepEqual(consoleErrors, [], name);
    } finally {
      await close();
    }
  }
});

test('every canvas has a name that says what it shows now, and the names follow training', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=convnetjs');
  try {
    await training(page);
    await waitFor(page, () => /validation/.test(document.getElementById('canvas-loss').getAttribute('aria-label')), undefined, 20_000);
    const early = Object.fromEntries((await canvases(page)).map((c) => [c.name, c.label]));
    await page.waitForTimeout(7000);
    const later = Object.fromEntries((await canvases(page)).map((c) => [c.name, c.label]));
    for (const [name, label] of Object.entries(later)) {
      assert.equal(await page.getAttribute(`canvas[data-panel="${name}"]`, 'role'), 'img', name);
      assert.ok(label && label.length > 25, `${name} is named: ${label}`);
    }
    assert.notEqual(later.loss, early.loss, 'the loss graph\'s name moves with training');
    assert.match(later.loss, /\d/, 'and carries its numbers');
    // The live figures are text too.
    const rows = await page.$$eval('#stats-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
    assert.ok(rows.length >= 5 && rows.some((r) => /examples/.test(r)), rows.join(' | '));
    assert.ok((await page.textContent('#live-summary')).length > 20, 'a polite live summary for screen readers');
    console.log(`loss graph's name after ~10 s: ${later.loss}`);
    console.log(`scatter's name: ${later.scatter}`);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('the keyboard drives the page: Space pauses, arrows pick the scatter\'s neurons, Tab reaches every control', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=turnoff');
  try {
    await training(page);
    await page.keyboard.press('Space');
    await waitFor(page, () => window.bottleneck.stats().paused);
    await page.keyboard.press('Space');
    await waitFor(page, () => !window.bottleneck.stats().paused);
    await page.focus('#canvas-scatter');
    const { x, y, layer } = (await state(page)).view;
    await page.keyboard.press('ArrowRight');
    await waitFor(page, (x0) => window.bottleneck.state().view.x !== x0, x);
    await page.keyboard.press('ArrowUp');
    await waitFor(page, (y0) => window.bottleneck.state().view.y !== y0, y);
    await page.keyboard.press(']');
    await waitFor(page, (l0) => window.bottleneck.state().view.layer !== l0, layer);
    // Tabbing from the top reaches the preset menu, the pause button and the scatter.
    await page.focus('body');
    const reached = new Set();
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab');
      reached.add(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName));
    }
    for (const id of ['preset', 'pause', 'speed', 'canvas-scatter', 'lr', 'optimizer', 'save']) assert.ok(reached.has(id), `Tab reaches #${id}`);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('a copied link restores preset, learning rate, optimiser and noise, and reproduces the run from its seed', async () => {
  const first = await openPage('?preset=turnoff');
  let second = null;
  try {
    const { page } = first;
    await training(page);
    await page.selectOption('#preset', 'denoising');
    await waitFor(page, () => window.bottleneck.state().preset === 'denoising');
    await page.selectOption('#optimizer', 'adam');
    await waitFor(page, () => window.bottleneck.state().config.optimizer.type === 'adam');
    await page.fill('#lr', '0.002');
    await page.click('#lr-apply');
    await waitFor(page, () => window.bottleneck.state().config.optimizer.lr === 0.002);
    await page.selectOption('#noise', 'gaussian');
    await waitFor(page, () => window.bottleneck.state().config.noise.type === 'gaussian');
    await page.fill('#noise-level', '0.2');
    await page.dispatchEvent('#noise-level', 'change');
    await waitFor(page, () => window.bottleneck.state().config.noise.sigma === 0.2);
    await page.focus('#canvas-scatter');
    await page.keyboard.press('ArrowRight');
    await waitFor(page, () => window.bottleneck.state().view.x === 1);
    await page.check('#log-scale');
    await waitFor(page, () => window.bottleneck.state().view.log_y);
    await waitFor(page, () => location.search.includes('denoising') && location.search.includes('0.002'));
    const link = await page.evaluate(() => location.search); // openPage puts it after the page's own address
    console.log(`the link after the changes: ${link}`);
    const want = await state(page);

    second = await openPage(link);
    await training(second.page);
    const got = await state(second.page);
    for (const field of ['preset', 'seed', 'config', 'view', 'speed']) assert.deepEqual(got[field], want[field], field);
    assert.equal(await second.page.inputValue('#lr'), '0.002');
    assert.equal(await second.page.inputValue('#noise'), 'gaussian');
    assert.equal(await second.page.inputValue('#preset'), 'denoising');
    // The same link is the same run: from the same seed, the same steps give the same network.
    const replay = async (p) => {
      await command(p, 'pause');
      await command(p, { reset: { seed: want.seed } });
      for (let i = 0; i < 10; i++) await command(p, 'step');
      return outputs(p);
    };
    assert.deepEqual(await replay(second.page), await replay(page));
    assert.deepEqual([...first.consoleErrors, ...second.consoleErrors], []);
  } finally {
    await first.close();
    await second?.close();
  }
});

test('a panel and the whole dashboard save as PNG pictures', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=convnetjs', { deviceScaleFactor: 2, viewport: { width: 1400, height: 1000 } });
  try {
    await training(page);
    await waitFor(page, () => window.bottleneck.stats().loss.valid_mse !== null, undefined, 30_000);
    const [one] = await Promise.all([page.waitForEvent('download'), page.click('button[data-png="scatter"]')]);
    const onePath = join(outputDir, 'export-scatter.png');
    await one.saveAs(onePath);
    const png = readFileSync(onePath);
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    const cssWidth = await page.evaluate(() => document.getElementById('canvas-scatter').clientWidth);
    assert.ok(Math.abs(png.readUInt32BE(16) - 2 * cssWidth) <= 2, `the scatter PNG is ${png.readUInt32BE(16)} px wide for ${cssWidth} CSS px at density 2`);
    const [all] = await Promise.all([page.waitForEvent('download'), page.click('#png-dashboard')]);
    const allPath = join(outputDir, 'export-dashboard.png');
    await all.saveAs(allPath);
    const dashboard = readFileSync(allPath);
    assert.equal(dashboard.subarray(1, 4).toString(), 'PNG');
    assert.ok(dashboard.readUInt32BE(16) > png.readUInt32BE(16) && dashboard.readUInt32BE(20) > png.readUInt32BE(20), 'the dashboard holds more than one panel');
    assert.match(all.suggestedFilename(), /^bottleneck-dashboard-.*\.png$/);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('state always shown: a load selects its preset or "your own network", a typed seed says it needs a reset, step says it paused', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=convnetjs');
  try {
    await training(page);
    await page.fill('#seed', '7');
    assert.match(await page.textContent('#seed-note'), /Seed 7 applies when you press reset/);
    await page.click('#reset');
    await waitFor(page, () => window.bottleneck.state().seed === 7);
    assert.equal(await page.textContent('#seed-note'), '');
    await page.click('#step');
    await waitFor(page, () => window.bottleneck.stats().paused);
    assert.match(await page.textContent('#status'), /Trained one batch of \d+ and paused/);
    // A network from the editor is "your own network", in the menu and in the link.
    const spec = JSON.parse(await page.inputValue('#spec'));
    spec.layers[1].units = 40;
    await page.fill('#spec', JSON.stringify(spec));
    await page.click('#reload');
    await waitFor(page, () => window.bottleneck.state().layers[0].units === 40); // state's layers leave out the input
    assert.equal(await page.inputValue('#preset'), 'custom');
    assert.match(await page.textContent('#caption'), /network of your own/);
    // Salt and pepper at level 2 is marked as wrong next to its control, not snapped back.
    await page.selectOption('#noise', 'salt_pepper');
    await waitFor(page, () => window.bottleneck.state().config.noise.type === 'salt_pepper');
    await page.fill('#noise-level', '2');
    await page.dispatchEvent('#noise-level', 'change');
    await waitFor(page, () => document.getElementById('noise-level').getAttribute('aria-invalid') === 'true');
    assert.equal(await page.inputValue('#noise-level'), '2', 'the typed value stays for the user to fix');
    assert.match(await page.textContent('#settings-error'), /noise level/);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});
