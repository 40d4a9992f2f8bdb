// The page thread: DOM controls, files, the address bar and messages only. A module worker
// (worker.js) owns the wasm session and draws every panel into the canvases transferred to it,
// so this thread stays free while training runs at full speed. Files go to Rust as bytes,
// network definitions as text: nothing here parses or sniffs them, and nothing is ever eval'd.
// If the worker dies, a new one starts from the autosave and the page says what happened; a
// dead worker is replaced once, and whatever it still sends (an error, a late message) is ignored.
import { at, buildControls, idOf, markControl, readConfig, showState } from './controls.js';
import { showKnowledge, wireExplore } from './explore.js';
import { download, panelText, shownPanels, showPanelInfo, showPoint, watchLayout } from './panels.js';
import { freshId } from './ids.js';
import { wireRuns } from './runs.js';
import { TOUR_KEYS, wireTour } from './tour.js';

const $ = (id) => document.getElementById(id);

/** A worker that stops more often than this in a minute is not restarted again. */
const MAX_RESTARTS_A_MINUTE = 3;
let worker = null;
let workersStarted = 0; // this page's workers so far: the first, and one per restart
let restarts = []; // times of recent restarts
let crashReason = null; // why the current worker was started, if it replaced a dead one
const pending = new Map();
let nextId = 1;
let state = null;
let stats = null;
let description = null; // defaults, limits and names, from Rust
let simd = null; // which wasm build the worker loaded
let threads = 1;
let layout = null; // the latest widths and pixel density, sent to every new worker
let pictures = null; // the drawing pad's picture placer
let runId = null; // this tab's run: its autosave is its own (see tabRun)
let offered = null; // the run the "restore" button brings back
let runs = null; // the list of runs (runs.js)
const PAGE_KEYS = ['simd', 'run', 'snapshot', ...TOUR_KEYS];
let tour = null; // the guided tour (tour.js)
let tourOpened = false; // a ?tour= link's stop is opened once, after the first start
let hosted = new URLSearchParams(location.search).get('snapshot'); // opened once, after the first start
const showText = panelText();

function post(message, transfer = []) {
  if (!worker) return Promise.reject('the trainer is not running');
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, command: message.type === 'command' });
    worker.postMessage({ ...message, id }, transfer);
  });
}

/** Send a command (`'pause'`, `{ 'set-config': { config } }`, …); resolves to the reply,
 * rejects with the error's sentence. */
const send = (command, transfer) => post({ type: 'command', command }, transfer);
/** Ask the network a question (`{ reconstruct: { inputs } }`); resolves to the answer. */
const query = (question, transfer) => post({ type: 'query', query: question }, transfer);

let dropping = false; // a dropped file is being opened: its answer is also shown where the user looks
let dropAnswerTimer = null;

function setMessage(id, text, isError = false) {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle('error', isError);
  if (dropping && text) {
    // The section this message belongs to may be a screen or two away from where the file was
    // dropped: say it again at the bottom of the screen for a while.
    $('drop-answer-text').textContent = text;
    $('drop-answer').classList.toggle('error', isError);
    $('drop-answer').hidden = false;
    clearTimeout(dropAnswerTimer);
    dropAnswerTimer = setTimeout(() => { $('drop-answer').hidden = true; }, 12_000);
  }
}

/** Run a command; show its error in `errorId` (and keep everything as it was). */
async function run(command, errorId = 'status') {
  try {
    const reply = await send(command);
    if (errorId !== 'status') setMessage(errorId, '');
    return reply;
  } catch (message) {
    setMessage(errorId, message, true);
    return null;
  }
}

function onWorkerMessage({ data }) {
  switch (data.type) {
    case 'ready':
      simd = data.simd;
      threads = data.threads ?? 1;
      $('engine').textContent = engineLine();
      if (!description) buildControls(data.reply.payload.description, $('settings-controls'), applySettings);
      description = data.reply.payload.description;
      fillPresets();
      $('speed').max = String(description.speeds.length);
      showReply(data.reply, true);
      if (data.run !== runId) holdRun(data.run); // a link for something else: a new run here
      showOpening(data.notes, data.autosaved);
      runs.refresh();
      if (hosted) openHosted(hosted);
      else if (workersStarted === 1 && !tourOpened) tour.opened();
      $('tour-start').disabled = false; // the tour opens experiments in the trainer: it is here now
      tourOpened = true;
      hosted = null;
      break;
    case 'saved':
      if (data.error) setMessage('autosave-status', `Autosave failed: ${data.error}. Training goes on; save a snapshot to keep this run.`, true);
      else if (data.freed?.length) setMessage('autosave-status', `autosaved ${describeSave(data.summary)}. The browser's room for the page was full, so the oldest run${data.freed.length === 1 ? '' : 's'} (${data.freed.map(describeSave).join('; ')}) ${data.freed.length === 1 ? 'was' : 'were'} deleted to make room.`, true);
      else setMessage('autosave-status', `autosaved ${describeSave(data.summary)}`);
      runs?.saved();
      break;
    case 'stats':
      showStats(data.stats);
      break;
    case 'text':
      showText(data.text, { force: data.force });
      break;
    case 'reply': {
      const p = pending.get(data.id);
      pending.delete(data.id);
      // A reply to an older command while a newer one is on its way would set the controls back
      // to what they were before the user's latest change: the newer reply brings the state.
      const newer = [...pending].some(([id, q]) => id > data.id && q.command);
      if (data.reply?.state && newer) heldReply = data.reply;
      else if (data.reply?.state) showLatest(data.reply);
      p?.resolve(data.reply);
      break;
    }
    case 'error': {
      const p = pending.get(data.id);
      pending.delete(data.id);
      // The newest command was refused: the state held back from an older one is the latest.
      if (heldReply && ![...pending.values()].some((q) => q.command)) showLatest(heldReply);
      p?.reject(data.message);
      break;
    }
    case 'fatal':
      if (data.starting) setMessage('status', `Could not start: ${data.message}`, true);
      else restartWorker(worker, data.message);
      break;
  }
}

/** What the engine gives this visitor, in words (the details are in the About box). */
function engineLine() {
  const fused = simd === 'relaxed-simd' ? 'fused multiply-add' : 'SIMD';
  const cores = threads > 1 ? `, spread over ${threads} threads`
    : self.crossOriginIsolated ? ', on one thread' : ', on one thread (this host does not send the cross-origin isolation headers that threads need; see "Host it yourself" in the README)';
  return `Fast path in use: WebAssembly ${fused} arithmetic${cores}.`;
}

function fillPresets() {
  const options = description.presets.map((p) => new Option(p.title, p.name));
  // A network of one's own (the editor, a snapshot, an import) shows as "custom".
  options.push(Object.assign(new Option('your own network', 'custom'), { disabled: true }));
  $('preset').replaceChildren(...options);
}

/** Start a worker (again): the canvases of a dead one cannot be reused, so fresh ones stand in. */
function startWorker(restore) {
  const fresh = sessionStorage.getItem('bottleneck-fresh') === '1';
  sessionStorage.removeItem('bottleneck-fresh');
  const started = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker = started;
  workersStarted += 1;
  // A worker that has been replaced is not listened to: it was dead, and its news is old.
  started.onmessage = (e) => started === worker && onWorkerMessage(e);
  started.onerror = (e) => restartWorker(started, e.message || 'the worker failed');
  const params = new URLSearchParams(location.search);
  // The link's values go to Rust as text pairs; Rust says what it could not use.
  // Keys for the page, not the experiment: the wasm build, a run to open, a hosted snapshot.
  const link = [...params].filter(([key]) => !PAGE_KEYS.includes(key));
  const canvases = {};
  for (const old of document.querySelectorAll('canvas[data-panel]')) {
    const canvas = restore === 'crash' ? old.cloneNode(false) : old;
    if (canvas !== old) old.replaceWith(canvas);
    canvases[canvas.dataset.panel] = canvas.transferControlToOffscreen();
  }
  // ?simd=simd128 forces the plain build where the browser could run the relaxed one.
  worker.postMessage({ type: 'init', canvases, link, layout, simd: params.get('simd') || 'best', restore, run: runId, open: params.get('run'), fresh }, Object.values(canvases));
}

/** The worker `dead` died (a trap, memory): start a new one from the autosave, and say so.
 * Its error event and its 'fatal' message can both arrive: the first restarts it, and the
 * rest (like anything from a worker already replaced) change nothing. */
function restartWorker(dead, reason) {
  if (dead !== worker) return;
  const now = Date.now();
  restarts = restarts.filter((t) => now - t < 60_000);
  worker?.terminate();
  worker = null;
  for (const p of pending.values()) p.reject(`${reason}; the trainer is restarting`);
  pending.clear();
  if (restarts.length >= MAX_RESTARTS_A_MINUTE) {
    setMessage('status', `The trainer keeps stopping (${reason}). Reload the page to try again, or press "start fresh".`, true);
    return;
  }
  restarts.push(now);
  crashReason = reason;
  startWorker('crash');
  layoutWatch?.resend();
}

function describeSave(summary) {
  const when = new Date(summary.saved_at).toLocaleTimeString();
  return `at ${when}: ${summary.preset}, ${Math.round(summary.examples_seen).toLocaleString('en')} examples`;
}

/** After a (re)start: what the link could not have, and what became of the autosave. */
function showOpening(notes, autosaved) {
  const lines = [...notes];
  if (crashReason) {
    lines.unshift(autosaved.restored
      ? `The trainer stopped (${crashReason}) and was restarted from the autosave ${describeSave(autosaved.restored)}.`
      : `The trainer stopped (${crashReason}) and was restarted; there was no autosave, so this is a fresh start.`);
    crashReason = null;
  } else if (autosaved.restored) {
    lines.unshift(`Resumed your last run (autosaved ${describeSave(autosaved.restored)}).`);
  }
  setMessage('opening-notes', lines.join(' '), notes.length > 0);
  offered = autosaved.available?.run ?? null;
  $('restore').hidden = !autosaved.available;
  if (autosaved.available) $('restore').textContent = `restore the last run (${describeSave(autosaved.available)})`;
}

let heldReply = null; // a reply's state held back while a newer command is on its way
function showLatest(reply) {
  heldReply = null;
  showReply(reply, reply.state.spec !== state?.spec || reply.state.preset !== state?.preset);
}

function showReply(reply, refillSpec) {
  showStats(reply.stats);
  applyState(reply.state, refillSpec);
}

let lastKnowledgeAt = null;
let shownStop = null; // the "paused at N, as asked" sentence last shown: said once, not every tick
function showStats(next) {
  // For the benchmark: when the first trained batch reached the page, in ms after navigation.
  if (next.examples_seen > 0 && window.bottleneck && window.bottleneck.firstBatchAt === undefined) {
    window.bottleneck.firstBatchAt = performance.now();
  }
  stats = next;
  $('pause').textContent = next.paused ? 'resume' : 'pause';
  if (next.paused_reason) setMessage('status', `Paused: ${next.paused_reason}`, true);
  else if (next.stopped && next.stopped !== shownStop) setMessage('status', next.stopped);
  shownStop = next.stopped ?? null;
  // While the digits arrive: what training does meanwhile.
  if ($('arriving').textContent !== (next.arriving ?? '')) $('arriving').textContent = next.arriving ?? '';
  $('arriving').hidden = !next.arriving;
  // A network broken but finite (dead or saturated units, a stalled loss): said by the rate box.
  if ($('health').textContent !== (next.health ?? '')) $('health').textContent = next.health ?? '';
  $('health').hidden = !next.health;
  tour?.showStats(next);
  const measuredAt = next.knowledge?.examples_seen ?? null;
  if (measuredAt !== lastKnowledgeAt) {
    lastKnowledgeAt = measuredAt;
    showKnowledge(next.knowledge);
  }
}

function fillSelect(select, count, selected, label) {
  const shown = Math.min(count, 1024);
  select.replaceChildren(...Array.from({ length: shown }, (_, i) => new Option(label(i), String(i))));
  select.value = String(selected);
}

/** The speed control's position for a speed (the last position is full speed). */
function speedIndex(speed) {
  if (speed == null) return description.speeds.length;
  const i = description.speeds.findIndex((s) => s >= speed);
  return i < 0 ? description.speeds.length : i;
}

function speedText(speed) {
  return speed == null ? 'full speed' : `${speed} step${speed === 1 ? '' : 's'} a second`;
}

/** Show the session's state in every control, and put it in the address bar.
 * `refillSpec`: also refill the network editor. */
function applyState(next, refillSpec) {
  const presetBefore = state?.preset;
  // Another run's seed (a restored or loaded run): the seed box shows it, unless one is typed.
  if (!state || (next.seed !== state.seed && $('seed').value.trim() === String(state.seed))) $('seed').value = String(next.seed);
  // A walk's ends belong to the scatter they were chosen on.
  if (state && (JSON.stringify(state.view) !== JSON.stringify(next.view) || state.spec !== next.spec)) pictures?.clearMarks();
  state = next;
  showState(next, description, $, ['lr']);
  const preset = description.presets.find((p) => p.name === next.preset);
  $('preset').value = preset ? next.preset : 'custom';
  $('caption').textContent = preset ? preset.caption : 'A network of your own: the editor, a loaded snapshot or an imported ConvNetJS network.';
  $('look-for').textContent = preset?.look_for ?? '';
  $('compare').hidden = !next.comparison && !next.comparing;
  $('compare').textContent = next.comparing ? `stop comparing with ${next.comparing}` : `train ${next.comparison} beside it`;
  $('resample').hidden = next.prior_draw === null || next.prior_draw === undefined;
  const type = next.config.optimizer.type;
  const withRate = (next.choices.find(([key]) => key === 'optimizer')?.[1] ?? []).filter((o) => 'lr' in o).map((o) => titleOf('optimizer', o.type));
  $('lr-apply').disabled = !('lr' in next.config.optimizer);
  $('lr-note').textContent = 'lr' in next.config.optimizer
    ? `applies to ${type} at once`
    : `${type} has no learning rate: it sizes each step from running averages of gradients and updates. ${withRate.join(', ')} take one: pick one of them as the optimiser to set a rate.`;
  showSeedNote();
  $('undo').hidden = !next.undo;
  $('undo').textContent = next.undo ? `undo: ${next.undo}` : '';
  $('speed').value = String(speedIndex(next.speed));
  $('speed-value').textContent = speedText(next.speed);
  $('speed').setAttribute('aria-valuetext', speedText(next.speed));
  $('built-in').hidden = next.digits === 'built-in';
  if (refillSpec) $('spec').value = next.spec;
  const layers = next.layers;
  $('scatter-layer').replaceChildren(
    ...layers.map((l, i) => new Option(`${i + 1}: ${l.name} (${l.units} ${l.kind === 'gaussian' ? 'gaussian' : l.activation})${i === next.code_layer ? ' · code' : ''}`, String(i))),
  );
  $('scatter-layer').value = String(next.view.layer);
  const units = layers[next.view.layer].units;
  fillSelect($('scatter-x'), units, next.view.x, (i) => `neuron ${i}`);
  fillSelect($('scatter-y'), units, next.view.y, (i) => `neuron ${i}`);
  $('manifold').checked = next.view.manifold;
  $('components').checked = next.view.components;
  // A variational code's spreads: offered where the scatter plots two of its units.
  $('ellipses').checked = next.view.ellipses === true;
  $('ellipses').closest('label').hidden = next.view.ellipses === undefined || next.view.ellipses === null;
  // Two units plot as they are: the switch is offered only on wider layers.
  $('components').closest('label').hidden = units <= 2;
  $('log-scale').checked = next.view.log_y;
  showPanelInfo(next.panels);
  // A preset just picked (or opened by a link) shows its point first and brings it into view.
  if (next.preset !== presetBefore) showPoint(preset?.point ?? [], presetBefore !== undefined || pointOnOpen, preset?.look_for ?? '');
  if (next.link != null) {
    const query = new URLSearchParams(next.link).toString();
    // The page's own keys (the build, a tour stop) stay beside the experiment's.
    const now = new URLSearchParams(location.search);
    const kept = ['simd', ...TOUR_KEYS].filter((key) => now.has(key)).map((key) => `&${key}=${encodeURIComponent(now.get(key))}`).join('');
    const url = `${location.pathname}?${query}${kept}`;
    if (url !== location.pathname + location.search) history.replaceState(null, '', url);
  }
}

/** A typed seed applies at the next reset: say so while it differs from the one in force. */
function showSeedNote() {
  const typed = $('seed').value.trim();
  const differs = state && typed !== '' && typed !== String(state.seed);
  $('seed-note').textContent = differs ? `Seed ${typed} applies when you press reset (this run uses seed ${state.seed}).` : '';
}

/** A choice's name on its control ("adam" → "Adam"), from Rust's table. */
function titleOf(key, value) {
  return description.settings.find((r) => r.key === key)?.options.find(([v]) => v === value)?.[1] ?? value;
}

/** A training setting's control changed (or its button was pressed): send the config the
 * controls ask for. What Rust refuses is said next to that control, which keeps the typed value
 * for the user to fix; the settings in force stay. */
let settingsAsked = 0; // the latest settings change asked for: an older reply says nothing

async function applySettings(row) {
  const asked = ++settingsAsked;
  const { config, problems } = readConfig(state, description, $);
  const messageId = row.key === 'lr' ? 'lr-error' : 'settings-error';
  for (const r of description.settings) if (r.door === 'config') markControl(r.key, null, $);
  if (problems.length > 0) {
    // Nothing is sent, nothing silently replaced: the controls say what is wrong.
    for (const { key, message } of problems) markControl(key, message, $);
    setMessage(messageId, problems.map((p) => p.message).join(' '), true);
    return;
  }
  const before = state.config.optimizer.type;
  const choices = state.optimizer_choices;
  try {
    const reply = await send({ 'set-config': { config } });
    if (asked !== settingsAsked) return; // a later change has its own say
    setMessage('settings-error', '');
    setMessage('lr-error', row.key === 'lr' ? `learning rate is now ${reply.state.config.optimizer.lr}` : '');
    const o = reply.state.config.optimizer;
    if (o.type !== before) {
      const settings = Object.entries(o).filter(([k]) => k !== 'type').map(([k, v]) => `${k} ${v}`).join(', ');
      const why = choices.find((c) => c.settings.type === o.type)?.source === 'measured'
        ? 'settings measured to keep this preset training'
        : 'the general defaults (no settings were measured for this network)';
      setMessage('settings-error', `Switched to ${o.type} with ${settings}: ${why}.`);
    }
  } catch (message) {
    if (asked !== settingsAsked) return;
    markControl(row.key, `${row.short}: ${message}`, $);
    setMessage(messageId, `${row.short}: ${message}`, true);
    if (row.kind === 'choice' && state) $(idOf(row.key)).value = at(state, row.paths[0]);
  }
}

/** Hand a file's bytes to Rust, which tells a Bottleneck snapshot from a ConvNetJS network; the
 * answer goes to `where` (beside the control that asked). */
async function loadBytes(bytes, source, where = 'snapshot-status') {
  if (bytes.byteLength > description.limits.max_file_bytes) {
    setMessage(where, `${source}: larger than the ${description.limits.max_file_bytes >> 20} MB limit; nothing was loaded`, true);
    return;
  }
  try {
    const reply = await send({ load: { bytes } }, [bytes.buffer]);
    const what = reply.payload.loaded === 'convnetjs' ? 'a ConvNetJS network' : 'a snapshot';
    setMessage(where, `${source}: loaded ${what} (${reply.state.layers.length} layers); training continues from it`);
    setMessage('status', ''); // what the status said (a reset, a step) was of the run before
    return reply;
  } catch (message) {
    setMessage(where, `${source}: ${message}. The current network is unchanged.`, true);
  }
}

async function loadFile(file) {
  if (file.size > description.limits.max_file_bytes) return loadBytes({ byteLength: file.size }, file.name);
  return loadBytes(new Uint8Array(await file.arrayBuffer()), file.name);
}

/** `?snapshot=PATH`: a snapshot hosted beside the page (a course page can ship trained
 * networks). Only the page's own origin: anything else is refused in a sentence. */
async function openHosted(path) {
  let url;
  try {
    url = new URL(path, location.href);
  } catch {
    setMessage('status', `The link's snapshot address "${path}" is not an address; the network is unchanged.`, true);
    return;
  }
  if (url.origin !== location.origin) {
    setMessage('status', `The link asks for a snapshot from ${url.origin}; a link may open only snapshots hosted beside this page (${location.origin}), so the network is unchanged.`, true);
    return;
  }
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`the host answered ${response.status}`);
    const size = Number(response.headers.get('content-length') ?? 0);
    if (size > description.limits.max_file_bytes) return loadBytes({ byteLength: size }, url.pathname);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const reply = await loadBytes(bytes, url.pathname);
    const failed = $('snapshot-status').classList.contains('error');
    // Loaded where the link's stop= is already reached: one sentence says both.
    const stopped = reply?.stats.stopped;
    if (stopped) shownStop = stopped;
    setMessage('status', stopped ? `${$('snapshot-status').textContent.replace(/; training continues from it$/, '')}. ${stopped}` : $('snapshot-status').textContent, failed);
  } catch (err) {
    setMessage('status', `The link's snapshot ${url.pathname} could not be fetched (${err.message ?? err}); the network is unchanged.`, true);
  }
}

/** Train on IDX files (images and, optionally, labels, in any order): Rust tells them apart. */
async function useDigitFiles(files) {
  const total = files.reduce((n, f) => n + f.size, 0);
  if (total > description.limits.max_file_bytes) {
    setMessage('digits-status', `These files are larger than the ${description.limits.max_file_bytes >> 20} MB limit; the digits are unchanged.`, true);
    return;
  }
  const buffers = await Promise.all(files.map(async (f) => new Uint8Array(await f.arrayBuffer())));
  try {
    const reply = await send({ 'use-digits': { files: buffers } }, buffers.map((b) => b.buffer));
    setMessage('digits-status', `Training on ${reply.state.digits} from ${files.map((f) => f.name).join(' and ')}; the experiment started over on them.`);
  } catch (message) {
    setMessage('digits-status', `${message}. The digits are unchanged.`, true);
  }
}

async function placePictures(files) {
  try {
    const n = await pictures.place(files, description.limits.max_file_bytes);
    setMessage('digits-status', `Placed ${n} picture${n === 1 ? '' : 's'} on the scatter (ringed); the last one is shown under "Draw a digit".`);
  } catch (err) {
    setMessage('digits-status', `${err.message ?? err}. Nothing was placed.`, true);
  }
}

/** A dropped or picked set of files: pictures are placed, JSON is a snapshot, the rest IDX. */
function openFiles(files) {
  const images = files.filter((f) => f.type.startsWith('image/'));
  const json = files.filter((f) => f.type === 'application/json' || f.name.endsWith('.json') || f.name.endsWith('.json.gz'));
  if (images.length > 0) return placePictures(images);
  if (json.length > 0) return loadFile(json[0]);
  return useDigitFiles(files);
}

async function savePng(panels) {
  try {
    const reply = await post({ type: 'png', panels, caption: caption() });
    download(reply.name, reply.blob);
  } catch (message) {
    setMessage('status', `The picture could not be made: ${message}`, true);
  }
}

/** The lines under an exported picture: what it shows, how to get it again, and the tour's words. */
function caption() {
  const preset = description.presets.find((p) => p.name === state.preset)?.title ?? 'your own network';
  const differs = state.link.filter(([key]) => !['preset', 'seed'].includes(key)).map(([key, value]) => `${key} = ${value}`);
  return [
    `Bottleneck: ${preset}, seed ${state.seed}, ${Math.round(stats.examples_seen).toLocaleString('en')} examples seen${differs.length ? `; settings changed: ${differs.join(', ')}` : ''}.`,
    ...tour.caption(),
    location.href,
  ];
}

const view = (change) => run({ view: { layer: null, x: null, y: null, log_y: null, manifold: null, components: null, ellipses: null, ...change } });

/** Keys: Space pauses anywhere but in a control; arrows and brackets on the scatter. */
function onKey(e) {
  const inControl = e.target.closest('input, select, textarea, button, a, [contenteditable]');
  if (e.key === ' ' && !inControl && !e.ctrlKey && !e.metaKey && !e.altKey) {
    e.preventDefault();
    $('pause').click();
    return;
  }
  if (e.target.id !== 'canvas-scatter' || e.shiftKey || !state) return;
  const units = state.layers[state.view.layer].units;
  const wrap = (v, n) => (v + n) % n;
  const moves = {
    ArrowLeft: () => view({ x: wrap(state.view.x - 1, units) }),
    ArrowRight: () => view({ x: wrap(state.view.x + 1, units) }),
    ArrowDown: () => view({ y: wrap(state.view.y - 1, units) }),
    ArrowUp: () => view({ y: wrap(state.view.y + 1, units) }),
    '[': () => view({ layer: wrap(state.view.layer - 1, state.layers.length) }),
    ']': () => view({ layer: wrap(state.view.layer + 1, state.layers.length) }),
  };
  if (moves[e.key]) {
    e.preventDefault();
    moves[e.key]();
  }
}

let layoutWatch = null;
function wire() {
  $('pause').onclick = () => run(stats?.paused ? 'resume' : 'pause').then((r) => r && !r.stats.paused && setMessage('status', ''));
  $('step').onclick = async () => {
    const reply = await run('step');
    if (reply) setMessage('status', `Trained one batch of ${reply.state.config.batch_size} and paused; press resume to go on.`);
  };
  $('reset').onclick = () => run({ reset: { seed: Number($('seed').value) } }).then((r) => r && setMessage('status', `Started again from seed ${r.state.seed}.`));
  $('seed').oninput = showSeedNote;
  $('seed').onkeydown = (e) => { if (e.key === 'Enter') $('reset').click(); };
  $('compare').onclick = () => run(state.comparing ? 'stop-compare' : { compare: { label: null, spec: null, config: null } });
  $('resample').onclick = () => run('resample');
  $('preset').onchange = () => run({ 'load-preset': { name: $('preset').value, seed: Number($('seed').value) } });
  $('speed').oninput = () => {
    const i = Number($('speed').value);
    const speed = i >= description.speeds.length ? null : description.speeds[i];
    $('speed-value').textContent = speedText(speed);
    run({ 'set-speed': { steps_per_second: speed } });
  };
  $('undo').onclick = () => run('undo').then((r) => r && setMessage('lr-error', `Went back to just before the change; training goes on from there.`));
  // The rate's own button, for those who look for one; its control applies on change too.
  $('lr-apply').onclick = () => applySettings(description.settings.find((r) => r.key === 'lr'));
  $('reload').onclick = async () => {
    const reply = await run({ 'load-spec': { spec: $('spec').value } }, 'spec-error');
    if (reply) setMessage('spec-error', '');
  };
  $('save').onclick = async () => {
    const reply = await run('save', 'snapshot-status');
    if (!reply) return;
    // Gzipped by the browser's own CompressionStream (Rust reads gzip back): a file about a
    // third the size of version 1's decimal text, bit for bit.
    const text = new Blob([reply.payload.snapshot], { type: 'application/json' });
    const packed = typeof CompressionStream === 'function' ? await new Response(text.stream().pipeThrough(new CompressionStream('gzip'))).blob() : null;
    const name = `bottleneck-${reply.state.preset}-${Math.round(reply.stats.examples_seen)}.json${packed ? '.gz' : ''}`;
    const blob = packed ?? text;
    download(name, blob);
    setMessage('snapshot-status', `Saved ${name} (${(blob.size / 1e6).toFixed(1)} MB) to your downloads: load it here later, or drop it on the page, to go on from this point.`);
  };
  $('export-cjs').onclick = async () => {
    const reply = await run('export-convnetjs', 'snapshot-status');
    if (reply) download('convnetjs-net.json', new Blob([reply.payload.convnetjs], { type: 'application/json' }));
  };
  $('load').onclick = () => $('load-file').click();
  $('load-file').onchange = async () => {
    const file = $('load-file').files[0];
    if (file) await loadFile(file);
    $('load-file').value = '';
  };
  $('load-paste').onclick = () => loadBytes(new TextEncoder().encode($('paste').value), 'pasted text', 'paste-status');
  $('idx-pick').onclick = () => $('idx-file').click();
  $('idx-file').onchange = async () => {
    const files = [...$('idx-file').files];
    if (files.length > 0) await useDigitFiles(files);
    $('idx-file').value = '';
  };
  $('pictures-pick').onclick = () => $('pictures-file').click();
  $('pictures-file').onchange = async () => {
    const files = [...$('pictures-file').files];
    if (files.length > 0) await placePictures(files);
    $('pictures-file').value = '';
  };
  $('built-in').onclick = () => run('built-in-digits', 'digits-status').then((r) => r && setMessage('digits-status', 'Back to the built-in digits; the experiment started over on them.'));
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.addEventListener('drop', async (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length === 0) return;
    dropping = true;
    try {
      await openFiles(files);
    } finally {
      dropping = false;
    }
  });
  $('drop-answer-close').onclick = () => { $('drop-answer').hidden = true; };
  $('log-scale').onchange = () => view({ log_y: $('log-scale').checked });
  $('manifold').onchange = () => view({ manifold: $('manifold').checked });
  $('ellipses').onchange = () => view({ ellipses: $('ellipses').checked });
  $('clear-graph').onclick = () => run('clear-graph');
  $('scatter-layer').onchange = () => view({ layer: Number($('scatter-layer').value) });
  $('components').onchange = () => view({ components: $('components').checked });
  $('scatter-x').onchange = () => view({ x: Number($('scatter-x').value) });
  $('scatter-y').onchange = () => view({ y: Number($('scatter-y').value) });
  $('cycle').onclick = () => run('cycle');
  for (const button of document.querySelectorAll('button[data-png]')) {
    const name = button.dataset.png;
    button.setAttribute('aria-label', `save the ${button.closest('section').querySelector('h2').textContent} panel as a PNG picture`);
    button.onclick = () => savePng([{ name, title: button.closest('section').querySelector('h2').textContent }]);
  }
  $('png-dashboard').onclick = () => savePng([{ name: 'stats', title: 'Training figures' }, ...shownPanels()]);
  $('copy-link').onclick = async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      setMessage('snapshot-status', 'The link to this experiment is on the clipboard.');
    } catch {
      setMessage('snapshot-status', `Copy this link: ${location.href}`);
    }
  };
  /** Restore run `id` into this tab; the answer goes to `where` (beside what was pressed). */
  const restoreRun = async (id, where = 'opening-notes') => {
    try {
      const reply = await post({ type: 'restore', run: id });
      showReply(reply, true);
      setMessage(where, reply.summary ? `Restored the run autosaved ${describeSave(reply.summary)}; this tab goes on with a copy of it.` : 'That run is no longer saved.');
      $('restore').hidden = true;
    } catch (message) {
      setMessage(where, `The run could not be restored: ${message}`, true);
    }
    runs.refresh();
  };
  $('restore').onclick = () => restoreRun(offered);
  runs = wireRuns({ post, titleOf: (preset) => description?.presets.find((p) => p.name === preset)?.title ?? 'your own network', openHere: (id) => restoreRun(id, 'runs-status'), download, say: (text, isError) => setMessage('runs-status', text, isError) });
  $('fresh').onclick = async () => {
    await post({ type: 'forget' }).catch(() => {});
    sessionStorage.setItem('bottleneck-fresh', '1'); // the reload offers no earlier run
    location.reload();
  };
  document.addEventListener('keydown', onKey);
  // Leaving or hiding the page saves the run now, so a reload resumes where it was.
  addEventListener('pagehide', () => worker?.postMessage({ type: 'autosave' }));
  document.addEventListener('visibilitychange', () => document.hidden && worker?.postMessage({ type: 'autosave' }));
  tour = wireTour({ open: (link) => post({ type: 'open', link }), read: (bytes) => post({ type: 'tour', bytes }), send, say: (text, isError) => setMessage('status', text, isError) });
  pictures = wireExplore({ query, command: send, onError: (m) => setMessage('digits-status', m, true) }, () => layout?.widths.scatter ?? $('canvas-scatter').clientWidth);
}

/** A link that names a preset opens with its point in view. */
const pointOnOpen = new URLSearchParams(location.search).has('preset');

/** This tab's run id: kept in sessionStorage, so a reload (or a crash) finds its own run, and
 * held under a Web Lock while the tab lives, so a duplicated tab (which copies sessionStorage)
 * finds it taken and starts a run of its own. */
const RUN_KEY = 'bottleneck-run';
let releaseRun = () => {}; // lets go of the lock on this tab's run

/** Hold run `id`'s Web Lock (while the tab lives, or until another run is held); false when
 * another tab holds it. */
async function lockRun(id) {
  if (!navigator.locks) return true;
  return new Promise((resolve) => {
    navigator.locks.request(`bottleneck-run:${id}`, { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      if (!lock) return undefined;
      return new Promise((release) => { releaseRun = release; });
    });
  });
}

async function tabRun() {
  let id = sessionStorage.getItem(RUN_KEY) ?? freshId();
  for (let tries = 0; tries < 3 && !(await lockRun(id)); tries++) id = freshId();
  sessionStorage.setItem(RUN_KEY, id);
  return id;
}

/** This tab goes on with run `id` (the worker started a new one for a link). */
async function holdRun(id) {
  releaseRun();
  runId = id;
  sessionStorage.setItem(RUN_KEY, id);
  await lockRun(id);
}

async function start() {
  runId = await tabRun();
  wire();
  const params = new URLSearchParams(location.search);
  // A link that asks for anything opens that; otherwise the last run comes back.
  const asks = params.has('snapshot') || [...params.keys()].some((key) => !PAGE_KEYS.includes(key));
  startWorker(asks ? 'link' : 'auto');
  layoutWatch = watchLayout((next) => {
    layout = next;
    worker?.postMessage({ type: 'layout', layout: next });
  });
  // Hooks for the browser tests: read the latest numbers, send typed commands and queries,
  // stop the trainer the way a trap would, and send the layout without waiting for a resize.
  window.bottleneck = {
    stats: () => stats,
    state: () => state,
    describe: () => description,
    command: send,
    query,
    simd: () => simd,
    threads: () => threads,
    simulateTrap: () => worker.postMessage({ type: 'simulate-trap' }),
    /** The next `n` autosave writes fail as a full storage does. */
    simulateQuota: (n) => post({ type: 'simulate-quota', failures: n }),
    sendLayout: () => worker.postMessage({ type: 'layout', layout }),
    /** How many workers this page has started: 1, plus one per restart. */
    workersStarted: () => workersStarted,
    /** The size of a panel's canvas as the worker drew it (device pixels). */
    pictureSize: async (name) => {
      const { blob } = await post({ type: 'png', panels: [{ name, title: name }] });
      const bitmap = await createImageBitmap(blob);
      return { width: bitmap.width, height: bitmap.height };
    },
  };
}

start();
