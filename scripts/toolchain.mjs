// Build steps shared by `npm start`, `npm test` and `npm run build`: each installs what it
// needs when it is missing (the wasm32 target, wasm-bindgen-cli at the crate's pinned version,
// npm packages, Debian's chromium) and never downloads a browser or a prebuilt toolchain.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** `run`, without blocking: resolves when the command succeeds (a server keeps serving meanwhile). */
export function runAsync(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'inherit', cwd: root, ...options });
    child.on('error', (err) => reject(new Error(`${cmd}: ${err.message}`)));
    child.on('exit', (status) => (status === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${status}`))));
  });
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

/** The nightly toolchain the threaded builds need (`-Z build-std` rebuilds std with atomics). */
export const NIGHTLY = process.env.BOTTLENECK_NIGHTLY || 'nightly';

/** Install the nightly toolchain and its rust-src when they are missing. */
export function ensureNightly() {
  const toolchains = output('rustup', ['toolchain', 'list']) ?? '';
  if (!toolchains.split('\n').some((line) => line.startsWith(`${NIGHTLY}-`) || line.split(' ')[0] === NIGHTLY)) {
    log(`installing the ${NIGHTLY} Rust toolchain (minimal profile) for the threaded wasm builds`);
    run('rustup', ['toolchain', 'install', NIGHTLY, '--profile', 'minimal', '--component', 'rust-src']);
  }
  const components = output('rustup', ['component', 'list', '--toolchain', NIGHTLY, '--installed']) ?? '';
  if (!components.split('\n').includes('rust-src')) {
    log(`adding rust-src to ${NIGHTLY}`);
    run('rustup', ['component', 'add', 'rust-src', '--toolchain', NIGHTLY]);
  }
}

/** cargo-fuzz (libFuzzer's driver for `npm run fuzz`), built from crates.io when it is missing. */
export function ensureCargoFuzz() {
  if (output('cargo', ['fuzz', '--version']) !== null) return;
  log('installing cargo-fuzz for the coverage-guided fuzzer (a few minutes, once)');
  run('cargo', ['install', 'cargo-fuzz']);
}

/** The wasm builds the page chooses between at load time (www/simd.js): the same crate, with
 * or without relaxed-simd's fused multiply-add in the matrix-product tile, and each with or
 * without threads. A threaded build (nightly, atomics, std rebuilt) spreads a training step
 * over a pool of workers sharing its memory; it runs only where the page is cross-origin
 * isolated (SharedArrayBuffer), so the unthreaded builds stay as the fallback. Each build has
 * its own target directory so switching between them never rebuilds another, and each
 * threaded build its own output directory (its worker helper imports the glue beside it).
 * The wasm tests (scripts/test.mjs) run the unthreaded builds, WASM_BUILDS. */
export const WASM_BUILDS = [
  { name: 'bottleneck', features: '+simd128', targetDir: join(root, 'target') },
  { name: 'bottleneck_relaxed', features: '+simd128,+relaxed-simd', targetDir: join(root, 'target', 'relaxed') },
];
export const THREADED_BUILDS = [
  { name: 'bottleneck_threads', features: '+simd128,+atomics,+bulk-memory,+mutable-globals', threads: true, targetDir: join(root, 'target', 'threads') },
  { name: 'bottleneck_relaxed_threads', features: '+simd128,+relaxed-simd,+atomics,+bulk-memory,+mutable-globals', threads: true, targetDir: join(root, 'target', 'threads-relaxed') },
];

/** The environment that makes cargo compile `build`'s target features for wasm32. A threaded
 * build links a shared, imported memory that may grow to 4 GiB, as an unthreaded one's may, and
 * exports the thread-local storage hooks wasm-bindgen's thread support calls in each worker. */
export function wasmBuildEnv(build) {
  const shared = ['--shared-memory', '--import-memory', '--max-memory=4294967296', '--export=__wasm_init_tls', '--export=__tls_size', '--export=__tls_align', '--export=__tls_base'];
  const link = build.threads ? shared.map((arg) => ` -C link-arg=${arg}`).join('') : '';
  return { ...process.env, CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS: `-C target-feature=${build.features}${link}` };
}

/** The cargo arguments that compile `build` (before `--target-dir`). */
export function cargoBuildArgs(build) {
  const args = ['build', '--release', '--target', 'wasm32-unknown-unknown', '--lib'];
  return build.threads ? [`+${NIGHTLY}`, ...args, '--features', 'threads', '-Z', 'build-std=panic_abort,std'] : args;
}

/** Where a build's glue goes, relative to www/. */
export function glueDir(build) {
  return build.threads ? join('pkg', build.name) : 'pkg';
}

/** Every build: the page picks the fastest this browser can run that is there (www/simd.js). */
export const ALL_BUILDS = [...WASM_BUILDS, ...THREADED_BUILDS];

/** Compile `builds` (all of them unless told) and generate each one's JS glue into www/pkg,
 * without the "name" section (function names for stack traces: panics still report their
 * message). `runner` is `run`, or `runAsync` to build while serving. */
export async function buildWasm(builds = ALL_BUILDS, runner = run) {
  ensureWasmTarget();
  ensureWasmBindgen();
  if (builds.some((b) => b.threads)) ensureNightly();
  for (const build of builds) {
    log(`building the wasm module (${build.features})`);
    await runner('cargo', [...cargoBuildArgs(build), '--target-dir', build.targetDir], { env: wasmBuildEnv(build) });
    const outDir = join(root, 'www', glueDir(build));
    await runner('wasm-bindgen', [
      '--target', 'web',
      '--remove-name-section',
      '--out-dir', outDir,
      '--out-name', build.name,
      join(build.targetDir, 'wasm32-unknown-unknown', 'release', 'bottleneck.wasm'),
    ]);
    if (build.threads) pointWorkerHelperAtGlue(outDir, build.name);
  }
}

/** wasm-bindgen-rayon's worker helper imports its glue as the directory three levels up (a
 * bundler's convention); served as plain files, it must name the glue module itself. */
function pointWorkerHelperAtGlue(outDir, name) {
  const snippets = join(outDir, 'snippets');
  for (const dir of readdirSync(snippets).filter((d) => d.startsWith('wasm-bindgen-rayon-'))) {
    const helper = join(snippets, dir, 'src', 'workerHelpers.js');
    const text = readFileSync(helper, 'utf8');
    if (!text.includes("import('../../..')")) throw new Error(`${helper}: wasm-bindgen-rayon no longer imports '../../..'; update scripts/toolchain.mjs`);
    writeFileSync(helper, text.replace("import('../../..')", `import('../../../${name}.js')`));
  }
}

/** The npm modules the page itself loads, copied beside it (it is served from the repo, and
 * nothing is fetched from anywhere else): idb-keyval keeps the autosave in IndexedDB; fflate
 * writes "export all runs" as one zip. */
export function copyPageModules() {
  mkdirSync(join(root, 'www', 'vendor'), { recursive: true });
  copyFileSync(join(root, 'node_modules', 'idb-keyval', 'dist', 'index.js'), join(root, 'www', 'vendor', 'idb-keyval.js'));
  copyFileSync(join(root, 'node_modules', 'fflate', 'esm', 'browser.js'), join(root, 'www', 'vendor', 'fflate.js'));
}

/** Everything the page needs: npm packages, the digits asset, the wasm modules (`builds`: all
 * four unless told; `npm start` builds one first and the rest while it serves). */
export async function buildAll(builds = ALL_BUILDS) {
  ensureNpmPackages();
  const { buildDataAsset } = await import('./build-data.mjs');
  log(`digits asset: ${buildDataAsset()}`);
  copyPageModules();
  await buildWasm(builds);
}
