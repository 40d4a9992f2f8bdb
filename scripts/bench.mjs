// `npm run bench`: builds, serves the page, and in one run of Debian's headless chromium trains
// each workload with Bottleneck's wasm trainer and with ConvNetJS (npm `convnetjs`) on the same
// digits; prints a table and writes bench/results.json. The native counterpart is `cargo bench`.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';
import { buildAll, ensureChromium, log, root, CHROMIUM } from './toolchain.mjs';

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
  const page = await browser.newPage();
  log(`benchmarking in ${await browser.version()} (${seconds} s a measurement)`);
  await page.goto(`${url}www/bench.html?seconds=${seconds}`);
  const results = await (await page.waitForFunction(() => window.benchResults, null, { timeout: 120_000, polling: 500 })).jsonValue();
  if (results.error) throw new Error(results.error);
  const row = (cells) => cells.map((c, i) => String(c).padStart(i === 0 ? 10 : 14)).join(' ');
  console.log('examples/s, and how many times faster Bottleneck is:');
  console.log(row(['workload', 'Bottleneck', 'ConvNetJS', 'TF.js wasm', 'TF.js cpu', 'x ConvNetJS', 'x TF.js wasm', 'x TF.js cpu']));
  for (const r of results) {
    const ours = r.bottleneck_examples_per_second;
    const peers = [r.convnetjs_examples_per_second, r.tfjs_wasm_examples_per_second, r.tfjs_cpu_examples_per_second];
    console.log(row([r.workload, Math.round(ours), ...peers.map(Math.round), ...peers.map((p) => `${(ours / p).toFixed(1)}x`)]));
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
  await context.close();
  intervals.sort((a, b) => a - b);
  const p95 = intervals[Math.floor(0.95 * (intervals.length - 1))];
  // Bytes on the wire, as the page's server sends them (gzip).
  const wire = async (path) => {
    const response = await fetch(url + path, { headers: { 'accept-encoding': 'gzip' } });
    return Number(response.headers.get('content-length'));
  };
  const responsiveness = {
    first_batch_ms: firstBatchMs,
    frame_interval_p95_ms: p95,
    frames: intervals.length,
    wasm_gzip_bytes: await wire('www/pkg/bottleneck_bg.wasm'),
    data_gzip_bytes: await wire('www/data/mnist10k.bin'),
  };
  console.log(`first trained batch ${firstBatchMs.toFixed(0)} ms after navigation (cold cache); page-thread frame interval p95 ${p95.toFixed(1)} ms over ${intervals.length} frames`);
  console.log(`on the wire (gzip): wasm ${(responsiveness.wasm_gzip_bytes / 1024).toFixed(0)} KB, digits ${(responsiveness.data_gzip_bytes / 1024 / 1024).toFixed(2)} MB`);

  mkdirSync(join(root, 'bench'), { recursive: true });
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, browser: await browser.version(), node: process.version };
  writeFileSync(join(root, 'bench', 'results.json'), JSON.stringify({ date: new Date().toISOString(), machine, seconds, results, responsiveness }, null, 2) + '\n');
  log('wrote bench/results.json');
} finally {
  await browser.close();
  server.close();
}
