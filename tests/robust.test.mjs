// Nothing a user types, loads or sets kills the page or loses the network: a reload resumes
// from the autosave, a link asking for something else keeps the last run one click away, a
// crashed trainer comes back from the autosave, and bad values get a sentence next to their
// control while training goes on. Driven in headless chromium with real clicks and typing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { openPage, waitFor } from './harness.mjs';
import { root } from '../scripts/toolchain.mjs';

const stats = (page) => page.evaluate(() => window.bottleneck.stats());
const state = (page) => page.evaluate(() => window.bottleneck.state());
const training = (page) => waitFor(page, () => window.bottleneck?.stats()?.examples_seen > 0, undefined, 30_000);
const text = (page, id) => page.textContent(`#${id}`);
/** The network's outputs for three fixed digit-sized inputs. */
const outputs = (page) =>
  page.evaluate(async () => {
    const inputs = Array.from({ length: 3 * 784 }, (_, i) => ((i * 7919) % 1000) / 1000);
    return (await window.bottleneck.query({ reconstruct: { inputs } })).outputs;
  });

/** Pause, and wait until the autosave holds the paused state. */
async function pauseAndAutosave(page) {
  await page.click('#pause');
  await waitFor(page, () => window.bottleneck.stats().paused);
  const seen = (await stats(page)).examples_seen;
  await waitFor(page, (n) => document.getElementById('autosave-status').textContent.includes(`${n.toLocaleString('en')} examples`), seen);
  return seen;
}

test('a reload resumes the run where it was, and a link for something else keeps it one click away', async () => {
  const { page, url, consoleErrors, close } = await openPage();
  try {
    await training(page);
    await page.waitForTimeout(1500);
    const seen = await pauseAndAutosave(page);
    const before = await outputs(page);
    await page.reload();
    await training(page);
    assert.match(await text(page, 'opening-notes'), /Resumed your last run/);
    assert.equal((await stats(page)).examples_seen, seen, 'the same examples seen');
    assert.ok((await stats(page)).paused, 'still paused, as it was left');
    assert.deepEqual(await outputs(page), before, 'the same parameters');
    // A link that asks for another preset opens that, and offers the last run back.
    await page.goto(`${url}?preset=turnoff`);
    await training(page);
    assert.equal((await state(page)).preset, 'turnoff');
    assert.equal(await page.isVisible('#restore'), true);
    assert.match(await text(page, 'restore'), /restore the last run .*convnetjs/);
    await page.click('#restore');
    await waitFor(page, () => window.bottleneck.state().preset === 'convnetjs');
    assert.equal((await stats(page)).examples_seen, seen);
    assert.deepEqual(await outputs(page), before);
    // Start fresh forgets it.
    await page.click('#fresh');
    await page.waitForLoadState('load');
    await training(page);
    assert.doesNotMatch(await text(page, 'opening-notes'), /Resumed/);
    assert.equal(await page.isVisible('#restore'), false);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('a trainer that stops is restarted from the autosave, and the page says so', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=turnoff');
  try {
    await training(page);
    await page.waitForTimeout(1000);
    const seen = await pauseAndAutosave(page);
    const before = await outputs(page);
    await page.evaluate(() => window.bottleneck.simulateTrap());
    await waitFor(page, () => /The trainer stopped .* restarted from the autosave/.test(document.getElementById('opening-notes').textContent), undefined, 30_000);
    await waitFor(page, () => window.bottleneck.stats()?.examples_seen > 0);
    assert.equal((await stats(page)).examples_seen, seen);
    assert.deepEqual(await outputs(page), before, 'the network came back');
    assert.equal(await page.evaluate(() => window.bottleneck.workersStarted()), 2, 'restarted once');
    // It goes on training, and its panels are drawn on fresh canvases.
    await page.click('#pause');
    await waitFor(page, (n) => window.bottleneck.stats().examples_seen > n, seen);
    assert.equal(await page.locator('canvas[data-panel]').count(), 7);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('a trainer that stops with messages on their way is restarted once, and each of them is answered', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=turnoff');
  try {
    await training(page);
    const seen = await pauseAndAutosave(page);
    const before = await outputs(page);
    // The trap, and in the same turn what a busy page sends before the worker's loop next meets
    // it: a layout change, the autosave on leaving, commands, a query and a picture. Messages
    // arrive in order, so each of them reaches the dead handle, or a worker that knows it is dead.
    const answers = await page.evaluate(async () => {
      const b = window.bottleneck;
      b.simulateTrap();
      b.sendLayout();
      window.dispatchEvent(new Event('pagehide'));
      const asked = [b.command('step'), b.query({ reconstruct: { inputs: new Array(784).fill(0.5) } }), b.pictureSize('scatter'), b.command('save')];
      return (await Promise.allSettled(asked)).map((r) => (r.status === 'rejected' ? String(r.reason) : 'answered as if alive'));
    });
    assert.equal(answers.length, 4);
    for (const answer of answers) assert.match(answer, /the trainer (stopped|is restarting)/);
    await waitFor(page, () => /The trainer stopped .* restarted from the autosave/.test(document.getElementById('opening-notes').textContent), undefined, 30_000);
    assert.equal((await stats(page)).examples_seen, seen);
    assert.deepEqual(await outputs(page), before, 'the network came back');
    // Whatever else the dead worker sent (its error, late replies) started nothing more.
    await page.waitForTimeout(1500);
    assert.equal(await page.evaluate(() => window.bottleneck.workersStarted()), 2, 'restarted exactly once');
    assert.equal((await text(page, 'opening-notes')).match(/The trainer stopped/g).length, 1);
    assert.doesNotMatch(await text(page, 'autosave-status'), /failed/);
    assert.deepEqual(await outputs(page), before, 'the restarted trainer still answers');
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('bad links, sizes and settings are refused in a sentence by their control while training goes on', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=nope&seed=1.5');
  try {
    await training(page);
    assert.equal((await state(page)).preset, 'convnetjs');
    assert.match(await text(page, 'opening-notes'), /preset called "nope", which does not exist; showing convnetjs instead/);
    assert.match(await text(page, 'opening-notes'), /seed "1.5" is not a whole number/);
    // Two 65,536-unit layers in the editor: refused before anything is allocated.
    const spec = JSON.parse(await page.inputValue('#spec'));
    spec.layers[1].units = 65536;
    spec.layers[2].units = 65536;
    await page.fill('#spec', JSON.stringify(spec));
    await page.click('#reload');
    await waitFor(page, () => /parameters, more than the limit/.test(document.getElementById('spec-error').textContent));
    // A batch size that is not a whole number, and an empty field: marked, nothing sent.
    await page.fill('#batch', '1.5');
    await page.press('#batch', 'Enter');
    await page.dispatchEvent('#batch', 'change');
    await waitFor(page, () => /batch size: /.test(document.getElementById('settings-error').textContent));
    assert.equal(await page.getAttribute('#batch', 'aria-invalid'), 'true');
    assert.equal((await state(page)).config.batch_size, 50, 'the batch size in force is unchanged');
    await page.fill('#batch', '50');
    await page.fill('#l2', '');
    await page.dispatchEvent('#l2', 'change');
    await waitFor(page, () => /L2 decay: enter a number/.test(document.getElementById('settings-error').textContent));
    assert.equal((await state(page)).config.l2_decay, 0.001);
    await page.fill('#l2', '0.001');
    // Switching optimiser says what it picked.
    await page.selectOption('#optimizer', 'sgd');
    await waitFor(page, () => /Switched to sgd with lr [0-9.]+, momentum [0-9.]+/.test(document.getElementById('settings-error').textContent));
    // And training went on throughout.
    const seen = (await stats(page)).examples_seen;
    await waitFor(page, (n) => window.bottleneck.stats().examples_seen > n, seen);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('two tabs train two runs: each reload brings back its own, neither rewound; a new tab offers the newest', async () => {
  const { page: a, url, consoleErrors, close } = await openPage('?preset=turnoff');
  try {
    const b = await a.context().newPage();
    const errorsB = [];
    b.on('pageerror', (err) => errorsB.push(String(err)));
    b.on('console', (msg) => msg.type() === 'error' && errorsB.push(msg.text()));
    await b.goto(`${url}?preset=tied-sigmoid`);
    await training(a);
    await training(b);
    const seenA = await pauseAndAutosave(a);
    const seenB = await pauseAndAutosave(b);
    const [outA, outB] = [await outputs(a), await outputs(b)];
    for (const [page, preset, seen, out] of [[a, 'turnoff', seenA, outA], [b, 'tied-sigmoid', seenB, outB]]) {
      await page.reload();
      await training(page);
      assert.equal((await state(page)).preset, preset, `${preset}: its own run came back`);
      assert.equal((await stats(page)).examples_seen, seen, `${preset}: not rewound`);
      assert.deepEqual(await outputs(page), out, `${preset}: the same parameters`);
      assert.match(await text(page, 'opening-notes'), /Resumed your last run/);
    }
    // A third tab starts a run of its own, with the newest saved run one click away.
    const c = await a.context().newPage();
    await c.goto(url);
    await training(c);
    assert.equal((await state(c)).preset, 'convnetjs');
    assert.equal(await c.isVisible('#restore'), true);
    assert.match(await text(c, 'restore'), /restore the last run .*(turnoff|tied-sigmoid)/);
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(errorsB, []);
  } finally {
    await close();
  }
});

test('your runs: a closed tab\'s run opens here exactly, one is deleted, and a full storage drops the oldest while training goes on', async () => {
  const { page: a, url, consoleErrors, close } = await openPage('?preset=turnoff');
  try {
    const context = a.context();
    const errors = [];
    const tab = async (path) => {
      const p = await context.newPage();
      p.on('pageerror', (err) => errors.push(String(err)));
      await p.goto(url + path);
      await training(p);
      return p;
    };
    await training(a);
    const seenA = await pauseAndAutosave(a);
    const outA = await outputs(a);
    await a.close(); // its run stays saved, and is no longer in use
    const c = await tab('?preset=k-sparse');
    await pauseAndAutosave(c);
    await c.close();
    const b = await tab('?preset=linear-20');
    await pauseAndAutosave(b);
    // The list names the closed tabs' runs; "open here" brings A's back bit for bit.
    await waitFor(b, () => /Turning off code units: [\d,]+ examples/.test(document.getElementById('runs-list').textContent));
    assert.match(await text(b, 'runs-list'), /\(this tab\)/);
    assert.match(await text(b, 'runs-storage'), /3 runs kept\. They and the page take [\d.]+ MB/);
    // Each with a small picture of its code, drawn (not a broken image).
    await waitFor(b, () => [...document.querySelectorAll('#runs-list li')].every((li) => li.querySelector('img.run-picture')?.naturalWidth === 96));
    // Export all: one zip holding each run's snapshot, as "save" writes it.
    const [download] = await Promise.all([b.waitForEvent('download'), b.click('#runs-export')]);
    assert.match(download.suggestedFilename(), /^bottleneck-runs-.*\.zip$/);
    const files = unzipSync(new Uint8Array(readFileSync(await download.path())));
    const names = Object.keys(files);
    assert.equal(names.length, 3, names.join(', '));
    for (const preset of ['turnoff', 'k-sparse', 'linear-20']) assert.ok(names.some((n) => n.includes(`-${preset}-`)), `${preset} in ${names}`);
    const turnoffFile = JSON.parse(strFromU8(files[names.find((n) => n.includes('-turnoff-'))]));
    assert.equal(turnoffFile.format, 'bottleneck-snapshot');
    assert.equal(turnoffFile.progress.examples_seen, seenA);
    assert.match(await text(b, 'runs-status'), /Saved 3 runs in bottleneck-runs-.*\.zip .*unzip it and load/);
    await b.getByRole('button', { name: /^open here: Turning off code units/ }).click();
    await waitFor(b, () => window.bottleneck.state().preset === 'turnoff');
    assert.equal((await stats(b)).examples_seen, seenA);
    assert.deepEqual(await outputs(b), outA, 'the same parameters as its autosave');
    // Delete one: the k-sparse run.
    await b.getByRole('button', { name: /^delete: k-sparse autoencoder, k = 25/ }).click();
    await waitFor(b, () => !/k-sparse/.test(document.getElementById('runs-list').textContent));
    // A full storage: the next save drops the oldest run not in use (A's), says so, and training goes on.
    await b.evaluate(() => window.bottleneck.simulateQuota(1));
    await b.click('#pause');
    await waitFor(b, () => /room for the page was full, so the oldest run \(.*turnoff.*\) was deleted to make room/.test(document.getElementById('autosave-status').textContent), undefined, 20_000);
    const before = (await stats(b)).examples_seen;
    await waitFor(b, (n) => window.bottleneck.stats().examples_seen > n, before);
    await waitFor(b, () => /^1 run kept/.test(document.getElementById('runs-storage').textContent));
    // Full with nothing left to drop: the save fails in a sentence, and training still goes on.
    await b.evaluate(() => window.bottleneck.simulateQuota(1));
    await b.click('#pause');
    await waitFor(b, () => /Autosave failed: this browser's storage for the page is full.*Training goes on/.test(document.getElementById('autosave-status').textContent), undefined, 20_000);
    await b.click('#pause');
    const later = (await stats(b)).examples_seen;
    await waitFor(b, (n) => window.bottleneck.stats().examples_seen > n, later);
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a link opens a snapshot hosted beside the page; one from another origin is refused in a sentence', async () => {
  const file = join(root, 'www', 'data', `hosted-test-${process.pid}.json`);
  const { page, url, consoleErrors, close } = await openPage('?preset=tied-sigmoid');
  try {
    await training(page);
    await page.click('#pause');
    await waitFor(page, () => window.bottleneck.stats().paused);
    const saved = await page.evaluate(() => window.bottleneck.command('save'));
    writeFileSync(file, saved.payload.snapshot);
    const want = await outputs(page);
    // A new tab opens the hosted file: the same network, and the page says what it loaded.
    const other = await page.context().newPage();
    const errors = [];
    other.on('pageerror', (err) => errors.push(String(err)));
    // (stop= at its examples keeps it as saved, so its outputs can be compared.)
    await other.goto(`${url}?snapshot=www/data/${basename(file)}&stop=${saved.stats.examples_seen}`);
    await waitFor(other, () => /loaded a snapshot/.test(document.getElementById('snapshot-status').textContent), undefined, 30_000);
    await waitFor(other, () => window.bottleneck.stats().paused);
    // The status line says so too, or (when the link's stop came after the load) that it paused there.
    assert.match(await text(other, 'status'), /loaded a snapshot|Paused at/);
    assert.equal((await stats(other)).examples_seen, saved.stats.examples_seen);
    assert.deepEqual(await outputs(other), want);
    assert.equal((await state(other)).seed, saved.state.seed);
    // Another origin: refused in a sentence, and the page trains its own experiment.
    await other.goto(`${url}?snapshot=${encodeURIComponent('https://example.com/net.json')}`);
    await waitFor(other, () => /a link may open only snapshots hosted beside this page/.test(document.getElementById('status').textContent), undefined, 30_000);
    await training(other);
    assert.match(await text(other, 'status'), /https:\/\/example\.com/);
    assert.deepEqual(errors, []);
    assert.deepEqual(consoleErrors, []);
  } finally {
    rmSync(file, { force: true });
    await close();
  }
});

test('on a slow network the page trains on the first 1,000 digits while the rest arrive, says so, and reaches the network a fast one gives', async () => {
  // Lighthouse's slow 4G (1.6 Mbit/s, 150 ms), through Chromium's DevTools protocol, from the
  // first request; the same link then opens unthrottled in a tab of the same browser.
  const link = '?preset=convnetjs&seed=5&stop=3000';
  const { page, url, consoleErrors, close } = await openPage();
  try {
    const slow = await page.context().browser().newContext();
    const slowPage = await slow.newPage();
    const cdp = await slow.newCDPSession(slowPage);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 });
    const errors = [];
    slowPage.on('pageerror', (err) => errors.push(String(err)));
    await slowPage.goto(url + link);
    // Training starts before the rest of the digits are here, and the page says on what.
    const early = await waitFor(slowPage, () => {
      const s = window.bottleneck?.stats();
      const note = document.getElementById('arriving');
      return s?.examples_seen > 0 && !note.hidden && { seen: s.examples_seen, note: note.textContent };
    }, undefined, 60_000);
    assert.match(early.note, /first 900 training digits/);
    assert.ok(early.seen <= 900, `${early.seen} examples before the rest arrived`);
    await slowPage.screenshot({ path: join(root, 'tests', 'output', 'arriving-slow-4g.png') });
    // Then they arrive: the note goes, and the run trains on to its stop.
    await waitFor(slowPage, () => document.getElementById('arriving').hidden && window.bottleneck.stats().paused, undefined, 120_000);
    const slowRun = { seen: (await stats(slowPage)).examples_seen, outputs: await outputs(slowPage) };
    await page.goto(url + link);
    await waitFor(page, () => window.bottleneck?.stats()?.paused, undefined, 60_000);
    assert.equal(slowRun.seen, 3000);
    assert.equal((await stats(page)).examples_seen, 3000);
    assert.deepEqual(await outputs(page), slowRun.outputs, 'the same seed gives the same network however fast the digits came');
    assert.deepEqual(errors, []);
    assert.deepEqual(consoleErrors, []);
    await slow.close();
  } finally {
    await close();
  }
});
