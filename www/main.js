// The page's logic: load the wasm module and the digits, train in short slices between frames,
// and show progress. All numbers and pixels come from Rust; this file only wires the DOM.
import init, { Session, presets_json } from './pkg/bottleneck.js';

const $ = (id) => document.getElementById(id);
const SLICE_MS = 12; // training time per animation frame, leaving the rest of the frame to the page
const state = { session: null, paused: false, validMse: NaN, rate: 0, error: null };

function setStatus(message, isError = false) {
  $('status').textContent = message;
  $('status').classList.toggle('error', isError);
}

function fmt(x, digits = 5) {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

function showLearningRate() {
  const lr = state.session.learning_rate();
  const input = $('lr');
  if (lr === undefined) {
    input.value = '';
    input.disabled = true;
    $('lr-apply').disabled = true;
    $('lr-note').textContent = `${state.session.optimizer_name()} has no learning rate: its step size adapts by itself`;
  } else {
    input.value = lr;
    input.disabled = false;
    $('lr-apply').disabled = false;
    $('lr-note').textContent = state.session.optimizer_name();
  }
}

function drawReconstructions() {
  const picture = state.session.render_reconstructions(10, 3);
  const canvas = $('reconstructions');
  canvas.width = picture.width;
  canvas.height = picture.height;
  const image = new ImageData(new Uint8ClampedArray(picture.pixels()), picture.width, picture.height);
  canvas.getContext('2d').putImageData(image, 0, 0);
  picture.free();
}

function showStats() {
  const s = state.session;
  $('stat-examples').textContent = s.examples_seen().toLocaleString('en');
  $('stat-epoch').textContent = s.epochs().toFixed(2);
  $('stat-rate').textContent = state.rate ? Math.round(state.rate).toLocaleString('en') : '–';
  $('stat-train').textContent = fmt(s.train_mse());
  $('stat-valid').textContent = fmt(state.validMse);
}

let rateWindow = { time: performance.now(), examples: 0 };
let lastSlow = 0;

function frame(now) {
  const s = state.session;
  if (!state.paused) {
    try {
      s.train_for(SLICE_MS);
    } catch (err) {
      state.paused = true;
      $('pause').textContent = 'resume';
      setStatus(`Paused: ${err.message ?? err}`, true);
    }
  }
  if (now - rateWindow.time >= 1000) {
    const seen = s.examples_seen();
    state.rate = state.paused ? 0 : ((seen - rateWindow.examples) * 1000) / (now - rateWindow.time);
    rateWindow = { time: now, examples: seen };
  }
  if (now - lastSlow >= 1000) {
    lastSlow = now;
    state.validMse = s.validate();
    drawReconstructions();
  }
  showStats();
  requestAnimationFrame(frame);
}

async function main() {
  await init();
  const preset = new URLSearchParams(location.search).get('preset') || 'convnetjs';
  const response = await fetch('www/data/mnist10k.bin');
  if (!response.ok) throw new Error(`could not fetch the digits (${response.status}): run npm start`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  state.session = new Session(bytes, preset, 1);
  const info = JSON.parse(presets_json()).find((p) => p.name === preset);
  $('stat-preset').textContent = info ? info.title : preset;
  showLearningRate();
  $('pause').addEventListener('click', () => {
    state.paused = !state.paused;
    $('pause').textContent = state.paused ? 'resume' : 'pause';
    if (!state.paused) setStatus('');
  });
  $('lr-apply').addEventListener('click', () => {
    try {
      state.session.set_learning_rate(Number($('lr').value));
      setStatus(`learning rate is now ${state.session.learning_rate()}`);
    } catch (err) {
      setStatus(err.message ?? String(err), true);
    }
    showLearningRate();
  });
  // A hook for the browser tests: read-only numbers, no control.
  window.bottleneck = {
    stats: () => ({
      examplesSeen: state.session.examples_seen(),
      trainMse: state.session.train_mse(),
      validMse: state.validMse,
      paused: state.paused,
    }),
  };
  requestAnimationFrame(frame);
}

main().catch((err) => setStatus(`Could not start: ${err.message ?? err}`, true));
