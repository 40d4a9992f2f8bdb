// `npm start`: build what the page needs to run (the simd128 build, which every browser with
// WebAssembly SIMD runs), serve it and print the URL; then build the faster ones (relaxed-simd's
// fused multiply-add, threads) while serving. The page loads the fastest build that is there.
import { buildAll, buildWasm, log, root, runAsync, ALL_BUILDS, WASM_BUILDS } from './toolchain.mjs';
import { startServer } from './serve.mjs';

const first = WASM_BUILDS.filter((b) => b.name === 'bottleneck');
try {
  await buildAll(first);
} catch (err) {
  console.error(`npm start: ${err.message}`);
  process.exit(1);
}
const port = Number(process.env.PORT ?? 8080);
const { url } = await startServer({ root, port, host: process.env.HOST || '127.0.0.1' });
log(`serving the demo at ${url}  (Ctrl-C stops)`);
const rest = ALL_BUILDS.filter((b) => !first.includes(b));
log('building the faster modules (relaxed-simd, threads) while serving: the page runs meanwhile, and a reload after they are done uses them');
try {
  await buildWasm(rest, runAsync);
  log(`every module is built: reload ${url} for the fastest this browser runs`);
} catch (err) {
  log(`a faster module did not build (${err.message}); the page goes on with the simd128 build`);
}
