// `npm run build`: the wasm module and the digits asset, installing what is missing.
import { buildAll } from './toolchain.mjs';

await buildAll();
