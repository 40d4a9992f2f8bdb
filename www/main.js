// The page thread: DOM controls, files and messages only. A module worker (worker.js) owns the
// wasm session and draws every panel into the canvases transferred to it, so this thread stays
// free while training runs at full speed. Files go to Rust as bytes, network definitions as
// text: nothing here parses or sniffs them, and nothing is ever eval'd.
import { readConfig, showState } from './controls.js';

const $ = (id) => document.getElementById(id);

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const pending = new Map();
let nextId = 1;
let state = null;
let stats = null;
let description = null; // defaults, limits and names, from Rust
let simd = null; // which wasm build the worker loaded

function post(message, transfer = []) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ ...message, id }, transfer);
  });
}

/** Send a command (`'pause'`, `{ 'set-learning-rate': { lr } }`, …); resolves to the reply,
 * rejects with the error's sentence. */
const send = (command, transfer) => post({ type: 'command', command }, transfer);
/** Ask the network a question (`{ reconstruct: { inputs } }`); resolves to the answer. */
const query = (question) => post({ type: 'query', query: question });

function setMessage(id, text, isError = false) {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle('error', isError);
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

worker.onmessage = ({ data }) => {
  switch (data.type) {
    case 'ready':
      simd = data.simd;
      $('engine').textContent = `matrix products: ${simd === 'relaxed-simd' ? 'wasm relaxed-simd build (fused multiply-add)' : 'wasm simd128 build'}`;
      description = data.reply.payload.description;
      $('preset').replaceChildren(...description.presets.map((p) => new Option(`${p.name}: ${p.title}`, p.name)));
      showReply(data.reply, true);
      break;
    case 'stats':
      showStats(data.stats);
      break;
    case 'reply': {
      const p = pending.get(data.id);
      pending.delete(data.id);
      if (data.reply.state) showReply(data.reply, data.reply.state.spec !== state?.spec || data.reply.state.preset !== state?.preset);
      p?.resolve(data.reply);
      break;
    }
    case 'error': {
      const p = pending.get(data.id);
      pending.delete(data.id);
      p?.reject(data.message);
      break;
    }
    case 'fatal':
      setMessage('status', `Could not start: ${data.message}`, true);
      break;
  }
};
worker.onerror = (e) => setMessage('status', `The training worker failed: ${e.message}`, true);

function showReply(reply, refillSpec) {
  showStats(reply.stats);
  applyState(reply.state, refillSpec);
}

function showStats(next) {
  // For the benchmark: when the first trained batch reached the page, in ms after navigation.
  if (next.examples_seen > 0 && window.bottleneck && window.bottleneck.firstBatchAt === undefined) {
    window.bottleneck.firstBatchAt = performance.now();
  }
  stats = next;
  $('pause').textContent = next.paused ? 'resume' : 'pause';
  if (next.paused_reason) setMessage('status', `Paused: ${next.paused_reason}`, true);
}

function fillSelect(select, count, selected, label) {
  const shown = Math.min(count, 1024);
  select.replaceChildren(...Array.from({ length: shown }, (_, i) => new Option(label(i), String(i))));
  select.value = String(selected);
}

/** Show the session's state in every control. `refillSpec`: also refill the editor. */
function applyState(next, refillSpec) {
  state = next;
  showState(next, $);
  if ([...$('preset').options].some((o) => o.value === next.preset)) $('preset').value = next.preset;
  const preset = description.presets.find((p) => p.name === next.preset);
  $('caption').textContent = preset ? preset.caption : `${next.preset}: a network of your own making.`;
  $('compare').hidden = !next.comparison && !next.comparing;
  $('compare').textContent = next.comparing ? `stop comparing with ${next.comparing}` : `compare with ${next.comparison}`;
  $('lr-apply').disabled = next.learning_rate == null;
  $('lr-note').textContent = next.learning_rate == null
    ? `${next.optimizer} has no learning rate: it sizes each step from running averages of gradients and updates, so there is nothing to change here.`
    : `applies to ${next.optimizer} at once`;
  if (refillSpec) $('spec').value = next.spec;
  const layers = next.layers;
  $('scatter-layer').replaceChildren(
    ...layers.map((l, i) => new Option(`${i + 1}: ${l.name} (${l.units} ${l.activation})${i === next.code_layer ? ' · code' : ''}`, String(i))),
  );
  $('scatter-layer').value = String(next.view.layer);
  const units = layers[next.view.layer].units;
  fillSelect($('scatter-x'), units, next.view.x, (i) => `neuron ${i}`);
  fillSelect($('scatter-y'), units, next.view.y, (i) => `neuron ${i}`);
  for (const panel of next.panels) {
    const title = document.querySelector(`[data-title-for="${panel.name}"]`);
    const note = document.querySelector(`[data-note-for="${panel.name}"]`);
    if (title) title.textContent = panel.title;
    if (note) note.textContent = panel.note;
  }
}

async function applySettings() {
  const reply = await run({ 'set-config': { config: readConfig(state, description, $) } }, 'settings-error');
  if (!reply && state) applyState(state, false); // show the settings still in force
}

/** Hand a file's bytes to Rust, which tells a Bottleneck snapshot from a ConvNetJS network. */
async function loadBytes(bytes, source) {
  if (bytes.byteLength > description.limits.max_file_bytes) {
    setMessage('snapshot-status', `${source}: larger than the ${description.limits.max_file_bytes >> 20} MB limit; nothing was loaded`, true);
    return;
  }
  try {
    const reply = await send({ load: { bytes } }, [bytes.buffer]);
    const what = reply.payload.loaded === 'convnetjs' ? 'a ConvNetJS network' : 'a snapshot';
    setMessage('snapshot-status', `${source}: loaded ${what} (${reply.state.layers.length} layers); training continues from it`);
  } catch (message) {
    setMessage('snapshot-status', `${source}: ${message}. The current network is unchanged.`, true);
  }
}

async function loadFile(file) {
  if (file.size > description.limits.max_file_bytes) return loadBytes({ byteLength: file.size }, file.name);
  return loadBytes(new Uint8Array(await file.arrayBuffer()), file.name);
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function wire() {
  $('pause').onclick = () => run(stats?.paused ? 'resume' : 'pause').then((r) => r && !r.stats.paused && setMessage('status', ''));
  $('step').onclick = () => run('step');
  $('reset').onclick = () => run({ reset: { seed: Number($('seed').value) } }).then((r) => r && setMessage('status', `reset from seed ${r.state.seed}`));
  $('compare').onclick = () => run(state.comparing ? 'stop-compare' : { compare: { label: null, spec: null, config: null } });
  $('preset').onchange = () => run({ 'load-preset': { name: $('preset').value, seed: Number($('seed').value) } });
  $('lr-apply').onclick = async () => {
    const reply = await run({ 'set-learning-rate': { lr: Number($('lr').value) } });
    if (reply) setMessage('status', `learning rate is now ${reply.state.learning_rate}`);
  };
  $('lr').onkeydown = (e) => e.key === 'Enter' && $('lr-apply').click();
  for (const id of ['optimizer', 'opt-momentum', 'opt-nesterov', 'opt-rho', 'opt-beta1', 'opt-beta2', 'opt-eps', 'batch', 'l2', 'l1', 'noise', 'noise-level']) {
    $(id).onchange = applySettings;
  }
  $('reload').onclick = async () => {
    const reply = await run({ 'load-spec': { spec: $('spec').value } }, 'spec-error');
    if (reply) setMessage('spec-error', '');
  };
  $('save').onclick = async () => {
    const reply = await run('save', 'snapshot-status');
    if (reply) download(`bottleneck-${reply.state.preset}-${Math.round(reply.stats.examples_seen)}.json`, reply.payload.snapshot);
  };
  $('export-cjs').onclick = async () => {
    const reply = await run('export-convnetjs', 'snapshot-status');
    if (reply) download('convnetjs-net.json', reply.payload.convnetjs);
  };
  $('load').onclick = () => $('load-file').click();
  $('load-file').onchange = async () => {
    const file = $('load-file').files[0];
    if (file) await loadFile(file);
    $('load-file').value = '';
  };
  $('load-paste').onclick = () => loadBytes(new TextEncoder().encode($('paste').value), 'pasted text');
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.addEventListener('drop', async (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    const file = e.dataTransfer?.files?.[0];
    if (file) await loadFile(file);
  });
  $('log-scale').onchange = () => run({ view: { layer: null, x: null, y: null, log_y: $('log-scale').checked } });
  $('clear-graph').onclick = () => run('clear-graph');
  const view = (change) => run({ view: { layer: null, x: null, y: null, log_y: null, ...change } });
  $('scatter-layer').onchange = () => view({ layer: Number($('scatter-layer').value) });
  $('scatter-x').onchange = () => view({ x: Number($('scatter-x').value) });
  $('scatter-y').onchange = () => view({ y: Number($('scatter-y').value) });
  $('cycle').onclick = () => run('cycle');
}

function start() {
  wire();
  const params = new URLSearchParams(location.search);
  // Missing ones are Rust's defaults.
  const preset = params.get('preset');
  const seed = params.has('seed') ? Number(params.get('seed')) : null;
  const canvases = {};
  for (const canvas of document.querySelectorAll('canvas[data-panel]')) canvases[canvas.dataset.panel] = canvas.transferControlToOffscreen();
  // ?simd=simd128 forces the plain build where the browser could run the relaxed one.
  const simdLevel = params.get('simd') || 'best';
  worker.postMessage({ type: 'init', canvases, preset, seed, simd: simdLevel }, Object.values(canvases));
  // Hooks for the browser tests: read the latest numbers, send typed commands and queries.
  window.bottleneck = { stats: () => stats, state: () => state, describe: () => description, command: send, query, simd: () => simd };
}

start();
