// The in-browser half of `npm run bench`: the simd128 peak and our matrix products in both wasm
// builds (simd128 and relaxed-simd), then the same workloads through our trainer (on one thread
// and, in the threaded builds, on every core), through ConvNetJS, and through TensorFlow.js
// (wasm and cpu backends, loaded as classic scripts): same network, optimiser, batch size and
// digits. Our builds run in workers (www/bench-worker.js), as the page's trainer does. The page
// is cross-origin isolated, so TF.js's wasm backend can run threaded: `?tfthreads=N` sets its
// threads (1: its unthreaded SIMD build), and `?only=tfjs` measures only that backend.
import { relaxedSimdSupported, threadsSupported } from './simd.js';

const PARAMS = new URLSearchParams(location.search);
const SECONDS = Number(PARAMS.get('seconds') ?? 4);
const TF_THREADS = Number(PARAMS.get('tfthreads') ?? 1);
const ONLY_TFJS = PARAMS.get('only') === 'tfjs';
const THREADS = navigator.hardwareConcurrency || 1;
/** Seconds per matrix-product measurement (there are many). */
const GEMM_SECONDS = Math.min(SECONDS, 0.5);
/** Dense layers (batch, n_in, n_out) whose three products are measured. */
const GEMM_SHAPES = [[20, 784, 50], [256, 784, 225], [256, 225, 10]];
const FORMS = ['forward', 'backward_input', 'backward_weights'];

/** ConvNetJS's equivalents of our presets (its regression output is linear). */
const WORKLOADS = {
  convnetjs: {
    layers: [50, 50, 2, 50, 50].map((n, i) => ({ type: 'fc', num_neurons: n, activation: i === 2 ? undefined : 'tanh' })),
    trainer: { method: 'adadelta', batch_size: 50, l2_decay: 0.001, eps: 1e-8, ro: 0.95 },
    // TensorFlow.js: layer sizes and activations ending with the 784 outputs, and its optimiser.
    tf: { sizes: [50, 50, 2, 50, 50, 784], activations: ['tanh', 'tanh', null, 'tanh', 'tanh', null], batch: 50, l2: 0.001, optimizer: () => tf.train.adadelta(1, 0.95, 1e-8) },
  },
  turnoff: {
    // ConvNetJS has no RMSProp; "windowgrad" is its running-average-of-squares method.
    layers: [225, 10, 225].map((n) => ({ type: 'fc', num_neurons: n, activation: 'relu' })),
    trainer: { method: 'windowgrad', learning_rate: 0.001, batch_size: 256, ro: 0.9 },
    tf: { sizes: [225, 10, 225, 784], activations: ['relu', 'relu', 'relu', 'relu'], batch: 256, l2: 0, optimizer: () => tf.train.rmsprop(0.001, 0.9, 0, 1e-7) },
  },
  // ConvNetJS has no deconvolution, so only TensorFlow.js runs this one.
  'conv-1s-8s': { conv: true, tf: { batch: 64, optimizer: () => tf.train.momentum(0.005, 0.9) } },
};

/** TensorFlow.js on `backend`: the conv-1s-8s network (36×36 → 20 maps 17×17 tanh → 2 maps
 * 11×11 tanh → tied transposed convolutions back), mean squared error, SGD with momentum.
 * The 28×28 digits are zero-padded to 36×36: the work per example does not depend on them. */
async function tfjsConvRate(pixels, n, spec, backend) {
  await tf.setBackend(backend);
  await tf.ready();
  const f1 = tf.variable(tf.randomNormal([17, 17, 1, 20], 0, Math.sqrt(1 / 289)));
  const f2 = tf.variable(tf.randomNormal([11, 11, 20, 2], 0, Math.sqrt(1 / 2420)));
  const biases = [20, 2, 20, 1].map((c) => tf.variable(tf.zeros([c])));
  const vars = [f1, f2, ...biases];
  const optimizer = spec.optimizer();
  const batchData = new Float32Array(spec.batch * 36 * 36);
  let cursor = 0;
  const step = () => {
    for (let b = 0; b < spec.batch; b++, cursor = (cursor + 1) % n) {
      for (let row = 0; row < 28; row++) batchData.set(pixels.subarray(cursor * 784 + row * 28, cursor * 784 + row * 28 + 28), b * 1296 + (row + 4) * 36 + 4);
    }
    tf.tidy(() => {
      const x = tf.tensor4d(batchData, [spec.batch, 36, 36, 1]);
      optimizer.minimize(() => {
        const h1 = tf.tanh(tf.add(tf.conv2d(x, f1, 1, 'valid'), biases[0]));
        const h2 = tf.tanh(tf.add(tf.conv2d(h1, f2, 1, 'valid'), biases[1]));
        const h3 = tf.tanh(tf.add(tf.conv2dTranspose(h2, f2, [spec.batch, 20, 20, 20], 1, 'valid'), biases[2]));
        const y = tf.tanh(tf.add(tf.conv2dTranspose(h3, f1, [spec.batch, 36, 36, 1], 1, 'valid'), biases[3]));
        return tf.losses.meanSquaredError(x, y);
      }, false, vars);
    });
  };
  return timeTfjs(step, vars, optimizer, spec.batch);
}

/** Examples per second of a TensorFlow.js training `step`; disposes the model afterwards. */
async function timeTfjs(step, vars, optimizer, batch) {
  step(); // warm-up (and kernel compilation)
  await vars[0].data();
  await tf.nextFrame();
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < SECONDS * 1000) {
    step();
    count += batch;
  }
  // Make sure the work is done before the clock stops.
  await vars[0].data();
  const rate = (count * 1000) / (performance.now() - start);
  vars.forEach((v) => v.dispose());
  optimizer.dispose();
  return rate;
}

/** TensorFlow.js on `backend`: the same fc stack, 0.5·Σ(y − x)² per example averaged over
 * the batch (plus ConvNetJS-style L2), minimised by its own optimiser. */
async function tfjsRate(pixels, n, spec, backend) {
  await tf.setBackend(backend);
  await tf.ready();
  const vars = [];
  let fanIn = 784;
  for (const size of spec.sizes) {
    vars.push(tf.variable(tf.randomNormal([fanIn, size], 0, Math.sqrt(1 / fanIn))), tf.variable(tf.zeros([size])));
    fanIn = size;
  }
  const optimizer = spec.optimizer();
  const batchData = new Float32Array(spec.batch * 784);
  let cursor = 0;
  const step = () => {
    for (let b = 0; b < spec.batch; b++, cursor = (cursor + 1) % n) batchData.set(pixels.subarray(cursor * 784, (cursor + 1) * 784), b * 784);
    tf.tidy(() => {
      const x = tf.tensor2d(batchData, [spec.batch, 784]);
      optimizer.minimize(() => {
        let h = x;
        spec.sizes.forEach((_, i) => {
          h = tf.add(tf.matMul(h, vars[2 * i]), vars[2 * i + 1]);
          if (spec.activations[i]) h = tf[spec.activations[i]](h);
        });
        let loss = tf.div(tf.mul(0.5, tf.sum(tf.square(tf.sub(h, x)))), spec.batch);
        if (spec.l2) vars.filter((_, i) => i % 2 === 0).forEach((w) => (loss = tf.add(loss, tf.div(tf.mul(spec.l2 / 2, tf.sum(tf.square(w))), spec.batch))));
        return loss;
      }, false, vars);
    });
  };
  return timeTfjs(step, vars, optimizer, spec.batch);
}

function convnetjsRate(images, n, workload) {
  const net = new convnetjs.Net();
  net.makeLayers([{ type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 }, ...workload.layers, { type: 'regression', num_neurons: 784 }]);
  const trainer = new convnetjs.SGDTrainer(net, workload.trainer);
  const x = new convnetjs.Vol(28, 28, 1, 0.0);
  const target = new Array(784);
  const step = (i) => {
    const base = (i % n) * 784;
    for (let p = 0; p < 784; p++) target[p] = x.w[p] = images[base + p] / 255;
    trainer.train(x, target);
  };
  for (let i = 0; i < 50; i++) step(i); // warm-up
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < SECONDS * 1000) step(count++);
  return (count * 1000) / (performance.now() - start);
}

/** A worker running one of our builds: `call(name, ...args)` resolves to the hook's result. */
async function ourBuild(level, threads) {
  const worker = new Worker('bench-worker.js', { type: 'module' });
  const pending = new Map();
  let next = 0;
  worker.onmessage = ({ data }) => {
    const { resolve, reject } = pending.get(data.id);
    pending.delete(data.id);
    if (data.error) reject(new Error(data.error));
    else resolve(data.result);
  };
  const call = (name, ...args) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, call: name, args });
    });
  const info = await call('load', level, threads);
  return { call, info, close: () => worker.terminate() };
}

/** The conv preset's layers whose products `bench`'s conv measurement takes (batch 64). */
const CONV_LAYERS = [0, 1, 2, 3];
/** Steps behind the determinism check (a parameter checksum after them). */
const FINGERPRINT_STEPS = 100;

/** One wasm build: its peak, its matrix products, and its trainer on every workload on one
 * thread (the unthreaded build); with `withMatrixmultiply`, the same on `matrixmultiply` (whose
 * code is the same in both builds, so only the simd128 build measures it). Then, where the page
 * may share memory, the threaded build on every core: the same workloads, the conv layers'
 * products on one thread and on all, and whether its parameters match the unthreaded build's
 * bit for bit after a few steps. */
async function measureBuild(level, bytes, withMatrixmultiply) {
  const one = await ourBuild(level, 1);
  const build = { simd: one.info.simd, peak_gflops: await one.call('bench', { peak: { fused: false, seconds: Math.min(SECONDS, 1) } }) };
  if (level === 'relaxed-simd') build.fma_peak_gflops = await one.call('bench', { peak: { fused: true, seconds: Math.min(SECONDS, 1) } });
  build.gemm = [];
  for (const [batch, nIn, nOut] of GEMM_SHAPES) {
    for (const form of FORMS) {
      const row = { shape: [batch, nIn, nOut], form };
      row.tile_gflops = await one.call('bench', { gemm: { batch, n_in: nIn, n_out: nOut, form, backend: 'tiles', seconds: GEMM_SECONDS } });
      if (withMatrixmultiply) row.matrixmultiply_gflops = await one.call('bench', { gemm: { batch, n_in: nIn, n_out: nOut, form, backend: 'matrixmultiply', seconds: GEMM_SECONDS } });
      build.gemm.push(row);
    }
  }
  build.train = [];
  for (const workload of Object.keys(WORKLOADS)) {
    const row = { workload, examples_per_second: await one.call('bench_train', bytes, workload, SECONDS, 'auto') };
    if (withMatrixmultiply) row.matrixmultiply_examples_per_second = await one.call('bench_train', bytes, workload, SECONDS, 'matrixmultiply');
    build.train.push(row);
  }
  build.conv = [];
  for (const layer of CONV_LAYERS) {
    build.conv.push({
      layer,
      gflops: await one.call('bench', { conv: { preset: 'conv-1s-8s', layer, batch: 64, seconds: GEMM_SECONDS, direct: true } }),
      im2col_gflops: await one.call('bench', { conv: { preset: 'conv-1s-8s', layer, batch: 64, seconds: GEMM_SECONDS, direct: false } }),
    });
  }
  const fingerprints = {};
  for (const workload of Object.keys(WORKLOADS)) fingerprints[workload] = await one.call('bench_fingerprint', bytes, workload, FINGERPRINT_STEPS);
  one.close();
  if (THREADS > 1 && threadsSupported()) {
    const all = await ourBuild(level, THREADS);
    build.threads = all.info.threads;
    for (const row of build.train) row.threads_examples_per_second = await all.call('bench_train', bytes, row.workload, SECONDS, 'auto');
    for (const row of build.conv) {
      row.threads_gflops = await all.call('bench', { conv: { preset: 'conv-1s-8s', layer: row.layer, batch: 64, seconds: GEMM_SECONDS, direct: true } });
      await all.call('single_threaded', true);
      row.threaded_build_one_thread_gflops = await all.call('bench', { conv: { preset: 'conv-1s-8s', layer: row.layer, batch: 64, seconds: GEMM_SECONDS, direct: true } });
      await all.call('single_threaded', false);
    }
    build.bit_identical_with_threads = {};
    for (const workload of Object.keys(WORKLOADS)) build.bit_identical_with_threads[workload] = (await all.call('bench_fingerprint', bytes, workload, FINGERPRINT_STEPS)) === fingerprints[workload];
    all.close();
  }
  return build;
}

async function main() {
  const bytes = new Uint8Array(await (await fetch('data/mnist10k.bin')).arrayBuffer());
  const n = new DataView(bytes.buffer).getUint32(8, true);
  const images = bytes.subarray(20 + n);
  const pixels = Float32Array.from(images, (v) => v / 255);
  tf.wasm.setWasmPaths(new URL('vendor/tfjs/', location.href).href);
  // TF.js's wasm backend picks its threaded build wherever memory can be shared; one thread
  // means its unthreaded SIMD build, as an unisolated page would get.
  if (TF_THREADS > 1) tf.wasm.setThreadsCount(TF_THREADS);
  else tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const builds = [];
  const flops = {};
  if (!ONLY_TFJS) {
    // Our builds run first, before any peer has started threads or filled caches.
    const levels = relaxedSimdSupported() ? ['simd128', 'relaxed-simd'] : ['simd128'];
    for (const level of levels) builds.push(await measureBuild(level, bytes, level === 'simd128'));
    const probe = await ourBuild(levels[0], 1);
    for (const w of Object.keys(WORKLOADS)) flops[w] = await probe.call('bench', { flops: { preset: w } });
    probe.close();
  }
  const peers = [];
  for (const [name, workload] of Object.entries(WORKLOADS)) {
    const tfRate = workload.conv ? tfjsConvRate : tfjsRate;
    const peer = { workload: name, unavailable: {} };
    // A peer that cannot train a workload gets null and the reason (ConvNetJS has no
    // deconvolution; TF.js's wasm backend has no Conv2DBackpropFilter kernel).
    const attempt = async (key, measure) => {
      try {
        peer[`${key}_examples_per_second`] = await measure();
      } catch (err) {
        peer[`${key}_examples_per_second`] = null;
        peer.unavailable[key] = String(err.message ?? err);
      }
    };
    if (!ONLY_TFJS) {
      await attempt('convnetjs', () => {
        if (workload.conv) throw new Error('ConvNetJS has no deconvolution layer');
        return convnetjsRate(images, n, workload);
      });
    }
    await attempt('tfjs_wasm', () => tfRate(pixels, n, workload.tf, 'wasm'));
    if (!ONLY_TFJS) await attempt('tfjs_cpu', () => tfRate(pixels, n, workload.tf, 'cpu'));
    peers.push(peer);
  }
  const tfjs = { threads: TF_THREADS, threads_count: tf.wasm.getThreadsCount?.() ?? null };
  const results = { builds, peers, flops_per_example: flops, tfjs, isolated: threadsSupported(), hardware_concurrency: THREADS };
  document.getElementById('out').textContent = JSON.stringify(results, null, 2);
  window.benchResults = results;
}

main().catch((err) => {
  document.getElementById('out').textContent = `failed: ${err.message ?? err}`;
  window.benchResults = { error: String(err.message ?? err) };
});
