// The demo page in real headless chromium: it trains live in its worker, every control does
// what it says, snapshots round-trip through a download and a fresh page, bad input is refused
// with a message while training goes on, and a ConvNetJS network imports with its outputs intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openPage, outputDir, waitFor } from './harness.mjs';

const require = createRequire(import.meta.url);
const stats = (page) => page.evaluate(() => window.bottleneck.stats());
const state = (page) => page.evaluate(() => window.bottleneck.state());
const command = (page, cmd) => page.evaluate((c) => window.bottleneck.command(c), cmd);
/** The network's outputs for `inputs` (rows of its input size), read through the query door. */
const reconstruct = async (page, inputs) => (await page.evaluate((q) => window.bottleneck.query(q), { reconstruct: { inputs } })).outputs;
/** `count` fixed, digit-sized test inputs (the same in every page). */
const probeInputs = (count) => Array.from({ length: count * 784 }, (_, i) => ((i * 7919) % 1000) / 1000);
const training = (page) => waitFor(page, () => window.bottleneck?.stats()?.examples_seen > 0);
const seenMore = (page, n) => waitFor(page, (m) => window.bottleneck.stats().examples_seen > m, n);

test('the page trains live, its loss falls, and a screenshot is taken after 20 s', async () => {
  const { page, consoleErrors, close } = await openPage();
  try {
    await training(page);
    await waitFor(page, () => window.bottleneck.stats().loss.train_mse !== null);
    const early = await stats(page);
    await page.waitForTimeout(20_000);
    const later = await stats(page);
    assert.ok(later.examples_seen > early.examples_seen, 'examples seen keeps rising');
    assert.ok(later.loss.train_mse < early.loss.train_mse, `train MSE/px ${early.loss.train_mse} -> ${later.loss.train_mse}`);
    assert.ok(later.loss.valid_mse > 0 && later.loss.valid_mse < 0.07, `validation MSE/px ${later.loss.valid_mse}`);
    assert.ok(later.loss.pca_mse > 0.04 && later.loss.pca_mse < 0.07, `PCA-2 reference ${later.loss.pca_mse}`);
    assert.ok(later.speed.examples_per_second > 1000, `examples/s ${later.speed.examples_per_second}`);
    console.log(`convnetjs preset in headless chromium: ${Math.round(later.speed.examples_per_second)} examples/s, ${later.examples_seen} examples in ~22 s`);
    await page.screenshot({ path: join(outputDir, 'page-20s.png'), fullPage: true });
    // Every panel Rust draws has its canvas on the page, named as Rust names it, but the
    // training figures, which the page shows as a table of text.
    const canvases = await page.evaluate(() => [...document.querySelectorAll('canvas[data-panel]')].map((c) => c.dataset.panel));
    const panels = await page.evaluate(() => window.bottleneck.describe().panels);
    assert.deepEqual(canvases.toSorted(), panels.filter((p) => p !== 'stats').toSorted());
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('pause stops the examples counter, resume and step restart it', async () => {
  const { page, consoleErrors, close } = await openPage();
  try {
    await training(page);
    await page.click('#pause');
    await waitFor(page, () => window.bottleneck.stats().paused);
    const paused = (await stats(page)).examples_seen;
    await page.waitForTimeout(600);
    assert.equal((await stats(page)).examples_seen, paused, 'no training while paused');
    assert.equal(await page.textContent('#pause'), 'resume');
    await page.click('#step');
    await seenMore(page, paused);
    assert.equal((await stats(page)).examples_seen, paused + 50, 'step once trains one batch of 50');
    await page.click('#pause');
    await seenMore(page, paused + 50);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('the learning rate: adadelta says it has none, another optimiser takes a new one at once', async () => {
  const { page, consoleErrors, close } = await openPage();
  try {
    await training(page);
    assert.equal(await page.isDisabled('#lr'), true);
    assert.match(await page.textContent('#lr-note'), /adadelta has no learning rate/);
    await page.selectOption('#optimizer', 'adam');
    await waitFor(page, () => window.bottleneck.state().config.optimizer.type === 'adam');
    await page.fill('#lr', '0.0005');
    await page.click('#lr-apply');
    await waitFor(page, () => window.bottleneck.state().config.optimizer.lr === 0.0005);
    assert.match(await page.textContent('#lr-error'), /learning rate is now 0.0005/);
    await seenMore(page, (await stats(page)).examples_seen);
    // Real denoising: masking noise goes into the trainer's settings.
    await page.selectOption('#noise', 'masking');
    await waitFor(page, () => window.bottleneck.state().config.noise.type === 'masking');
    assert.equal((await state(page)).config.noise.fraction, 0.3);
    // A nonsense rate is refused and the old one stays.
    await page.fill('#lr', '-3');
    await page.click('#lr-apply');
    await waitFor(page, () => /learning rate must be a positive number/.test(document.getElementById('lr-error').textContent));
    assert.equal((await state(page)).config.optimizer.lr, 0.0005);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('save downloads a valid snapshot; a fresh page loads it and reconstructs identically', async () => {
  const first = await openPage();
  const second = await openPage('?preset=turnoff');
  try {
    await training(first.page);
    await first.page.waitForTimeout(1500);
    await first.page.click('#pause');
    await waitFor(first.page, () => window.bottleneck.stats().paused);
    const [download] = await Promise.all([first.page.waitForEvent('download'), first.page.click('#save')]);
    const path = join(outputDir, 'saved-snapshot.json.gz');
    await download.saveAs(path);
    assert.match(download.suggestedFilename(), /^bottleneck-convnetjs-\d+\.json\.gz$/);
    const saved = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8'));
    assert.equal(saved.format, 'bottleneck-snapshot');
    assert.equal(saved.version, 3);
    assert.equal(typeof saved.params[0].data, 'string', 'arrays as base64 of their f32 bytes');
    assert.match(await first.page.textContent('#snapshot-status'), /Saved bottleneck-convnetjs-\d+\.json\.gz \([\d.]+ MB\) to your downloads/);
    assert.ok(saved.progress.examples_seen > 0);
    const want = await reconstruct(first.page, probeInputs(8));

    await training(second.page);
    await second.page.click('#pause');
    await second.page.setInputFiles('#load-file', path);
    await waitFor(second.page, () => /loaded a snapshot/.test(document.getElementById('snapshot-status').textContent));
    const got = await reconstruct(second.page, probeInputs(8));
    assert.deepEqual(got, want, 'the loaded network reconstructs exactly as the saved one');
    const loadedState = await state(second.page);
    assert.equal(loadedState.config.optimizer.type, 'adadelta', 'loading replaced the trainer too');
    assert.equal(loadedState.layers.length, 6);
    assert.equal((await stats(second.page)).examples_seen, saved.progress.examples_seen);
    assert.deepEqual([...first.consoleErrors, ...second.consoleErrors], []);
  } finally {
    await first.close();
    await second.close();
  }
});

test('corrupt snapshots and definitions are refused with a message while training goes on', async () => {
  const { page, consoleErrors, close } = await openPage();
  try {
    await training(page);
    const before = (await command(page, 'save')).payload.snapshot;
    const broken = join(outputDir, 'broken-snapshot.json');
    writeFileSync(broken, before.slice(0, before.length / 2));
    await page.setInputFiles('#load-file', broken);
    await waitFor(page, () => document.getElementById('snapshot-status').classList.contains('error'));
    assert.match(await page.textContent('#snapshot-status'), /not valid JSON/);
    // The same file dropped onto the page gets the same answer.
    await page.evaluate(async (text) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
      document.getElementById('snapshot-status').textContent = '';
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, before.slice(0, 100));
    await waitFor(page, () => /dropped.json: .*not valid JSON/.test(document.getElementById('snapshot-status').textContent));
    const edited = JSON.parse(before);
    edited.params[0].shape = [7, 7];
    await page.fill('#paste', JSON.stringify(edited));
    await page.click('#load-paste');
    await waitFor(page, () => /has shape \[7, 7\]/.test(document.getElementById('paste-status').textContent));
    // Training went on, on the same network (a preset name of "convnetjs", not "snapshot").
    await seenMore(page, (await stats(page)).examples_seen);
    assert.equal((await state(page)).preset, 'convnetjs');
    // A bad network definition: the error names the layer, the old network keeps training.
    const spec = JSON.parse(await page.inputValue('#spec'));
    spec.layers[2].units = 0;
    await page.fill('#spec', JSON.stringify(spec));
    await page.click('#reload');
    await waitFor(page, () => /layer 2 \("enc2"\): units must be/.test(document.getElementById('spec-error').textContent));
    await seenMore(page, (await stats(page)).examples_seen);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('a diverging learning rate pauses training, says why, and keeps the network finite', async () => {
  const { page, consoleErrors, close } = await openPage();
  try {
    await training(page);
    await page.selectOption('#optimizer', 'sgd');
    await waitFor(page, () => window.bottleneck.state().config.optimizer.type === 'sgd');
    await page.fill('#lr', '100');
    await page.click('#lr-apply');
    await waitFor(page, () => window.bottleneck.stats().paused_reason !== null);
    assert.match(await page.textContent('#status'), /Paused: training diverged/);
    const outputs = await reconstruct(page, probeInputs(4));
    assert.ok(outputs.every(Number.isFinite), 'the restored parameters are finite');
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('a ConvNetJS Net.toJSON() snapshot imports and matches ConvNetJS forward pass', async () => {
  const convnetjs = require('convnetjs');
  const net = new convnetjs.Net();
  net.makeLayers([
    { type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 },
    { type: 'fc', num_neurons: 30, activation: 'tanh' },
    { type: 'fc', num_neurons: 2 },
    { type: 'fc', num_neurons: 30, activation: 'relu' },
    { type: 'fc', num_neurons: 40, activation: 'sigmoid' },
    { type: 'regression', num_neurons: 784 },
  ]);
  const text = JSON.stringify(net.toJSON());
  assert.match(text, /"w":\{"0":/, 'ConvNetJS writes weights as objects keyed by index');
  const inputs = [];
  const want = [];
  for (let k = 0; k < 3; k++) {
    const x = new convnetjs.Vol(28, 28, 1, 0.0);
    for (let i = 0; i < 784; i++) x.w[i] = ((i * 7919 + k * 104729) % 1000) / 1000;
    inputs.push(...x.w);
    want.push(...net.forward(x).w);
  }
  const { page, consoleErrors, close } = await openPage();
  try {
    await training(page);
    await page.click('#pause');
    await page.fill('#paste', text);
    await page.click('#load-paste');
    await waitFor(page, () => /loaded a ConvNetJS network/.test(document.getElementById('paste-status').textContent));
    const got = await reconstruct(page, inputs);
    assert.equal(got.length, want.length);
    const worst = Math.max(...got.map((g, i) => Math.abs(g - want[i])));
    assert.ok(worst < 1e-5, `largest difference from ConvNetJS ${worst}`);
    // And it exports back to ConvNetJS's format, which ConvNetJS itself loads.
    const exported = (await command(page, 'export-convnetjs')).payload.convnetjs;
    const back = new convnetjs.Net();
    back.fromJSON(JSON.parse(exported));
    const x = new convnetjs.Vol(28, 28, 1, 0.0);
    x.w.set(inputs.slice(0, 784));
    const again = back.forward(x).w;
    assert.ok(Math.max(...Array.from(again, (v, i) => Math.abs(v - want[i]))) < 1e-5);

    // A conv layer whose 4 channels feed an fc layer: ConvNetJS's channel-last volumes must
    // land in our channel-first layout for both the filters and the fc weights.
    const convNet = new convnetjs.Net();
    convNet.makeLayers([
      { type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 },
      { type: 'conv', sx: 5, filters: 4, stride: 2, pad: 2, activation: 'relu' },
      { type: 'fc', num_neurons: 20, activation: 'tanh' },
      { type: 'regression', num_neurons: 784 },
    ]);
    await page.fill('#paste', JSON.stringify(convNet.toJSON()));
    await page.click('#load-paste');
    await waitFor(page, () => /loaded a ConvNetJS network \(3 layers\)/.test(document.getElementById('paste-status').textContent));
    const convWant = [];
    for (let k = 0; k < 2; k++) {
      const v = new convnetjs.Vol(28, 28, 1, 0.0);
      v.w.set(inputs.slice(k * 784, (k + 1) * 784));
      convWant.push(...convNet.forward(v).w);
    }
    const convGot = await reconstruct(page, inputs.slice(0, 2 * 784));
    const convWorst = Math.max(...convGot.map((g, i) => Math.abs(g - convWant[i])));
    assert.ok(convWorst < 1e-5, `conv network: largest difference from ConvNetJS ${convWorst}`);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('every preset loads from the URL, trains, and draws its panels without errors', async () => {
  const names = JSON.parse(readFileSync(new URL('../crate/src/presets.json', import.meta.url))).presets.map((p) => p.name);
  for (const name of names) {
    const { page, consoleErrors, close } = await openPage(`?preset=${name}`);
    try {
      await training(page);
      assert.equal((await state(page)).preset, name);
      assert.ok((await page.textContent('#caption')).length > 40, `${name} shows its caption`);
      // Every panel has been drawn once the first validation (or pretraining phase) is in.
      await waitFor(page, () => { const s = window.bottleneck.stats(); return s.loss.valid_mse !== null || s.pretraining; }, undefined, 30_000);
      await page.waitForTimeout(2500);
      await page.screenshot({ path: join(outputDir, `preset-${name}.png`), fullPage: true });
      assert.deepEqual(consoleErrors, [], name);
    } finally {
      await close();
    }
  }
});

test('linear-20: one click trains 19 hidden units beside 20, and they cannot keep up', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=linear-20');
  try {
    await training(page);
    assert.match(await page.textContent('#compare'), /train 19 hidden units beside it/);
    await page.click('#compare');
    await waitFor(page, () => window.bottleneck.stats().comparisons[0]?.valid_mse != null, undefined, 20_000);
    await page.waitForTimeout(6000);
    const s = await stats(page);
    const nineteen = s.comparisons[0];
    assert.equal(nineteen.label, '19 hidden units');
    assert.ok(s.loss.valid_mse * 100 < nineteen.valid_mse, `20 units ${s.loss.valid_mse} vs 19 units ${nineteen.valid_mse}`);
    await page.screenshot({ path: join(outputDir, 'linear-20-compare.png'), fullPage: true });
    await page.click('#compare');
    await waitFor(page, () => window.bottleneck.state().comparing === null);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('vae: beside its beta-0 twin, its prior samples change as it trains and on "new samples"; the spreads toggle; the scatter covers the prior', async () => {
  for (const viewport of [{ width: 1366, height: 768 }, { width: 390, height: 844 }]) {
    const { page, consoleErrors, close } = await openPage('?preset=vae&seed=2', { viewport });
    try {
      const words = (name) => page.evaluate((n) => document.querySelector(`[data-panel="${n}"]`).getAttribute('aria-label'), name);
      const ink = async () => Number((await words('recon')).match(/their mean ink ([0-9.]+)/)[1]);
      await training(page);
      // The scatter plots the code's two units over at least the prior's ±2.5, spreads drawn.
      await waitFor(page, () => /prior's ±2.5/.test(document.querySelector('[data-panel="scatter"]').getAttribute('aria-label')), undefined, 20_000);
      assert.match(await words('scatter'), /drawn as an ellipse around it/);
      assert.equal((await state(page)).view.ellipses, true);
      // The prior's samples are redrawn as it trains: their ink changes.
      await waitFor(page, () => /mean ink/.test(document.querySelector('[data-panel="recon"]').getAttribute('aria-label')), undefined, 20_000);
      const first = await ink();
      await seenMore(page, (await stats(page)).examples_seen + 3000);
      await waitFor(page, (before) => Number(document.querySelector('[data-panel="recon"]').getAttribute('aria-label').match(/their mean ink ([0-9.]+)/)[1]) !== before, first, 20_000);
      // Its beta-0 twin beside it decodes the same codes.
      assert.match(await page.textContent('#compare'), /beta 0/);
      await page.click('#compare');
      await waitFor(page, () => window.bottleneck.stats().comparisons[0]?.valid_mse != null, undefined, 30_000);
      await page.click('#pause');
      await waitFor(page, () => window.bottleneck.stats().paused);
      // New samples: another draw of codes, other digits.
      assert.equal(await page.isVisible('#resample'), true);
      // (Paused, the samples are all that can change in the panel's picture.)
      const draw = (await state(page)).prior_draw;
      const recon = page.locator('[data-panel="recon"]');
      const before = await recon.screenshot();
      await page.click('#resample');
      await waitFor(page, (d) => window.bottleneck.state().prior_draw === d + 1, draw);
      for (let tries = 0; (await recon.screenshot()).equals(before); tries++) {
        assert.ok(tries < 50, 'new samples changed nothing in the picture');
        await page.waitForTimeout(200);
      }
      assert.match(await words('recon'), /codes drawn at random from N\(0, I\)/);
      // The loss graph shows the bound and its two parts; β is a setting of this network.
      assert.match(await words('loss'), /negative ELBO on the validation digits is [0-9.]+ nats per digit: reconstruction [0-9.]+ plus KL [0-9.]+\. beta 0 \(no KL term\): reconstruction/);
      assert.equal(await page.isVisible('[data-setting="beta"]'), true);
      // The spreads toggle off and on.
      await page.locator('[data-section="scatter"]').scrollIntoViewIfNeeded();
      const name = viewport.width > 500 ? 'laptop' : 'phone';
      await page.screenshot({ path: join(outputDir, `vae-${name}.png`) });
      await page.locator('[data-section="recon"]').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(outputDir, `vae-samples-${name}.png`) });
      await page.locator('[data-section="scatter"]').scrollIntoViewIfNeeded();
      await page.click('#ellipses');
      await waitFor(page, () => window.bottleneck.state().view.ellipses === false);
      await waitFor(page, () => !/drawn as an ellipse/.test(document.querySelector('[data-panel="scatter"]').getAttribute('aria-label')), undefined, 10_000);
      await page.click('#ellipses');
      await waitFor(page, () => window.bottleneck.state().view.ellipses === true);
      // The decoded map over the prior's range.
      await page.click('#manifold');
      await waitFor(page, () => window.bottleneck.state().view.manifold === true);
      await page.waitForTimeout(1500);
      await page.screenshot({ path: join(outputDir, `vae-map-${name}.png`) });
      assert.deepEqual(consoleErrors, []);
    } finally {
      await close();
    }
  }
});

test('pretrain: layer-wise pretraining, then the pretrained classifier beats random init on 1,000 labels', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=pretrain');
  try {
    await training(page);
    assert.match((await stats(page)).pretraining.phase, /pretraining layer 1 of 3/);
    // Pretraining three layers takes a few seconds; then fine-tuning scores both classifiers.
    await waitFor(page, () => window.bottleneck.stats().pretraining.phase.startsWith('fine-tuning'), undefined, 90_000);
    await waitFor(page, () => window.bottleneck.stats().pretraining.accuracy_pretrained > 0.5, undefined, 60_000);
    const s = (await stats(page)).pretraining;
    console.log(`pretrain in chromium: ${s.phase}; accuracy ${s.accuracy_pretrained} (pretrained) vs ${s.accuracy_random} (random init)`);
    assert.ok(s.accuracy_pretrained > s.accuracy_random + 0.2, `pretrained ${s.accuracy_pretrained} vs random ${s.accuracy_random}`);
    await page.waitForTimeout(3000);
    await page.screenshot({ path: join(outputDir, 'pretrain.png'), fullPage: true });
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('chromium gets the relaxed-simd build, ?simd=simd128 the plain one; each is deterministic, and they agree closely', async () => {
  const relaxed = await openPage('?seed=4');
  const plain = await openPage('?seed=4&simd=simd128');
  try {
    // Train 30 identical batches in each page, twice in the relaxed one, from the same seed.
    const trainFresh = async (page) => {
      await command(page, 'pause');
      await command(page, { reset: { seed: 4 } });
      for (let i = 0; i < 30; i++) await command(page, 'step');
      return reconstruct(page, probeInputs(6));
    };
    await training(relaxed.page);
    await training(plain.page);
    assert.equal(await relaxed.page.evaluate(() => window.bottleneck.simd()), 'relaxed-simd');
    assert.equal(await plain.page.evaluate(() => window.bottleneck.simd()), 'simd128');
    assert.match(await relaxed.page.textContent('#engine'), /fused multiply-add/);
    assert.doesNotMatch(await plain.page.textContent('#engine'), /fused/);
    const a = await trainFresh(relaxed.page);
    const b = await trainFresh(relaxed.page);
    const c = await trainFresh(plain.page);
    assert.deepEqual(a, b, 'the same build and seed reproduce bit for bit');
    // The builds differ only in relaxed_madd, which fuses the multiply-add in the matrix
    // products: after 30 updates the reconstructions agree to a few 1e-4 but need not be equal.
    const worst = Math.max(...a.map((v, i) => Math.abs(v - c[i])));
    assert.ok(worst < 1e-3, `relaxed-simd and simd128 reconstructions differ by up to ${worst}`);
    console.log(`relaxed-simd vs simd128 after 30 steps: largest reconstruction difference ${worst.toExponential(2)}`);
    assert.deepEqual([...relaxed.consoleErrors, ...plain.consoleErrors], []);
  } finally {
    await relaxed.close();
    await plain.close();
  }
});
