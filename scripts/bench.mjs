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
  const row = (cells) => cells.map((c, i) => String(c).padStart(i === 0 ? 12 : 22)).join(' ');
  console.log(row(['workload', 'Bottleneck examples/s', 'ConvNetJS examples/s', 'ratio']));
  for (const r of results) {
    console.log(row([r.workload, Math.round(r.bottleneck_examples_per_second), Math.round(r.convnetjs_examples_per_second), `${r.ratio.toFixed(1)}x`]));
  }
  mkdirSync(join(root, 'bench'), { recursive: true });
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, browser: await browser.version(), node: process.version };
  writeFileSync(join(root, 'bench', 'results.json'), JSON.stringify({ date: new Date().toISOString(), machine, seconds, results }, null, 2) + '\n');
  log('wrote bench/results.json');
} finally {
  await browser.close();
  server.close();
}
