// `npm run bench`: builds, serves the page, and in one run of Debian's headless chromium measures
// the simd128 peak, our matrix products in both wasm builds, each workload trained by our
// trainer (one thread, and every core in the threaded builds), ConvNetJS (npm `convnetjs`) and
// TensorFlow.js (wasm on one thread and on every core, and cpu) on the same digits; then the
// page's responsiveness and each build's size on the wire. Prints tables and writes
// bench/results.json. The native counterpart is `cargo bench`.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';
import { buildAll, ensureChromium, glueDir, log, root, CHROMIUM, THREADED_BUILDS, WASM_BUILDS } from './toolchain.mjs';

await buildAll();
ensureChromium();
mkdirSync(join(root, 'www', 'vendor'), { recursive: true });
copyFileSync(join(root, 'node_modules', 'convnetjs', 'build', 'convnet-min.js'), join(root, 'www', 'vendor', 'convnet-min.js'));
mkdirSync(join(root, 'www', 'vendor', 'tfjs'), { recursive: true });
for (const [pkg, file] of [
  ['tfjs', 'tf.min.js'],
  ['tfjs-backend-wasm', 'tf-backend-wasm.min.js'],
  ['tfjs-backend-wasm', 'tfjs-backend-wasm.wasm'],
  ['tfjs-backend-wasm', 'tfjs-backend-wasm-simd.wasm'],
  ['tfjs-backend-wasm', 'tfjs-backend-wasm-threaded-simd.wasm'],
]) {
  copyFileSync(join(root, 'node_modules', '@tensorflow', pkg, 'dist', file), join(root, 'www', 'vendor', 'tfjs', file));
}
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const { server, url } = await startServer({ root, port: 0 });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  log(`benchmarking in ${await browser.version()} (${seconds} s a measurement)`);
  const threads = cpus().length;
  const measure = async (query, timeout = 1_200_000) => {
    const page = await browser.newPage();
    await page.goto(`${url}www/bench.html?seconds=${seconds}&${query}`);
    let results;
    try {
      results = await (await page.waitForFunction(() => window.benchResults, null, { timeout, polling: 500 })).jsonValue();
    } finally {
      await page.close();
    }
    if (results.error) throw new Error(results.error);
    return results;
  };
  // Everything with TF.js's wasm backend on one thread, then, in a fresh page (its thread
  // count is fixed when the backend starts), TF.js's wasm backend alone on every core.
  const results = await measure('tfthreads=1');
  // TF.js's threaded backend starts emscripten pthreads as blob: workers that import blob:
  // scripts (the bench page's CSP allows both); should it not finish starting in five minutes,
  // its row says so and the bench goes on.
  const tfThreaded = await measure(`tfthreads=${threads}&only=tfjs`, 300_000).catch((err) => {
    log(`TF.js with ${threads} threads gave no result: ${err.message.split('\n')[0]}`);
    return null;
  });
  results.peers.forEach((peer, i) => {
    if (!tfThreaded) {
      peer.tfjs_wasm_threads_examples_per_second = null;
      peer.unavailable.tfjs_wasm_threads = 'TF.js threaded wasm backend did not finish starting in five minutes';
      return;
    }
    peer.tfjs_wasm_threads_examples_per_second = tfThreaded.peers[i].tfjs_wasm_examples_per_second;
    if (tfThreaded.peers[i].unavailable.tfjs_wasm) peer.unavailable.tfjs_wasm_threads = tfThreaded.peers[i].unavailable.tfjs_wasm;
  });
  results.tfjs_threads = tfThreaded?.tfjs ?? null;
  const row = (cells, first = 30) => cells.map((c, i) => (i === 0 ? String(c).padEnd(first) : String(c).padStart(13))).join(' ');
  const fixed = (v, digits = 1) => (v === null || v === undefined ? 'n/a' : v.toFixed(digits));
  const pct = (v, peak) => `${((100 * v) / peak).toFixed(0)}%`;
  const byLevel = Object.fromEntries(results.builds.map((b) => [b.simd, b]));
  const plain = byLevel['simd128'];
  const relaxed = byLevel['relaxed-simd'];
  console.log(`\npeak (independent f32x4 multiply-add chains, one core): simd128 ${fixed(plain.peak_gflops)} GFLOP/s` + (relaxed ? `; relaxed-simd fused ${fixed(relaxed.fma_peak_gflops)} GFLOP/s` : ''));

  console.log('\nmatrix products, one thread, GFLOP/s (dense layer batch×n_in×n_out; % of the peak measured above):');
  console.log(row(['product', 'simd128 tile', '% peak', 'matrixmult.', 'tile/mm', ...(relaxed ? ['relaxed tile', '% FMA peak'] : [])]));
  const formName = { forward: 'Y = X·Wᵀ', backward_input: 'dX = dY·W', backward_weights: 'dW = dYᵀ·X' };
  plain.gemm.forEach((g, i) => {
    const r = relaxed?.gemm[i];
    console.log(row([`${formName[g.form]} ${g.shape.join('×')}`, fixed(g.tile_gflops), pct(g.tile_gflops, plain.peak_gflops), fixed(g.matrixmultiply_gflops), `${(g.tile_gflops / g.matrixmultiply_gflops).toFixed(2)}x`, ...(r ? [fixed(r.tile_gflops), pct(r.tile_gflops, relaxed.fma_peak_gflops)] : [])]));
  });

  const best = relaxed ?? plain;
  const peak = relaxed ? relaxed.fma_peak_gflops : plain.peak_gflops;
  const n = best.threads ?? 1;
  // Each build against its own peak (relaxed-simd's is its fused multiply-add's).
  for (const build of [plain, relaxed].filter(Boolean)) {
    const buildPeak = build === relaxed ? relaxed.fma_peak_gflops : plain.peak_gflops;
    const bn = build.threads ?? 1;
    console.log(`\nconv-1s-8s layers, batch 64: forward, filter and input gradients, GFLOP/s (${build.simd} build; % of its one-core peak, per core):`);
    console.log(row(['layer', 'direct 1t', '% peak', 'im2col 1t', `direct ${bn}t`, '% peak/core', 'threaded b. 1t'], 12));
    for (const c of build.conv) console.log(row([c.layer, fixed(c.gflops), pct(c.gflops, buildPeak), fixed(c.im2col_gflops), fixed(c.threads_gflops), c.threads_gflops ? pct(c.threads_gflops / bn, buildPeak) : 'n/a', fixed(c.threaded_build_one_thread_gflops)], 12));
  }

  console.log(`\ntraining, examples/s (${best.simd} build; ${n} threads = the threaded build on every core; effective GFLOP/s = matrix-product flops per example × examples/s):`);
  console.log(row(['workload', 'simd128 1t', 'ours 1t', `ours ${n}t`, 'scaling', 'mm (simd128)', 'ConvNetJS', 'TF.js wasm 1t', `TF.js wasm ${n}t`, 'TF scaling', 'TF.js cpu', `ours ${n}t GFLOP/s`, 'x ConvNetJS', 'x TF wasm 1t', `x TF wasm ${n}t`, 'bit-identical'], 12));
  const ratio = (a, b) => (a && b ? `${(a / b).toFixed(1)}x` : 'n/a');
  for (const peer of results.peers) {
    const ours = (b) => b?.train.find((t) => t.workload === peer.workload);
    const one = ours(best).examples_per_second;
    const all = ours(best).threads_examples_per_second ?? one;
    const gflops = (all * results.flops_per_example[peer.workload]) / 1e9;
    const tf1 = peer.tfjs_wasm_examples_per_second;
    const tfN = peer.tfjs_wasm_threads_examples_per_second;
    const round = (v) => (v === null || v === undefined ? 'n/a' : Math.round(v));
    console.log(row([peer.workload, round(ours(plain).examples_per_second), round(one), round(all), ratio(all, one), round(ours(plain).matrixmultiply_examples_per_second), round(peer.convnetjs_examples_per_second), round(tf1), round(tfN), ratio(tfN, tf1), round(peer.tfjs_cpu_examples_per_second), `${fixed(gflops)} (${pct(gflops / n, peak)}/core)`, ratio(all, peer.convnetjs_examples_per_second), ratio(one, tf1), ratio(all, tfN), String(best.bit_identical_with_threads?.[peer.workload] ?? 'n/a')], 12));
  }
  for (const peer of results.peers) {
    for (const [who, why] of Object.entries(peer.unavailable ?? {})) console.log(`n/a: ${who} on ${peer.workload}: ${why}`);
  }

  // Page responsiveness while training at full speed, with a cold cache: when the first batch
  // is trained after navigation, and the page thread's frame intervals over 5 s.
  const context = await browser.newContext();
  const fresh = await context.newPage();
  await fresh.goto(url);
  const firstBatchMs = await (await fresh.waitForFunction(() => window.bottleneck?.firstBatchAt, null, { timeout: 30_000, polling: 20 })).jsonValue();
  const intervals = await fresh.evaluate(
    () =>
      new Promise((resolve) => {
        const gaps = [];
        let last = performance.now();
        const end = last + 5000;
        const frame = (now) => {
          gaps.push(now - last);
          last = now;
          if (now < end) requestAnimationFrame(frame);
          else resolve(gaps);
        };
        requestAnimationFrame(frame);
      }),
  );
  // Asking the code while it trains: examples/s with the pointer still, then sweeping the code
  // scatter with real mouse moves (about 40 a second, each decoded), alternating three times.
  await fresh.setViewportSize({ width: 1400, height: 1000 });
  await fresh.waitForFunction(() => window.bottleneck?.stats()?.loss.valid_mse != null, null, { timeout: 60_000, polling: 100 });
  const box = await fresh.locator('#canvas-scatter').boundingBox();
  const hoverRate = async (moving) => {
    const seen = () => fresh.evaluate(() => window.bottleneck.stats().examples_seen);
    const [s0, t0] = [await seen(), Date.now()];
    for (let i = 0; Date.now() - t0 < seconds * 2000; i++) {
      if (moving) await fresh.mouse.move(box.x + box.width * (0.5 + 0.4 * Math.sin(i / 40)), box.y + box.height * (0.5 + 0.4 * Math.cos(i / 31)));
      await fresh.waitForTimeout(moving ? 16 : 100);
    }
    return ((await seen()) - s0) / ((Date.now() - t0) / 1000);
  };
  const hover = { still: [], hovering: [] };
  for (let round = 0; round < 3; round++) {
    hover.still.push(await hoverRate(false));
    hover.hovering.push(await hoverRate(true));
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  hover.ratio = mean(hover.hovering) / mean(hover.still);
  await context.close();
  intervals.sort((a, b) => a - b);
  const p95 = intervals[Math.floor(0.95 * (intervals.length - 1))];
  // Bytes on the wire, as the page's server sends them (gzip).
  const wire = async (path) => {
    const response = await fetch(url + path, { headers: { 'accept-encoding': 'gzip' } });
    return Number(response.headers.get('content-length'));
  };
  // The same first batch on a phone's network: Lighthouse's slow 4G (1.6 Mbit/s down, 150 ms
  // round trip) through Chromium's DevTools protocol, in a context of its own (cold cache).
  const slow = await browser.newContext();
  const slowPage = await slow.newPage();
  const cdp = await slow.newCDPSession(slowPage);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 });
  await slowPage.goto(url);
  const slowFirstBatchMs = await (await slowPage.waitForFunction(() => window.bottleneck?.firstBatchAt, null, { timeout: 120_000, polling: 50 })).jsonValue();
  await slow.close();
  const responsiveness = {
    first_batch_ms: firstBatchMs,
    first_batch_slow_4g_ms: slowFirstBatchMs,
    frame_interval_p95_ms: p95,
    frames: intervals.length,
    hover_examples_per_second: hover,
    wasm_gzip_bytes: Object.fromEntries(await Promise.all([...WASM_BUILDS, ...THREADED_BUILDS].map(async (b) => [b.name, await wire(`www/${glueDir(b)}/${b.name}_bg.wasm`)]))),
    data_gzip_bytes: await wire('www/data/mnist10k.bin'),
  };
  console.log(`first trained batch ${firstBatchMs.toFixed(0)} ms after navigation (cold cache), ${(slowFirstBatchMs / 1000).toFixed(1)} s on slow 4G (1.6 Mbit/s, 150 ms); page-thread frame interval p95 ${p95.toFixed(1)} ms over ${intervals.length} frames`);
  console.log(`convnetjs page, examples/s with the pointer still ${mean(hover.still).toFixed(0)}, hovering the scatter ${mean(hover.hovering).toFixed(0)} (${(100 * (1 - hover.ratio)).toFixed(1)} % slower)`);
  const sizes = Object.entries(responsiveness.wasm_gzip_bytes).map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)} KB`);
  console.log(`on the wire (gzip): wasm ${sizes.join(', ')}; digits ${(responsiveness.data_gzip_bytes / 1024 / 1024).toFixed(2)} MB`);

  mkdirSync(join(root, 'bench'), { recursive: true });
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, browser: await browser.version(), node: process.version };
  writeFileSync(join(root, 'bench', 'results.json'), JSON.stringify({ date: new Date().toISOString(), machine, seconds, results, responsiveness }, null, 2) + '\n');
  log('wrote bench/results.json');
} finally {
  await browser.close();
  server.close();
}
