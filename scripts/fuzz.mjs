// `npm run fuzz -- TARGET|all [--seconds N] [-libfuzzer_flag=value ...]`: coverage-guided fuzzing
// of one of the library's input boundaries (or each in turn) with cargo-fuzz and libFuzzer, on
// the nightly toolchain (both installed when missing). A target's body is one function in
// crate/fuzz/src/targets.rs; its corpus is crate/fuzz/corpus/TARGET/ (grown in place: minimise
// it with `cargo +nightly fuzz cmin TARGET` before committing); crashes are written to
// crate/fuzz/artifacts/TARGET/. Builds go to target/fuzz (or $CARGO_TARGET_DIR).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCargoFuzz, ensureNightly, log, root, run, NIGHTLY } from './toolchain.mjs';

const TARGETS = ['snapshot', 'convnetjs', 'idx', 'spec', 'command', 'link', 'asset', 'tour'];
/** The longest input each target gets (its seeds are below it), its dictionary, and how long one
 * input may run: a command or link input may train a step of the conv preset, 22–39 s under
 * AddressSanitizer on a busy 2-core machine. */
const LIMITS = {
  snapshot: { maxLen: 65536, dict: 'json.dict' },
  convnetjs: { maxLen: 65536, dict: 'json.dict' },
  idx: { maxLen: 65536, dict: 'idx.dict' },
  spec: { maxLen: 8192, dict: 'json.dict' },
  command: { maxLen: 65536, dict: 'json.dict', timeout: 90 },
  link: { maxLen: 8192, dict: 'link.dict', timeout: 90 },
  asset: { maxLen: 16384, dict: 'asset.dict' },
  tour: { maxLen: 16384, dict: 'tour.dict', timeout: 90 },
};
const USAGE = `usage: npm run fuzz -- TARGET|all [--seconds N] [-libfuzzer_flag=value ...]
targets: ${TARGETS.join(', ')}; --seconds per target (default 60)`;

const args = process.argv.slice(2);
let seconds = 60;
const names = [];
const extra = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seconds') {
    seconds = Number(args[++i]);
    if (!Number.isInteger(seconds) || seconds <= 0) throw new Error(`--seconds needs a whole number of seconds\n${USAGE}`);
  } else if (args[i] === '-h' || args[i] === '--help') {
    console.log(USAGE);
    process.exit(0);
  } else if (/^-[a-z_]+=/.test(args[i])) {
    extra.push(args[i]);
  } else if (args[i] === 'all') {
    names.push(...TARGETS);
  } else if (TARGETS.includes(args[i])) {
    names.push(args[i]);
  } else {
    throw new Error(`unknown argument ${args[i]}\n${USAGE}`);
  }
}
if (names.length === 0) {
  console.error(USAGE);
  process.exit(2);
}

ensureNightly();
ensureCargoFuzz();
const crate = join(root, 'crate');
const env = { ...process.env, CARGO_TARGET_DIR: process.env.CARGO_TARGET_DIR || join(root, 'target', 'fuzz') };
const failed = [];
for (const name of names) {
  const corpus = join(crate, 'fuzz', 'corpus', name);
  if (!existsSync(corpus)) throw new Error(`${corpus} is missing`);
  const { maxLen, dict, timeout = 30 } = LIMITS[name];
  log(`fuzzing ${name} for ${seconds} s (corpus crate/fuzz/corpus/${name}, crashes in crate/fuzz/artifacts/${name})`);
  // Debug assertions and overflow checks are on (cargo fuzz's default), as is AddressSanitizer:
  // direct.rs reads through raw pointers. -rss_limit_mb bounds an input's memory (the library's
  // own budget allows 768 MB to train), -timeout an input's seconds.
  try {
    run('cargo', [`+${NIGHTLY}`, 'fuzz', 'run', name, corpus, '--',
      `-max_total_time=${seconds}`, `-max_len=${maxLen}`, '-rss_limit_mb=3072', `-timeout=${timeout}`,
      `-dict=${join(crate, 'fuzz', 'dict', dict)}`, '-print_final_stats=1', ...extra], { cwd: crate, env });
  } catch (e) {
    log(`${name}: ${e.message}`);
    failed.push(name);
  }
}
if (failed.length > 0) {
  log(`failed: ${failed.join(', ')} (the crashing inputs are in crate/fuzz/artifacts/; minimise one with \`cargo +nightly fuzz tmin TARGET FILE\` in crate/)`);
  process.exit(1);
}
