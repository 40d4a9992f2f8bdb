// The in-browser half of `npm run bench`: the same workloads through our wasm trainer and
// through ConvNetJS (loaded as a classic script), same network, optimiser, batch size and digits.
import init, { bench_train } from './pkg/bottleneck.js';

const SECONDS = Number(new URLSearchParams(location.search).get('seconds') ?? 4);

/** ConvNetJS's equivalents of our presets (its regression output is linear). */
const WORKLOADS = {
  convnetjs: {
    layers: [50, 50, 2, 50, 50].map((n, i) => ({ type: 'fc', num_neurons: n, activation: i === 2 ? undefined : 'tanh' })),
    trainer: { method: 'adadelta', batch_size: 50, l2_decay: 0.001, eps: 1e-8, ro: 0.95 },
  },
  turnoff: {
    // ConvNetJS has no RMSProp; "windowgrad" is its running-average-of-squares method.
    layers: [225, 10, 225].map((n) => ({ type: 'fc', num_neurons: n, activation: 'relu' })),
    trainer: { method: 'windowgrad', learning_rate: 0.001, batch_size: 256, ro: 0.9 },
  },
};

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
  const results = [];
  for (const [preset, workload] of Object.entries(WORKLOADS)) {
    const ours = bench_train(bytes, preset, SECONDS);
    const theirs = convnetjsRate(images, n, workload);
    results.push({ workload: preset, bottleneck_examples_per_second: ours, convnetjs_examples_per_second: theirs, ratio: ours / theirs });
  }
  document.getElementById('out').textContent = JSON.stringify(results, null, 2);
  window.benchResults = results;
}

main().catch((err) => {
  document.getElementById('out').textContent = `failed: ${err.message ?? err}`;
  window.benchResults = { error: String(err.message ?? err) };
});
