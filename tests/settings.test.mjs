// The settings controls are built from Rust's table: every training setting is changed through
// its own control and read back from the session's State at the place the table names; a value
// Rust refuses gets Rust's sentence next to its control; the page holds no option list or limit
// of its own; and a reload keeps the view (layer, neurons, decoded map, log scale).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openPage, waitFor } from './harness.mjs';
import { root } from '../scripts/toolchain.mjs';

const training = (page) => waitFor(page, () => window.bottleneck?.stats()?.examples_seen > 0, undefined, 30_000);
const at = (object, pointer) => pointer.split('/').slice(1).reduce((v, k) => (v == null ? undefined : v[k]), object);
const idOf = (key) => key.replaceAll('_', '-');

/** The row's value in the page's State (at the first of its pointers that exists). */
async function valueOf(page, row) {
  const state = await page.evaluate(() => window.bottleneck.state());
  for (const p of row.paths) if (at(state, p) !== undefined) return at(state, p);
  return undefined;
}

test('index.html holds no optimiser or noise option and no limit of a setting', () => {
  const html = readFileSync(join(root, 'index.html'), 'utf8');
  for (const name of ['sgd', 'adagrad', 'rmsprop', 'adadelta', 'adam', 'masking', 'gaussian', 'salt_pepper']) {
    assert.ok(!html.includes(`value="${name}"`), `no <option value="${name}">`);
  }
  const settingsSection = html.slice(html.indexOf('id="settings-title"'), html.indexOf('id="snapshots-title"'));
  assert.doesNotMatch(settingsSection, /\b(min|max)="/, 'no min or max on a setting');
});

test('every training setting is changed through its control and read back from the State', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=k-sparse');
  try {
    await training(page);
    const rows = await page.evaluate(() => window.bottleneck.describe().settings.filter((r) => r.door === 'config'));
    assert.ok(rows.length >= 14, `${rows.length} training settings`);
    // Each optimiser in turn, so each of its fields has a control to change; then the rest.
    const optimizer = rows.find((r) => r.key === 'optimizer');
    const noise = rows.find((r) => r.key === 'noise');
    const changed = new Set();
    const change = async (row) => {
      const id = `#${idOf(row.key)}`;
      assert.ok(await page.isVisible(id), `${row.key} has a visible control`);
      const before = await valueOf(page, row);
      let want;
      if (row.kind === 'switch') {
        want = !before;
        await page.setChecked(id, want);
      } else {
        want = row.kind === 'whole' ? before + 3 : Number((before * 0.5 || 0.25).toPrecision(3));
        if (row.key === 'batch') want = 40;
        await page.fill(id, String(want));
        await page.dispatchEvent(id, 'change');
      }
      await waitFor(page, ({ row: r, want: w }) => {
        const state = window.bottleneck.state();
        const get = (p) => p.split('/').slice(1).reduce((v, k) => (v == null ? undefined : v[k]), state);
        return r.paths.some((p) => get(p) === w);
      }, { row, want });
      assert.equal(await page.getAttribute(id, 'aria-invalid'), null, `${row.key} is not marked`);
      changed.add(row.key);
    };
    for (const [type] of optimizer.options) {
      await page.selectOption('#optimizer', type);
      await waitFor(page, (t) => window.bottleneck.state().config.optimizer.type === t, type);
      changed.add('optimizer');
      for (const row of rows.filter((r) => r.paths.some((p) => p.startsWith('/config/optimizer/')) && r.kind !== 'choice')) {
        if ((await valueOf(page, row)) === undefined) {
          assert.equal(await page.isVisible(`#${idOf(row.key)}`) && row.key !== 'lr', false, `${row.key} is not offered under ${type}`);
          continue;
        }
        await change(row);
      }
    }
    for (const [kind] of noise.options.filter(([k]) => k !== 'none')) {
      await page.selectOption('#noise', kind);
      await waitFor(page, (k) => window.bottleneck.state().config.noise.type === k, kind);
      changed.add('noise');
      await change(rows.find((r) => r.key === 'noise_level'));
    }
    // The rest; a setting this network has no place for (β belongs to a variational code) is
    // changed on a preset that has one.
    const elsewhere = [];
    for (const row of rows.filter((r) => !changed.has(r.key))) {
      if ((await valueOf(page, row)) === undefined) elsewhere.push(row);
      else await change(row);
    }
    assert.deepEqual(elsewhere.map((r) => r.key), ['beta'], 'only β waits for another preset');
    await page.selectOption('#preset', 'vae');
    await waitFor(page, () => window.bottleneck.state().preset === 'vae');
    for (const row of elsewhere) await change(row);
    assert.deepEqual([...changed].sort(), rows.map((r) => r.key).sort(), 'every training setting was changed');
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('a value Rust refuses is marked with its sentence next to its control, and the settings in force stay', async () => {
  const { page, consoleErrors, close } = await openPage('?preset=convnetjs&optimizer=sgd');
  try {
    await training(page);
    const momentum = (await page.evaluate(() => window.bottleneck.state())).config.optimizer.momentum;
    await page.fill('#momentum', '1.5');
    await page.dispatchEvent('#momentum', 'change');
    await waitFor(page, () => document.getElementById('momentum').getAttribute('aria-invalid') === 'true');
    const sentence = await page.textContent('#momentum-error');
    assert.equal(sentence, 'momentum: sgd: momentum must be in [0, 1), got 1.5');
    assert.match(await page.textContent('#settings-error'), /momentum must be in \[0, 1\), got 1\.5/);
    assert.equal(await page.inputValue('#momentum'), '1.5', 'the typed value stays for the user to fix');
    assert.equal((await page.evaluate(() => window.bottleneck.state())).config.optimizer.momentum, momentum);
    // The control's description carries the sentence and what the setting takes, for screen readers.
    const described = await page.evaluate(() => document.getElementById('momentum').getAttribute('aria-describedby').split(' ').map((id) => document.getElementById(id).textContent).join(' '));
    assert.match(described, /in \[0, 1\)/);
    assert.match(described, /momentum must be in/);
    // A good value clears the mark.
    await page.fill('#momentum', '0.5');
    await page.dispatchEvent('#momentum', 'change');
    await waitFor(page, () => window.bottleneck.state().config.optimizer.momentum === 0.5);
    assert.equal(await page.getAttribute('#momentum', 'aria-invalid'), null);
    assert.equal(await page.textContent('#momentum-error'), '');
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('a reload keeps the view: layer, neurons, decoded map and log scale', async () => {
  const { page, consoleErrors, close } = await openPage();
  try {
    await training(page);
    await page.selectOption('#scatter-layer', '1');
    await waitFor(page, () => window.bottleneck.state().view.layer === 1);
    await page.selectOption('#scatter-x', '5');
    await waitFor(page, () => window.bottleneck.state().view.x === 5);
    await page.check('#manifold');
    await page.check('#log-scale');
    await waitFor(page, () => window.bottleneck.state().view.manifold && window.bottleneck.state().view.log_y);
    const view = (await page.evaluate(() => window.bottleneck.state())).view;
    await waitFor(page, () => /layer=1/.test(location.search) && /x=5/.test(location.search) && /manifold=true/.test(location.search));
    // Wait for the autosave that holds the view's commands, then reload.
    await waitFor(page, () => /autosaved/.test(document.getElementById('autosave-status').textContent));
    await page.waitForTimeout(1200);
    await page.reload();
    await training(page);
    assert.deepEqual((await page.evaluate(() => window.bottleneck.state())).view, view);
    assert.match(await page.evaluate(() => location.search), /layer=1.*x=5/);
    assert.equal(await page.inputValue('#scatter-layer'), '1');
    assert.equal(await page.inputValue('#scatter-x'), '5');
    assert.equal(await page.isChecked('#manifold'), true);
    assert.equal(await page.isChecked('#log-scale'), true);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('quick changes stay: the reply to an earlier change never sets a later control back', async () => {
  const { page, consoleErrors, close } = await openPage();
  try {
    await training(page);
    // Two clicks in one turn: the first reply (log scale still off) arrives while the second
    // command is on its way. Watch the box between every message until both are in the State.
    const seen = await page.evaluate(() => new Promise((resolve) => {
      const box = document.getElementById('log-scale');
      const states = [];
      document.getElementById('manifold').click();
      box.click();
      const look = () => {
        states.push(box.checked);
        const v = window.bottleneck.state().view;
        if (v.manifold && v.log_y) resolve({ states, checked: box.checked });
        else setTimeout(look, 0);
      };
      look();
    }));
    assert.ok(seen.states.every((c) => c), `the log-scale box went back to unchecked on the way: ${seen.states.join(',')}`);
    assert.equal(seen.checked, true);
    assert.equal(await page.isChecked('#manifold'), true);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});

test('a change of the learning rate is marked on the loss graph; a rate that kills every unit is said, and undo recovers', async () => {
  // The same run every time: trained to exactly 20,480 examples (stop=), then the change. (From
  // wherever a busy machine happened to be after 1.5 s, the rate killed every code unit in most
  // runs but not all.)
  const { page, consoleErrors, close } = await openPage('?preset=turnoff&stop=20480');
  try {
    await waitFor(page, () => window.bottleneck?.stats()?.paused && window.bottleneck.stats().examples_seen === 20_480, undefined, 60_000);
    await page.fill('#lr', '0.05');
    await page.click('#lr-apply');
    await waitFor(page, () => window.bottleneck.state().config.optimizer.lr === 0.05);
    await page.click('#pause'); // resume: past its stop, the run trains on
    const at = (await page.evaluate(() => window.bottleneck.state())).changes.at(-1);
    assert.equal(at.label, 'learning rate 0.05');
    // The marker is in the loss graph's accessible description once the graph has drawn past it.
    await waitFor(page, () => /marked on it: learning rate 0\.05 at [\d,]+ examples/.test(document.getElementById('canvas-loss').getAttribute('aria-label')), undefined, 15_000);
    // Within 10 s the page says what broke, by the rate box, and offers to undo.
    await waitFor(page, () => /is dead|stopped moving|saturated/.test(document.getElementById('health').textContent), undefined, 10_000);
    assert.match(await page.textContent('#health'), /learning rate 0\.05\) is the likely cause/);
    assert.equal(await page.isVisible('#undo'), true);
    assert.match(await page.textContent('#undo'), /undo: learning rate 0\.05/);
    // Paused first, so the examples read after undo are the ones it went back to, not a few
    // batches later (undo keeps training paused or running as it was).
    await page.click('#pause');
    await waitFor(page, () => window.bottleneck.stats().paused);
    await page.click('#undo');
    await waitFor(page, () => window.bottleneck.state().config.optimizer.lr === 0.001 && window.bottleneck.state().undo === null);
    const back = (await page.evaluate(() => window.bottleneck.stats())).examples_seen;
    assert.equal(back, at.examples_seen, 'back to just before the change');
    await page.click('#pause'); // resume
    // Training goes on from there, and the sentence is gone.
    await waitFor(page, (n) => window.bottleneck.stats().examples_seen > n + 5000, back, 20_000);
    assert.equal(await page.isVisible('#health'), false);
    assert.equal((await page.evaluate(() => window.bottleneck.stats())).health, null);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await close();
  }
});
