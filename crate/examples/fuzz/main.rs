//! `npm run fuzz`: a seeded, in-process mutation fuzzer of the library's input boundaries, on
//! the stable toolchain (no cargo-fuzz). See README.md, "Fuzzing and soak".
//!
//! ```text
//! cargo run --release --example fuzz -- [TARGET ...|all] [--inputs N] [--seconds S] [--seed S] [--max-len BYTES]
//!                                       [--mem-mb MB] [--slow-ms MS] [--timeout-s S] [--out DIR]
//! cargo run --release --example fuzz -- run TARGET FILE ...       replay saved inputs
//! cargo run --release --example fuzz -- minimize TARGET FILE      shrink one; writes FILE.min
//! cargo run --release --example fuzz -- seeds TARGET DIR          write a target's seeds
//! ```
//!
//! Targets: snapshot, convnetjs, idx, spec, command. Each target's inputs run in a worker
//! process (this program again) whose address space is capped, so an input that asks for a
//! huge allocation kills only the worker; the supervisor records it and starts a new worker
//! at the next input. The same seed always gives the same inputs.

mod engine;
mod supervise;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use engine::{count_nodes_pub as count_nodes, show_bytes, Target};
use supervise::{probe, run_one_main, supervise, worker_main, Options, Probe, WorkerArgs, RUN_ONE_ENV};

const USAGE: &str = "usage:
  fuzz [TARGET ...|all] [--inputs N] [--seconds S] [--seed S] [--max-len BYTES] [--mem-mb MB] [--slow-ms MS]
       [--timeout-s S] [--out DIR]
  fuzz run TARGET FILE ...       replay saved inputs, each in a fresh worker under the memory limit
  fuzz minimize TARGET FILE      shrink a failing input (same panic, abort or slowness); writes FILE.min
  fuzz seeds TARGET DIR          write a target's seed inputs to DIR
targets: snapshot, convnetjs, idx, spec, command (default: all)
--seconds stops each target after that long (it reports the inputs it ran); --slow-ms is CPU time of
one library call; an input that runs --timeout-s of wall time and then as much CPU time again (or
ten times as long) is a hang, and its worker is killed
defaults: --inputs 1000000 (per target) --seed 1 --max-len 1048576 --mem-mb 3072 --slow-ms 1000 --timeout-s 30
          --out target/fuzz-crashes";

fn main() {
    if let Some(args) = WorkerArgs::from_env() {
        worker_main(&args);
        return;
    }
    if let Ok(spec) = std::env::var(RUN_ONE_ENV) {
        run_one_main(&spec);
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("fuzz: {message}\n{USAGE}");
            2
        }
    };
    std::process::exit(code);
}

fn workspace_target_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    dir.canonicalize().unwrap_or(dir)
}

struct Flags {
    positional: Vec<String>,
    opts: Options,
    budget: usize,
}

fn parse_flags(args: &[String]) -> Result<Flags, String> {
    let target_dir = workspace_target_dir();
    let mut opts = Options {
        seed: 1,
        inputs: 1_000_000,
        max_len: 1 << 20,
        mem_mb: 3072,
        slow_ms: 1000,
        timeout: Duration::from_secs(30),
        crash_dir: target_dir.join("fuzz-crashes"),
        state_dir: target_dir.join("fuzz-state").join(std::process::id().to_string()),
        progress: true,
        max_time: None,
    };
    let mut positional = Vec::new();
    let mut budget = 2000;
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        let value = || args.get(i + 1).ok_or(format!("{flag} needs a value"));
        let number = |v: &str| v.replace(['_', ','], "").parse::<u64>().map_err(|_| format!("{flag}: {v:?} is not a whole number"));
        match flag {
            "--inputs" => opts.inputs = number(value()?)?,
            "--seed" => opts.seed = number(value()?)?,
            "--max-len" => opts.max_len = number(value()?)? as usize,
            "--mem-mb" => opts.mem_mb = number(value()?)?,
            "--slow-ms" => opts.slow_ms = number(value()?)?,
            "--timeout-s" => opts.timeout = Duration::from_secs(number(value()?)?.max(1)),
            "--out" => opts.crash_dir = PathBuf::from(value()?),
            "--budget" => budget = number(value()?)? as usize,
            "--seconds" => opts.max_time = Some(Duration::from_secs(number(value()?)?)),
            "-h" | "--help" => return Err("help".into()),
            other if other.starts_with("--") => return Err(format!("unknown flag {other}")),
            _ => {
                positional.push(args[i].clone());
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    Ok(Flags { positional, opts, budget })
}

fn myself() -> Command {
    Command::new(std::env::current_exe().expect("the fuzzer's own path"))
}

fn target_named(name: &str) -> Result<Target, String> {
    Target::from_name(name).ok_or(format!("unknown target {name:?}"))
}

fn run(args: &[String]) -> Result<i32, String> {
    let flags = parse_flags(args)?;
    let opts = &flags.opts;
    match flags.positional.first().map(String::as_str) {
        Some("run") => {
            let target = target_named(flags.positional.get(1).ok_or("run needs a target")?)?;
            let mut failed = false;
            for file in &flags.positional[2..] {
                let input = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
                let p = probe(target, &input, opts.mem_mb, opts.timeout, &opts.state_dir, &myself);
                failed |= matches!(p.kind.as_str(), "panic" | "abort" | "timeout") || p.ms > opts.slow_ms as f64;
                println!("{file}: {} in {:.0} ms: {}", p.kind, p.ms, p.key);
            }
            let _ = std::fs::remove_dir_all(&opts.state_dir);
            Ok(failed as i32)
        }
        Some("minimize") => {
            let target = target_named(flags.positional.get(1).ok_or("minimize needs a target")?)?;
            let file = flags.positional.get(2).ok_or("minimize needs a file")?;
            let input = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
            let result = minimize(target, &input, opts, flags.budget)?;
            let out = format!("{file}.min");
            std::fs::write(&out, &result).map_err(|e| format!("{out}: {e}"))?;
            println!("{} bytes -> {} bytes, written to {out}:\n{}", input.len(), result.len(), show_bytes(&result, 4000));
            let _ = std::fs::remove_dir_all(&opts.state_dir);
            Ok(0)
        }
        Some("seeds") => {
            let target = target_named(flags.positional.get(1).ok_or("seeds needs a target")?)?;
            let dir = PathBuf::from(flags.positional.get(2).ok_or("seeds needs a directory")?);
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let seeds = engine::seeds(target, &engine::Ctx::new(), opts.max_len);
            for (i, seed) in seeds.iter().enumerate() {
                std::fs::write(dir.join(format!("{}-{i:03}.bin", target.name())), seed).map_err(|e| e.to_string())?;
            }
            println!("{} seeds written to {}", seeds.len(), dir.display());
            Ok(0)
        }
        _ => {
            let mut targets = Vec::new();
            for name in &flags.positional {
                if name == "all" {
                    targets.extend(Target::ALL);
                } else {
                    targets.push(target_named(name)?);
                }
            }
            if targets.is_empty() {
                targets.extend(Target::ALL);
            }
            targets.dedup();
            println!(
                "fuzz: seed {}, {} inputs per target, max length {} bytes, workers capped at {} MiB, slow above {} ms; crashes go to {}",
                opts.seed,
                opts.inputs,
                opts.max_len,
                opts.mem_mb,
                opts.slow_ms,
                opts.crash_dir.display()
            );
            let mut summaries = Vec::new();
            for target in targets {
                eprintln!("fuzz {}: {}", target.name(), target.describe());
                let summary = supervise(target, opts, &myself);
                print!("{}", summary.report(&opts.crash_dir, opts.slow_ms));
                summaries.push(summary);
            }
            let _ = std::fs::remove_dir_all(&opts.state_dir);
            println!("\nsummary (seed {}):", opts.seed);
            println!("{:<10} {:>10} {:>10} {:>9} {:>8} {:>6}", "target", "inputs", "inputs/s", "failures", "slow", "");
            let mut failed = false;
            for s in &summaries {
                failed |= s.failed();
                println!(
                    "{:<10} {:>10} {:>10.0} {:>9} {:>8} {:>6}",
                    s.target.name(),
                    s.inputs,
                    s.rate(),
                    s.failures.len(),
                    s.slow.len(),
                    if s.failed() { "FAIL" } else { "ok" }
                );
            }
            Ok(failed as i32)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Minimising a failing input
// ---------------------------------------------------------------------------------------------

const EMBED: &str = "\u{1}EMBED";
const EMBED_BYTES: &str = "\u{1}EMBEDBYTES";

/// Open embedded documents (a JSON string holding JSON, an array of bytes holding JSON) into
/// wrapper objects, so their insides shrink like the rest.
fn expand(v: Value) -> Value {
    match v {
        Value::String(s) if s.len() > 1 && (s.starts_with('{') || s.starts_with('[')) => match serde_json::from_str::<Value>(&s) {
            Ok(inner) => serde_json::json!({ EMBED: expand(inner) }),
            Err(_) => Value::String(s),
        },
        Value::Array(a) if a.len() > 8 && a.iter().all(|x| x.as_u64().is_some_and(|b| b < 256)) => {
            let bytes: Vec<u8> = a.iter().map(|x| x.as_u64().unwrap() as u8).collect();
            match std::str::from_utf8(&bytes).ok().and_then(|t| serde_json::from_str::<Value>(t).ok()).filter(Value::is_object) {
                Some(inner) => serde_json::json!({ EMBED_BYTES: expand(inner) }),
                None => Value::Array(a),
            }
        }
        Value::Array(a) => Value::Array(a.into_iter().map(expand).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, expand(v))).collect()),
        other => other,
    }
}

fn collapse(v: &Value) -> Value {
    match v {
        Value::Object(o) if o.len() == 1 && o.contains_key(EMBED) => Value::String(collapse(&o[EMBED]).to_string()),
        Value::Object(o) if o.len() == 1 && o.contains_key(EMBED_BYTES) => Value::Array(collapse(&o[EMBED_BYTES]).to_string().bytes().map(Value::from).collect()),
        Value::Array(a) => Value::Array(a.iter().map(collapse).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), collapse(v))).collect()),
        other => other.clone(),
    }
}

/// Each node's depth, in pre-order (the root is 0).
fn node_depths(v: &Value) -> Vec<usize> {
    fn walk(v: &Value, depth: usize, out: &mut Vec<usize>) {
        out.push(depth);
        match v {
            Value::Array(a) => a.iter().for_each(|c| walk(c, depth + 1, out)),
            Value::Object(o) => o.values().for_each(|c| walk(c, depth + 1, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, 0, &mut out);
    out
}

/// Candidate simplifications of node `k`: remove it from its parent, or shorten it.
fn simplify_nth(root: &Value, k: usize) -> Vec<Value> {
    let mut out = Vec::new();
    // Remove node k (k > 0) from its parent.
    fn remove(v: &mut Value, k: &mut usize) -> bool {
        match v {
            Value::Array(a) => {
                for i in 0..a.len() {
                    if *k == 0 {
                        a.remove(i);
                        return true;
                    }
                    *k -= 1;
                    let n = count_nodes(&a[i]) - 1;
                    if *k < n {
                        return remove(&mut a[i], k);
                    }
                    *k -= n;
                }
                false
            }
            Value::Object(o) => {
                let keys: Vec<String> = o.keys().cloned().collect();
                for key in keys {
                    if *k == 0 {
                        o.remove(&key);
                        return true;
                    }
                    *k -= 1;
                    let child = o.get_mut(&key).unwrap();
                    let n = count_nodes(child) - 1;
                    if *k < n {
                        return remove(child, k);
                    }
                    *k -= n;
                }
                false
            }
            _ => false,
        }
    }
    if k > 0 {
        let mut v = root.clone();
        let mut kk = k - 1;
        if remove(&mut v, &mut kk) {
            out.push(v);
        }
    }
    let node = engine::nth_node_pub(root, k);
    match node {
        Value::Array(a) if a.len() > 1 => {
            for keep in [a.len() / 2, 1] {
                let mut v = root.clone();
                if let Value::Array(a) = engine::nth_node_mut_pub(&mut v, k) {
                    a.truncate(keep);
                }
                out.push(v);
            }
        }
        Value::String(s) if s.len() > 8 => {
            let mut v = root.clone();
            *engine::nth_node_mut_pub(&mut v, k) = Value::String(s.chars().take(s.chars().count() / 2).collect());
            out.push(v);
        }
        _ => {}
    }
    out
}

fn minimize(target: Target, input: &[u8], opts: &Options, budget: usize) -> Result<Vec<u8>, String> {
    let original = probe(target, input, opts.mem_mb, opts.timeout, &opts.state_dir, &myself);
    let slow = original.ms > opts.slow_ms as f64;
    if !matches!(original.kind.as_str(), "panic" | "abort" | "timeout") && !slow {
        return Err(format!("the input does not fail: {} in {:.0} ms ({})", original.kind, original.ms, original.key));
    }
    eprintln!("minimize: the input gives {} ({}) in {:.0} ms", original.kind, original.key, original.ms);
    let counter = std::cell::Cell::new(0usize);
    let runs = || counter.get();
    let same = |bytes: &[u8]| -> bool {
        counter.set(counter.get() + 1);
        let p: Probe = probe(target, bytes, opts.mem_mb, opts.timeout, &opts.state_dir, &myself);
        if std::env::var_os("FUZZ_VERBOSE").is_some() {
            eprintln!("  try {} bytes: {} ({})", bytes.len(), p.kind, p.key);
        }
        if slow && !matches!(original.kind.as_str(), "panic" | "abort" | "timeout") {
            p.ms > opts.slow_ms as f64
        } else {
            p.kind == original.kind && p.key == original.key
        }
    };
    let mut best = input.to_vec();
    // Structure first, for JSON.
    if let Ok(value) = serde_json::from_slice::<Value>(input) {
        let mut tree = expand(value);
        let mut progress = true;
        while progress && runs() < budget {
            progress = false;
            // Shallow nodes first (whole commands, whole fields), then deeper ones.
            let mut depth = 1;
            let mut done_at_depth = 0;
            while runs() < budget {
                let order: Vec<usize> = node_depths(&tree).into_iter().enumerate().filter(|&(_, d)| d == depth).map(|(k, _)| k).collect();
                if order.is_empty() {
                    break;
                }
                let mut shrunk = false;
                for &k in order.iter().skip(done_at_depth) {
                    if runs() >= budget {
                        break;
                    }
                    for candidate in simplify_nth(&tree, k) {
                        let text = collapse(&candidate).to_string().into_bytes();
                        if text.len() < best.len() && same(&text) {
                            tree = candidate;
                            best = text;
                            progress = true;
                            shrunk = true;
                            break;
                        }
                    }
                    if shrunk {
                        break;
                    }
                    done_at_depth += 1;
                }
                if !shrunk {
                    depth += 1;
                    done_at_depth = 0;
                }
            }
        }
    }
    // Then bytes: remove chunks, halving their size.
    let mut chunk = best.len() / 2;
    while chunk >= 1 && runs() < budget {
        let mut at = 0;
        let mut removed_any = false;
        while at < best.len() && runs() < budget {
            let end = (at + chunk).min(best.len());
            let mut candidate = best[..at].to_vec();
            candidate.extend_from_slice(&best[end..]);
            if same(&candidate) {
                best = candidate;
                removed_any = true;
            } else {
                at += chunk;
            }
        }
        if !removed_any {
            chunk /= 2;
        }
    }
    eprintln!("minimize: {} runs", runs());
    Ok(best)
}
