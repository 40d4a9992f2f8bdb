//! Measure, for every preset and every optimiser other than its own, settings that keep the
//! preset training: what the page picks when a user switches optimiser (`Preset::optimizers`,
//! read by `Experiment::optimizer_choices`).
//!
//! Each trial starts from the preset's freshly initialised network (seed 1) with its own batch
//! size, decay, noise and k schedule: only the optimiser changes. SGD (momentum 0.9, not
//! Nesterov), Adagrad, RMSProp and Adam climb a learning-rate ladder with their other settings at
//! the general defaults (`Optimizer::defaults()`); Adadelta, which has no learning rate, tries
//! eps 1e-6 and 1e-8 with rho 0.95. Every trial trains the same number of examples (per preset:
//! a few epochs, fewer for the slow ones) and is scored by the validation MSE per pixel at the
//! end; a trial that diverged (`TrainError::Diverged`) or ended worse than the fresh network is
//! refused. The chosen learning rate is the best-scoring one whose neighbour one rung larger also
//! trained, neither diverging nor ending worse (a guard against a lucky edge: most rates too
//! large here end with a huge but finite error rather than tripping the divergence guard); the
//! top rung, 3, is only a probe for that check.
//! The preset's own optimiser trains the same budget, for comparison.
//!
//! `pretrain` is skipped: its optimiser fine-tunes a classifier after layer-wise pretraining,
//! and the page's optimiser switch changes that fine-tuning, not an autoencoder.
//!
//! ```text
//! nice cargo run --release --example tune_optimizers -- [PRESET...] [--write] [--threads N]
//! nice cargo run --release --example tune_optimizers -- [PRESET...] --verify EPOCHS
//! ```
//! `--write` puts the chosen settings into crate/src/presets.json (an `"optimizers"` array at
//! the end of each preset searched, replacing any there), editing the text so the rest of the
//! file stays byte for byte as it was. `--verify EPOCHS` searches nothing: it trains each
//! preset's own optimiser, the measured ones in presets.json (as built) and, where they differ,
//! those optimisers' general defaults for EPOCHS epochs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use bottleneck::data::{asset, Dataset};
use bottleneck::model::Optimizer;
use bottleneck::presets::{self, Preset};
use bottleneck::train::{evaluate, TrainError, Trainer};

const SEED: u64 = 1;
/// Learning rates tried, largest first. The first rung is a probe only: it tells whether the
/// next one's neighbour trains.
const LADDER: [f32; 10] = [3.0, 1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001];
const PROBE_ONLY: usize = 1;
const ADADELTA_EPS: [f32; 2] = [1e-6, 1e-8];
/// The preset whose optimiser is for fine-tuning a classifier, not for an autoencoder.
const SKIPPED: &str = "pretrain";

/// Epochs of the preset's training data each trial gets: fewer for the presets that are slow
/// natively (k-sparse's 1,000 top-k units, conv-1s-8s's 17×17 convolutions at ~350 examples/s),
/// more for linear-20, which is nearly free and whose loss falls by orders of magnitude.
fn budget_epochs(preset: &Preset) -> f64 {
    match preset.name.as_str() {
        "conv-1s-8s" => 2.0,
        name if name.starts_with("k-sparse") => 2.0,
        "linear-20" => 10.0,
        _ => 3.0,
    }
}

struct Args {
    only: Vec<String>,
    write: bool,
    threads: usize,
    verify: Option<f64>,
}

fn parse_args() -> Result<Args, String> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut args = Args { only: Vec::new(), write: false, threads, verify: None };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--write" => args.write = true,
            "--threads" => args.threads = it.next().and_then(|t| t.parse().ok()).filter(|&t| t > 0).ok_or("--threads needs a positive number")?,
            "--verify" => args.verify = Some(it.next().and_then(|t| t.parse().ok()).filter(|&e: &f64| e > 0.0).ok_or("--verify needs a number of epochs")?),
            "-h" | "--help" => return Err("usage: tune_optimizers [PRESET...] [--write] [--threads N] [--verify EPOCHS]".into()),
            name if !name.starts_with('-') => {
                presets::find(name)?;
                args.only.push(name.to_string());
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if args.write && args.verify.is_some() {
        return Err("--write and --verify do not go together".into());
    }
    Ok(args)
}

/// One training run: a preset with another optimiser, for a number of examples.
#[derive(Clone, Copy)]
struct Job {
    preset: usize,
    optimizer: Optimizer,
    role: Role,
    examples: u64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    /// The preset's own optimiser, for comparison.
    Own,
    /// A setting the search tries.
    Candidate,
    /// A setting presets.json holds (`--verify`).
    Measured,
    /// The general default of an optimiser presets.json has a measured setting for (`--verify`).
    Default,
}

impl Role {
    fn label(&self) -> &'static str {
        match self {
            Role::Own => "own",
            Role::Candidate => "",
            Role::Measured => "measured",
            Role::Default => "default",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Outcome {
    Trained(f64),
    /// Trained to the end but the validation error is not below the fresh network's.
    Worse(f64),
    /// A step diverged (`TrainError::Diverged`).
    Diverged,
}

impl Outcome {
    fn score(&self) -> Option<f64> {
        match *self {
            Outcome::Trained(mse) => Some(mse),
            _ => None,
        }
    }

    fn short(&self) -> String {
        match *self {
            Outcome::Trained(mse) => number(mse),
            Outcome::Worse(mse) => format!("worse({})", number(mse)),
            Outcome::Diverged => "diverged".into(),
        }
    }
}

struct Prepared {
    preset: &'static Preset,
    train: Dataset,
    valid: Dataset,
    /// The fresh network's validation MSE/px.
    start_mse: f64,
    /// Seconds per example, from a few warm-up steps (for ordering and the time estimate).
    cost: f64,
}

fn prepare(preset: &'static Preset, digits: &Dataset) -> Result<Prepared, String> {
    let (train, valid) = preset.data.build(Some(digits), SEED)?;
    let mut trainer = Trainer::new(&preset.spec, preset.train.clone(), SEED)?;
    let start_mse = evaluate(trainer.net(), &valid).mse_per_pixel;
    trainer.step(&train).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    for _ in 0..3 {
        trainer.step(&train).map_err(|e| e.to_string())?;
    }
    let cost = t0.elapsed().as_secs_f64() / (3 * preset.train.batch_size) as f64;
    Ok(Prepared { preset, train, valid, start_mse, cost })
}

fn run(job: &Job, p: &Prepared) -> Outcome {
    let mut config = p.preset.train.clone();
    config.optimizer = job.optimizer;
    let mut trainer = Trainer::new(&p.preset.spec, config, SEED).expect("the preset takes any valid optimiser");
    let steps = job.examples.div_ceil(p.preset.train.batch_size as u64);
    for _ in 0..steps {
        match trainer.step(&p.train) {
            Ok(_) => {}
            Err(TrainError::Diverged(_)) => return Outcome::Diverged,
            Err(e) => panic!("{}: {e}", p.preset.name),
        }
    }
    let mse = evaluate(trainer.net(), &p.valid).mse_per_pixel;
    if mse.is_finite() && mse < p.start_mse {
        Outcome::Trained(mse)
    } else {
        Outcome::Worse(mse)
    }
}

/// Run every job on `threads` threads, the costliest first; outcomes in job order.
fn run_all(jobs: &[Job], prepared: &[Prepared], threads: usize) -> Vec<Outcome> {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    let cost = |j: &Job| j.examples as f64 * prepared[j.preset].cost;
    order.sort_by(|&a, &b| cost(&jobs[b]).total_cmp(&cost(&jobs[a])));
    let total: f64 = jobs.iter().map(cost).sum();
    eprintln!("{} trials, about {:.0} s of training on {threads} thread(s) (fewer when trials diverge)", jobs.len(), total / threads as f64);
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(vec![None; jobs.len()]);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&idx) = order.get(i) else { break };
                let job = &jobs[idx];
                let outcome = run(job, &prepared[job.preset]);
                let mut done = outcomes.lock().unwrap();
                done[idx] = Some(outcome);
                let n_done = done.iter().filter(|o| o.is_some()).count();
                eprintln!(
                    "[{n_done:>3}/{} {:>5.0} s] {:<13} {:<9} {:<28} {}",
                    jobs.len(),
                    start.elapsed().as_secs_f64(),
                    prepared[job.preset].preset.name,
                    job.optimizer.name(),
                    describe(&job.optimizer),
                    outcome.short()
                );
            });
        }
    });
    outcomes.into_inner().unwrap().into_iter().map(|o| o.expect("every job ran")).collect()
}

/// A validation error to four decimals, or in scientific notation when tiny or huge.
fn number(x: f64) -> String {
    if x.is_finite() && x != 0.0 && !(0.001..1000.0).contains(&x.abs()) {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

/// An optimiser's settings in a few words.
fn describe(o: &Optimizer) -> String {
    match *o {
        Optimizer::Sgd { lr, momentum, nesterov } => format!("lr {lr} momentum {momentum}{}", if nesterov { " nesterov" } else { "" }),
        Optimizer::Adagrad { lr, eps } => format!("lr {lr} eps {eps:e}"),
        Optimizer::Rmsprop { lr, rho, eps } => format!("lr {lr} rho {rho} eps {eps:e}"),
        Optimizer::Adadelta { rho, eps } => format!("rho {rho} eps {eps:e}"),
        Optimizer::Adam { lr, beta1, beta2, eps } => format!("lr {lr} β {beta1}/{beta2} eps {eps:e}"),
    }
}

/// The settings tried for one optimiser type, in ladder order (largest learning rate first).
fn candidates(default: Optimizer) -> Vec<Optimizer> {
    match default {
        Optimizer::Adadelta { rho, .. } => ADADELTA_EPS.iter().map(|&eps| Optimizer::Adadelta { rho, eps }).collect(),
        _ => LADDER
            .iter()
            .map(|&lr| {
                let mut o = default;
                o.set("lr", bottleneck::model::optim::FieldValue::Number(lr)).expect("an optimiser with a learning rate");
                o
            })
            .collect(),
    }
}

/// What the search picked for one optimiser type, and why.
struct Choice {
    optimizer: Optimizer,
    mse: f64,
    note: String,
}

/// The best trained setting whose neighbour one rung up trained too, else the best trained one
/// with a note; None when nothing trained.
fn choose(tried: &[(Optimizer, Outcome)]) -> Option<Choice> {
    let ladder = tried[0].0.learning_rate().is_some();
    let first = if ladder { PROBE_ONLY } else { 0 };
    let mut ranked: Vec<usize> = (first..tried.len()).filter(|&i| tried[i].1.score().is_some()).collect();
    ranked.sort_by(|&a, &b| tried[a].1.score().unwrap().total_cmp(&tried[b].1.score().unwrap()));
    let best = *ranked.first()?;
    let best_overall = (0..tried.len()).filter(|&i| tried[i].1.score().is_some()).min_by(|&a, &b| tried[a].1.score().unwrap().total_cmp(&tried[b].1.score().unwrap()));
    if !ladder {
        return Some(Choice { optimizer: tried[best].0, mse: tried[best].1.score().unwrap(), note: String::new() });
    }
    let safe = |i: usize| matches!(tried[i - 1].1, Outcome::Trained(_));
    let pick = ranked.iter().copied().find(|&i| safe(i));
    let mut notes = Vec::new();
    let chosen = match pick {
        Some(i) => {
            if i != best {
                notes.push(format!("best was lr {} but lr {} above it {}", lr_of(&tried[best].0), lr_of(&tried[best - 1].0), tried[best - 1].1.short()));
            }
            i
        }
        None => {
            notes.push(format!("no trained lr has a neighbour above that trains; lr {} is at the edge", lr_of(&tried[best].0)));
            best
        }
    };
    if best_overall == Some(0) {
        notes.push(format!("the probe lr {} scored best: the optimum may lie above the ladder", lr_of(&tried[0].0)));
    }
    if chosen == tried.len() - 1 {
        notes.push("the smallest lr on the ladder: the optimum may lie below it".into());
    }
    Some(Choice { optimizer: tried[chosen].0, mse: tried[chosen].1.score().unwrap(), note: notes.join("; ") })
}

fn lr_of(o: &Optimizer) -> f32 {
    o.learning_rate().unwrap_or(f32::NAN)
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    let path = asset::builtin_path();
    let digits = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display())).and_then(|b| asset::parse(&b)).unwrap_or_else(|e| {
        eprintln!("the built-in digits are needed: {e}");
        std::process::exit(1);
    });
    let started = Instant::now();
    let mut prepared = Vec::new();
    for preset in presets::all() {
        if !args.only.is_empty() && !args.only.contains(&preset.name) {
            continue;
        }
        if preset.name == SKIPPED {
            println!("{SKIPPED}: skipped (its optimiser fine-tunes a classifier after pretraining; not tuned here)\n");
            continue;
        }
        prepared.push(prepare(preset, &digits).unwrap_or_else(|e| panic!("{}: {e}", preset.name)));
    }
    match args.verify {
        Some(epochs) => verify(&prepared, epochs, args.threads),
        None => search(&prepared, args.threads, args.write),
    }
    eprintln!("done in {:.0} s", started.elapsed().as_secs_f64());
}

fn search(prepared: &[Prepared], threads: usize, write: bool) {
    let mut jobs = Vec::new();
    for (pi, p) in prepared.iter().enumerate() {
        let examples = (budget_epochs(p.preset) * p.train.n_images as f64).round() as u64;
        let own = p.preset.train.optimizer;
        jobs.push(Job { preset: pi, optimizer: own, role: Role::Own, examples });
        for default in Optimizer::defaults() {
            if default.name() == own.name() {
                continue;
            }
            jobs.extend(candidates(default).into_iter().map(|optimizer| Job { preset: pi, optimizer, role: Role::Candidate, examples }));
        }
    }
    let outcomes = run_all(&jobs, prepared, threads);

    let mut chosen: BTreeMap<String, Vec<Optimizer>> = BTreeMap::new();
    for (pi, p) in prepared.iter().enumerate() {
        let mine: Vec<(&Job, Outcome)> = jobs.iter().zip(&outcomes).filter(|(j, _)| j.preset == pi).map(|(j, &o)| (j, o)).collect();
        let (own_job, own_outcome) = mine.iter().find(|(j, _)| j.role == Role::Own).expect("the own run");
        println!(
            "{}: {} examples per trial ({} epochs of {}), batch {}; fresh network {} MSE/px",
            p.preset.name,
            own_job.examples,
            budget_epochs(p.preset),
            p.train.n_images,
            p.preset.train.batch_size,
            number(p.start_mse)
        );
        println!("  own  {:<9} {:<30} {}", own_job.optimizer.name(), describe(&own_job.optimizer), own_outcome.short());
        let own_mse = own_outcome.score();
        println!("  {:<9} {:<30} {:>12} {:>9}  ladder (validation MSE/px)", "optimiser", "chosen", "valid MSE/px", "vs own");
        let mut picked = Vec::new();
        for default in Optimizer::defaults() {
            if default.name() == own_job.optimizer.name() {
                continue;
            }
            let tried: Vec<(Optimizer, Outcome)> = mine.iter().filter(|(j, _)| j.role == Role::Candidate && j.optimizer.name() == default.name()).map(|(j, o)| (j.optimizer, *o)).collect();
            let ladder: Vec<String> = tried
                .iter()
                .map(|(o, out)| match *o {
                    Optimizer::Adadelta { eps, .. } => format!("eps {eps:e}:{}", out.short()),
                    _ => format!("{}:{}", lr_of(o), out.short()),
                })
                .collect();
            match choose(&tried) {
                Some(c) => {
                    let ratio = own_mse.map_or("-".to_string(), |own| format!("{:.2}×", c.mse / own));
                    println!("  {:<9} {:<30} {:>12} {:>9}  {}", default.name(), describe(&c.optimizer), number(c.mse), ratio, ladder.join(" "));
                    if !c.note.is_empty() {
                        println!("  {:<9} note: {}", "", c.note);
                    }
                    picked.push(c.optimizer);
                }
                None => println!("  {:<9} {:<30} {:>12} {:>9}  {}  (left out: no setting trains it)", default.name(), "none", "-", "-", ladder.join(" ")),
            }
        }
        println!();
        chosen.insert(p.preset.name.clone(), picked);
    }
    if write {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/presets.json");
        let text = std::fs::read_to_string(&file).expect("presets.json reads");
        let round_trip = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| serde_json::to_string_pretty(&v).ok());
        if round_trip.as_deref().map(|t| t.trim_end()) != Some(text.trim_end()) {
            eprintln!("(serde_json does not reproduce presets.json's text (key order, exponents): editing the text instead)");
        }
        let edited = write_optimizers(&text, &chosen).unwrap_or_else(|e| panic!("presets.json: {e}"));
        std::fs::write(&file, edited).expect("presets.json writes");
        println!("wrote the chosen settings of {} preset(s) to {}", chosen.len(), file.display());
    }
}

fn verify(prepared: &[Prepared], epochs: f64, threads: usize) {
    let mut jobs = Vec::new();
    for (pi, p) in prepared.iter().enumerate() {
        let examples = (epochs * p.train.n_images as f64).round() as u64;
        jobs.push(Job { preset: pi, optimizer: p.preset.train.optimizer, role: Role::Own, examples });
        for &optimizer in &p.preset.optimizers {
            jobs.push(Job { preset: pi, optimizer, role: Role::Measured, examples });
            let default = Optimizer::defaults().into_iter().find(|d| d.name() == optimizer.name()).expect("every type has a default");
            if default != optimizer {
                jobs.push(Job { preset: pi, optimizer: default, role: Role::Default, examples });
            }
        }
    }
    let outcomes = run_all(&jobs, prepared, threads);
    for (pi, p) in prepared.iter().enumerate() {
        println!("{}: {epochs} epochs ({} examples); fresh network {} MSE/px", p.preset.name, (epochs * p.train.n_images as f64).round(), number(p.start_mse));
        for (job, outcome) in jobs.iter().zip(&outcomes).filter(|(j, _)| j.preset == pi) {
            println!("  {:<8} {:<9} {:<30} {}", job.role.label(), job.optimizer.name(), describe(&job.optimizer), outcome.short());
        }
        if p.preset.optimizers.is_empty() {
            println!("  (no measured optimisers in presets.json)");
        }
        println!();
    }
}

// ---- Editing presets.json as text -------------------------------------------------------

/// Index of the first non-whitespace byte at or after `i`.
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Index just past the string starting at `i` (a '"').
fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while b[i] != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i + 1
}

/// Index just past the JSON value starting at `i`.
fn value_end(b: &[u8], i: usize) -> usize {
    match b[i] {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']') && !b[j].is_ascii_whitespace() {
                j += 1;
            }
            j
        }
    }
}

/// One member of an object: its key, where the key starts and where the value starts and ends.
struct Member {
    key: String,
    key_start: usize,
    value_start: usize,
    value_end: usize,
}

/// The members of the object starting at `start` (a '{').
fn members(text: &str, start: usize) -> Result<Vec<Member>, String> {
    let b = text.as_bytes();
    if b[start] != b'{' {
        return Err(format!("expected an object at byte {start}"));
    }
    let mut out = Vec::new();
    let mut i = skip_ws(b, start + 1);
    while b[i] != b'}' {
        let key_start = i;
        let key_end = string_end(b, i);
        let key: String = serde_json::from_str(&text[key_start..key_end]).map_err(|e| e.to_string())?;
        i = skip_ws(b, key_end);
        if b[i] != b':' {
            return Err(format!("expected ':' after {key:?}"));
        }
        let value_start = skip_ws(b, i + 1);
        let value_end = value_end(b, value_start);
        out.push(Member { key, key_start, value_start, value_end });
        i = skip_ws(b, value_end);
        if b[i] == b',' {
            i = skip_ws(b, i + 1);
        }
    }
    Ok(out)
}

/// Byte ranges of the elements of the array starting at `start` (a '[').
fn elements(b: &[u8], start: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = skip_ws(b, start + 1);
    while b[i] != b']' {
        let end = value_end(b, i);
        out.push((i, end));
        i = skip_ws(b, end);
        if b[i] == b',' {
            i = skip_ws(b, i + 1);
        }
    }
    out
}

/// Exponents written with two digits ("1e-08"), as the rest of presets.json has them.
fn two_digit_exponents(json: &str) -> String {
    let b = json.as_bytes();
    let mut out = String::with_capacity(json.len() + 8);
    for (i, c) in json.char_indices() {
        out.push(c);
        let is_exponent_sign = (c == '-' || c == '+') && i >= 2 && b[i - 1] == b'e' && b[i - 2].is_ascii_digit();
        if is_exponent_sign && b.get(i + 1).is_some_and(u8::is_ascii_digit) && !b.get(i + 2).is_some_and(u8::is_ascii_digit) {
            out.push('0');
        }
    }
    out
}

/// `text` with each named preset's "optimizers" replaced by `chosen[name]` (removed when that
/// is empty), written at the end of the preset's object in the file's own style. Everything
/// else stays as it was; the result is checked by parsing it back.
fn write_optimizers(text: &str, chosen: &BTreeMap<String, Vec<Optimizer>>) -> Result<String, String> {
    let out = edit_text(text, chosen)?;
    check_edit(text, &out, chosen)?;
    Ok(out)
}

/// `write_optimizers`' text edit, unchecked.
fn edit_text(text: &str, chosen: &BTreeMap<String, Vec<Optimizer>>) -> Result<String, String> {
    let b = text.as_bytes();
    let root = members(text, skip_ws(b, 0))?;
    let list = root.iter().find(|m| m.key == "presets").ok_or("no \"presets\" array")?;
    let mut out = text.to_string();
    // Last preset first, so earlier byte offsets stay valid.
    for &(start, end) in elements(b, list.value_start).iter().rev() {
        let fields = members(text, start)?;
        let name_field = fields.iter().find(|m| m.key == "name").ok_or("a preset without a name")?;
        let name: String = serde_json::from_str(&text[name_field.value_start..name_field.value_end]).map_err(|e| e.to_string())?;
        let Some(optimizers) = chosen.get(&name) else { continue };
        let line_start = text[..fields[0].key_start].rfind('\n').map_or(0, |n| n + 1);
        let indent = &text[line_start..fields[0].key_start];
        let mut object = text[start..end].to_string();
        let last_kept = fields.iter().rev().find(|m| m.key != "optimizers").ok_or("a preset without fields")?;
        let mut insert_at = last_kept.value_end - start;
        if let Some(k) = fields.iter().position(|m| m.key == "optimizers") {
            // Remove the old member with the separator before it (after it, when it comes first).
            let (a, z) = match k {
                0 if fields.len() > 1 => (fields[0].key_start, fields[1].key_start),
                0 => (fields[0].key_start, fields[0].value_end),
                _ => (fields[k - 1].value_end, fields[k].value_end),
            };
            object.replace_range(a - start..z - start, "");
            if a < last_kept.value_end {
                insert_at -= z - a;
            }
        }
        if !optimizers.is_empty() {
            let array = serde_json::to_string_pretty(optimizers).map_err(|e| e.to_string())?;
            let array = two_digit_exponents(&array).replace('\n', &format!("\n{indent}"));
            object.insert_str(insert_at, &format!(",\n{indent}\"optimizers\": {array}"));
        }
        out.replace_range(start..end, &object);
    }
    Ok(out)
}

/// The edited file parses, every preset deserialises, the named presets carry exactly the
/// chosen optimisers, and nothing else changed.
fn check_edit(before: &str, after: &str, chosen: &BTreeMap<String, Vec<Optimizer>>) -> Result<(), String> {
    let strip = |text: &str| -> Result<serde_json::Value, String> {
        let mut v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for p in v["presets"].as_array_mut().ok_or("no presets")? {
            p.as_object_mut().ok_or("a preset is not an object")?.remove("optimizers");
        }
        Ok(v)
    };
    if strip(before)? != strip(after)? {
        return Err("the edit changed more than the optimisers".into());
    }
    let v: serde_json::Value = serde_json::from_str(after).map_err(|e| e.to_string())?;
    for p in v["presets"].as_array().ok_or("no presets")? {
        let preset: Preset = serde_json::from_value(p.clone()).map_err(|e| format!("the edited file does not parse as presets: {e}"))?;
        if let Some(want) = chosen.get(&preset.name) {
            if &preset.optimizers != want {
                return Err(format!("{}: wrote {:?}, read back {:?}", preset.name, want, preset.optimizers));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "{\n  \"presets\": [\n    {\n      \"name\": \"a\",\n      \"x\": {\"y\": \"}\\\"]\"}\n    },\n    {\n      \"name\": \"b\",\n      \"optimizers\": [],\n      \"z\": 1e-08\n    }\n  ]\n}\n";

    #[test]
    fn optimizers_are_inserted_replaced_and_removed_as_text() {
        let sgd = Optimizer::Sgd { lr: 0.03, momentum: 0.9, nesterov: false };
        let adam = Optimizer::Adam { lr: 0.0003, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
        let mut chosen = BTreeMap::new();
        chosen.insert("a".to_string(), vec![sgd]);
        chosen.insert("b".to_string(), vec![adam]);
        let once = edit_text(FILE, &chosen).unwrap();
        assert!(once.contains("      \"x\": {\"y\": \"}\\\"]\"},\n      \"optimizers\": [\n        {\n          \"type\": \"sgd\",\n          \"lr\": 0.03,"), "{once}");
        assert!(once.contains("      \"name\": \"b\",\n      \"z\": 1e-08,\n      \"optimizers\": [\n        {\n          \"type\": \"adam\""), "{once}");
        assert!(once.contains("\"eps\": 1e-08\n        }\n      ]\n    }"), "{once}");
        assert_eq!(edit_text(&once, &chosen).unwrap(), once, "writing the same choice again changes nothing");
        chosen.insert("a".to_string(), Vec::new());
        chosen.remove("b");
        let removed = edit_text(&once, &chosen).unwrap();
        let b_at = |t: &str| t.find("\"b\"").unwrap();
        assert!(!removed[..b_at(&removed)].contains("optimizers"), "{removed}");
        assert_eq!(removed[b_at(&removed)..], once[b_at(&once)..]);
        assert_eq!(removed.replace("\n      \"optimizers\": [],", "").len(), removed.len(), "{removed}");
    }

    #[test]
    fn rewriting_the_presets_own_choices_changes_nothing() {
        let chosen: BTreeMap<String, Vec<Optimizer>> = presets::all().iter().map(|p| (p.name.clone(), p.optimizers.clone())).collect();
        assert_eq!(write_optimizers(presets::PRESETS_JSON, &chosen).unwrap(), presets::PRESETS_JSON);
    }
}
