// The training worker: owns the wasm Handle (one Rust Session), trains in ~20 ms slices
// between messages, and lets Rust redraw the panels into the canvases the page transferred.
// Commands and queries go to Rust as the page sent them (typed objects carried by
// serde-wasm-bindgen); replies and figures come back as objects. It also keeps the autosave:
// the session's snapshot in IndexedDB, so a reload or a restarted worker picks up the run.
// Every call into Rust goes through rust(): the first one that finds the wasm instance gone (a
// trap) makes this worker dead for good: one 'fatal' to the page, the handle never touched
// again, and an error reply to anything asked of it afterwards while the page starts a new one.
import { loadBottleneck } from './simd.js';
import { freshId } from './ids.js';
import { del, get, set, update } from './vendor/idb-keyval.js';
import { strToU8, zipSync } from './vendor/fflate.js';

const SLICE_MS = 20;
const STATS_EVERY_MS = 100;
/** The autosave is refreshed this often while training (or 50 times its own cost, if more). */
const AUTOSAVE_EVERY_MS = 10_000;
/** After a command, the autosave follows this soon. */
const AUTOSAVE_AFTER_COMMAND_MS = 500;
/** Each tab trains its own run, saved under its own key; the list of runs (newest first, with
 * their summaries) is one more key, updated in one transaction so two tabs never lose each
 * other's entries. The single autosave of earlier versions joins the list once. */
const runKey = (id) => `bottleneck-run:${id}`;
const RUNS_KEY = 'bottleneck-runs';
const LEGACY_KEY = 'bottleneck-autosave';
/** Runs kept: the oldest beyond this are deleted as a new one is saved. */
const MAX_RUNS = 12;
let runId = null; // this tab's run, from the page

/** The panels' spoken names and the figures as text go to the page this often. */
const TEXT_EVERY_MS = 1000;

let handle = null;
let wasm = null; // the loaded module, for a new Handle when the page opens a link in place
let dead = null; // once a trap has left the wasm instance unusable: what happened, in words
let canvases = {}; // the panels' canvases by name, for PNG pictures
let layoutNow = null; // the page's latest canvas widths and pixel density
let lastStatsPost = 0;
let lastTextPost = 0;
const wake = new MessageChannel();
const autosave = { last: 0, cost: 0, dirtySince: null, busy: false };

/** The built-in digits, read as they arrive (from the moment this worker starts, beside the wasm
 * module): a fresh run trains on their first part while the rest come (Rust says how many bytes
 * that is: digits_needed), and `complete` settles once Rust has all of them. */
const digits = { chunks: [], length: 0, done: false, error: null, waiters: [] };
function digitsChanged() {
  for (const wake of digits.waiters.splice(0)) wake();
}
(async () => {
  const response = await fetch(new URL('./data/mnist10k.bin', import.meta.url));
  if (!response.ok) throw new Error(`could not fetch the digits (HTTP ${response.status}): run npm start`);
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    digits.chunks.push(value);
    digits.length += value.length;
    digitsChanged();
  }
  digits.done = true;
  digitsChanged();
})().catch((err) => {
  digits.error = new Error(`the digits did not arrive (${err.message ?? err}); reload the page`);
  digitsChanged();
});

/** The digits' bytes once at least `count` of them (or all, with Infinity) are here. */
async function digitsUpTo(count) {
  while (!digits.error && !digits.done && digits.length < count) await new Promise((resolve) => digits.waiters.push(resolve));
  if (digits.error) throw digits.error;
  const bytes = new Uint8Array(digits.length);
  let at = 0;
  for (const chunk of digits.chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  digits.chunks = [bytes];
  return bytes;
}

/** Settles when the session has every digit (at once when it started with all of them). */
let complete = Promise.resolve();
/** What needs every digit in the session first: a snapshot or run to open. */
const needsAllDigits = (data) => data.type === 'restore' || (data.type === 'command' && data.command?.load !== undefined);

/** Whether an exception from a call into Rust means the wasm instance is gone. A Rust panic
 * aborts with a trap (a RuntimeError, as do out-of-bounds memory and running out of memory);
 * running out of stack is a RangeError, and leaves Rust's own stack pointer wrong. A handle a
 * trap left borrowed, or one freed (the test hook), makes wasm-bindgen refuse every later call.
 * What the session itself refuses (a bad command, file or query) is a plain Error with a
 * sentence, and the session goes on. */
function isTrap(err) {
  if (err instanceof WebAssembly.RuntimeError || err instanceof RangeError) return true;
  return /null pointer passed to rust|recursive use of an object|attempted to take ownership/.test(err?.message ?? '');
}

/** Call the session's `method`. After a trap it throws the same sentence without touching the
 * handle, so no message can reach the dead instance, whichever arrives first. */
function rust(method, ...args) {
  if (dead) throw new Error(dead);
  if (!handle) throw new Error('the trainer is still starting');
  try {
    return handle[method](...args);
  } catch (err) {
    if (isTrap(err)) die(err);
    throw err;
  }
}

/** The wasm instance is gone: say so once, and let the page start a new worker. */
function die(err) {
  if (dead) return;
  dead = `the trainer stopped (${err?.message ?? err})`;
  handle = null;
  postMessage({ type: 'fatal', message: String(err?.message ?? err) });
}

function loop() {
  if (dead) return;
  let stats;
  try {
    stats = rust('tick', SLICE_MS);
    const now = performance.now();
    if (now - lastStatsPost >= STATS_EVERY_MS) {
      lastStatsPost = now;
      postMessage({ type: 'stats', stats });
    }
    if (now - lastTextPost >= TEXT_EVERY_MS) postText(false);
    const due = Math.max(AUTOSAVE_EVERY_MS, 50 * autosave.cost);
    if ((!stats.paused && now - autosave.last > due) || (autosave.dirtySince !== null && now - autosave.dirtySince > AUTOSAVE_AFTER_COMMAND_MS)) saveNow();
  } catch (err) {
    // The session cannot go on (a trap, or a slice that failed): the page starts a new worker.
    die(err);
    return;
  }
  // Paused, or waiting for digits: redraw now and then; training: come straight back after
  // pending messages.
  if (stats.paused || stats.waiting) setTimeout(loop, 50);
  else wake.port2.postMessage(null);
}
wake.port1.onmessage = loop;

/** A link's pairs as one comparable string. */
const linkText = (pairs) => new URLSearchParams(pairs ?? []).toString();

/** The panels' spoken names and the live figures as text (`force`: the page shows them now). */
function postText(force) {
  lastTextPost = performance.now();
  postMessage({ type: 'text', text: rust('panel_text'), force });
}

/** A PNG of one panel, or of several (the dashboard) laid out in rows with their titles, with
 * the page's `caption` lines (what it shows, its link, the tour's words) under it. */
async function png(panels, caption = []) {
  const pictures = panels.map(({ name, title }) => ({ title, canvas: pictureOf(name) })).filter((p) => p.canvas && p.canvas.width > 0);
  if (pictures.length === 0) throw new Error('there is no panel to save');
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '-');
  if (pictures.length === 1) {
    const scale = pictures[0].canvas.width / Math.max(1, widthOf(panels[0].name));
    return { blob: await captioned(pictures[0].canvas, caption, scale).convertToBlob({ type: 'image/png' }), name: `bottleneck-${panels[0].name}-${stamp}.png` };
  }
  // Shelf packing: panels left to right, a new row when the next would pass the widest panel
  // or 1,600 px (at the canvases' own pixel density), each under its title.
  const scale = pictures[0].canvas.width / Math.max(1, widthOf(panels[0].name));
  const gap = Math.round(16 * scale);
  const titleHeight = Math.round(26 * scale);
  const maxWidth = Math.max(Math.round(1600 * scale), ...pictures.map((p) => p.canvas.width));
  const placed = [];
  let x = gap;
  let y = gap;
  let rowHeight = 0;
  for (const picture of pictures) {
    if (x > gap && x + picture.canvas.width > maxWidth) {
      x = gap;
      y += rowHeight + gap;
      rowHeight = 0;
    }
    placed.push({ ...picture, x, y });
    x += picture.canvas.width + gap;
    rowHeight = Math.max(rowHeight, titleHeight + picture.canvas.height);
  }
  const out = new OffscreenCanvas(Math.max(...placed.map((p) => p.x + p.canvas.width)) + gap, y + rowHeight + gap);
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#18181b';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = '#f0b429';
  ctx.font = `600 ${Math.round(15 * scale)}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  for (const p of placed) {
    ctx.fillText(p.title, p.x, p.y + titleHeight / 2);
    ctx.drawImage(p.canvas, p.x, p.y + titleHeight);
  }
  return { blob: await captioned(out, caption, scale).convertToBlob({ type: 'image/png' }), name: `bottleneck-dashboard-${stamp}.png` };
}

/** `picture` with `lines` of caption under it, each wrapped to its width. */
function captioned(picture, lines, scale) {
  if (lines.length === 0) return picture;
  const size = Math.round(13 * scale);
  const font = `${size}px system-ui, sans-serif`;
  const measure = new OffscreenCanvas(1, 1).getContext('2d');
  measure.font = font;
  const room = picture.width - 2 * size;
  const wrapped = lines.flatMap((line) => line.split(' ').reduce((rows, word) => {
    const last = rows.at(-1);
    if (last !== undefined && measure.measureText(`${last} ${word}`).width <= room) rows[rows.length - 1] = `${last} ${word}`;
    else rows.push(word);
    return rows;
  }, []));
  const lineHeight = Math.round(size * 1.4);
  const out = new OffscreenCanvas(picture.width, picture.height + wrapped.length * lineHeight + size);
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#18181b';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(picture, 0, 0);
  ctx.fillStyle = '#e4e4e7';
  ctx.font = font;
  ctx.textBaseline = 'top';
  wrapped.forEach((row, i) => ctx.fillText(row, size, picture.height + size / 2 + i * lineHeight));
  return out;
}

/** The panel's canvas as drawn, or (for a panel the page shows as text) one drawn now. */
function pictureOf(name) {
  if (canvases[name]) return canvases[name];
  const canvas = new OffscreenCanvas(1, 1);
  rust('draw_on', name, canvas);
  return canvas;
}

function widthOf(name) {
  return rust('panel_width', name);
}

/** The run's small picture for the list: its code scatter (or, where none is shown, its loss
 * graph) as drawn now, 96 px wide; null when neither has been drawn. */
const THUMB_WIDTH = 96;
async function thumbnail() {
  const source = [canvases.scatter, canvases.loss].find((c) => c && c.width > 0 && c.height > 0);
  if (!source) return null;
  const height = Math.max(1, Math.round((THUMB_WIDTH * source.height) / source.width));
  const small = new OffscreenCanvas(THUMB_WIDTH, height);
  const g = small.getContext('2d');
  g.imageSmoothingQuality = 'high';
  g.drawImage(source, 0, 0, THUMB_WIDTH, height);
  return small.convertToBlob({ type: 'image/webp', quality: 0.8 }).catch(() => null);
}

/** Every kept run's snapshot in one zip (fflate: the files inside are the snapshots "save" writes,
 * named by preset and examples, newest first), for "export all". */
async function exportRuns() {
  const runs = (await get(RUNS_KEY).catch(() => undefined)) ?? [];
  const files = {};
  for (const [i, r] of runs.entries()) {
    const saved = await get(runKey(r.id)).catch(() => undefined);
    if (!saved?.text) continue;
    const name = `${String(i + 1).padStart(2, '0')}-${r.summary.preset ?? 'custom'}-${Math.round(r.summary.examples_seen)}-examples.json`;
    files[name] = [strToU8(saved.text), { mtime: new Date(r.summary.saved_at) }];
  }
  const count = Object.keys(files).length;
  if (count === 0) throw new Error('there is no saved run to export yet');
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '-');
  return { blob: new Blob([zipSync(files, { level: 6 })], { type: 'application/zip' }), name: `bottleneck-runs-${stamp}.zip`, count };
}

/** Write the session's snapshot to IndexedDB (one write at a time). A dead worker writes
 * nothing: the last good autosave is what the next worker starts from. */
async function saveNow() {
  if (!handle || autosave.busy) return;
  autosave.busy = true;
  autosave.dirtySince = null;
  const start = performance.now();
  try {
    const reply = rust('apply', 'save');
    const summary = {
      preset: reply.state.preset, link: linkText(reply.state.link), view: reply.state.view, examples_seen: reply.stats.examples_seen,
      paused: reply.stats.paused, valid_mse: reply.stats.loss?.valid_mse ?? null, bytes: reply.payload.snapshot.length, saved_at: Date.now(),
      picture: await thumbnail(),
    };
    // A full storage drops the oldest other runs, one at a time, until this one fits.
    const freed = [];
    for (;;) {
      try {
        await storeSet(runKey(runId), { text: reply.payload.snapshot, summary });
        break;
      } catch (err) {
        const live = await liveRuns();
        const oldest = err?.name === 'QuotaExceededError' ? ((await get(RUNS_KEY).catch(() => undefined)) ?? []).filter((r) => !live.has(r.id)).at(-1) : null;
        if (!oldest) throw err.name === 'QuotaExceededError' ? new Error('this browser\'s storage for the page is full, and no other run is left to make room') : err;
        await forgetRun(oldest.id);
        freed.push(oldest.summary);
      }
    }
    let dropped = [];
    await update(RUNS_KEY, (runs = []) => {
      const list = [{ id: runId, summary }, ...runs.filter((r) => r.id !== runId)];
      dropped = list.slice(MAX_RUNS);
      return list.slice(0, MAX_RUNS);
    });
    for (const old of dropped) await del(runKey(old.id)).catch(() => {});
    postMessage({ type: 'saved', summary, freed });
  } catch (err) {
    // Nothing to save (a network that cannot be written) or no IndexedDB: the page says so.
    if (!dead) postMessage({ type: 'saved', error: String(err.message ?? err) });
  } finally {
    autosave.busy = false;
    autosave.last = performance.now();
    autosave.cost = autosave.last - start;
  }
}

/** Test hook: the next `quotaFailures` writes fail as a full storage does. */
let quotaFailures = 0;
function storeSet(key, value) {
  if (quotaFailures > 0) {
    quotaFailures -= 1;
    return Promise.reject(new DOMException('simulated: the quota is reached', 'QuotaExceededError'));
  }
  return set(key, value);
}

/** The runs open in a tab now (each tab holds its run's Web Lock): never dropped for room. */
async function liveRuns() {
  const held = (await navigator.locks?.query?.().catch(() => null))?.held ?? [];
  return new Set([runId, ...held.map((l) => l.name).filter((n) => n.startsWith('bottleneck-run:')).map((n) => n.slice('bottleneck-run:'.length))]);
}

/** Delete a run and its entry in the list. */
async function forgetRun(id) {
  await del(runKey(id)).catch(() => {});
  await update(RUNS_KEY, (runs = []) => runs.filter((r) => r.id !== id)).catch(() => {});
}

/** The list of runs for the page, with how much storage the page uses. */
async function listRuns() {
  const live = await liveRuns();
  const runs = ((await get(RUNS_KEY).catch(() => undefined)) ?? []).map((r) => ({ ...r, mine: r.id === runId, open: live.has(r.id) }));
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  const persisted = await navigator.storage?.persisted?.().catch(() => null);
  return { runs, usage: estimate?.usage ?? null, quota: estimate?.quota ?? null, persisted: persisted ?? null };
}

/** The autosave of one version earlier (one run for every tab) joins the list of runs. */
async function adoptLegacy() {
  const legacy = await get(LEGACY_KEY).catch(() => undefined);
  if (!legacy) return;
  const id = 'earlier';
  await set(runKey(id), legacy);
  await update(RUNS_KEY, (runs = []) => [...runs.filter((r) => r.id !== id), { id, summary: legacy.summary }]);
  await del(LEGACY_KEY);
}

/** The newest run saved by another tab (or an earlier visit), if any. */
async function latestOther() {
  const runs = (await get(RUNS_KEY).catch(() => undefined)) ?? [];
  return runs.find((r) => r.id !== runId) ?? null;
}

/** Load run `id` (this tab's own by default) into the session; its summary, or null when
 * there is none. Another tab's run is copied: from here on it is saved as this tab's. */
async function restoreAutosave(id = runId) {
  const saved = await get(runKey(id)).catch(() => undefined);
  if (!saved) return null;
  rust('apply', { load: { bytes: new TextEncoder().encode(saved.text) } });
  if (saved.summary.paused) rust('apply', 'pause');
  // A snapshot holds the network, not how it was looked at: the view comes back as it was.
  if (saved.summary.view) {
    try {
      rust('apply', { view: saved.summary.view });
    } catch {
      // A view this network cannot show (an older autosave): it opens with its own.
    }
  }
  return saved.summary;
}

async function start({ canvases: given, link, layout, simd, restore, run, open, fresh }) {
  runId = run;
  wasm = await loadBottleneck(simd ?? 'best');
  await adoptLegacy().catch(() => {});
  const mine = (await get(runKey(runId)).catch(() => undefined))?.summary ?? null;
  // A run to restore (or pretraining) waits for every digit; a fresh one starts on the first part.
  const restoring = (open && !mine) || (mine && !(restore === 'link' && mine.link !== linkText(link)));
  const needed = restoring ? Infinity : wasm.digits_needed(await digitsUpTo(20), link);
  handle = new wasm.Handle(await digitsUpTo(needed), link);
  if (!digits.done) {
    complete = digitsUpTo(Infinity).then((bytes) => {
      rust('apply', { 'digits-arrived': { bytes } });
      postText(true);
    });
    complete.catch((err) => {
      if (!dead) postMessage({ type: 'fatal', message: String(err.message ?? err), starting: true });
    });
  }
  layoutNow ??= layout;
  canvases = given;
  const notes = equip();
  // A reload, or a restart after a crash, picks up this tab's run; a link that asks for
  // something else opens that, with the run one click away. A new tab starts its own run,
  // with the newest run of another tab (or visit) one click away.
  const autosaved = { restored: null, available: null };
  // A reload keeps the link the page last showed: that is this tab's run, so it comes back.
  if (open && !mine) {
    // "open in a new tab" from the list of runs: a copy of that run becomes this tab's.
    try {
      autosaved.restored = await restoreAutosave(open);
      if (!autosaved.restored) notes.push('The run this address opens is no longer saved in this browser, so this is a fresh start.');
    } catch (err) {
      notes.push(`That run could not be opened (${err.message ?? err}), so this is a fresh start.`);
    }
  } else if (!mine || (restore === 'link' && mine.link !== linkText(link))) {
    const other = mine || fresh ? null : await latestOther();
    autosaved.available = mine ? { ...mine, run: runId } : other && { ...other.summary, run: other.id };
    // A link for another experiment starts a new run in this tab: the one it had stays in
    // the list, one click away, and is never overwritten.
    if (mine) runId = freshId();
  } else {
    try {
      autosaved.restored = await restoreAutosave();
    } catch (err) {
      notes.push(`The last run's autosave could not be restored (${err.message ?? err}), so this is a fresh start.`);
    }
  }
  ready(notes, autosaved);
  loop();
}

/** The handle just made gets the page's layout and canvases; what its link could not have. */
function equip() {
  if (layoutNow) rust('layout', layoutNow);
  for (const [name, canvas] of Object.entries(canvases)) rust('attach', name, canvas);
  return rust('notes');
}

/** Open a link in this tab (a tour stop): a new run from the digits here, its own in the list;
 * the run the tab had is saved first and stays there. A link Rust cannot start keeps the run. */
async function openLink(link) {
  const bytes = await digitsUpTo(wasm.digits_needed(await digitsUpTo(20), link));
  while (autosave.busy) await new Promise((resolve) => setTimeout(resolve, 20));
  if (autosave.dirtySince !== null || autosave.last === 0) await saveNow();
  if (dead) throw new Error(dead);
  // From here to the reply nothing waits, so no tick or save comes between the two handles.
  const next = new wasm.Handle(bytes, link);
  handle.free();
  handle = next;
  runId = freshId();
  autosave.dirtySince = performance.now();
  ready(equip(), { restored: null, available: null });
}

/** Tell the page the session it now talks to: its defaults, the build, what the link could not
 * have and what became of the autosave, the run's id; then the panels' words. */
function ready(notes, autosaved) {
  postMessage({ type: 'ready', reply: rust('apply', 'describe'), simd: wasm.simd_level(), threads: wasm.threads(), notes, autosaved, run: runId });
  postText(true);
}

onmessage = async ({ data }) => {
  switch (data.type) {
    case 'init':
      try {
        await start(data);
      } catch (err) {
        // A trap while starting has already been reported (the page restarts from the autosave).
        if (!dead) postMessage({ type: 'fatal', message: String(err.message ?? err), starting: true });
      }
      return;
    case 'autosave':
      return saveNow();
    case 'layout':
      layoutNow = data.layout;
      // A layout Rust cannot use keeps the last one (Rust warns); after a trap the next worker
      // gets this layout from the page.
      if (handle) {
        try {
          rust('layout', layoutNow);
        } catch (err) {
          if (!dead) console.warn(`layout not used: ${err.message ?? err}`);
        }
      }
      return;
    case 'runs':
      return postMessage({ type: 'reply', id: data.id, reply: await listRuns() });
    case 'export-runs':
      try {
        return postMessage({ type: 'reply', id: data.id, reply: await exportRuns() });
      } catch (err) {
        return postMessage({ type: 'error', id: data.id, message: String(err.message ?? err) });
      }
    case 'delete-runs':
      // Never the run in use (this tab's): "start fresh" is for that.
      for (const id of data.runs) if (id !== runId) await forgetRun(id);
      return postMessage({ type: 'reply', id: data.id, reply: await listRuns() });
    case 'simulate-quota':
      quotaFailures = data.failures;
      return postMessage({ type: 'reply', id: data.id, reply: null });
    case 'forget':
      // This tab's run only: other tabs' runs stay in the list.
      await forgetRun(runId);
      autosave.dirtySince = null;
      return postMessage({ type: 'reply', id: data.id, reply: null });
    case 'simulate-trap':
      // Test hook: leave the session unusable the way a trap does (wasm-bindgen refuses every
      // later call), so the page's recovery from a crashed trainer is tested with real messages.
      if (handle) handle.free();
      return;
  }
  try {
    if (dead) throw new Error(dead);
    if (needsAllDigits(data)) await complete;
    if (data.type === 'tour') {
      if (!wasm) throw new Error('the trainer is still starting');
      return postMessage({ type: 'reply', id: data.id, reply: wasm.tour(data.bytes ?? undefined) });
    }
    if (data.type === 'open') return postMessage({ type: 'reply', id: data.id, reply: await openLink(data.link) });
    if (data.type === 'png') return postMessage({ type: 'reply', id: data.id, reply: await png(data.panels, data.caption) });
    if (data.type === 'restore') {
      const summary = await restoreAutosave(data.run ?? runId);
      postMessage({ type: 'reply', id: data.id, reply: { summary, ...rust('apply', 'describe') } });
      // The panels' words now, not at the next refresh: they were of the run before.
      return postText(true);
    }
    const reply = data.type === 'query' ? rust('query', data.query) : rust('apply', data.command);
    postMessage({ type: 'reply', id: data.id, reply });
  } catch (err) {
    // A refusal, or (after a trap) the sentence that the trainer stopped: the caller shows it.
    return postMessage({ type: 'error', id: data.id, message: String(err.message ?? err) });
  }
  if (data.type === 'command') {
    autosave.dirtySince ??= performance.now();
    try {
      postText(true);
    } catch {
      // Only a trap fails here, and rust() has told the page.
    }
  }
};
