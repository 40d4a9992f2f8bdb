// `npm run build`: the wasm modules and the digits asset (installing what is missing), then
// dist/, the files a static host serves (`-- --coi`: with coi-serviceworker, see dist.mjs).
import { writeDist } from './dist.mjs';
import { buildAll, log, root } from './toolchain.mjs';

const coi = process.argv.includes('--coi'); // threads on hosts that cannot send COOP/COEP
await buildAll();
const files = writeDist(root, undefined, { coi });
log(`dist/: ${files.length} files, ready for any static host${coi ? ', with coi-serviceworker for threads where the host sends no isolation headers' : ''} (README: Host it yourself)`);
