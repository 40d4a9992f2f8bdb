// The bench page's worker for our own measurements (`npm run bench`): it loads one wasm build,
// threaded or not, as the training worker does (www/simd.js), and runs the benchmark hooks the
// page asks for. A worker, not the page, because a threaded build's calling thread blocks
// while its pool works, which only a worker may do.
import { loadBottleneck } from './simd.js';

let glue = null;
onmessage = async ({ data: { id, call, args } }) => {
  try {
    if (call === 'load') {
      const [level, threads] = args;
      glue = await loadBottleneck(level, threads);
      postMessage({ id, result: { simd: glue.simd_level(), threads: glue.threads() } });
      return;
    }
    postMessage({ id, result: glue[call](...args) });
  } catch (err) {
    postMessage({ id, error: String(err.message ?? err) });
  }
};
