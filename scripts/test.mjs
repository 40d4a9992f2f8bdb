// `npm test`: every tier. Native cargo tests, the wasm tests under Node (wasm-bindgen-test),
// then the browser tests that drive the real page in Debian's headless chromium.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildAll, ensureChromium, log, root, run, wasmBuildEnv, WASM_BUILDS } from './toolchain.mjs';

try {
  await buildAll();
  log('native tests: cargo test');
  run('cargo', ['test', '--workspace']);
  // Both wasm builds; Node 20 runs relaxed-simd behind a flag, which the runner passes on.
  for (const build of WASM_BUILDS) {
    log(`wasm tests (${build.features}): cargo test --target wasm32-unknown-unknown (wasm-bindgen-test-runner, Node)`);
    const env = { ...wasmBuildEnv(build), NODE_ARGS: '--experimental-wasm-relaxed-simd' };
    run('cargo', ['test', '--target', 'wasm32-unknown-unknown', '--test', 'wasm', '--target-dir', build.targetDir], { env });
  }
  ensureChromium();
  const browserTests = readdirSync(join(root, 'tests')).filter((f) => f.endsWith('.test.mjs')).map((f) => join('tests', f));
  log(`browser tests: ${browserTests.join(', ')}`);
  run(process.execPath, ['--test', '--test-concurrency=1', ...browserTests]);
  log('all test tiers passed');
} catch (err) {
  console.error(`npm test: ${err.message}`);
  process.exit(1);
}
