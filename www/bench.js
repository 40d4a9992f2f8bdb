// The in-browser half of `npm run bench`: the same workloads through our wasm trainer, through
// ConvNetJS, and through TensorFlow.js (wasm and cpu backends), all loaded as classic scripts:
// same network, optimiser, batch size and digits.
import init, { bench_train } from './pkg/bottleneck.js';

const SECONDS = Number(new URLSearchParams(location.search).get('seconds') ?? 4);

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
};

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
  step(); // warm-up (and kernel compilation)
  await tf.nextFrame();
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < SECONDS * 1000) {
    step();
    count += spec.batch;
  }
  // Make sure the work is done before the clock stops.
  await vars[0].data();
  const rate = (count * 1000) / (performance.now() - start);
  vars.forEach((v) => v.dispose());
  optimizer.dispose();
  return rate;
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

async function main() {
  await init();
  const bytes = new Uint8Array(await (await fetch('data/mnist10k.bin')).arrayBuffer());
  const n = new DataView(bytes.buffer).getUint32(8, true);
  const images = bytes.subarray(20 + n);
  const pixels = Float32Array.from(images, (v) => v / 255);
  tf.wasm.setWasmPaths(new URL('vendor/tfjs/', location.href).href);
  // Our trainer runs first for every workload, before any peer has started threads or caches.
  const results = Object.keys(WORKLOADS).map((preset) => ({ workload: preset, bottleneck_examples_per_second: bench_train(bytes, preset, SECONDS) }));
  for (const r of results) {
    const workload = WORKLOADS[r.workload];
    r.convnetjs_examples_per_second = convnetjsRate(images, n, workload);
    r.tfjs_wasm_examples_per_second = await tfjsRate(pixels, n, workload.tf, 'wasm');
    r.tfjs_cpu_examples_per_second = await tfjsRate(pixels, n, workload.tf, 'cpu');
  }
  document.getElementById('out').textContent = JSON.stringify(results, null, 2);
  window.benchResults = results;
}

main().catch((err) => {
  document.getElementById('out').textContent = `failed: ${err.message ?? err}`;
  window.benchResults = { error: String(err.message ?? err) };
});
