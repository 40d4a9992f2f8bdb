// The guided tour, driven as a reader drives it: its "next" button through every stop on a
// laptop and on a phone (the stop's panel on screen under its card, axe-core clean, focus on
// the stop's words), every stop's own link in a fresh browser, the live moments as the page
// says them, the presenter view by keyboard, captions on pictures, and a teacher's tour file
// (a good one from another site, and broken ones that leave the page as it was).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { openPage, outputDir, waitFor } from './harness.mjs';

const TOUR = JSON.parse(readFileSync(new URL('../crate/src/tour.json', import.meta.url), 'utf8'));
const training = (page) => waitFor(page, () => window.bottleneck?.stats()?.examples_seen > 0, undefined, 30_000);

/** The card and the stop's panel as they stand in the viewport. */
const standing = (page, panel) =>
  page.evaluate((panel) => {
    const card = document.getElementById('tour').getBoundingClientRect();
    const section = document.querySelector(`section[data-section="${panel}"]`);
    const r = section.getBoundingClientRect();
    return {
      card: { top: Math.round(card.top), bottom: Math.round(card.bottom) },
      panel: { top: Math.round(r.top), bottom: Math.round(r.bottom), marked: section.classList.contains('tour-panel'), hidden: section.hidden || r.height === 0 },
      viewport: innerHeight,
      focus: document.activeElement?.id,
      title: document.getElementById('tour-title').textContent,
      address: location.search,
    };
  }, panel);

/** Wait until stop `n` (1-based) stands set up: its title, its experiment, its point in place. */
async function atStop(page, n) {
  const stop = TOUR.stops[n - 1];
  await waitFor(page, ([title, preset]) => document.getElementById('tour-title').textContent === title && window.bottleneck.state()?.preset === preset && !document.getElementById('tour').hidden, [stop.title, stop.link.preset], 30_000);
  await training(page);
  await page.waitForTimeout(1500); // the layout settles, the card and panel kept in view
  return stop;
}

async function axeClean(page, where) {
  const result = await new AxeBuilder({ page }).analyze();
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious.map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), [], where);
}

for (const [label, viewport] of [['laptop', { width: 1366, height: 768 }], ['phone', { width: 390, height: 844 }]]) {
  test(`at ${viewport.width} × ${viewport.height} (${label}): "next" walks the whole tour, each stop's panel on screen under its card, axe-core clean`, async () => {
    const { page, consoleErrors, close } = await openPage('', { viewport, hasTouch: label === 'phone' });
    try {
      await training(page);
      // The offer stands in the first screen.
      const offer = await page.locator('#tour-start').boundingBox();
      assert.ok(offer && offer.y + offer.height <= viewport.height, `the tour's button is on the first screen (${JSON.stringify(offer)})`);
      await page.click('#tour-start');
      const report = [];
      for (let n = 1; n <= TOUR.stops.length; n++) {
        const stop = await atStop(page, n);
        const s = await standing(page, stop.panel);
        assert.ok(s.panel.marked && !s.panel.hidden, `stop ${n}: ${stop.panel} is shown and marked`);
        assert.ok(s.card.top >= -1, `stop ${n}: the card starts on screen (${JSON.stringify(s)})`);
        assert.ok(s.card.bottom <= s.panel.top, `stop ${n}: the card does not cover its panel (${JSON.stringify(s)})`);
        assert.ok(s.panel.top < s.viewport - 80, `stop ${n}: ${stop.panel} starts on screen, at least 80 px of it (${JSON.stringify(s)})`);
        assert.equal(s.focus, 'tour-title', `stop ${n}: focus moves to the stop's words`);
        assert.equal(new URLSearchParams(s.address).get('tour'), String(n), `stop ${n}: the address names the stop`);
        report.push(`${n} ${stop.panel} card ${s.card.top}–${s.card.bottom}, panel from ${s.panel.top}`);
        await page.screenshot({ path: join(outputDir, `tour-${label}-${n}.png`) });
        await axeClean(page, `stop ${n} at ${viewport.width} px`);
        await page.click('#tour-next');
      }
      console.log(`tour at ${viewport.width}×${viewport.height}: ${report.join('; ')}`);
      // "finish" on the last stop leaves the tour: the card goes, the address loses the stop.
      await waitFor(page, () => document.getElementById('tour').hidden && !new URLSearchParams(location.search).has('tour'));
      assert.deepEqual(consoleErrors, []);
    } finally {
      await close();
    }
  });
}

test('every stop has a link that opens it in a fresh browser; back goes to the stop before, and a tour left is resumed there', async () => {
  for (let n = 1; n <= TOUR.stops.length; n++) {
    const { page, consoleErrors, close } = await openPage(`?tour=${n}`, { viewport: { width: 1366, height: 768 } });
    try {
      const stop = await atStop(page, n);
      const s = await standing(page, stop.panel);
      assert.ok(s.panel.marked && s.panel.top < s.viewport - 80, `?tour=${n}: ${JSON.stringify(s)}`);
      for (const [key, value] of Object.entries(stop.link)) assert.equal(new URLSearchParams(s.address).get(key), String(value), `?tour=${n} keeps ${key}`);
      if (n === 2) {
        await page.click('#tour-back');
        await atStop(page, 1);
        await page.goBack();
        await atStop(page, 2);
        // Leave, and the tour is resumed where it was left.
        await page.click('#tour-leave');
        await waitFor(page, () => document.getElementById('tour').hidden && document.getElementById('tour-start').textContent === 'Resume the guided tour at stop 2');
        await page.click('#tour-start');
        await atStop(page, 2);
      }
      assert.deepEqual(consoleErrors, [], `?tour=${n}`);
    } finally {
      await close();
    }
  }
});

/** Wait for the stop's moment in the page; the seconds it took and its sentence. */
async function momentOf(page, n, timeoutMs) {
  await waitFor(page, () => document.getElementById('tour-live').classList.contains('arrived'), undefined, timeoutMs);
  const said = await page.evaluate(() => ({ text: document.getElementById('tour-live').textContent, seconds: Number(document.getElementById('tour-live').dataset.seconds), marks: window.bottleneck.state().watching?.mark }));
  console.log(`stop ${n} (${TOUR.stops[n - 1].title}): ${said.seconds} s — ${said.text}`);
  // The stop's own sentence (not the one before's), with the examples seen filled in.
  const [before, after] = TOUR.stops[n - 1].moment.says.split('{examples}');
  assert.ok(said.text.startsWith(before) && said.text.includes(after) && /^[\d,]+/.test(said.text.slice(before.length)), `stop ${n}: ${said.text}`);
  return said;
}

test('the network tells the story: each live moment is said when it happens and marked on the loss graph', async () => {
  const { page, consoleErrors, close } = await openPage('?tour=1', { viewport: { width: 1366, height: 768 } });
  try {
    await atStop(page, 1);
    const said = await momentOf(page, 1, 120_000);
    assert.match(said.text, /^Just now, at [\d,]+ examples, the network's 2-number code became better than PCA's/);
    // The loss graph reads its marks out: the moment is one.
    await waitFor(page, () => document.querySelector('canvas[data-panel="loss"]').getAttribute('aria-label')?.includes('beats PCA at'), undefined, 10_000);
    // The live sentence is a polite status: a screen reader hears it once, when it comes.
    assert.equal(await page.getAttribute('#tour-live', 'role'), 'status');

    await page.click('#tour-next');
    await atStop(page, 2);
    await momentOf(page, 2, 120_000);

    // Stop 3: nothing happens until the reader does what it says.
    await page.click('#tour-next');
    await atStop(page, 3);
    await page.waitForTimeout(3000);
    assert.ok(!(await page.evaluate(() => document.getElementById('tour-live').classList.contains('arrived'))), 'no unit dies before the change');
    await page.fill('#lr', '0.05');
    await page.click('#lr-apply');
    await momentOf(page, 3, 60_000);
    await page.click('#undo');
    await waitFor(page, () => !window.bottleneck.state().undo);

    for (const n of [4, 7, 9]) {
      await page.goto(page.url().replace(/\?.*/, `?tour=${n}`));
      await atStop(page, n);
      await momentOf(page, n, 240_000);
    }
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('presenter view: only the stop and its panel, large; arrow keys move, Escape leaves; pictures carry a caption', async () => {
  const { page, consoleErrors, close } = await openPage('?tour=3&present=1', { viewport: { width: 1366, height: 768 } });
  try {
    await atStop(page, 3);
    const shown = await page.evaluate(() => [...document.querySelectorAll('main .panel, header')].filter((el) => el.getClientRects().length > 0).map((el) => el.id || el.dataset.section || el.tagName));
    assert.deepEqual(shown, ['tour', 'turnoff'], 'only the card and its panel');
    assert.ok(Number.parseFloat(await page.evaluate(() => getComputedStyle(document.getElementById('tour-text')).fontSize)) >= 20, 'large type');
    await page.screenshot({ path: join(outputDir, 'tour-present-3.png') });
    await page.keyboard.press('ArrowRight');
    await atStop(page, 4);
    assert.equal(new URLSearchParams(await page.evaluate(() => location.search)).get('present'), '1');
    await page.keyboard.press('ArrowLeft');
    await atStop(page, 3);
    // A picture saved on a stop says what it shows under it: preset, examples, the stop, the link.
    const plain = await page.evaluate(() => window.bottleneck.pictureSize('turnoff'));
    const download = page.waitForEvent('download');
    await page.click('section[data-section="turnoff"] button[data-png]');
    const file = await (await download).path();
    const png = readFileSync(file);
    const height = png.readUInt32BE(20);
    assert.equal(png.readUInt32BE(16), plain.width);
    assert.ok(height > plain.height + 40, `a caption under the picture (${height} vs ${plain.height})`);
    await page.keyboard.press('Escape');
    await waitFor(page, () => !document.body.classList.contains('presenting') && !new URLSearchParams(location.search).has('present'));
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test("a teacher's tour opens by link from another site; a broken one is a sentence and the page goes on", async () => {
  const mine = { title: 'Two stops', stops: [TOUR.stops[6], { ...TOUR.stops[0], title: 'Back to two numbers', moment: null }] };
  const { page, consoleErrors, close } = await openPage('', { viewport: { width: 1366, height: 768 } });
  try {
    await training(page);
    const files = { 'good.json': JSON.stringify(mine), 'bad.json': JSON.stringify({ title: 't', stops: [{ ...TOUR.stops[0], panel: 'los' }] }), 'junk.json': '{"title": "t", "stops": [' };
    await page.context().route('https://teacher.example/**', (route) => {
      const name = new URL(route.request().url()).pathname.slice(1);
      return files[name] ? route.fulfill({ body: files[name], contentType: 'application/json', headers: { 'access-control-allow-origin': '*' } }) : route.fulfill({ status: 404, body: '' });
    });
    const base = page.url().replace(/\?.*/, '');
    await page.goto(`${base}?tour=2&tour-file=${encodeURIComponent('https://teacher.example/good.json')}`);
    await waitFor(page, () => document.getElementById('tour-title').textContent === 'Back to two numbers', undefined, 30_000);
    assert.equal(await page.textContent('#tour-count'), 'Guided tour · stop 2 of 2');
    await page.click('#tour-back');
    await waitFor(page, (t) => document.getElementById('tour-title').textContent === t && window.bottleneck.state().preset === 'linear-20', TOUR.stops[6].title, 30_000);
    for (const [name, fragment] of [['bad.json', 'Stop 1\'s panel "los" is not one of the page\'s panels'], ['junk.json', 'tour file'], ['missing.json', 'HTTP 404']]) {
      await page.goto(`${base}?preset=turnoff&tour=1&tour-file=${encodeURIComponent(`https://teacher.example/${name}`)}`);
      await training(page);
      await waitFor(page, (f) => document.getElementById('status').textContent.includes(f), fragment, 20_000);
      const status = await page.textContent('#status');
      assert.ok(!/serde|invalid type|Error:|at line/.test(status), status);
      assert.ok(await page.evaluate(() => document.getElementById('tour').hidden), 'no broken card');
      assert.equal(await page.evaluate(() => window.bottleneck.state().preset), 'turnoff', 'the experiment the link set up trains on');
    }
    assert.deepEqual(consoleErrors.filter((e) => !e.includes('404')), []);
  } finally {
    await close();
  }
});
