//! Workers and their supervisor. A worker is this same program started again with the
//! `BOTTLENECK_FUZZ_WORKER` variable set: it limits its own address space (RLIMIT_AS), then runs
//! inputs `start..end` of one target, writing each input to a file before running it and
//! reporting panics and slow inputs on stdout. If it dies (an allocation refused under the
//! limit aborts the process, a stack overflow, a signal) or stops answering, the supervisor
//! records the input in that file as a failure and starts a new worker at the next input.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::engine::{execute, fnv64, install_panic_hook, normalize, show_bytes, Fuzzer, Target, Verdict};

pub const WORKER_ENV: &str = "BOTTLENECK_FUZZ_WORKER";
const LINE: &str = "@@fz ";

#[derive(Clone, Debug)]
pub struct WorkerArgs {
    pub target: Target,
    pub seed: u64,
    pub start: u64,
    pub end: u64,
    pub max_len: usize,
    pub mem_mb: u64,
    pub slow_ms: u64,
    pub state_dir: PathBuf,
    pub crash_dir: PathBuf,
}

impl WorkerArgs {
    fn encode(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.target.name(),
            self.seed,
            self.start,
            self.end,
            self.max_len,
            self.mem_mb,
            self.slow_ms,
            self.state_dir.display(),
            self.crash_dir.display()
        )
    }

    pub fn decode(text: &str) -> Option<WorkerArgs> {
        let f: Vec<&str> = text.split('\t').collect();
        if f.len() != 9 {
            return None;
        }
        Some(WorkerArgs {
            target: Target::from_name(f[0])?,
            seed: f[1].parse().ok()?,
            start: f[2].parse().ok()?,
            end: f[3].parse().ok()?,
            max_len: f[4].parse().ok()?,
            mem_mb: f[5].parse().ok()?,
            slow_ms: f[6].parse().ok()?,
            state_dir: PathBuf::from(f[7]),
            crash_dir: PathBuf::from(f[8]),
        })
    }

    /// The worker's arguments from the environment, if this process is a worker.
    pub fn from_env() -> Option<WorkerArgs> {
        std::env::var(WORKER_ENV).ok().and_then(|v| WorkerArgs::decode(&v))
    }
}

/// Cap this process's address space at `mb` MiB (Linux; elsewhere nothing), so a huge
/// allocation fails (and aborts this worker) instead of exhausting the machine.
pub fn limit_memory(mb: u64) {
    #[cfg(target_os = "linux")]
    {
        #[repr(C)]
        struct Rlimit {
            cur: u64,
            max: u64,
        }
        extern "C" {
            fn setrlimit(resource: i32, rlim: *const Rlimit) -> i32;
        }
        const RLIMIT_AS: i32 = 9;
        let limit = Rlimit { cur: mb << 20, max: mb << 20 };
        // SAFETY: setrlimit reads the struct, which lives across the call.
        let rc = unsafe { setrlimit(RLIMIT_AS, &limit) };
        if rc != 0 {
            eprintln!("fuzz worker: setrlimit(RLIMIT_AS, {mb} MiB) failed; running without a memory limit");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = mb;
}

fn current_path(state_dir: &Path, target: Target) -> PathBuf {
    state_dir.join(format!("current-{}.bin", target.name()))
}

fn corpus_path(state_dir: &Path, target: Target) -> PathBuf {
    state_dir.join(format!("corpus-{}.bin", target.name()))
}

/// Save a failing input as `<dir>/<kind>-<hash>.bin` with a note beside it; the path.
pub fn save_input(crash_dir: &Path, target: Target, kind: &str, input: &[u8], note: &str) -> PathBuf {
    let dir = crash_dir.join(target.name());
    let _ = fs::create_dir_all(&dir);
    let path = dir.join(format!("{kind}-{:016x}.bin", fnv64(input)));
    let _ = fs::write(&path, input);
    let _ = fs::write(path.with_extension("txt"), format!("{note}\n"));
    path
}

/// CPU seconds a process has used (user + system), from /proc (None where there is none).
fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    #[cfg(target_os = "linux")]
    {
        extern "C" {
            fn sysconf(name: i32) -> i64;
        }
        const SC_CLK_TCK: i32 = 2;
        // SAFETY: sysconf only reads a configuration value.
        let ticks = unsafe { sysconf(SC_CLK_TCK) };
        if ticks > 0 {
            return ticks as f64;
        }
    }
    100.0
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r', '\t'], " ")
}

/// Run inputs `start..end` of one target, reporting on stdout. Returns when done.
pub fn worker_main(args: &WorkerArgs) {
    limit_memory(args.mem_mb);
    install_panic_hook();
    let mut fuzzer = Fuzzer::new(args.target, args.seed, args.max_len);
    // Reload what earlier workers of this run learnt (entries before our first input).
    if let Ok(bytes) = fs::read(corpus_path(&args.state_dir, args.target)) {
        let mut at = 0;
        while at + 20 <= bytes.len() {
            let index = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
            let feature = u64::from_le_bytes(bytes[at + 8..at + 16].try_into().unwrap());
            let len = u32::from_le_bytes(bytes[at + 16..at + 20].try_into().unwrap()) as usize;
            if at + 20 + len > bytes.len() {
                break;
            }
            if index < args.start {
                fuzzer.restore(feature, bytes[at + 20..at + 20 + len].to_vec());
            }
            at += 20 + len;
        }
    }
    let mut corpus_file = fs::OpenOptions::new().create(true).append(true).open(corpus_path(&args.state_dir, args.target)).expect("corpus file");
    let mut current = fs::OpenOptions::new().create(true).write(true).truncate(true).open(current_path(&args.state_dir, args.target)).expect("current-input file");
    let stdout = std::io::stdout();
    let mut saved_per_key: std::collections::HashMap<String, usize> = Default::default();
    let mut slow_saved = 0;
    let mut last_beat = Instant::now();
    for i in args.start..args.end {
        let input = fuzzer.input(i);
        {
            use std::io::Seek;
            let _ = current.seek(std::io::SeekFrom::Start(0));
            let mut record = Vec::with_capacity(8 + input.len());
            record.extend_from_slice(&i.to_le_bytes());
            record.extend_from_slice(&input);
            let _ = current.write_all(&record);
            let _ = current.set_len(record.len() as u64);
        }
        let (verdict, elapsed) = execute(args.target, &input, &fuzzer.ctx);
        let ms = elapsed.as_secs_f64() * 1000.0;
        let mut out = stdout.lock();
        if let (Some(key), Verdict::Panic { location, message }) = (verdict.panic_key(), &verdict) {
            let seen = saved_per_key.entry(key.clone()).or_insert(0);
            let hash = fnv64(&input);
            if *seen < 3 {
                let note = format!("target {}\ninput {i} of seed {}\npanic at {location}\n{message}", args.target.name(), args.seed);
                save_input(&args.crash_dir, args.target, "panic", &input, &note);
            }
            *seen += 1;
            let _ = writeln!(out, "{LINE}panic {i} {hash:016x} {ms:.1} {}\t{}\t{}", one_line(&key), one_line(location), one_line(message));
        }
        if ms > args.slow_ms as f64 {
            let hash = fnv64(&input);
            if slow_saved < 20 {
                let note = format!("target {}\ninput {i} of seed {}\none library call took {ms:.0} ms of CPU\noutcome: {}", args.target.name(), args.seed, one_line(&verdict.feature()));
                save_input(&args.crash_dir, args.target, "slow", &input, &note);
                slow_saved += 1;
            }
            let _ = writeln!(out, "{LINE}slow {i} {hash:016x} {ms:.1} {}", one_line(&verdict.feature()));
        }
        if let Some(feature) = fuzzer.observe(&input, &verdict) {
            let mut record = Vec::with_capacity(20 + input.len());
            record.extend_from_slice(&i.to_le_bytes());
            record.extend_from_slice(&feature.to_le_bytes());
            record.extend_from_slice(&(input.len() as u32).to_le_bytes());
            record.extend_from_slice(&input);
            let _ = corpus_file.write_all(&record);
            let _ = corpus_file.flush();
        }
        if last_beat.elapsed() > Duration::from_millis(250) {
            let _ = writeln!(out, "{LINE}progress {} {}", i + 1, fuzzer.corpus.len());
            let _ = out.flush();
            last_beat = Instant::now();
        }
    }
    let mut out = stdout.lock();
    let _ = writeln!(out, "{LINE}end {} {}", args.end, fuzzer.corpus.len());
    let _ = out.flush();
}

#[derive(Clone, Debug)]
pub struct Options {
    pub seed: u64,
    pub inputs: u64,
    pub max_len: usize,
    pub mem_mb: u64,
    pub slow_ms: u64,
    pub timeout: Duration,
    pub crash_dir: PathBuf,
    pub state_dir: PathBuf,
    /// Print progress to stderr every few seconds.
    pub progress: bool,
    /// Stop each target after this long, whatever the count (None: run every input).
    pub max_time: Option<Duration>,
}

#[derive(Clone, Debug)]
pub struct Failure {
    /// "panic" (caught), "abort" (the worker died) or "timeout" (it stopped answering).
    pub kind: &'static str,
    pub key: String,
    pub message: String,
    pub count: u64,
    pub first_index: u64,
    pub first_input: Option<PathBuf>,
}

#[derive(Clone, Debug)]
pub struct Summary {
    pub target: Target,
    pub inputs: u64,
    pub elapsed: Duration,
    pub failures: Vec<Failure>,
    /// (input index, ms, outcome) of every input slower than the threshold.
    pub slow: Vec<(u64, f64, String)>,
    pub restarts: u64,
    pub corpus: usize,
}

impl Summary {
    pub fn failed(&self) -> bool {
        !self.failures.is_empty() || !self.slow.is_empty()
    }

    pub fn rate(&self) -> f64 {
        self.inputs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// A human-readable report of this target.
    pub fn report(&self, crash_dir: &Path, slow_ms: u64) -> String {
        let mut s = format!(
            "{}: {} inputs in {:.1} s ({:.0} inputs/s), corpus {}, {} distinct panics/aborts, {} inputs with a call over {} ms of CPU, {} worker restarts\n",
            self.target.name(),
            self.inputs,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.corpus,
            self.failures.len(),
            self.slow.len(),
            slow_ms,
            self.restarts
        );
        for f in &self.failures {
            s.push_str(&format!("  {} ×{} (first: input {}): {}\n", f.kind.to_uppercase(), f.count, f.first_index, f.key));
            if f.message != f.key {
                s.push_str(&format!("      message: {}\n", f.message));
            }
            if let Some(path) = &f.first_input {
                let bytes = fs::read(path).unwrap_or_default();
                s.push_str(&format!("      input: {} ({} bytes): {}\n", path.display(), bytes.len(), show_bytes(&bytes, 300)));
            }
        }
        if !self.slow.is_empty() {
            let mut slow = self.slow.clone();
            slow.sort_by(|a, b| b.1.total_cmp(&a.1));
            for (i, ms, outcome) in slow.iter().take(8) {
                s.push_str(&format!("  SLOW input {i}: {ms:.0} ms of CPU in one call ({outcome})\n"));
            }
            if slow.len() > 8 {
                s.push_str(&format!("  ... and {} more slow inputs; the first 20 are saved as slow-*.bin\n", slow.len() - 8));
            }
            s.push_str(&format!("      slow inputs are saved in {}\n", crash_dir.join(self.target.name()).display()));
        }
        s
    }
}

fn record(failures: &mut Vec<Failure>, kind: &'static str, key: String, message: String, index: u64, input: Option<PathBuf>) {
    match failures.iter_mut().find(|f| f.key == key) {
        Some(f) => {
            f.count += 1;
            if f.first_input.is_none() {
                f.first_input = input;
            }
        }
        None => failures.push(Failure { kind, key, message, count: 1, first_index: index, first_input: input }),
    }
}

/// The line of a dead worker's stderr that says why it died, if any.
fn death_line(stderr: &[String]) -> Option<String> {
    let patterns = ["memory allocation of", "has overflowed its stack", "fatal runtime error", "panicked", "SIGSEGV", "Aborted"];
    patterns.iter().find_map(|p| stderr.iter().find(|l| l.contains(p))).cloned().or_else(|| stderr.last().cloned())
}

#[cfg(unix)]
fn describe_status(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(6)) => "killed by signal 6 (SIGABRT)".into(),
        (None, Some(9)) => "killed by signal 9 (SIGKILL: the kernel's OOM killer?)".into(),
        (None, Some(11)) => "killed by signal 11 (SIGSEGV)".into(),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => format!("{status}"),
    }
}

#[cfg(not(unix))]
fn describe_status(status: &std::process::ExitStatus) -> String {
    format!("{status}")
}

/// Run `opts.inputs` inputs of `target` in workers made by `spawn` (a command that starts this
/// program again; the worker's arguments go in its environment).
pub fn supervise(target: Target, opts: &Options, spawn: &dyn Fn() -> Command) -> Summary {
    let _ = fs::create_dir_all(&opts.state_dir);
    let _ = fs::remove_file(corpus_path(&opts.state_dir, target));
    let started = Instant::now();
    let mut failures: Vec<Failure> = Vec::new();
    let mut slow = Vec::new();
    let mut restarts = 0;
    let mut corpus = 0;
    let mut next = 0u64;
    let mut done = 0u64;
    let mut out_of_time = false;
    let mut startup_deaths = 0;
    let mut finished_all = false;
    let mut last_report = Instant::now();
    while next < opts.inputs && !out_of_time {
        let args = WorkerArgs {
            target,
            seed: opts.seed,
            start: next,
            end: opts.inputs,
            max_len: opts.max_len,
            mem_mb: opts.mem_mb,
            slow_ms: opts.slow_ms,
            state_dir: opts.state_dir.clone(),
            crash_dir: opts.crash_dir.clone(),
        };
        let current = current_path(&opts.state_dir, target);
        let _ = fs::remove_file(&current);
        let mut command = spawn();
        command.env(WORKER_ENV, args.encode()).env("RUST_BACKTRACE", "0").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("start a fuzz worker");
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let tail: Arc<Mutex<VecDeque<String>>> = Arc::default();
        let tail_writer = tail.clone();
        let err_thread = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf);
            let text = String::from_utf8_lossy(&buf);
            let mut tail = tail_writer.lock().unwrap();
            for line in text.lines() {
                tail.push_back(line.to_string());
                if tail.len() > 400 {
                    tail.pop_front();
                }
            }
        });
        let (tx, rx) = mpsc::channel::<String>();
        let out_thread = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut finished = false;
        let mut timed_out = false;
        // A worker is hung when it is silent for `timeout` of wall time and has then used
        // `timeout` of CPU more (so a loaded machine does not pass for a hang), or when it has
        // been silent ten times as long.
        let mut silent_since: Option<(Instant, f64)> = None;
        loop {
            let left = opts.max_time.map_or(opts.timeout, |t| t.saturating_sub(started.elapsed()));
            match rx.recv_timeout(left.min(opts.timeout)) {
                Ok(line) => {
                    silent_since = None;
                    // (A test harness may print its own text before ours on the first line.)
                    let Some(rest) = line.find(LINE).map(|at| &line[at + LINE.len()..]) else { continue };
                    let mut parts = rest.splitn(2, ' ');
                    let (kind, rest) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                    match kind {
                        "panic" => {
                            let mut f = rest.splitn(4, ' ');
                            let index: u64 = f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                            let hash = f.next().unwrap_or("0").to_string();
                            let _ms = f.next();
                            let mut text = f.next().unwrap_or("").split('\t');
                            let key = text.next().unwrap_or("").to_string();
                            let _location = text.next();
                            let message = text.next().unwrap_or("").to_string();
                            let path = opts.crash_dir.join(target.name()).join(format!("panic-{hash}.bin"));
                            record(&mut failures, "panic", key, message, index, path.exists().then_some(path));
                        }
                        "slow" => {
                            let mut f = rest.splitn(4, ' ');
                            let index: u64 = f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                            let _hash = f.next();
                            let ms: f64 = f.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
                            slow.push((index, ms, f.next().unwrap_or("").to_string()));
                        }
                        "progress" | "end" => {
                            let mut f = rest.split(' ');
                            done = f.next().and_then(|v| v.parse().ok()).unwrap_or(done);
                            corpus = f.next().and_then(|v| v.parse().ok()).unwrap_or(corpus);
                            if kind == "end" {
                                finished = true;
                                next = opts.inputs;
                            }
                            if opts.progress && last_report.elapsed() > Duration::from_secs(10) {
                                let secs = started.elapsed().as_secs_f64();
                                eprintln!(
                                    "  {}: {done}/{} inputs, {:.0}/s, corpus {corpus}, {} distinct failures, {} slow",
                                    target.name(),
                                    opts.inputs,
                                    done as f64 / secs,
                                    failures.len(),
                                    slow.len()
                                );
                                last_report = Instant::now();
                            }
                        }
                        _ => {}
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) if opts.max_time.is_some_and(|t| started.elapsed() >= t) => {
                    out_of_time = true;
                    let _ = child.kill();
                    break;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let cpu = process_cpu_seconds(child.id());
                    match (silent_since, cpu) {
                        (None, Some(cpu)) => silent_since = Some((Instant::now(), cpu)),
                        (Some((since, cpu0)), Some(cpu)) if cpu - cpu0 < opts.timeout.as_secs_f64() && since.elapsed() < 9 * opts.timeout => {}
                        _ => {
                            timed_out = true;
                            let _ = child.kill();
                            break;
                        }
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let status = child.wait().expect("wait for the worker");
        let _ = out_thread.join();
        let _ = err_thread.join();
        if finished && status.success() {
            finished_all = true;
            break;
        }
        if out_of_time {
            break;
        }
        // The worker died or hung: the input it was running is in the current-input file.
        restarts += 1;
        let stderr: Vec<String> = tail.lock().unwrap().iter().cloned().collect();
        let bytes = fs::read(&current).unwrap_or_default();
        if bytes.len() < 8 {
            // It died (or was killed) before its first input: try again, three times at most.
            startup_deaths += 1;
            if startup_deaths >= 3 {
                let why = death_line(&stderr).unwrap_or_default();
                record(&mut failures, "abort", format!("the worker died before its first input, 3 times: {} {}", describe_status(&status), normalize(&why)), why, next, None);
                break;
            }
            continue;
        }
        startup_deaths = 0;
        let index = u64::from_le_bytes(bytes[..8].try_into().unwrap());
        let input = &bytes[8..];
        let (kind, key, message) = if timed_out {
            ("timeout", format!("timeout: no answer within {} s", opts.timeout.as_secs()), format!("the input ran longer than {} s and the worker was killed", opts.timeout.as_secs()))
        } else {
            let why = death_line(&stderr).unwrap_or_default();
            ("abort", format!("abort: {}: {}", describe_status(&status), normalize(&why)), why)
        };
        let note = format!("target {}\ninput {index} of seed {}\n{key}\n{}", target.name(), opts.seed, stderr.join("\n"));
        let first = !failures.iter().any(|f| f.key == key);
        let path = first.then(|| save_input(&opts.crash_dir, target, kind, input, &note));
        record(&mut failures, kind, key, message, index, path);
        next = index + 1;
        done = next;
        finished_all = next >= opts.inputs;
    }
    // Inputs run: all of them, or as far as the workers got (out of time, or given up).
    let inputs = if finished_all { opts.inputs } else { done.max(next) };
    Summary { target, inputs, elapsed: started.elapsed(), failures, slow, restarts, corpus }
}

/// What one input does, run alone in a fresh worker under the memory limit: for replaying
/// crash files and for minimising them.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// "ok", "err", "panic", "abort" or "timeout".
    pub kind: String,
    /// The panic or abort key; the outcome for ok and err.
    pub key: String,
    pub ms: f64,
}

pub const RUN_ONE_ENV: &str = "BOTTLENECK_FUZZ_RUN_ONE";

/// In a child started by `probe`: run the file named in the environment and print the verdict.
pub fn run_one_main(spec: &str) {
    let f: Vec<&str> = spec.split('\t').collect();
    let (Some(target), Some(path), Some(mem_mb)) = (Target::from_name(f[0]), f.get(1), f.get(2).and_then(|v| v.parse().ok())) else {
        eprintln!("bad {RUN_ONE_ENV}");
        std::process::exit(2);
    };
    limit_memory(mem_mb);
    install_panic_hook();
    let ctx = crate::engine::Ctx::new();
    let input = fs::read(path).expect("read the input");
    let (verdict, elapsed) = execute(target, &input, &ctx);
    let ms = elapsed.as_secs_f64() * 1000.0;
    let (kind, key) = match &verdict {
        Verdict::Ok(s) => ("ok", s.clone()),
        Verdict::Err(s) => ("err", s.clone()),
        Verdict::Panic { location, message } => ("panic", format!("{location}: {}\t{message}", normalize(message))),
    };
    println!("{LINE}result {kind} {ms:.1} {}", one_line(&key).replace(" \u{0}", ""));
}

pub fn probe(target: Target, input: &[u8], mem_mb: u64, timeout: Duration, scratch: &Path, spawn: &dyn Fn() -> Command) -> Probe {
    let _ = fs::create_dir_all(scratch);
    let path = scratch.join(format!("probe-{}.bin", std::process::id()));
    fs::write(&path, input).expect("write the probe input");
    let mut command = spawn();
    command
        .env(RUN_ONE_ENV, format!("{}\t{}\t{mem_mb}", target.name(), path.display()))
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("start a probe");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut timed_out = false;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            timed_out = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = child.wait().expect("wait for the probe");
    let out = out_thread.join().unwrap_or_default();
    let err = err_thread.join().unwrap_or_default();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if timed_out {
        return Probe { kind: "timeout".into(), key: "timeout".into(), ms };
    }
    if let Some(line) = out.lines().find_map(|l| l.find(LINE).and_then(|at| l[at + LINE.len()..].strip_prefix("result "))) {
        let mut f = line.splitn(3, ' ');
        let kind = f.next().unwrap_or("").to_string();
        let ms: f64 = f.next().and_then(|v| v.parse().ok()).unwrap_or(ms);
        let key = f.next().unwrap_or("").to_string();
        let key = if kind == "panic" { key.split('\t').next().unwrap_or("").to_string() } else { key };
        return Probe { kind, key, ms };
    }
    let lines: Vec<String> = err.lines().map(String::from).collect();
    let why = death_line(&lines).unwrap_or_default();
    Probe { kind: "abort".into(), key: format!("abort: {}: {}", describe_status(&status), normalize(&why)), ms }
}
