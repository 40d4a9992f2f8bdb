// Picks the wasm build this browser can run: the relaxed-simd build (fused multiply-add in the
// matrix products) where WebAssembly.validate accepts a relaxed-simd instruction, else the
// simd128 build; and, where the page is cross-origin isolated (SharedArrayBuffer), the threaded
// twin of that build, whose training step spreads over a pool of navigator.hardwareConcurrency
// workers sharing its memory. Every build exports the same API; only the glue's path differs.

/** A module whose one function applies the SIMD instruction `opcode` (the bytes after the 0xfd
 * prefix) to `operands` zero vectors and returns the v128 result. */
function probe(opcode, operands) {
  const v128Const = [0xfd, 0x0c, ...new Array(16).fill(0)];
  const body = [0x00, ...Array(operands).fill(v128Const).flat(), 0xfd, ...opcode, 0x0b];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
    0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
    0x0a, body.length + 2, 0x01, body.length, ...body, // code section
  ]);
}

/** f32x4.mul (0xfd 0xe6 0x01) on two operands: plain simd128. */
export const simd128Supported = () => WebAssembly.validate(probe([0xe6, 0x01], 2));
/** f32x4.relaxed_madd (0xfd 0x85 0x02) on three operands: relaxed-simd. */
export const relaxedSimdSupported = () => WebAssembly.validate(probe([0x85, 0x02], 3));

/** Whether this context may share memory between workers (cross-origin isolated). */
export const threadsSupported = () => typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true;

/** The glue module of the chosen build ("relaxed-simd", "simd128", or "best"), initialised.
 * `threads`: how many threads to train on; the default is every core the browser reports, and
 * without cross-origin isolation it is one (the unthreaded build). A build that is not there
 * (`npm start` serves the page while it builds the faster ones) gives way to the next: threads
 * first, then relaxed-simd, then plain simd128. Call only from a worker: a threaded build's
 * calling thread blocks while the pool works. */
export async function loadBottleneck(level = 'best', threads = navigator.hardwareConcurrency || 1) {
  if (!simd128Supported()) throw new Error('this browser cannot run WebAssembly SIMD (simd128), which the trainer needs');
  const relaxedOk = relaxedSimdSupported();
  if (level === 'relaxed-simd' && !relaxedOk) throw new Error('this browser cannot run the relaxed-simd build');
  const relaxed = level === 'relaxed-simd' || (level === 'best' && relaxedOk);
  const names = relaxed && level === 'best' ? ['bottleneck_relaxed', 'bottleneck'] : [relaxed ? 'bottleneck_relaxed' : 'bottleneck'];
  const threaded = threads > 1 && threadsSupported();
  const choices = [...(threaded ? names.map((name) => ({ name, threaded: true })) : []), ...names.map((name) => ({ name, threaded: false }))];
  let failure;
  for (const { name, threaded } of choices) {
    try {
      const glue = await import(threaded ? `./pkg/${name}_threads/${name}_threads.js` : `./pkg/${name}.js`);
      await glue.default();
      if (threaded) {
        await glue.initThreadPool(threads);
        glue.single_threaded(false);
      }
      return glue;
    } catch (err) {
      failure ??= err;
    }
  }
  throw failure;
}
