// The training worker: owns the wasm Handle (one Rust Session), trains in ~20 ms slices
// between messages, and lets Rust redraw the panels into the canvases the page transferred.
// Commands and queries go to Rust as the page sent them (typed objects carried by
// serde-wasm-bindgen); replies and figures come back as objects.
import { loadBottleneck } from './simd.js';

const SLICE_MS = 20;
const STATS_EVERY_MS = 100;
let handle = null;
let lastStatsPost = 0;
const wake = new MessageChannel();

function loop() {
  let stats;
  try {
    stats = handle.tick(SLICE_MS);
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
  const wasm = await loadBottleneck(simd ?? 'best');
  const response = await fetch(new URL('./data/mnist10k.bin', import.meta.url));
  if (!response.ok) throw new Error(`could not fetch the digits (HTTP ${response.status}): run npm start`);
  handle = new wasm.Handle(new Uint8Array(await response.arrayBuffer()), { preset, seed });
  for (const [name, canvas] of Object.entries(canvases)) handle.attach(name, canvas);
  postMessage({ type: 'ready', reply: handle.apply('describe'), simd: wasm.simd_level() });
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
  try {
    const reply = data.type === 'query' ? handle.query(data.query) : handle.apply(data.command);
    postMessage({ type: 'reply', id: data.id, reply });
  } catch (err) {
    postMessage({ type: 'error', id: data.id, message: String(err.message ?? err) });
  }
};
