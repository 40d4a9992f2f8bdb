// Asking the code questions in headless chromium, with real pointer, touch, keyboard and file
// events: the decoder draws what lies under the pointer on the scatter, the decoded map fills
// its background, two chosen digits give a path, a drawn digit (mouse or finger) and a picture
// of one land on the scatter, the "what the code knows" table fills in, slow motion trains a
// step at a time, and IDX files dropped onto the page become the training digits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { openPage, outputDir, waitFor } from './harness.mjs';

const stats = (page) => page.evaluate(() => window.bottleneck.stats());
const state = (page) => page.evaluate(() => window.bottleneck.state());
const command = (page, cmd) => page.evaluate((c) => window.bottleneck.command(c), cmd);
const training = (page) => waitFor(page, () => window.bottleneck?.stats()?.examples_seen > 0, undefined, 30_000);
/** The grey values a small main-thread canvas shows now. */
const pixels = (page, id) =>
  page.evaluate((i) => {
    const c = document.getElementById(i);
    return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.filter((_, k) => k % 4 === 0));
  }, id);
const box = (page, selector) => page.locator(selector).boundingBox();
/** How many of the CSS-pixel points are painted (alpha > 0) on the marks over the scatter. */
const painted = (page, points) =>
  page.evaluate((pts) => {
    const c = document.getElementById('scatter-marks');
    const k = c.width / c.clientWidth;
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    return pts.filter(([x, y]) => data[4 * (Math.round(y * k) * c.width + Math.round(x * k)) + 3] > 0).length;
  }, points);
/** Points on a frame's border ([left, top, width, height], CSS px), one pixel outside it. */
const border = ([l, t, w, h]) => [[l - 1, t + h / 2], [l + w + 1, t + h / 2], [l + w / 2, t - 1], [l + w / 2, t + h + 1]];

test('hovering the scatter decodes every point the pointer passes; the decoded map fills the background', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=convnetjs');
  try {
    await training(page);
    await waitFor(page, () => window.bottleneck.stats().loss.valid_mse !== null, undefined, 30_000);
    await page.waitForTimeout(3000);
    const b = await box(page, '#canvas-scatter');
    const seen = [];
    // Sweep the pointer across the plot with real mouse moves; each stop redraws the digit.
    for (let i = 0; i < 6; i++) {
      await page.mouse.move(b.x + b.width * (0.2 + 0.12 * i), b.y + b.height * (0.3 + 0.08 * i), { steps: 3 });
      await waitFor(page, (n) => {
        const m = document.getElementById('decoded-caption').textContent.match(/code \(([^)]*)\)/);
        return m && m[1] !== n;
      }, seen.at(-1)?.code ?? '');
      const code = (await page.textContent('#decoded-caption')).match(/code \(([^)]*)\)/)[1];
      seen.push({ code, pixels: await pixels(page, 'decoded') });
    }
    assert.equal(new Set(seen.map((s) => s.code)).size, 6, 'six places, six codes');
    // The digit under the pointer is framed on the scatter; leaving the scatter takes the frame
    // away. Paused, so the digits stay where the query found them.
    await command(page, 'pause');
    const width = await page.evaluate(() => document.getElementById('canvas-scatter').clientWidth);
    let digit = null;
    let at = 0;
    for (let g = 0.15; g < 0.9 && !digit; g += 0.02) {
      at = Math.round(g * width);
      digit = (await page.evaluate((q) => window.bottleneck.query(q), { point: { px: at, py: at, width } })).point.digit;
    }
    assert.ok(digit, 'a digit somewhere on the diagonal');
    // Where the question found it (another digit may lie on top of its centre).
    await page.mouse.move(b.x + at, b.y + at, { steps: 2 });
    await waitFor(page, (i) => document.getElementById('inspect-caption').textContent.includes(`#${i})`), digit.index);
    assert.equal(await painted(page, border(digit.frame)), 4, 'the hovered digit is framed');
    await page.mouse.move(b.x - 40, b.y - 40);
    await waitFor(page, (pts) => {
      const c = document.getElementById('scatter-marks');
      const k = c.width / c.clientWidth;
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      return pts.every(([x, y]) => data[4 * (Math.round(y * k) * c.width + Math.round(x * k)) + 3] === 0);
    }, border(digit.frame));
    assert.ok(seen.every((s) => s.pixels.length === 784 && s.pixels.some((v) => v > 60)), 'each decoded digit has ink');
    assert.notDeepEqual(seen[0].pixels, seen[5].pixels, 'far apart codes decode differently');
    // Somewhere along the sweep the pointer rested on a digit, shown with its reconstruction.
    await page.screenshot({ path: join(outputDir, 'explore-hover.png') });
    // The decoded map: the scatter's background becomes a grid of decoded digits.
    const before = await page.locator('#canvas-scatter').screenshot();
    await page.check('#manifold');
    await waitFor(page, () => window.bottleneck.state().view.manifold);
    await page.waitForTimeout(1200);
    const after = await page.locator('#canvas-scatter').screenshot({ path: join(outputDir, 'explore-manifold.png') });
    assert.notDeepEqual(after, before);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('touching the scatter decodes too, and two tapped digits give the path between them', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=convnetjs', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true });
  try {
    await training(page);
    await waitFor(page, () => window.bottleneck.stats().loss.valid_mse !== null, undefined, 30_000);
    await command(page, 'pause');
    // Find two digits through the query door, then tap them with a finger.
    const width = await page.evaluate(() => document.getElementById('canvas-scatter').clientWidth);
    const found = [];
    for (let gy = 0.1; gy < 0.95 && found.length < 2; gy += 0.04) {
      for (let gx = 0.1; gx < 0.95 && found.length < 2; gx += 0.04) {
        const answer = await page.evaluate((q) => window.bottleneck.query(q), { point: { px: gx * width, py: gy * width, width } });
        const digit = answer.point.digit;
        if (digit && !found.some((f) => f.index === digit.index) && (found.length === 0 || Math.hypot(gx - found[0].gx, gy - found[0].gy) > 0.3)) found.push({ gx, gy, index: digit.index, frame: digit.frame });
      }
    }
    assert.equal(found.length, 2, 'two digits far apart on the scatter');
    const b = await box(page, '#canvas-scatter');
    for (const f of found) await page.touchscreen.tap(b.x + f.gx * b.width, b.y + f.gy * b.width);
    await waitFor(page, () => /in 9 steps/.test(document.getElementById('path-caption').textContent));
    const strip = await page.evaluate(() => ['path-code', 'path-pixels'].map((id) => [document.getElementById(id).width, document.getElementById(id).height]));
    assert.deepEqual(strip, [[9 * 29 - 1, 28], [9 * 29 - 1, 28]], 'nine decoded steps and nine blends');
    assert.match(await page.textContent('#inspect-caption'), /validation digit #\d+/);
    // The walk's two ends are ringed on the scatter and joined by its path.
    const centres = found.map(({ frame: [l, t, w, h] }) => [l + w / 2, t + h / 2, 0.75 * Math.max(w, h)]);
    for (const [x, y, r] of centres) {
      const ring = Array.from({ length: 16 }, (_, i) => [x + r * Math.cos((i * Math.PI) / 8), y + r * Math.sin((i * Math.PI) / 8)]);
      assert.ok((await painted(page, ring)) >= 12, `a ring round the end at (${x}, ${y})`);
    }
    const [[x0, y0], [x1, y1]] = centres;
    const line = Array.from({ length: 21 }, (_, i) => [x0 + ((x1 - x0) * (i + 2)) / 25, y0 + ((y1 - y0) * (i + 2)) / 25]);
    assert.ok((await painted(page, line)) >= 8, 'the walk\'s path joins them');
    await page.locator('#explore').screenshot({ path: join(outputDir, 'explore-path-phone.png') });
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

/** A "7" drawn as two strokes, in fractions of the pad. */
const SEVEN = [[[0.25, 0.2], [0.5, 0.2], [0.75, 0.2]], [[0.75, 0.2], [0.62, 0.45], [0.5, 0.65], [0.42, 0.85]]];

test('a digit drawn with the mouse lands on the scatter, undo and clear take it back', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=denoising');
  try {
    await training(page);
    // As a person would: scroll to the pad (the link brought the preset's point into view).
    await page.locator('#pad').scrollIntoViewIfNeeded();
    const b = await box(page, '#pad');
    for (const stroke of SEVEN) {
      await page.mouse.move(b.x + stroke[0][0] * b.width, b.y + stroke[0][1] * b.height);
      await page.mouse.down();
      for (const [x, y] of stroke.slice(1)) await page.mouse.move(b.x + x * b.width, b.y + y * b.height, { steps: 6 });
      await page.mouse.up();
    }
    await waitFor(page, () => window.bottleneck.state().marked === 1);
    const input = await pixels(page, 'drawn-input');
    assert.equal(input.length, 784);
    assert.ok(input.filter((v) => v > 100).length > 40, 'the drawing became an MNIST-sized digit with ink');
    assert.match(await page.textContent('#drawn-caption'), /marked with a ring on the scatter/);
    // A denoising preset shows the drawing as its noise corrupts it, too.
    assert.equal(await page.isVisible('#drawn-corrupted'), true);
    await page.locator('#explore').screenshot({ path: join(outputDir, 'explore-drawn-seven.png') });
    await page.click('#pad-undo');
    await waitFor(page, () => window.bottleneck.state().marked === 1);
    await page.click('#pad-clear');
    await waitFor(page, () => window.bottleneck.state().marked === 0);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('a digit drawn with a finger (touch events) becomes a digit too', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=convnetjs', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true });
  try {
    await training(page);
    await page.locator('#pad').scrollIntoViewIfNeeded();
    const b = await box(page, '#pad');
    const cdp = await page.context().newCDPSession(page);
    const touch = (type, [x, y]) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x: b.x + x * b.width, y: b.y + y * b.height }] });
    for (const stroke of SEVEN) {
      await touch('touchStart', stroke[0]);
      for (const p of stroke.slice(1)) await touch('touchMove', p);
      await touch('touchEnd', stroke.at(-1));
    }
    await waitFor(page, () => window.bottleneck.state().marked === 1);
    assert.ok((await pixels(page, 'drawn-input')).filter((v) => v > 100).length > 40);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('what the code knows: code, PCA and pixels, measured live', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=convnetjs');
  try {
    await training(page);
    await waitFor(page, () => document.querySelectorAll('#knowledge tbody tr').length === 3, undefined, 30_000);
    const rows = await page.$$eval('#knowledge tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.deepEqual(rows.map((r) => r[0]), ['the code (2 numbers)', 'PCA with 2 components', 'the raw pixels']);
    for (const row of rows) for (const cell of row.slice(1)) assert.match(cell, /^\d+\.\d %$/);
    const k = (await stats(page)).knowledge;
    assert.equal(rows[0][2], `${(100 * k.code.knn).toFixed(1)} %`);
    assert.ok(k.pixels.knn > 0.8, `pixels 5-NN ${k.pixels.knn}`);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('slow motion trains about a step a second, and step once still works', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=convnetjs');
  try {
    await training(page);
    await page.focus('#speed');
    await page.keyboard.press('Home');
    await waitFor(page, () => window.bottleneck.state().speed === 1);
    assert.equal(await page.textContent('#speed-value'), '1 step a second');
    const batch = (await state(page)).config.batch_size;
    const start = (await stats(page)).steps;
    await page.waitForTimeout(3500);
    const steps = (await stats(page)).steps - start;
    assert.ok(steps >= 1 && steps <= 6, `${steps} steps in 3.5 s at one a second`);
    await page.click('#pause');
    await waitFor(page, () => window.bottleneck.stats().paused);
    const seen = (await stats(page)).examples_seen;
    await page.click('#step');
    await waitFor(page, (n) => window.bottleneck.stats().examples_seen === n, seen + batch);
    await page.focus('#speed');
    await page.keyboard.press('End');
    await waitFor(page, () => window.bottleneck.state().speed === null);
    assert.equal(await page.textContent('#speed-value'), 'full speed');
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

/** A PNG of a white "1" on black, written with node's zlib (no image library). */
function pngOfOne(size = 56) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = [0]; // filter: none
    for (let x = 0; x < size; x++) {
      const ink = Math.abs(x - size / 2) < size / 14 && y > size / 6 && y < (5 * size) / 6 ? 255 : 0;
      row.push(ink, ink, ink, 255);
    }
    rows.push(...row);
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.from(rows))), chunk('IEND', Buffer.alloc(0))]);
}

function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

test('your own digits: IDX files train, a picture of a digit lands on the scatter, and back to the built-in digits', async () => {
  const holdout = join(import.meta.dirname, '..', '..', 'shared', 'holdout');
  const images = join(holdout, 'mnist-test-3000-images-idx3-ubyte');
  const labels = join(holdout, 'mnist-test-3000-labels-idx1-ubyte');
  const { page, consoleErrors, close } = await openPage('?preset=turnoff');
  try {
    await training(page);
    if (existsSync(images)) {
      // Labels first: Rust tells the files apart by their headers.
      await page.setInputFiles('#idx-file', [labels, images]);
      await waitFor(page, () => window.bottleneck.state().digits !== 'built-in', undefined, 20_000);
      assert.match(await page.textContent('#digits-status'), /Training on your 3000 digits/);
      await waitFor(page, () => window.bottleneck.stats().examples_seen > 0);
      await page.click('#built-in');
      await waitFor(page, () => window.bottleneck.state().digits === 'built-in');
    } else {
      console.log(`skipped the IDX part: ${images} is not on this machine`);
    }
    const picture = join(outputDir, 'picture-of-a-one.png');
    writeFileSync(picture, pngOfOne());
    await page.setInputFiles('#pictures-file', picture);
    await waitFor(page, () => window.bottleneck.state().marked === 1);
    assert.match(await page.textContent('#digits-status'), /Placed 1 picture/);
    const input = await pixels(page, 'drawn-input');
    // The bar became an upright stroke in the middle of a 28 × 28 digit (MNIST's 20 × 20 box).
    const column = (x) => input.filter((_, i) => i % 28 === x).filter((v) => v > 100).length;
    assert.ok(column(14) + column(13) > 25, 'ink down the middle');
    assert.equal(column(2) + column(25), 0, 'none at the sides');
    // Something that is not a picture gets a sentence, and the marks stay.
    const notPicture = join(outputDir, 'not-a-picture.png');
    writeFileSync(notPicture, 'hello');
    await page.setInputFiles('#pictures-file', notPicture);
    await waitFor(page, () => document.getElementById('digits-status').classList.contains('error'));
    assert.match(await page.textContent('#digits-status'), /not a picture this browser can read/);
    assert.equal((await state(page)).marked, 1);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});
