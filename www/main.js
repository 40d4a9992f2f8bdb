// The page thread: DOM controls, files and messages only. A module worker (worker.js) owns the
// wasm trainer and draws every panel into the canvases transferred to it, so this thread stays
// free while training runs at full speed. Network definitions and snapshots are data: they go
// to Rust as text, never through eval.
const $ = (id) => document.getElementById(id);
const PANELS = ['stats', 'loss', 'scatter', 'recon', 'network', 'current', 'filters', 'turnoff'];
const MAX_SNAPSHOT_BYTES = 50 * 1024 * 1024;

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const pending = new Map();
let nextId = 1;
let state = null;
let stats = null;
let presets = [];
let simd = null; // which wasm build the worker loaded

/** Send a typed control message; resolves to the reply, rejects with the error message. */
function send(command) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ type: 'command', id, command });
  });
}

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
      presets = data.presets;
      fillPresets();
      applyState(data.state, { spec: true });
      break;
    case 'stats':
      showStats(data.stats);
      break;
    case 'reply': {
      const p = pending.get(data.id);
      pending.delete(data.id);
      if (data.reply.stats) showStats(data.reply.stats);
      if (data.reply.state) applyState(data.reply.state, { spec: specChanged(data.reply.state) });
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

function specChanged(next) {
  return !state || next.spec !== state.spec || next.preset !== state.preset;
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

function fillPresets() {
  $('preset').replaceChildren(...presets.map((p) => new Option(`${p.name}: ${p.title}`, p.name)));
}

function fillSelect(select, count, selected, label) {
  const shown = Math.min(count, 1024);
  select.replaceChildren(...Array.from({ length: shown }, (_, i) => new Option(label(i), String(i))));
  select.value = String(selected);
}

/** Show the worker's state in every control. `spec`: also refill the definition editor. */
function applyState(next, { spec }) {
  state = next;
  const cfg = next.config;
  const opt = cfg.optimizer;
  if ([...$('preset').options].some((o) => o.value === next.preset)) $('preset').value = next.preset;
  const preset = presets.find((p) => p.name === next.preset);
  $('caption').textContent = preset ? preset.caption : `${next.preset}: a network of your own making.`;
  $('seed').value = next.seed;
  $('compare').hidden = !next.comparison && !next.comparing;
  $('compare').textContent = next.comparing ? `stop comparing with ${next.comparing}` : `compare with ${next.comparison}`;
  if (next.learning_rate == null) {
    $('lr').value = '';
    $('lr').disabled = true;
    $('lr-apply').disabled = true;
    $('lr-note').textContent = `${next.optimizer} has no learning rate: it sizes each step from running averages of gradients and updates, so there is nothing to change here.`;
  } else {
    $('lr').value = next.learning_rate;
    $('lr').disabled = false;
    $('lr-apply').disabled = false;
    $('lr-note').textContent = `applies to ${next.optimizer} at once`;
  }
  $('optimizer').value = opt.type;
  for (const label of document.querySelectorAll('[data-for]')) label.hidden = !label.dataset.for.split(' ').includes(opt.type);
  $('opt-momentum').value = opt.momentum ?? 0;
  $('opt-nesterov').checked = !!opt.nesterov;
  $('opt-rho').value = opt.rho ?? '';
  $('opt-beta1').value = opt.beta1 ?? '';
  $('opt-beta2').value = opt.beta2 ?? '';
  $('opt-eps').value = opt.eps ?? '';
  $('batch').value = cfg.batch_size;
  $('l2').value = cfg.l2_decay;
  $('l1').value = cfg.l1_decay;
  const noise = cfg.noise ?? { type: 'none' };
  $('noise').value = noise.type;
  $('noise-level').value = noise.fraction ?? noise.sigma ?? '';
  $('noise-level').disabled = noise.type === 'none';
  if (spec) $('spec').value = next.spec;
  const layers = next.layers;
  $('scatter-layer').replaceChildren(
    ...layers.map((l, i) => new Option(`${i + 1}: ${l.name} (${l.units} ${l.activation})${i === next.code_layer ? ' · code' : ''}`, String(i))),
  );
  $('scatter-layer').value = String(next.view.layer);
  const units = layers[next.view.layer].units;
  fillSelect($('scatter-x'), units, next.view.x, (i) => `neuron ${i}`);
  fillSelect($('scatter-y'), units, next.view.y, (i) => `neuron ${i}`);
  $('log-scale').checked = next.view.log_y;
  // Conv networks show seed 001's sample activations where others show the turn-off grid.
  const conv = layers.some((l) => l.kind !== 'fc');
  $('turnoff-title').textContent = conv ? 'Sample activations' : 'Turning off code units';
  $('turnoff-note').textContent = conv
    ? "Seed 001's rows: an example of each class, its feature maps layer by layer, and the output."
    : "Seed 000's experiment: the decoder's output when all code units but one are set to 0.";
}

/** The settings controls as one TrainConfig. */
function readConfig() {
  const num = (id) => Number($(id).value);
  const type = $('optimizer').value;
  const lr = state.learning_rate ?? 0.01;
  const defaults = { sgd: {}, adagrad: { eps: 1e-8 }, rmsprop: { rho: 0.9, eps: 1e-8 }, adadelta: { rho: 0.95, eps: 1e-6 }, adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8 } };
  const sameType = state.config.optimizer.type === type;
  const pick = (field, id) => (sameType && $(id).value !== '' ? num(id) : defaults[type][field]);
  let optimizer;
  if (type === 'sgd') optimizer = { type, lr, momentum: sameType ? num('opt-momentum') : 0.9, nesterov: $('opt-nesterov').checked };
  else if (type === 'adagrad') optimizer = { type, lr, eps: pick('eps', 'opt-eps') };
  else if (type === 'rmsprop') optimizer = { type, lr, rho: pick('rho', 'opt-rho'), eps: pick('eps', 'opt-eps') };
  else if (type === 'adadelta') optimizer = { type, rho: pick('rho', 'opt-rho'), eps: pick('eps', 'opt-eps') };
  else optimizer = { type, lr, beta1: pick('beta1', 'opt-beta1'), beta2: pick('beta2', 'opt-beta2'), eps: pick('eps', 'opt-eps') };
  const noiseType = $('noise').value;
  const level = $('noise-level').value === '' ? (noiseType === 'gaussian' ? 0.2 : 0.3) : num('noise-level');
  const noise = noiseType === 'none' ? { type: 'none' } : noiseType === 'gaussian' ? { type: noiseType, sigma: level } : { type: noiseType, fraction: level };
  return { optimizer, batch_size: num('batch'), l1_decay: num('l1'), l2_decay: num('l2'), noise };
}

async function applySettings() {
  const reply = await run({ type: 'set-config', config: readConfig() }, 'settings-error');
  if (!reply && state) applyState(state, { spec: false }); // show the settings still in force
}

/** Load snapshot text of either kind: Bottleneck's own, or ConvNetJS's Net.toJSON(). */
async function loadSnapshotText(text, source) {
  if (text.length > MAX_SNAPSHOT_BYTES) {
    setMessage('snapshot-status', `${source}: larger than the 50 MB limit; nothing was loaded`, true);
    return;
  }
  let kind = 'load-snapshot';
  try {
    const parsed = JSON.parse(text);
    if (parsed && Array.isArray(parsed.layers) && !('format' in parsed)) kind = 'import-convnetjs';
  } catch {
    // Not JSON: Rust says so, in its words.
  }
  try {
    const reply = await send({ type: kind, text });
    setMessage('snapshot-status', `${source}: loaded ${kind === 'import-convnetjs' ? 'a ConvNetJS network' : 'a snapshot'} (${reply.state.layers.length} layers); training continues from it`);
  } catch (message) {
    setMessage('snapshot-status', `${source}: ${message}. The current network is unchanged.`, true);
  }
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
  $('pause').onclick = () => run({ type: stats?.paused ? 'resume' : 'pause' }).then((r) => r && !r.stats.paused && setMessage('status', ''));
  $('step').onclick = () => run({ type: 'step' });
  $('reset').onclick = () => run({ type: 'reset', seed: Number($('seed').value) }).then((r) => r && setMessage('status', `reset from seed ${r.state.seed}`));
  $('compare').onclick = () => run({ type: state.comparing ? 'stop-compare' : 'compare' });
  $('preset').onchange = () => run({ type: 'load-preset', name: $('preset').value, seed: Number($('seed').value) });
  $('lr-apply').onclick = async () => {
    const reply = await run({ type: 'set-learning-rate', lr: Number($('lr').value) });
    if (reply) setMessage('status', `learning rate is now ${reply.state.learning_rate}`);
  };
  $('lr').onkeydown = (e) => e.key === 'Enter' && $('lr-apply').click();
  for (const id of ['optimizer', 'opt-momentum', 'opt-nesterov', 'opt-rho', 'opt-beta1', 'opt-beta2', 'opt-eps', 'batch', 'l2', 'l1', 'noise', 'noise-level']) {
    $(id).onchange = applySettings;
  }
  $('reload').onclick = async () => {
    const reply = await run({ type: 'load-spec', spec: $('spec').value }, 'spec-error');
    if (reply) setMessage('spec-error', '');
  };
  $('save').onclick = async () => {
    const reply = await run({ type: 'save' }, 'snapshot-status');
    if (reply) download(`bottleneck-${reply.state.preset}-${Math.round(reply.stats.examples_seen)}.json`, reply.snapshot);
  };
  $('export-cjs').onclick = async () => {
    const reply = await run({ type: 'export-convnetjs' }, 'snapshot-status');
    if (reply) download('convnetjs-net.json', reply.convnetjs);
  };
  $('load').onclick = () => $('load-file').click();
  $('load-file').onchange = async () => {
    const file = $('load-file').files[0];
    if (file) await loadSnapshotText(await file.text(), file.name);
    $('load-file').value = '';
  };
  $('load-paste').onclick = () => loadSnapshotText($('paste').value, 'pasted text');
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.addEventListener('drop', async (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    const file = e.dataTransfer?.files?.[0];
    if (file) await loadSnapshotText(await file.text(), file.name);
  });
  $('log-scale').onchange = () => run({ type: 'view', log_y: $('log-scale').checked });
  $('clear-graph').onclick = () => run({ type: 'clear-graph' });
  $('scatter-layer').onchange = () => run({ type: 'view', layer: Number($('scatter-layer').value) });
  $('scatter-x').onchange = () => run({ type: 'view', x: Number($('scatter-x').value) });
  $('scatter-y').onchange = () => run({ type: 'view', y: Number($('scatter-y').value) });
  $('cycle').onclick = () => run({ type: 'cycle' });
}

function start() {
  wire();
  const params = new URLSearchParams(location.search);
  const preset = params.get('preset') || 'convnetjs';
  const seed = Number(params.get('seed') ?? 1);
  const canvases = {};
  for (const name of PANELS) canvases[name] = $(`canvas-${name}`).transferControlToOffscreen();
  // ?simd=simd128 forces the plain build where the browser could run the relaxed one.
  const simdLevel = params.get('simd') || 'best';
  worker.postMessage({ type: 'init', canvases, preset, seed, simd: simdLevel }, Object.values(canvases));
  // Hooks for the browser tests: read the latest numbers, send typed commands.
  window.bottleneck = { stats: () => stats, state: () => state, command: send, simd: () => simd };
}

start();
