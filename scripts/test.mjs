// `npm test`: every tier. Native cargo tests, the wasm tests under Node (wasm-bindgen-test),
// then the browser tests that drive the real page in Debian's headless chromium.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildAll, ensureChromium, log, root, run } from './toolchain.mjs';

try {
  await buildAll();
  log('native tests: cargo test');
  run('cargo', ['test', '--workspace']);
  log('wasm tests: cargo test --target wasm32-unknown-unknown (wasm-bindgen-test-runner, Node)');
  run('cargo', ['test', '--target', 'wasm32-unknown-unknown', '--test', 'wasm']);
  ensureChromium();
  const browserTests = readdirSync(join(root, 'tests')).filter((f) => f.endsWith('.test.mjs')).map((f) => join('tests', f));
  log(`browser tests: ${browserTests.join(', ')}`);
  run(process.execPath, ['--test', '--test-concurrency=1', ...browserTests]);
  log('all test tiers passed');
} catch (err) {
  console.error(`npm test: ${err.message}`);
  process.exit(1);
}
