// `npm run build`: the wasm modules and the digits asset (installing what is missing), then
// dist/, the files a static host serves.
import { writeDist } from './dist.mjs';
import { buildAll, log, root } from './toolchain.mjs';

await buildAll();
const files = writeDist(root);
log(`dist/: ${files.length} files, ready for any static host (README: Host it yourself)`);
