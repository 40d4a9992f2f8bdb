//! A short run of every fuzz target of `examples/fuzz` (`npm run fuzz`) inside `cargo test`:
//! the first 2,000 inputs of seed 1 of each target, with the full mutator (gzip bombs and huge
//! numbers included). As in the fuzzer, the inputs run in a worker process (this test binary
//! started again) whose address space is capped at 2 GiB, so an input that asks for a huge
//! allocation fails its target's test instead of taking the test run down with it. A target
//! fails on any panic, any worker death (abort, out of memory, signal), any input that does
//! not finish within 30 s, and any single library call that takes more than 2 s of CPU.
//!
//! Failing inputs are saved in target/fuzz-crashes/smoke/TARGET/; replay one with
//! `cargo run --release --example fuzz -- run TARGET FILE` and shrink it with `... -- minimize
//! TARGET FILE`.

#[path = "../examples/fuzz/engine.rs"]
mod engine;
#[path = "../examples/fuzz/supervise.rs"]
mod supervise;

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use engine::Target;
use supervise::{supervise, worker_main, Options, WorkerArgs};

const INPUTS: u64 = 2000;

/// One target at a time: each runs a worker process of its own.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Not a test: when the smoke tests start this binary again as a fuzz worker (with the worker
/// variable set), this is where the worker runs. Without the variable it does nothing.
#[test]
fn fuzz_worker_entry() {
    if let Some(args) = WorkerArgs::from_env() {
        worker_main(&args);
        std::process::exit(0);
    }
}

fn smoke(target: Target) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let target_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let target_dir = target_dir.canonicalize().unwrap_or(target_dir);
    let crash_dir = target_dir.join("fuzz-crashes").join("smoke");
    let opts = Options {
        seed: 1,
        inputs: INPUTS,
        max_len: 1 << 20,
        mem_mb: 2048,
        slow_ms: 2000,
        timeout: Duration::from_secs(30),
        crash_dir: crash_dir.clone(),
        state_dir: std::env::temp_dir().join(format!("bottleneck-fuzz-smoke-{}-{}", std::process::id(), target.name())),
        progress: false,
        max_time: None,
    };
    let spawn = || {
        let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
        command.args(["fuzz_worker_entry", "--exact", "--nocapture", "--test-threads=1"]);
        command
    };
    let summary = supervise(target, &opts, &spawn);
    let _ = std::fs::remove_dir_all(&opts.state_dir);
    assert!(!summary.failed(), "fuzzing {} ({}) failed:\n{}", target.name(), target.describe(), summary.report(&crash_dir, opts.slow_ms));
}

#[test]
fn fuzz_smoke_snapshot() {
    smoke(Target::Snapshot);
}

#[test]
fn fuzz_smoke_convnetjs() {
    smoke(Target::Convnetjs);
}

#[test]
fn fuzz_smoke_idx() {
    smoke(Target::Idx);
}

#[test]
fn fuzz_smoke_spec() {
    smoke(Target::Spec);
}

/// Commands, seeds included: `command-scatter-overflow.json` once made the scatter panel
/// overflow on infinite codes (784 → fc 1 → fc 2 → fc 784 with `init_std` 1e30); the spec now
/// refuses such an `init_std`, and the scatter leaves non-finite codes off its canvas.
#[test]
fn fuzz_smoke_command() {
    smoke(Target::Command);
}
