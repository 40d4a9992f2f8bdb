// `npm run build` ends here: dist/ gets exactly the files the page needs, laid out as in the
// repository (index.html beside www/), ready for any static host. Left out: the benchmark page
// and its scripts, TypeScript declarations, sources. What "needs" means is checked by
// tests/dist.test.mjs, which serves dist/ and finds every file in it asked for by the page in
// one of its four builds, and none missing.
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Whether a file (path relative to the repository, with '/') belongs in dist/. */
export function shipped(path) {
  if (path === 'index.html') return true;
  if (!path.startsWith('www/')) return false;
  const name = path.split('/').at(-1);
  if (name.startsWith('bench') || name.endsWith('.d.ts') || name.endsWith('.html')) return false;
  if (path.startsWith('www/pkg/')) return name.endsWith('.js') || name.endsWith('.wasm');
  if (path.startsWith('www/data/')) return name === 'mnist10k.bin';
  if (path.startsWith('www/vendor/')) return name === 'idb-keyval.js' || name === 'fflate.js';
  return !path.slice(4).includes('/') && (name.endsWith('.js') || name.endsWith('.css'));
}

function* walk(dir) {
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) yield* walk(full);
    else yield full;
  }
}

/** The service worker that gives a host without COOP/COEP headers cross-origin isolation (and
 * so threads): the coi-serviceworker package. It must sit beside index.html, since a service
 * worker controls only pages under its own folder. */
const COI = 'coi-serviceworker.min.js';

/** Write `out` (dist/ by default) from the built repository at `root`; the files written. With
 * `coi`, the page also registers coi-serviceworker, which reloads it once, cross-origin isolated
 * (`npm run build -- --coi`, README "Host it yourself"). */
export function writeDist(root, out = join(root, 'dist'), { coi = false } = {}) {
  rmSync(out, { recursive: true, force: true });
  const files = ['index.html', ...[...walk(join(root, 'www'))].map((f) => relative(root, f).split(sep).join('/'))].filter(shipped);
  for (const file of files) {
    mkdirSync(join(out, file, '..'), { recursive: true });
    cpSync(join(root, file), join(out, file));
  }
  if (!coi) return files;
  cpSync(join(root, 'node_modules', 'coi-serviceworker', COI), join(out, COI));
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  const main = '<script type="module" src="www/main.js"></script>';
  if (!html.includes(main)) throw new Error(`index.html no longer loads ${main}; update scripts/dist.mjs`);
  writeFileSync(join(out, 'index.html'), html.replace(main, `<script src="${COI}"></script>\n  ${main}`));
  return [...files, COI];
}
