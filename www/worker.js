// The training worker: owns the wasm App, trains in ~20 ms slices between messages, and lets
// Rust redraw the panels into the canvases the page transferred. It forwards the page's typed
// control messages to App.command and answers with the reply or the error.
import { loadBottleneck } from './simd.js';

const SLICE_MS = 20;
const STATS_EVERY_MS = 100;
let wasm = null; // the glue module of the chosen build
let app = null;
let lastStatsPost = 0;
const wake = new MessageChannel();

function loop() {
  let stats;
  try {
    stats = JSON.parse(app.tick(SLICE_MS));
  } catch (err) {
    // A panic leaves the wasm instance unusable: say so instead of going quiet.
    postMessage({ type: 'fatal', message: `the trainer stopped: ${err.message ?? err}. Reload the page.` });
    return;
  }
  const now = performance.now();
  if (now - lastStatsPost >= STATS_EVERY_MS) {
    lastStatsPost = now;
    postMessage({ type: 'stats', stats });
  }
  // Paused: redraw now and then; training: come straight back after pending messages.
  if (stats.paused) setTimeout(loop, 50);
  else wake.port2.postMessage(null);
}
wake.port1.onmessage = loop;

async function start({ canvases, preset, seed, simd }) {
  wasm = await loadBottleneck(simd ?? 'best');
  const response = await fetch(new URL('./data/mnist10k.bin', import.meta.url));
  if (!response.ok) throw new Error(`could not fetch the digits (HTTP ${response.status}): run npm start`);
  app = new wasm.App(new Uint8Array(await response.arrayBuffer()), preset, seed);
  for (const [name, canvas] of Object.entries(canvases)) app.attach_canvas(name, canvas);
  postMessage({ type: 'ready', state: JSON.parse(app.state()), presets: JSON.parse(wasm.presets_json()), simd: wasm.simd_level() });
  loop();
}

onmessage = async ({ data }) => {
  if (data.type === 'init') {
    try {
      await start(data);
    } catch (err) {
      postMessage({ type: 'fatal', message: String(err.message ?? err) });
    }
    return;
  }
  if (data.type === 'command') {
    try {
      const reply = JSON.parse(app.command(JSON.stringify(data.command)));
      postMessage({ type: 'reply', id: data.id, reply });
    } catch (err) {
      postMessage({ type: 'error', id: data.id, message: String(err.message ?? err) });
    }
  }
};
