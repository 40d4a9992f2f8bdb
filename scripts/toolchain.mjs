// Build steps shared by `npm start`, `npm test` and `npm run build`: each installs what it
// needs when it is missing (the wasm32 target, wasm-bindgen-cli at the crate's pinned version,
// npm packages, Debian's chromium) and never downloads a browser or a prebuilt toolchain.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// rustup's and cargo install's binaries, even when the shell's PATH lacks them.
const cargoBin = join(process.env.CARGO_HOME || join(homedir(), '.cargo'), 'bin');
if (!(process.env.PATH || '').split(':').includes(cargoBin)) {
  process.env.PATH = `${cargoBin}:${process.env.PATH || ''}`;
}

export function log(message) {
  console.log(`\x1b[1m[bottleneck]\x1b[0m ${message}`);
}

/** Run a command with inherited output; throw if it fails. */
export function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) throw new Error(`${cmd}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${result.status}`);
}

function output(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, encoding: 'utf8' });
  return result.status === 0 ? result.stdout : null;
}

export function ensureWasmTarget() {
  const installed = output('rustup', ['target', 'list', '--installed']);
  if (installed === null) throw new Error('rustup is not on PATH: install Rust with rustup first');
  if (!installed.split('\n').includes('wasm32-unknown-unknown')) {
    log('adding the wasm32-unknown-unknown target');
    run('rustup', ['target', 'add', 'wasm32-unknown-unknown']);
  }
}

/** The wasm-bindgen version pinned with `=` in crate/Cargo.toml. */
export function pinnedWasmBindgen() {
  const toml = readFileSync(join(root, 'crate', 'Cargo.toml'), 'utf8');
  const match = toml.match(/^wasm-bindgen\s*=\s*"=([0-9.]+)"/m);
  if (!match) throw new Error('crate/Cargo.toml must pin wasm-bindgen with "=X.Y.Z"');
  return match[1];
}

export function ensureWasmBindgen() {
  const version = pinnedWasmBindgen();
  const have = output('wasm-bindgen', ['--version']);
  if (have && have.trim() === `wasm-bindgen ${version}`) return;
  log(`installing wasm-bindgen-cli ${version} (have: ${have ? have.trim() : 'none'}); the first build takes about 10 minutes`);
  // Not --locked: the registry mirror here lacks some of the CLI's locked transitive versions.
  run('cargo', ['install', 'wasm-bindgen-cli', '--version', version]);
}

export function ensureNpmPackages() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  const missing = names.filter((name) => !existsSync(join(root, 'node_modules', name, 'package.json')));
  if (missing.length > 0) {
    log(`installing npm packages (missing: ${missing.join(', ')})`);
    run('npm', ['ci', '--no-audit', '--no-fund']);
  }
}

export const CHROMIUM = '/usr/bin/chromium';

export function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  log("installing Debian's chromium for the browser tests");
  const sudo = process.getuid && process.getuid() !== 0 ? ['sudo'] : [];
  const apt = (args) => (sudo.length ? run('sudo', ['apt-get', ...args]) : run('apt-get', args));
  apt(['update']);
  apt(['install', '-y', '--no-install-recommends', 'chromium']);
  if (!existsSync(CHROMIUM)) throw new Error(`apt installed chromium but ${CHROMIUM} is still missing`);
}

/** The two wasm builds the page chooses between at load time (www/simd.js): the same crate,
 * one with relaxed-simd's fused multiply-add in the matrix-product tile. Each has its own
 * target directory so switching between them never rebuilds the other. */
export const WASM_BUILDS = [
  { name: 'bottleneck', features: '+simd128', targetDir: join(root, 'target') },
  { name: 'bottleneck_relaxed', features: '+simd128,+relaxed-simd', targetDir: join(root, 'target', 'relaxed') },
];

/** The environment that makes cargo compile `build`'s target features for wasm32. */
export function wasmBuildEnv(build) {
  return { ...process.env, CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS: `-C target-feature=${build.features}` };
}

/** Compile both wasm builds and generate their JS glue into www/pkg. */
export function buildWasm() {
  ensureWasmTarget();
  ensureWasmBindgen();
  for (const build of WASM_BUILDS) {
    log(`building the wasm module (${build.features})`);
    run('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '--lib', '--target-dir', build.targetDir], { env: wasmBuildEnv(build) });
    run('wasm-bindgen', [
      '--target', 'web',
      '--out-dir', join(root, 'www', 'pkg'),
      '--out-name', build.name,
      join(build.targetDir, 'wasm32-unknown-unknown', 'release', 'bottleneck.wasm'),
    ]);
    stripNames(join(root, 'www', 'pkg', `${build.name}_bg.wasm`));
  }
}

/** Drop the "name" custom section (function names for stack traces, about 90 KB) from a wasm
 * file: the page ships without it, and panics still report their message. */
export function stripNames(path) {
  const bytes = readFileSync(path);
  let at = 8; // past the magic number and version
  const leb = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const kept = [bytes.subarray(0, 8)];
  while (at < bytes.length) {
    const start = at;
    const id = bytes[at++];
    const end = leb() + at;
    const nameLength = id === 0 ? leb() : 0;
    if (!(id === 0 && bytes.toString('latin1', at, at + nameLength) === 'name')) kept.push(bytes.subarray(start, end));
    at = end;
  }
  writeFileSync(path, Buffer.concat(kept));
}

/** Everything the page needs: npm packages, the digits asset, the wasm module. */
export async function buildAll() {
  ensureNpmPackages();
  const { buildDataAsset } = await import('./build-data.mjs');
  log(`digits asset: ${buildDataAsset()}`);
  buildWasm();
}
