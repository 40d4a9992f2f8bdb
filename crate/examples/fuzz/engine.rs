//! The fuzzing engine shared by `examples/fuzz` (`npm run fuzz`) and `tests/fuzz_smoke.rs`:
//! the targets (each a function from input bytes to a verdict, under `catch_unwind`), their
//! seeds (real files made by the library), and a seeded mutator (bytes, and JSON-aware moves).
//!
//! Input `i` of a target is a pure function of (seed, target, i, corpus so far): the corpus
//! grows only with inputs that produced an outcome (an error sentence, with its numbers and
//! names blanked, or a kind of success) not seen before, so a restarted worker that reloads the
//! corpus goes on with exactly the inputs it would have made.

#![allow(dead_code)]

use std::cell::Cell;
use std::collections::HashSet;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use bottleneck::data::{idx, DataSpec, Dataset};
use bottleneck::model::network::Workspace;
use bottleneck::model::{NetSpec, Network};
use bottleneck::presets;
use bottleneck::rng::Rng;
use bottleneck::session::panels::{self, Panel};
use bottleneck::session::{Clock, Command, Experiment, Payload, Session};
use bottleneck::snapshot::{self, convnetjs, Opened};
use bottleneck::train::{TrainConfig, Trainer};

// ---------------------------------------------------------------------------------------------
// Deterministic randomness and hashing
// ---------------------------------------------------------------------------------------------

/// SplitMix64: small, fast and good enough to choose mutations.
pub struct Rand(u64);

impl Rand {
    pub fn new(seed: u64) -> Rand {
        Rand(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// 1, 2, 3, ... with halving probability, at most `max`.
    pub fn geometric(&mut self, max: usize) -> usize {
        let mut n = 1;
        while n < max && self.chance(0.5) {
            n += 1;
        }
        n
    }
}

pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub fn mix(a: u64, b: u64) -> u64 {
    let mut r = Rand::new(a ^ b.rotate_left(17) ^ 0x5eed);
    r.next() ^ r.next()
}

// ---------------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Snapshot,
    Convnetjs,
    Idx,
    Spec,
    Command,
}

impl Target {
    pub const ALL: [Target; 5] = [Target::Snapshot, Target::Convnetjs, Target::Idx, Target::Spec, Target::Command];

    pub fn name(self) -> &'static str {
        match self {
            Target::Snapshot => "snapshot",
            Target::Convnetjs => "convnetjs",
            Target::Idx => "idx",
            Target::Spec => "spec",
            Target::Command => "command",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// What the target calls, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Target::Snapshot => "snapshot::open(bytes), then Snapshot::restore(), save and reopen (or convnetjs::export of an imported net)",
            Target::Convnetjs => "snapshot::convnetjs::import(text), then export and import again",
            Target::Idx => "data::idx::parse(images, labels) on plain or gzipped files, then a Session on the images",
            Target::Spec => "NetSpec::from_json(text), Network::new, a forward and backward pass, to_json round trip",
            Target::Command => "serde_json -> session::Command (one, or an array of up to 8), Session::apply and run_for each, then every panel",
        }
    }

    fn is_json(self) -> bool {
        self != Target::Idx
    }
}

/// What one input did. `Ok` and `Err` carry a short signature of the outcome (the corpus grows
/// on new ones); a panic carries where it happened and its message.
#[derive(Clone, Debug)]
pub enum Verdict {
    Ok(String),
    Err(String),
    Panic { location: String, message: String },
}

impl Verdict {
    /// The outcome with numbers and quoted names blanked, so "layer 3: units 0" and "layer 5:
    /// units 7" count as one.
    pub fn feature(&self) -> String {
        match self {
            Verdict::Ok(s) => format!("ok {}", normalize(s)),
            Verdict::Err(s) => format!("err {}", normalize(s)),
            Verdict::Panic { location, message } => format!("panic {location} {}", normalize(message)),
        }
    }

    /// Distinct failures are counted by this key.
    pub fn panic_key(&self) -> Option<String> {
        match self {
            Verdict::Panic { location, message } => Some(format!("{location}: {}", normalize(message))),
            _ => None,
        }
    }
}

/// Digits runs become `#`, quoted text `"…"`, and the result is cut at 160 characters.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(200));
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if out.len() >= 160 {
            out.push('…');
            break;
        }
        if c.is_ascii_digit() {
            while chars.peek().is_some_and(|d| d.is_ascii_digit() || *d == '.') {
                chars.next();
            }
            out.push('#');
        } else if c == '"' || c == '`' {
            for d in chars.by_ref() {
                if d == c {
                    break;
                }
            }
            out.push_str("\"…\"");
        } else {
            out.push(c);
        }
    }
    out
}

/// A clock that moves `per_read` ms each time it is read (deterministic budgets).
struct StepClock {
    now: Rc<Cell<f64>>,
    per_read: f64,
}

impl Clock for StepClock {
    fn now_ms(&self) -> f64 {
        let t = self.now.get();
        self.now.set(t + self.per_read);
        t
    }
}

fn step_clock(per_read: f64) -> Box<dyn Clock> {
    Box::new(StepClock { now: Rc::new(Cell::new(0.0)), per_read })
}

/// `per_class` 28×28 synthetic digits of each class, class by class as the built-in digits
/// are stored (as in session/tests.rs): a bar placed by the class and a faint diagonal.
pub fn synthetic_digits(per_class: usize) -> Dataset {
    let n = 10 * per_class;
    let mut pixels = vec![0.0f32; n * 784];
    let labels: Vec<u8> = (0..n).map(|i| (i / per_class) as u8).collect();
    for (image_idx, &label) in labels.iter().enumerate() {
        let image = &mut pixels[image_idx * 784..(image_idx + 1) * 784];
        for row in 4..24 {
            image[row * 28 + 4 + 2 * label as usize] = 1.0;
            image[row * 28 + (row + image_idx) % 28] += 0.3;
        }
    }
    Dataset::new(28, 28, pixels, Some(labels))
}

/// What the targets share between inputs (never state that changes what an input does).
pub struct Ctx {
    /// 1,120 digits: 1,008 train, so the pretraining preset's 1,000 labels fit.
    digits: Dataset,
}

impl Ctx {
    pub fn new() -> Ctx {
        Ctx { digits: synthetic_digits(112) }
    }
}

impl Default for Ctx {
    fn default() -> Ctx {
        Ctx::new()
    }
}

/// CPU time of this thread (wall time where that is not available): slowness is judged on it,
/// so a loaded machine does not make inputs look slow.
pub fn cpu_now() -> Duration {
    #[cfg(target_os = "linux")]
    {
        #[repr(C)]
        struct Timespec {
            sec: i64,
            nsec: i64,
        }
        extern "C" {
            fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
        }
        const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
        let mut ts = Timespec { sec: 0, nsec: 0 };
        // SAFETY: clock_gettime writes the struct, which lives across the call.
        if unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return Duration::new(ts.sec as u64, ts.nsec as u32);
        }
    }
    thread_local!(static ORIGIN: Instant = Instant::now());
    ORIGIN.with(|o| o.elapsed())
}

thread_local! {
    /// The CPU time of the slowest library call of the current input.
    static SLOWEST_CALL: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// Run one library call, noting its CPU time.
fn timed<T>(call: impl FnOnce() -> T) -> T {
    let start = cpu_now();
    let result = call();
    let spent = cpu_now().saturating_sub(start);
    SLOWEST_CALL.with(|s| s.set(s.get().max(spent)));
    result
}

/// Where the most recent panic happened and what it said (the hook fills it).
static LAST_PANIC: Mutex<Option<(String, String)>> = Mutex::new(None);

/// Replace the panic hook with one that records the panic instead of printing it.
pub fn install_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_else(|| "?".into());
        let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
            s.to_string()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            "(non-string panic payload)".into()
        };
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some((location, message));
        }
    }));
}

/// Run one input on a target, catching panics; returns the verdict and the CPU time of its
/// slowest library call (the harness's own work between calls is not counted).
pub fn execute(target: Target, input: &[u8], ctx: &Ctx) -> (Verdict, Duration) {
    SLOWEST_CALL.with(|s| s.set(Duration::ZERO));
    let start = cpu_now();
    let result = panic::catch_unwind(AssertUnwindSafe(|| run_target(target, input, ctx)));
    let elapsed = if result.is_err() { cpu_now().saturating_sub(start) } else { SLOWEST_CALL.with(|s| s.get()) };
    let verdict = match result {
        Ok(Ok(sig)) => Verdict::Ok(sig),
        Ok(Err(e)) => Verdict::Err(e),
        Err(_) => {
            let (location, message) = LAST_PANIC.lock().ok().and_then(|mut l| l.take()).unwrap_or(("?".into(), "(no message)".into()));
            Verdict::Panic { location, message }
        }
    };
    (verdict, elapsed)
}

fn run_target(target: Target, input: &[u8], ctx: &Ctx) -> Result<String, String> {
    match target {
        Target::Snapshot => target_snapshot(input),
        Target::Convnetjs => target_convnetjs(input),
        Target::Idx => target_idx(input),
        Target::Spec => target_spec(input),
        Target::Command => target_command(input, ctx),
    }
}

/// Snapshot and export text, whether the library returns it plainly or as a `Result`.
trait Text {
    fn text(self) -> Result<String, String>;
}

impl Text for String {
    fn text(self) -> Result<String, String> {
        Ok(self)
    }
}

impl<E: std::fmt::Display> Text for Result<String, E> {
    fn text(self) -> Result<String, String> {
        self.map_err(|e| e.to_string())
    }
}

/// An invariant the library promises; breaking it is reported like a panic.
macro_rules! invariant {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            panic!("invariant: {}", format!($($arg)*));
        }
    };
}

fn target_snapshot(input: &[u8]) -> Result<String, String> {
    match timed(|| snapshot::open(input))? {
        Opened::Bottleneck(saved) => {
            let trainer = timed(|| saved.restore()).map_err(|e| format!("restore: {e}"))?;
            // A snapshot that restores must save and open again (what the page does next).
            let text = timed(|| snapshot::save(&trainer, &saved.data).text());
            invariant!(text.is_ok(), "a restored snapshot cannot be saved: {}", text.as_ref().err().cloned().unwrap_or_default());
            let text = text.unwrap();
            let again = timed(|| snapshot::load(&text));
            invariant!(again.is_ok(), "a restored snapshot, saved again, does not load: {}", again.err().unwrap_or_default());
            Ok(format!("bottleneck {} {}", trainer.config().optimizer.name(), layer_kinds(trainer.net())))
        }
        Opened::ConvNetJs(net) => Ok(format!("convnetjs {}", export_round_trip(&net))),
    }
}

fn layer_kinds(net: &Network) -> String {
    net.layers().iter().map(|l| l.kind().name()).collect::<Vec<_>>().join("-")
}

/// Export a network to ConvNetJS JSON and import it again: the weights must come back.
fn export_round_trip(net: &Network) -> String {
    match timed(|| convnetjs::export(net)) {
        Ok(text) => {
            let back = timed(|| convnetjs::import(&text));
            invariant!(back.is_ok(), "an exported network does not import again: {}", back.as_ref().err().cloned().unwrap_or_default());
            let back = back.unwrap();
            let same = back.params().len() == net.params().len() && back.params().iter().zip(net.params()).all(|(a, b)| a.value == b.value);
            invariant!(same, "export then import changed the weights of {}", layer_kinds(net));
            format!("exported {}", layer_kinds(net))
        }
        Err(e) => format!("not exported: {}", e),
    }
}

fn target_convnetjs(input: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(input).map_err(|_| "not UTF-8".to_string())?;
    let net = timed(|| convnetjs::import(text))?;
    Ok(export_round_trip(&net))
}

/// An IDX pair packed into one input: a flags byte (bit 0: labels present), the images' length
/// as a little-endian u32, the images' bytes, then the labels' bytes.
pub fn idx_pack(images: &[u8], labels: Option<&[u8]>) -> Vec<u8> {
    let mut out = vec![labels.is_some() as u8];
    out.extend_from_slice(&(images.len() as u32).to_le_bytes());
    out.extend_from_slice(images);
    if let Some(labels) = labels {
        out.extend_from_slice(labels);
    }
    out
}

pub fn idx_unpack(input: &[u8]) -> (&[u8], Option<&[u8]>) {
    if input.len() < 5 {
        return (input, None);
    }
    let has_labels = input[0] & 1 == 1;
    let len = u32::from_le_bytes(input[1..5].try_into().unwrap()) as usize;
    let rest = &input[5..];
    let split = len.min(rest.len());
    (&rest[..split], has_labels.then_some(&rest[split..]))
}

fn target_idx(input: &[u8]) -> Result<String, String> {
    let (images, labels) = idx_unpack(input);
    let data = timed(|| idx::parse(images, labels))?;
    let n_px = data.width * data.height;
    invariant!(data.pixels.len() == data.n_images * n_px, "{} pixels for {} images of {}x{}", data.pixels.len(), data.n_images, data.width, data.height);
    invariant!(data.labels.as_ref().is_none_or(|l| l.len() == data.n_images), "labels do not match the images");
    invariant!(data.pixels.iter().all(|p| (0.0..=1.0).contains(p)), "a pixel outside [0, 1]");
    // What `bottleneck train --images --labels` does next: a session on these images (the
    // ConvNetJS preset, and the conv preset that keeps 1s and 8s resized to 36×36).
    let mut sig = format!("parsed {} labels", if data.labels.is_some() { "with" } else { "without" });
    if data.n_images <= 3000 && n_px <= 1 << 14 {
        let experiment = Experiment::preset(presets::DEFAULT, 1).expect("preset exists");
        match timed(|| Session::start(experiment, Some(data.clone()), step_clock(1.0))) {
            Ok(mut session) => {
                let _ = timed(|| session.apply(Command::Step));
                let _ = timed(|| session.evaluate(None));
                sig.push_str("; convnetjs ok");
            }
            Err(e) => sig.push_str(&format!("; convnetjs: {}", e.0)),
        }
        // The conv preset's data (1s and 8s resized to 36×36), without training its network.
        let conv_data = &presets::find("conv-1s-8s").expect("preset exists").data;
        match timed(|| conv_data.build(Some(&data), 1)) {
            Ok((train, valid)) => sig.push_str(&format!("; conv data {}+{}", train.n_images.min(1), valid.n_images.min(1))),
            Err(e) => sig.push_str(&format!("; conv data: {e}")),
        }
    }
    Ok(sig)
}

fn target_spec(input: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(input).map_err(|_| "not UTF-8".to_string())?;
    let spec = timed(|| NetSpec::from_json(text))?;
    let mut net = timed(|| Network::new(&spec, &mut Rng::from_seed(0))).map_err(|e| format!("Network::new: {e}"))?;
    // The spec the editor shows must read back as the same spec.
    let again = timed(|| NetSpec::from_json(&spec.to_json()));
    invariant!(again.as_ref() == Ok(&spec), "to_json does not read back: {:?}", again.err());
    // One batch of two through inference, then training's forward and backward.
    let batch = 2;
    let x: Vec<f32> = (0..batch * net.n_inputs()).map(|i| (i % 7) as f32 / 7.0).collect();
    let mut work = Workspace::default();
    let out = timed(|| net.infer(&mut work, &x, batch, None).output().to_vec());
    invariant!(out.len() == batch * net.n_outputs(), "infer gave {} outputs for a batch of {batch} with {} outputs", out.len(), net.n_outputs());
    timed(|| net.forward(&x, batch, None));
    let targets: Vec<f32> = if net.is_classifier() {
        (0..batch).flat_map(|b| (0..net.n_outputs()).map(move |o| (o == b % 2) as u8 as f32)).collect()
    } else {
        (0..batch * net.n_outputs()).map(|i| (i % 5) as f32 / 5.0).collect()
    };
    let _ = timed(|| net.backward(&targets));
    Ok(format!("built {}", layer_kinds(&net)))
}

/// A command's name as the protocol writes it: `"step"` or the key of `{"load": {...}}`.
fn command_name(value: &Value) -> String {
    match value {
        Value::String(name) => name.clone(),
        Value::Object(map) if map.len() == 1 => map.keys().next().cloned().unwrap_or_default(),
        _ => "?".into(),
    }
}

/// Everything a refused command must leave as it was: parameters, optimiser state, data order,
/// generator, comparison network, the state the controls show and the figures.
fn fingerprint(session: &Session) -> u64 {
    let mut bytes: Vec<u8> = Vec::new();
    let trainer = session.trainer();
    for p in trainer.net().params() {
        bytes.extend(p.value.iter().flat_map(|v| v.to_bits().to_le_bytes()));
    }
    for v in trainer.optim().slots.iter().flatten().flatten() {
        bytes.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    for c in session.comparisons() {
        for p in c.trainer.net().params() {
            bytes.extend(p.value.iter().flat_map(|v| v.to_bits().to_le_bytes()));
        }
    }
    let _ = write!(bytes, "{:?}{:?}{:?}{:?}", trainer.progress(), trainer.rng().state(), session.state(), session.stats());
    fnv64(&bytes)
}

fn target_command(input: &[u8], ctx: &Ctx) -> Result<String, String> {
    let text = std::str::from_utf8(input).map_err(|_| "not UTF-8".to_string())?;
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let commands: Vec<Value> = match value {
        Value::Array(items) if !items.is_empty() => items.into_iter().take(8).collect(),
        other => vec![other],
    };
    let mut sig = String::new();
    let mut parsed = Vec::new();
    for value in commands {
        let name = command_name(&value);
        match serde_json::from_value::<Command>(value) {
            Ok(c) => parsed.push((name, c)),
            Err(e) => sig.push_str(&format!("[bad command: {e}]")),
        }
    }
    if parsed.is_empty() {
        return Err(sig);
    }
    let experiment = Experiment::preset(presets::DEFAULT, 1).expect("default preset");
    let mut session = timed(|| Session::start(experiment, Some(ctx.digits.clone()), step_clock(1.0))).expect("the fuzz session starts");
    let mut work = Workspace::default();
    for (name, command) in parsed {
        let before = fingerprint(&session);
        match timed(|| session.apply(command)) {
            Ok(reply) => {
                match reply.payload {
                    Payload::Snapshot(text) => {
                        let back = timed(|| snapshot::load(&text));
                        invariant!(back.is_ok(), "the session's own snapshot does not load: {}", back.err().unwrap_or_default());
                    }
                    Payload::Convnetjs(text) => {
                        let back = timed(|| convnetjs::import(&text));
                        invariant!(back.is_ok(), "the session's ConvNetJS export does not import: {}", back.err().unwrap_or_default());
                    }
                    _ => {}
                }
                sig.push_str(&format!("[{name} ok]"));
            }
            Err(e) => {
                let after = fingerprint(&session);
                invariant!(before == after, "the refused command {name} ({}) changed the session", e.0);
                sig.push_str(&format!("[{name}: {}]", e.0));
            }
        }
        // What the worker does between messages: train for a moment.
        timed(|| session.run_for(5.0));
    }
    // Then draw every panel, as the page does after a command, on a phone and a desktop.
    for panel in Panel::ALL {
        for width in [panels::MIN_WIDTH, panel.natural_width()] {
            let _ = timed(|| panels::scene(panel, &session, &mut work, width));
        }
    }
    Ok(sig)
}

// ---------------------------------------------------------------------------------------------
// Seeds: real files made by the library
// ---------------------------------------------------------------------------------------------

const CONVNETJS_FC: &str = include_str!("seeds/convnetjs-fc.json");
const CONVNETJS_CONV: &str = include_str!("seeds/convnetjs-conv.json");

/// Inputs that once failed (or still do), kept as seeds so every run tries them first: a
/// network whose codes overflow to infinity (the scatter panel's positions), a classifier's
/// ConvNetJS export, and a spec with a 65,535-unit layer (slow to build).
const REGRESSIONS: &[(Target, &str)] = &[
    (Target::Command, include_str!("seeds/command-scatter-overflow.json")),
    (Target::Command, include_str!("seeds/command-classifier-export.json")),
    (Target::Spec, include_str!("seeds/spec-giant-layer.json")),
];

fn config(json: &str) -> TrainConfig {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("fuzz seed config {json}: {e}"))
}

/// Random images of the network's input shape (labels below its outputs), to train a few steps.
fn data_for(net: &Network, n_images: usize, seed: u64) -> Dataset {
    let mut r = Rand::new(seed);
    let n = net.n_inputs();
    let pixels = (0..n_images * n).map(|_| (r.next() % 1000) as f32 / 1000.0).collect();
    let classes = net.n_outputs().clamp(1, 10);
    let labels = (0..n_images).map(|i| (i % classes) as u8).collect();
    Dataset::new(n, 1, pixels, Some(labels))
}

/// A trainer of `spec` with `train`, a few steps in on the data `data` describes (built from
/// synthetic digits; random images where the network does not fit it), saved with `data`.
fn trained_snapshot(spec: &NetSpec, train: TrainConfig, data: &DataSpec, steps: usize, digits: &Dataset) -> String {
    let mut trainer = Trainer::new(spec, train, 3).unwrap_or_else(|e| panic!("fuzz seed trainer: {e}"));
    let images = match data.build(Some(digits), 3) {
        Ok((built, _)) if built.n_pixels() == trainer.net().n_inputs() && built.n_images > 0 => built,
        _ => data_for(trainer.net(), 40, 9),
    };
    for _ in 0..steps {
        let _ = trainer.step(&images);
    }
    snapshot::save(&trainer, data).text().unwrap_or_else(|e| panic!("fuzz seed snapshot: {e}"))
}

fn small_specs() -> Vec<(&'static str, String)> {
    let dense = |w: usize, h: usize, code: usize, act: &str, out: &str, loss: &str| {
        format!(
            r#"{{"layers":[{{"type":"input","width":{w},"height":{h},"depth":1}},{{"type":"fc","name":"enc","units":6,"activation":"{act}"}},{{"type":"fc","name":"code","units":{code},"activation":"linear","code":true}},{{"type":"fc","name":"dec","units":6,"activation":"{act}"}},{{"type":"fc","name":"out","units":{},"activation":"{out}"}},{{"type":"output","loss":"{loss}"}}]}}"#,
            w * h
        )
    };
    vec![
        ("dense-4x4", dense(4, 4, 2, "tanh", "linear", "mse")),
        ("dense-8", dense(8, 1, 3, "relu", "sigmoid", "bce")),
        ("tied", r#"{"layers":[{"type":"input","width":4,"height":4,"depth":1},{"type":"fc","name":"hidden","units":5,"activation":"sigmoid","code":true},{"type":"fc","name":"out","units":16,"activation":"sigmoid","tied":"hidden"},{"type":"output","loss":"bce","mean":true}]}"#.into()),
        ("top-k", r#"{"layers":[{"type":"input","width":4,"height":4,"depth":1},{"type":"fc","name":"hidden","units":12,"activation":"linear","top_k":3,"init_std":0.01},{"type":"fc","name":"out","units":16,"activation":"linear","tied":"hidden"},{"type":"output","loss":"mse"}]}"#.into()),
        ("conv", r#"{"layers":[{"type":"input","width":6,"height":6,"depth":1},{"type":"conv","name":"conv1","filters":2,"size":3,"stride":1,"pad":1,"activation":"tanh"},{"type":"conv","name":"conv2","filters":1,"size":2,"stride":2,"activation":"tanh","code":true},{"type":"deconv","name":"deconv2","filters":2,"size":2,"stride":2,"activation":"tanh","tied":"conv2"},{"type":"deconv","name":"deconv1","filters":1,"size":3,"stride":1,"pad":1,"activation":"linear","tied":"conv1"},{"type":"output","loss":"mse"}]}"#.into()),
        ("classifier", r#"{"layers":[{"type":"input","width":4,"height":4,"depth":1},{"type":"fc","name":"h","units":5,"activation":"sigmoid","code":true},{"type":"fc","name":"out","units":10,"activation":"linear"},{"type":"output","loss":"softmax"}]}"#.into()),
    ]
}

fn small_configs() -> Vec<TrainConfig> {
    [
        r#"{"optimizer":{"type":"sgd","lr":0.05,"momentum":0.9,"nesterov":true},"batch_size":4,"l2_decay":0.001}"#,
        r#"{"optimizer":{"type":"adagrad","lr":0.01},"batch_size":5,"l1_decay":0.0001,"noise":{"type":"masking","fraction":0.3}}"#,
        r#"{"optimizer":{"type":"rmsprop","lr":0.001},"batch_size":3,"noise":{"type":"gaussian","sigma":0.2}}"#,
        r#"{"optimizer":{"type":"adadelta","rho":0.95,"eps":1e-8},"batch_size":6,"noise":{"type":"salt_pepper","fraction":0.1}}"#,
        r#"{"optimizer":{"type":"adam","lr":0.01},"batch_size":4,"k_schedule":{"start":10,"anneal_examples":40}}"#,
    ]
    .iter()
    .map(|j| config(j))
    .collect()
}

/// Data that fits a network of `n_inputs` (and, once, the plain digits, which do not).
fn small_data_specs(n_inputs: usize) -> Vec<DataSpec> {
    let mut out = Vec::new();
    if n_inputs == 16 {
        out.push(DataSpec::Mnist { classes: Some(vec![1, 8]), size: Some((4, 4)) });
        out.push(DataSpec::Mnist { classes: None, size: Some((4, 4)) });
    }
    if n_inputs == 36 {
        out.push(DataSpec::Mnist { classes: None, size: Some((6, 6)) });
    }
    if n_inputs == 8 {
        out.push(DataSpec::Linear { n_samples: 20, n_independent: 3, dim: 8 });
    }
    out.push(DataSpec::mnist());
    out
}

/// Snapshots of small networks (every optimiser, noise and data kind) and of each preset whose
/// snapshot fits in `max_len`, each trained a few steps; ConvNetJS files from ConvNetJS itself
/// and from our export.
fn snapshot_seeds(ctx: &Ctx, max_len: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let configs = small_configs();
    for (k, (_, spec_json)) in small_specs().iter().enumerate() {
        let spec = NetSpec::from_json(spec_json).expect("seed spec");
        let n_inputs = spec.check().expect("seed spec").n_inputs;
        let data = small_data_specs(n_inputs);
        for (c, train) in configs.iter().enumerate() {
            if (k + c) % 2 == 0 || c == k % configs.len() {
                let mut train = train.clone();
                if !spec_json.contains("top_k") {
                    train.k_schedule = None;
                }
                out.push(trained_snapshot(&spec, train, &data[(k + c) % data.len()], 3, &ctx.digits).into_bytes());
            }
        }
    }
    for preset in presets::all() {
        let text = trained_snapshot(&preset.spec, preset.train.clone(), &preset.data, 2, &ctx.digits);
        if text.len() <= max_len {
            out.push(text.into_bytes());
        }
    }
    out.extend(convnetjs_seeds());
    out.retain(|s| s.len() <= max_len);
    out
}

fn convnetjs_seeds() -> Vec<Vec<u8>> {
    let mut out = vec![CONVNETJS_FC.as_bytes().to_vec(), CONVNETJS_CONV.as_bytes().to_vec()];
    for (name, spec_json) in small_specs() {
        if name == "conv" {
            continue; // deconv: ConvNetJS has none
        }
        let net = Network::new(&NetSpec::from_json(&spec_json).unwrap(), &mut Rng::from_seed(5)).unwrap();
        if let Ok(text) = convnetjs::export(&net) {
            out.push(text.into_bytes());
        }
    }
    let conv_only = r#"{"layers":[{"type":"input","width":5,"height":5,"depth":2},{"type":"conv","filters":3,"size":3,"stride":2,"pad":1,"activation":"relu"},{"type":"fc","units":4,"activation":"sigmoid"},{"type":"fc","units":50,"activation":"linear"},{"type":"output","loss":"mse"}]}"#;
    let net = Network::new(&NetSpec::from_json(conv_only).unwrap(), &mut Rng::from_seed(6)).unwrap();
    out.push(convnetjs::export(&net).expect("conv exports").into_bytes());
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn gunzip_bounded(bytes: &[u8], limit: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).take(limit).read_to_end(&mut out).ok()?;
    Some(out)
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}

fn idx_seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut r = Rand::new(11);
    for (n, rows, cols) in [(3usize, 28usize, 28usize), (20, 28, 28), (2, 3, 4), (5, 1, 1), (12, 36, 36)] {
        let pixels: Vec<u8> = (0..n * rows * cols).map(|_| r.next() as u8).collect();
        let labels: Vec<u8> = (0..n).map(|i| [1u8, 8, 3][i % 3]).collect();
        let images = idx::encode_images(&pixels, n, rows, cols);
        let labels = idx::encode_labels(&labels);
        out.push(idx_pack(&images, Some(&labels)));
        out.push(idx_pack(&images, None));
        out.push(idx_pack(&gzip(&images), Some(&gzip(&labels))));
        out.push(idx_pack(&gzip(&images), Some(&labels)));
    }
    out
}

fn spec_seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for preset in presets::all() {
        out.push(preset.spec.to_json().into_bytes());
        for spec in preset.comparisons.iter().filter_map(|c| c.spec.as_ref()) {
            out.push(spec.to_json().into_bytes());
        }
    }
    out.extend(small_specs().into_iter().map(|(_, s)| s.into_bytes()));
    out
}

/// A `load` of text bytes, as a JSON string (serde_bytes also reads a string; an array of
/// numbers is four times longer).
fn load_as_text(bytes: &str) -> String {
    serde_json::json!({ "load": { "bytes": bytes } }).to_string()
}

/// Every command as serde_json writes it (`"step"`, `{"load-preset": {...}}`), written as JSON
/// so that the seeds do not depend on the Rust shape of the enum; loads of real snapshots and
/// ConvNetJS files, digits of one's own (IDX), and a few sequences as a page sends them.
fn command_seeds(ctx: &Ctx, max_len: usize) -> Vec<Vec<u8>> {
    use serde_json::json;
    let mut commands: Vec<Value> = [
        "pause", "resume", "step", "save", "export-convnetjs", "cycle", "clear-graph", "stop-compare", "describe", "built-in-digits",
    ]
    .iter()
    .map(|name| json!(name))
    .collect();
    commands.extend([
        json!({"reset": {"seed": null}}),
        json!({"reset": {"seed": 7}}),
        json!({"set-learning-rate": {"lr": 0.01}}),
        json!({"view": {"layer": 1, "x": 0, "y": 1, "log_y": true}}),
        json!({"view": {"layer": null, "x": null, "y": null, "log_y": null}}),
        json!({"view": {"layer": 2, "x": 1, "y": 0, "manifold": true, "log_y": false}}),
        json!({"compare": {"label": null, "spec": null, "config": null}}),
        json!({"set-speed": {"steps_per_second": 5.0}}),
        json!({"set-speed": {"steps_per_second": null}}),
        json!({"mark": {"digits": []}}),
        json!({"mark": {"digits": [ctx.digits.image(3).to_vec(), ctx.digits.image(500).to_vec()]}}),
        json!({"mark": {"digits": [ctx.digits.image(7).iter().map(|p| p.min(1.0)).collect::<Vec<f32>>()]}}),
        json!({"load-preset": {"name": "k-sparse", "seed": 3}}),
    ]);
    for preset in presets::all() {
        commands.push(json!({"load-preset": {"name": preset.name, "seed": null}}));
        commands.push(json!({"set-config": {"config": preset.train}}));
    }
    commands.push(json!({"load-spec": {"spec": presets::find(presets::DEFAULT).unwrap().spec.to_json()}}));
    for config in small_configs() {
        commands.push(json!({"set-config": {"config": TrainConfig { batch_size: 16, ..config }}}));
    }
    let small_784 = r#"{"layers":[{"type":"input","width":28,"height":28,"depth":1},{"type":"fc","name":"code","units":2,"activation":"tanh","code":true},{"type":"fc","name":"out","units":784,"activation":"sigmoid","tied":"code"},{"type":"output","loss":"bce"}]}"#;
    let scaled_784 = r#"{"layers":[{"type":"input","width":28,"height":28,"depth":1},{"type":"fc","name":"enc","units":8,"activation":"tanh","init_std":0.05},{"type":"fc","name":"code","units":2,"activation":"linear","code":true,"init_std":0.5},{"type":"fc","name":"out","units":784,"activation":"linear","init_std":0.1},{"type":"output","loss":"mse","mean":true}]}"#;
    commands.push(json!({"load-spec": {"spec": small_784}}));
    commands.push(json!({"load-spec": {"spec": scaled_784}}));
    commands.push(json!({"compare": {"label": "narrow", "spec": small_784, "config": small_configs()[4]}}));
    commands.push(json!({"compare": {"label": null, "spec": null, "config": small_configs()[0]}}));
    // Digits of one's own: IDX files, plain and gzipped.
    let pixels: Vec<u8> = (0..30 * 784).map(|i| (ctx.digits.pixels[i] * 255.0) as u8).collect();
    let labels: Vec<u8> = (0..30).map(|i| (i % 10) as u8).collect();
    let (images, labels) = (idx::encode_images(&pixels, 30, 28, 28), idx::encode_labels(&labels));
    commands.push(json!({"use-digits": {"files": [labels, images]}}));
    commands.push(json!({"use-digits": {"files": [gzip(&images)]}}));
    // Loads: tiny snapshots whose data the session builds (linear vectors, digits resized to
    // 4×4), a ConvNetJS file of a 784-input network, and the session's own snapshot.
    let linear_spec = NetSpec::from_json(&small_specs()[1].1).unwrap();
    let linear = trained_snapshot(&linear_spec, small_configs()[4].clone(), &DataSpec::Linear { n_samples: 20, n_independent: 3, dim: 8 }, 2, &ctx.digits);
    let spec16 = NetSpec::from_json(&small_specs()[0].1).unwrap();
    let resized = trained_snapshot(&spec16, small_configs()[1].clone(), &DataSpec::Mnist { classes: Some(vec![1, 8]), size: Some((4, 4)) }, 2, &ctx.digits);
    commands.push(json!({"load": {"bytes": linear.as_bytes()}}));
    commands.push(json!({"load": {"bytes": resized.as_bytes()}}));
    let mut out: Vec<Vec<u8>> = commands.iter().map(|c| c.to_string().into_bytes()).collect();
    let net784 = Network::new(&NetSpec::from_json(small_784).unwrap(), &mut Rng::from_seed(2)).unwrap();
    let cnj784 = convnetjs::export(&net784).text().expect("a dense network exports");
    out.push(load_as_text(&linear).into_bytes());
    out.push(load_as_text(&resized).into_bytes());
    out.push(load_as_text(&cnj784).into_bytes());
    let mut session = Session::start(Experiment::preset(presets::DEFAULT, 1).unwrap(), Some(ctx.digits.clone()), step_clock(1.0)).unwrap();
    let _ = session.apply(Command::Step);
    out.push(load_as_text(&session.snapshot_text().text().expect("the seed session saves")).into_bytes());
    // A few sequences, as a page sends them.
    let load_linear: Value = serde_json::from_str(&load_as_text(&linear)).unwrap();
    for seq in [
        json!(["step", "save", {"reset": {"seed": 2}}]),
        json!([{"load-preset": {"name": "denoising", "seed": null}}, {"compare": {"label": null, "spec": null, "config": null}}, "step", "stop-compare"]),
        json!([{"load-preset": {"name": "linear-20", "seed": 4}}, {"view": {"layer": 0, "x": 3, "y": 19, "log_y": null}}, "cycle", "export-convnetjs"]),
        json!([{"load-preset": {"name": "pretrain", "seed": null}}, "step", "save", "export-convnetjs"]),
        json!([{"load-preset": {"name": "conv-1s-8s", "seed": null}}, "step", "export-convnetjs", {"view": {"layer": 1, "x": 1, "y": 0, "log_y": false}}]),
        json!([load_linear, "step", {"set-learning-rate": {"lr": 1e30}}, "step", "step"]),
        json!([{"use-digits": {"files": [images, labels]}}, {"load-preset": {"name": "turnoff", "seed": null}}, "step", "built-in-digits"]),
    ] {
        out.push(seq.to_string().into_bytes());
    }
    out.retain(|s| s.len() <= max_len);
    out
}

pub fn seeds(target: Target, ctx: &Ctx, max_len: usize) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = REGRESSIONS.iter().filter(|(t, _)| *t == target).map(|(_, text)| text.trim().as_bytes().to_vec()).collect();
    out.extend(match target {
        Target::Snapshot => snapshot_seeds(ctx, max_len),
        Target::Convnetjs => convnetjs_seeds(),
        Target::Idx => idx_seeds(),
        Target::Spec => spec_seeds(),
        Target::Command => command_seeds(ctx, max_len),
    });
    out.retain(|s| s.len() <= max_len);
    out
}

// ---------------------------------------------------------------------------------------------
// Mutation
// ---------------------------------------------------------------------------------------------

/// Numbers worth trying: limits of the types involved and of the library's checks.
const INTERESTING_NUMBERS: &[&str] = &[
    "0", "-1", "1", "2", "3", "7", "9", "10", "16", "17", "27", "28", "29", "36", "255", "256", "257", "784", "1000", "1023",
    "1024", "1025", "4095", "4096", "4097", "65535", "65536", "65537", "1048576", "16777216", "67108864", "2147483647",
    "2147483648", "4294967295", "4294967296", "9007199254740993", "9223372036854775807", "9223372036854775808",
    "18446744073709551615", "18446744073709551616", "-9223372036854775808", "-2147483648", "1e308", "-1e308", "1e-308",
    "5e-324", "1e400", "-1e400", "3.4028235e38", "3.5e38", "-3.5e38", "1e-45", "1e-50", "0.5", "-0.5", "-0", "0.0", "1.0",
    "1e30", "-1e30", "0.999999", "1.000001", "100000000000000000000000000000",
];

/// Stand-ins for numbers JSON cannot hold.
const NON_NUMBERS: &[&str] = &["\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"nan\"", "\"1e999\"", "null", "true", "false", "\"\"", "[]", "{}", "\"0\""];

const TOKENS: &[&str] = &[
    "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u0000", "\\ud800", "null", "true", "false", "-", "e", "E", "+", ".", "0", "\"a\":1",
    "[[[[[[[[", "]]]]]]]]", "{\"\":{}}", "\u{feff}", "\u{0}", "é", "\u{1F4A5}", " ", "\n",
];

/// Marker strings the JSON writer turns into raw text: a number JSON values cannot hold, and
/// a key written twice.
const RAW: &str = "\u{1}RAW\u{1}";
const DUP: &str = "\u{1}DUP\u{1}";

fn finish_json(value: &Value) -> String {
    let text = serde_json::to_string(value).expect("values serialize");
    if !text.contains("\\u0001") {
        return text;
    }
    let mut out = text.replace("\"\\u0001DUP\\u0001", "\"");
    while let Some(at) = out.find("\"\\u0001RAW\\u0001") {
        let start = at + "\"\\u0001RAW\\u0001".len();
        let end = out[start..].find('"').map_or(out.len(), |e| start + e);
        let raw = out[start..end].to_string();
        out.replace_range(at..(end + 1).min(out.len()), &raw);
    }
    out
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The k-th node in pre-order.
fn nth_node_mut(v: &mut Value, k: usize) -> &mut Value {
    if k == 0 {
        return v;
    }
    let mut k = k - 1;
    match v {
        Value::Array(a) => {
            for child in a.iter_mut() {
                let n = count_nodes(child);
                if k < n {
                    return nth_node_mut(child, k);
                }
                k -= n;
            }
        }
        Value::Object(o) => {
            for child in o.values_mut() {
                let n = count_nodes(child);
                if k < n {
                    return nth_node_mut(child, k);
                }
                k -= n;
            }
        }
        _ => {}
    }
    unreachable!("node index in range")
}

fn nth_node(v: &Value, k: usize) -> &Value {
    if k == 0 {
        return v;
    }
    let mut k = k - 1;
    let children: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => o.values().collect(),
        _ => vec![],
    };
    for child in children {
        let n = count_nodes(child);
        if k < n {
            return nth_node(child, k);
        }
        k -= n;
    }
    unreachable!("node index in range")
}

fn collect_strings(v: &Value, keys: &mut HashSet<String>, strings: &mut HashSet<String>) {
    match v {
        Value::String(s) if s.len() <= 64 => {
            strings.insert(s.clone());
        }
        Value::Array(a) => a.iter().for_each(|c| collect_strings(c, keys, strings)),
        Value::Object(o) => {
            for (k, c) in o {
                keys.insert(k.clone());
                collect_strings(c, keys, strings);
            }
        }
        _ => {}
    }
}

/// A JSON string holding a JSON document (a spec in a command, snapshot bytes in a load), or
/// an array of byte values that is one: mutated inside, with the same moves.
fn embedded_json(v: &Value) -> Option<(Value, bool)> {
    match v {
        Value::String(s) if s.len() > 1 && (s.starts_with('{') || s.starts_with('[')) => serde_json::from_str(s).ok().map(|inner| (inner, false)),
        Value::Array(a) if a.len() > 8 && a.iter().all(|x| x.as_u64().is_some_and(|b| b < 256)) => {
            let bytes: Vec<u8> = a.iter().map(|x| x.as_u64().unwrap() as u8).collect();
            let text = std::str::from_utf8(&bytes).ok()?;
            serde_json::from_str::<Value>(text).ok().filter(|inner| inner.is_object()).map(|inner| (inner, true))
        }
        _ => None,
    }
}

pub struct Mutator {
    pub max_len: usize,
    keys: Vec<String>,
    strings: Vec<String>,
    /// Parsed seeds, to take subtrees from.
    donors: Vec<Value>,
    /// gzip bombs, made on first use: (inflated MiB, images of 32×32 or 1024×1024) → bytes.
    bombs: Vec<((usize, bool), Vec<u8>)>,
}

impl Mutator {
    pub fn new(seeds: &[Vec<u8>], max_len: usize) -> Mutator {
        let mut keys = HashSet::new();
        let mut strings = HashSet::new();
        let mut donors = Vec::new();
        for seed in seeds {
            if let Ok(v) = serde_json::from_slice::<Value>(seed) {
                collect_strings(&v, &mut keys, &mut strings);
                if let Some((inner, _)) = embedded_json(&v).or_else(|| first_embedded(&v)) {
                    collect_strings(&inner, &mut keys, &mut strings);
                    donors.push(inner);
                }
                donors.push(v);
            }
        }
        for p in presets::all() {
            strings.insert(p.name.clone());
        }
        let mut keys: Vec<String> = keys.into_iter().collect();
        let mut strings: Vec<String> = strings.into_iter().collect();
        keys.sort();
        strings.sort();
        Mutator { max_len, keys, strings, donors, bombs: Vec::new() }
    }

    /// A new input from `base` (and `other`, for splices).
    pub fn mutate(&mut self, target: Target, base: &[u8], other: &[u8], r: &mut Rand) -> Vec<u8> {
        let mut data = base.to_vec();
        let structured = if target.is_json() { 0.6 } else { 0.55 };
        let mut changed = false;
        if r.chance(structured) {
            if target.is_json() {
                if let Ok(mut value) = serde_json::from_slice::<Value>(&data) {
                    let n = r.geometric(4);
                    for _ in 0..n {
                        self.mutate_json(&mut value, r, 0);
                    }
                    let text = finish_json(&value);
                    if text.len() <= self.max_len {
                        data = text.into_bytes();
                        changed = true;
                    }
                }
            } else {
                data = self.mutate_idx(&data, r);
                changed = true;
            }
        }
        if !changed || r.chance(0.3) {
            let n = r.geometric(6);
            for _ in 0..n {
                self.mutate_bytes(&mut data, other, r);
            }
        }
        data.truncate(self.max_len);
        data
    }

    /// One of the interesting numbers: as a JSON number where serde_json keeps its text (half
    /// the time otherwise), else written raw (1e400, -0, 2^64 do not survive a `Value`).
    #[allow(clippy::cmp_owned)]
    fn interesting_number(&self, r: &mut Rand) -> Value {
        let text = *r.pick(INTERESTING_NUMBERS);
        match serde_json::from_str::<Value>(text) {
            Ok(v) if v.to_string() == text || r.chance(0.5) => v,
            _ => Value::String(format!("{RAW}{text}")),
        }
    }

    fn random_scalar(&self, r: &mut Rand) -> Value {
        match r.below(5) {
            0 => self.interesting_number(r),
            1 => Value::String(r.pick(&self.strings).clone()),
            2 => serde_json::from_str(r.pick::<&str>(NON_NUMBERS)).unwrap(),
            3 => Value::Bool(r.chance(0.5)),
            _ => Value::from(r.below(100)),
        }
    }

    fn donor_subtree(&self, r: &mut Rand) -> Value {
        if self.donors.is_empty() {
            return Value::Null;
        }
        let donor = r.pick(&self.donors);
        nth_node(donor, r.below(count_nodes(donor))).clone()
    }

    fn mutate_json(&self, root: &mut Value, r: &mut Rand, depth: usize) {
        let total = count_nodes(root);
        let k = r.below(total);
        let budget = self.max_len.saturating_sub(root.to_string().len().min(self.max_len));
        let node = nth_node_mut(root, k);
        // Mutate inside an embedded document.
        if depth < 2 {
            if let Some((mut inner, as_bytes)) = embedded_json(node) {
                if r.chance(0.7) {
                    for _ in 0..r.geometric(3) {
                        self.mutate_json(&mut inner, r, depth + 1);
                    }
                    let text = finish_json(&inner);
                    *node = if as_bytes { Value::Array(text.bytes().map(Value::from).collect()) } else { Value::String(text) };
                    return;
                }
            }
        }
        match r.below(10) {
            // Replace with another subtree, from this document or a seed.
            0 => *node = self.donor_subtree(r),
            1 => *node = self.random_scalar(r),
            2 => {
                // Deep nesting.
                let levels = *r.pick(&[2usize, 20, 127, 128, 129, 300]);
                let mut v = node.take();
                for _ in 0..levels {
                    v = Value::Array(vec![v]);
                }
                *node = v;
            }
            _ => match node {
                Value::Number(n) => {
                    *node = match r.below(4) {
                        0 | 1 => self.interesting_number(r),
                        2 => serde_json::from_str(r.pick::<&str>(NON_NUMBERS)).unwrap(),
                        _ => {
                            let f = n.as_f64().unwrap_or(0.0);
                            let g = match r.below(6) {
                                0 => f + 1.0,
                                1 => f - 1.0,
                                2 => f * 2.0,
                                3 => -f,
                                4 => f * 1000.0,
                                _ => f / 3.0,
                            };
                            if g.fract() == 0.0 && g.abs() < 9e15 {
                                Value::from(g as i64)
                            } else {
                                serde_json::Number::from_f64(g).map(Value::Number).unwrap_or(Value::Null)
                            }
                        }
                    }
                }
                Value::String(s) => {
                    *node = match r.below(6) {
                        0 | 1 => Value::String(r.pick(&self.strings).clone()),
                        2 => Value::String(String::new()),
                        3 => Value::String(s.repeat(1 + r.below(50)).chars().take(budget.max(1)).collect()),
                        4 => Value::String(r.pick(&["\u{0}", "é", "\u{1F4A5}", "a\"b", "NaN", "-1", "fc", "conv", "deconv"]).to_string()),
                        _ => self.interesting_number(r),
                    }
                }
                Value::Array(items) => match r.below(7) {
                    0 if !items.is_empty() => {
                        // Huge: repeat an element as often as the length bound allows.
                        let item = items[r.below(items.len())].clone();
                        let size = item.to_string().len() + 1;
                        let room = budget / size;
                        let n = [room, room / 2, 1000.min(room), 100_000.min(room)][r.below(4)];
                        items.extend(std::iter::repeat_n(item, n));
                    }
                    1 => items.clear(),
                    2 if !items.is_empty() => {
                        items.remove(r.below(items.len()));
                    }
                    3 if !items.is_empty() => {
                        let i = r.below(items.len());
                        let item = items[i].clone();
                        items.insert(i, item);
                    }
                    4 if items.len() > 1 => {
                        let (i, j) = (r.below(items.len()), r.below(items.len()));
                        items.swap(i, j);
                    }
                    5 => items.truncate(items.len() / 2),
                    _ => items.push(self.donor_subtree(r)),
                },
                Value::Object(map) => {
                    let keys: Vec<String> = map.keys().cloned().collect();
                    match r.below(6) {
                        0 if !keys.is_empty() => {
                            map.remove(r.pick(&keys));
                        }
                        1 if !keys.is_empty() => {
                            // The same key twice.
                            let key = r.pick(&keys).clone();
                            let value = if r.chance(0.5) { self.random_scalar(r) } else { map[&key].clone() };
                            map.insert(format!("{DUP}{key}"), value);
                        }
                        2 if !keys.is_empty() => {
                            // Rename a key.
                            let key = r.pick(&keys).clone();
                            let value = map.remove(&key).unwrap();
                            map.insert(r.pick(&self.keys).clone(), value);
                        }
                        3 if keys.len() > 1 => {
                            // Swap two values.
                            let (a, b) = (r.pick(&keys).clone(), r.pick(&keys).clone());
                            let va = map[&a].clone();
                            let vb = std::mem::replace(map.get_mut(&b).unwrap(), va);
                            map.insert(a, vb);
                        }
                        _ => {
                            let value = if r.chance(0.5) { self.random_scalar(r) } else { self.donor_subtree(r) };
                            map.insert(r.pick(&self.keys).clone(), value);
                        }
                    }
                }
                _ => *node = if r.chance(0.5) { self.random_scalar(r) } else { self.donor_subtree(r) },
            },
        }
    }

    fn mutate_bytes(&self, data: &mut Vec<u8>, other: &[u8], r: &mut Rand) {
        let len = data.len();
        let pos = r.below(len + 1);
        let span = |r: &mut Rand, limit: usize| {
            let cap = if r.chance(0.9) { 32 } else { limit };
            if limit == 0 {
                0
            } else {
                1 + r.below(limit.min(cap))
            }
        };
        match r.below(12) {
            0 if len > 0 => {
                let i = r.below(len);
                data[i] ^= 1 << r.below(8);
            }
            1 if len > 0 => {
                let i = r.below(len);
                data[i] = *r.pick(&[0u8, 0xff, 0x7f, 0x80, b'"', b'{', b'}', b'[', b']', b',', b':', b'\\', b'0', b'-', b'e', b'9', 0x1f, 0x8b, 8]);
            }
            2 => {
                let n = 1 + r.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| r.next() as u8).collect();
                data.splice(pos..pos, bytes);
            }
            3 if len > 0 => {
                let n = span(r, len - pos.min(len - 1));
                let start = pos.min(len - 1);
                data.drain(start..(start + n).min(len));
            }
            4 if len > 0 => {
                // Duplicate a chunk somewhere.
                let start = r.below(len);
                let n = span(r, len - start);
                let chunk = data[start..start + n].to_vec();
                data.splice(pos..pos, chunk);
            }
            5 if len > 1 => {
                // Overwrite with a chunk from elsewhere.
                let (from, to) = (r.below(len), r.below(len));
                let n = span(r, (len - from).min(len - to));
                let chunk = data[from..from + n].to_vec();
                data[to..to + n].copy_from_slice(&chunk);
            }
            6 => {
                let token: Vec<u8> = match r.below(3) {
                    0 => r.pick(TOKENS).as_bytes().to_vec(),
                    1 if !self.keys.is_empty() => format!("\"{}\":", r.pick(&self.keys)).into_bytes(),
                    _ if !self.strings.is_empty() => format!("\"{}\"", r.pick(&self.strings)).into_bytes(),
                    _ => b"0".to_vec(),
                };
                data.splice(pos..pos, token);
            }
            7 => {
                // Replace a run of digits with an interesting number.
                let digits: Vec<usize> = (0..len).filter(|&i| data[i].is_ascii_digit() && (i == 0 || !data[i - 1].is_ascii_digit())).collect();
                if digits.is_empty() {
                    return;
                }
                let start = *r.pick(&digits);
                let end = (start..len).find(|&i| !(data[i].is_ascii_digit() || data[i] == b'.' || data[i] == b'e' || data[i] == b'-')).unwrap_or(len);
                data.splice(start..end, r.pick(INTERESTING_NUMBERS).bytes());
            }
            8 if !other.is_empty() => {
                // Splice: a prefix of this and a suffix of the other.
                let cut = r.below(other.len());
                data.truncate(pos);
                data.extend_from_slice(&other[cut..]);
            }
            9 => {
                let n = *r.pick(&[100usize, 1000, 10_000, 100_000]);
                let n = n.min(self.max_len.saturating_sub(len));
                let byte = *r.pick(&[b'9', b'[', b'{', b' ', b'0', 0u8, b'a']);
                data.splice(pos..pos, std::iter::repeat_n(byte, n));
            }
            10 if len > 0 => {
                let i = r.below(len);
                data[i] = data[i].wrapping_add((r.below(33) as u8).wrapping_sub(16));
            }
            11 if len >= 4 => {
                // A 32-bit integer, either endianness.
                let i = r.below(len - 3);
                let v = *r.pick(&[0u32, 1, 2, 0xff, 0x100, 0xffff, 0x10000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 28, 1024, 4096, 65536]);
                let bytes = if r.chance(0.5) { v.to_be_bytes() } else { v.to_le_bytes() };
                data[i..i + 4].copy_from_slice(&bytes);
            }
            _ => {
                if len > 0 {
                    data.truncate(r.below(len));
                }
            }
        }
    }

    /// Structure-aware moves for IDX pairs: inflate, change the header or body, deflate again;
    /// make a header agree with its body; labels out of range; a gzip bomb.
    fn mutate_idx(&mut self, input: &[u8], r: &mut Rand) -> Vec<u8> {
        let (images, labels) = idx_unpack(input);
        let (mut images, mut labels) = (images.to_vec(), labels.map(|l| l.to_vec()));
        if r.chance(0.01) {
            return self.bomb(r, labels.as_deref());
        }
        match r.below(8) {
            0 => labels = if labels.is_some() { None } else { Some(idx::encode_labels(&[1, 8, 3])) },
            1 => std::mem::swap(&mut images, labels.get_or_insert_with(Vec::new)),
            _ => {
                let use_labels = labels.is_some() && r.chance(0.3);
                let part = match labels.as_mut() {
                    Some(labels) if use_labels => labels,
                    _ => &mut images,
                };
                let zipped = is_gzip(part);
                let mut plain = if zipped { gunzip_bounded(part, 64 << 20).unwrap_or_else(|| part.clone()) } else { part.clone() };
                self.mutate_idx_plain(&mut plain, r);
                *part = if (zipped && r.chance(0.85)) || (!zipped && r.chance(0.15)) { gzip(&plain) } else { plain };
            }
        }
        idx_pack(&images, labels.as_deref())
    }

    fn mutate_idx_plain(&self, plain: &mut Vec<u8>, r: &mut Rand) {
        let ndims = plain.get(3).copied().unwrap_or(0) as usize;
        let header = 4 + 4 * ndims;
        match r.below(7) {
            0 if plain.len() >= header && ndims > 0 => {
                let d = r.below(ndims);
                let v = *r.pick(&[0u32, 1, 2, 3, 27, 28, 29, 36, 255, 256, 1024, 4096, 65535, 65536, 1 << 20, 0x7fff_ffff, 0xffff_ffff]);
                plain[4 + 4 * d..8 + 4 * d].copy_from_slice(&v.to_be_bytes());
            }
            1 if plain.len() >= header && ndims > 0 => {
                // Make the header agree with the body, in one of a few shapes.
                let body = (plain.len() - header) as u32;
                let dims: Vec<u32> = match (ndims, r.below(3)) {
                    (3, 0) => vec![1, 1, body],
                    (3, 1) => vec![body, 1, 1],
                    (3, _) => vec![body / 784, 28, 28],
                    (_, _) => std::iter::once(body).chain(std::iter::repeat(1)).take(ndims).collect(),
                };
                for (d, v) in dims.iter().enumerate() {
                    plain[4 + 4 * d..8 + 4 * d].copy_from_slice(&v.to_be_bytes());
                }
                if ndims == 3 && dims[1] == 28 {
                    plain.truncate(header + (body as usize / 784) * 784);
                }
            }
            2 if plain.len() > header => {
                // Labels (or pixels) out of range.
                for _ in 0..r.geometric(8) {
                    let i = header + r.below(plain.len() - header);
                    plain[i] = *r.pick(&[10u8, 11, 200, 255]);
                }
            }
            3 if plain.len() >= 4 => {
                let i = r.below(4);
                plain[i] = *r.pick(&[0u8, 1, 3, 8, 9, 0x0d, 0xff]);
            }
            4 => {
                let n = (r.below(4096) + 1).min(self.max_len);
                let fill = r.next() as u8;
                plain.extend(std::iter::repeat_n(fill, n));
            }
            _ => {
                for _ in 0..r.geometric(4) {
                    self.mutate_bytes(plain, &[], r);
                }
            }
        }
    }

    /// A gzipped IDX images file whose header agrees with a body of zeros of up to ~1,000 MiB
    /// (deflate packs 1 MiB of zeros in about 1 KB, so this fits the length bound).
    fn bomb(&mut self, r: &mut Rand, labels: Option<&[u8]>) -> Vec<u8> {
        let max_mib = (self.max_len.saturating_sub(64) / 1100).clamp(1, 1000);
        let mib = *r.pick(&[1usize, 16, 64, 256, 1000]).min(&max_mib);
        let big = r.chance(0.5);
        let key = (mib, big);
        if !self.bombs.iter().any(|(k, _)| *k == key) {
            let (n, side) = if big { (mib as u32, 1024u32) } else { (mib as u32 * 1024, 32u32) };
            let mut header = vec![0u8, 0, 8, 3];
            for d in [n, side, side] {
                header.extend_from_slice(&d.to_be_bytes());
            }
            self.bombs.push((key, gzip_of_zeros(&header, mib)));
        }
        let bytes = &self.bombs.iter().find(|(k, _)| *k == key).unwrap().1;
        let labels = labels.map(|_| idx::encode_labels(&[1, 8]));
        idx_pack(bytes, labels.as_deref())
    }
}

fn first_embedded(v: &Value) -> Option<(Value, bool)> {
    match v {
        Value::Object(o) => o.values().find_map(|c| embedded_json(c).or_else(|| first_embedded(c))),
        Value::Array(a) => a.iter().find_map(|c| embedded_json(c).or_else(|| first_embedded(c))),
        _ => None,
    }
}

/// A valid gzip member holding `header` then `mib` MiB of zeros, built from one compressed
/// MiB repeated (each copy a run of non-final deflate blocks ending byte-aligned).
pub fn gzip_of_zeros(header: &[u8], mib: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let deflate_sync = |bytes: &[u8]| {
        let mut c = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(bytes.len() / 500 + 1024);
        c.compress_vec(bytes, &mut out, FlushCompress::Sync).unwrap();
        while c.total_in() < bytes.len() as u64 || out.len() == out.capacity() {
            out.reserve(1 << 16);
            let consumed = c.total_in() as usize;
            c.compress_vec(&bytes[consumed..], &mut out, FlushCompress::Sync).unwrap();
            if c.total_in() as usize == bytes.len() && out.len() < out.capacity() {
                break;
            }
        }
        out
    };
    let zeros = vec![0u8; 1 << 20];
    let head = deflate_sync(header);
    let chunk = deflate_sync(&zeros);
    let mut crc = flate2::Crc::new();
    crc.update(header);
    for _ in 0..mib {
        crc.update(&zeros);
    }
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend_from_slice(&head);
    for _ in 0..mib {
        out.extend_from_slice(&chunk);
    }
    out.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]); // final empty stored block
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&((header.len() as u64 + ((mib as u64) << 20)) as u32).to_le_bytes());
    out
}

// ---------------------------------------------------------------------------------------------
// The fuzzer: seeds, corpus and input generation
// ---------------------------------------------------------------------------------------------

/// The corpus stops growing here.
const MAX_CORPUS: usize = 2000;

pub struct Fuzzer {
    pub target: Target,
    pub seed: u64,
    pub seeds: Vec<Vec<u8>>,
    pub corpus: Vec<Vec<u8>>,
    features: HashSet<u64>,
    mutator: Mutator,
    pub ctx: Ctx,
}

impl Fuzzer {
    pub fn new(target: Target, seed: u64, max_len: usize) -> Fuzzer {
        let ctx = Ctx::new();
        let seeds = seeds(target, &ctx, max_len);
        let mutator = Mutator::new(&seeds, max_len);
        Fuzzer { target, seed, seeds, corpus: Vec::new(), features: HashSet::new(), mutator, ctx }
    }

    /// Input `i`: the seeds themselves first, then mutations of seeds and corpus entries.
    pub fn input(&mut self, i: u64) -> Vec<u8> {
        if (i as usize) < self.seeds.len() {
            return self.seeds[i as usize].clone();
        }
        let mut r = Rand::new(mix(mix(self.seed, fnv64(self.target.name().as_bytes())), i));
        let from_corpus = !self.corpus.is_empty() && r.chance(0.5);
        let base = if from_corpus { r.pick(&self.corpus).clone() } else { r.pick(&self.seeds).clone() };
        let other = if !self.corpus.is_empty() && r.chance(0.3) { r.pick(&self.corpus).clone() } else { r.pick(&self.seeds).clone() };
        self.mutator.mutate(self.target, &base, &other, &mut r)
    }

    /// Note what an input did; true when it joined the corpus (its outcome was new).
    pub fn observe(&mut self, input: &[u8], verdict: &Verdict) -> Option<u64> {
        if matches!(verdict, Verdict::Panic { .. }) {
            return None;
        }
        let feature = fnv64(verdict.feature().as_bytes());
        if self.features.insert(feature) && self.corpus.len() < MAX_CORPUS {
            self.corpus.push(input.to_vec());
            return Some(feature);
        }
        None
    }

    /// Restore a corpus entry (a restarted worker reloading what it had learnt).
    pub fn restore(&mut self, feature: u64, input: Vec<u8>) {
        self.features.insert(feature);
        self.corpus.push(input);
    }
}

pub fn count_nodes_pub(v: &Value) -> usize {
    count_nodes(v)
}

pub fn nth_node_pub(v: &Value, k: usize) -> &Value {
    nth_node(v, k)
}

pub fn nth_node_mut_pub(v: &mut Value, k: usize) -> &mut Value {
    nth_node_mut(v, k)
}

/// Escape bytes for a report: printable ASCII as is, the rest as \xNN; cut at `max` chars.
pub fn show_bytes(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    for &b in bytes {
        if out.len() >= max {
            out.push_str(&format!("… ({} bytes in all)", bytes.len()));
            break;
        }
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            b'\n' => out.push_str("\\n"),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}
