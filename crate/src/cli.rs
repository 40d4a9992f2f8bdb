//! The native command line: `train`, `eval`, `presets`, and ConvNetJS import and export. Each
//! drives a `Session`, as the page does, so both front ends follow one policy; reading files
//! and printing happen here, at the edge. Errors come back as one-line messages.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::data::{asset, idx, Dataset};
use crate::presets;
use crate::pretrain::Phase;
use crate::session::{Clock, Command, Experiment, Origin, Payload, Session, DEFAULT_SEED};

pub const USAGE: &str = "usage:
  bottleneck train --preset NAME [--epochs N] [--seed S] [--images IDX --labels IDX] --out SNAPSHOT.json
  bottleneck eval SNAPSHOT.json [--images IDX [--labels IDX]] [--json]
  bottleneck presets
  bottleneck import-convnetjs CONVNETJS.json --out SNAPSHOT.json
  bottleneck export-convnetjs SNAPSHOT.json --out CONVNETJS.json

The built-in digits are read from www/data/mnist10k.bin (built by `npm start` or
`npm run build:data`); set BOTTLENECK_DATA to read them from elsewhere.";

/// Run one command line (without the program name); Ok carries nothing, output is printed.
pub fn run(args: &[String]) -> Result<(), String> {
    let (command, rest) = args.split_first().ok_or_else(|| format!("no command given\n{USAGE}"))?;
    match command.as_str() {
        "train" => train(&Flags::parse(rest, &["--preset", "--epochs", "--seed", "--images", "--labels", "--out"], &[])?),
        "eval" => eval(&Flags::parse(rest, &["--images", "--labels"], &["--json"])?),
        "presets" => {
            Flags::parse(rest, &[], &[])?;
            for preset in presets::all() {
                println!("{:<12} {}", preset.name, preset.description);
            }
            Ok(())
        }
        "import-convnetjs" => convert(&Flags::parse(rest, &["--out"], &[])?, Direction::Import),
        "export-convnetjs" => convert(&Flags::parse(rest, &["--out"], &[])?, Direction::Export),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    }
}

/// Parsed `--flag value` pairs, switches and positional arguments.
struct Flags {
    values: Vec<(String, String)>,
    switches: Vec<String>,
    positional: Vec<String>,
}

impl Flags {
    fn parse(args: &[String], with_value: &[&str], switches: &[&str]) -> Result<Flags, String> {
        let mut flags = Flags { values: Vec::new(), switches: Vec::new(), positional: Vec::new() };
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if with_value.contains(&arg.as_str()) {
                let value = iter.next().ok_or_else(|| format!("{arg} needs a value"))?;
                if flags.get(arg).is_some() {
                    return Err(format!("{arg} given twice"));
                }
                flags.values.push((arg.clone(), value.clone()));
            } else if switches.contains(&arg.as_str()) {
                flags.switches.push(arg.clone());
            } else if arg.starts_with("--") {
                return Err(format!("unknown option {arg}\n{USAGE}"));
            } else {
                flags.positional.push(arg.clone());
            }
        }
        Ok(flags)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.get(name) {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| format!("{name}: expected a whole number, got {text:?}")),
        }
    }
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))
}

/// Where the built-in digits asset is looked for.
fn asset_path() -> PathBuf {
    if let Ok(path) = std::env::var("BOTTLENECK_DATA") {
        return PathBuf::from(path);
    }
    let local = Path::new("www/data/mnist10k.bin");
    if local.exists() {
        return local.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../www/data/mnist10k.bin")
}

/// The images to work on: IDX files when given, else the built-in digits.
fn load_images(images: Option<&str>, labels: Option<&str>) -> Result<Dataset, String> {
    match images {
        Some(path) => {
            let labels = labels.map(read).transpose()?;
            idx::parse(&read(path)?, labels.as_deref())
        }
        None if labels.is_some() => Err("--labels needs --images".into()),
        None => {
            let path = asset_path();
            let bytes = std::fs::read(&path).map_err(|e| {
                format!("cannot read the built-in digits at {}: {e} (run `npm run build:data` first, or set BOTTLENECK_DATA)", path.display())
            })?;
            asset::parse(&bytes)
        }
    }
}

/// The wall clock, for the session's timings.
struct Wall(Instant);

impl Clock for Wall {
    fn now_ms(&self) -> f64 {
        self.0.elapsed().as_secs_f64() * 1000.0
    }
}

fn wall() -> Box<dyn Clock> {
    Box::new(Wall(Instant::now()))
}

fn train(flags: &Flags) -> Result<(), String> {
    if !flags.positional.is_empty() {
        return Err(format!("train takes no positional arguments, got {:?}", flags.positional));
    }
    let name = flags.get("--preset").ok_or("train needs --preset NAME (see `bottleneck presets`)")?;
    let seed: u64 = flags.number("--seed", DEFAULT_SEED)?;
    let mut experiment = Experiment::preset(name, seed)?;
    let out = flags.get("--out").ok_or("train needs --out SNAPSHOT.json")?;
    let preset = experiment.preset_info().expect("a preset's experiment");
    let epochs: u64 = flags.number("--epochs", preset.epochs)?;
    if epochs == 0 {
        return Err("--epochs must be at least 1".into());
    }
    // For a pretraining preset, the epochs are fine-tuning's.
    if let Some(plan) = &mut experiment.pretrain {
        plan.finetune_epochs = epochs;
    }
    let digits = if experiment.data.is_mnist() {
        Some(load_images(flags.get("--images"), flags.get("--labels"))?)
    } else if flags.get("--images").is_some() {
        return Err(format!("preset {} makes its own synthetic data; --images does not apply", preset.name));
    } else {
        None
    };
    let mut session = Session::start(experiment, digits, wall()).map_err(|e| format!("preset {}: {e}", preset.name))?;
    // Fail on an unwritable output now, not after an hour of training.
    std::fs::write(out, b"").map_err(|e| format!("cannot write {out}: {e}"))?;
    if session.pretrainer().is_some() {
        return pretrain(&mut session, out);
    }
    let (n_train, n_valid) = (session.train_set().n_images, session.valid_set().n_images);
    println!("preset {} · {} parameters · {n_train} train / {n_valid} validation images · seed {seed}", preset.name, session.network().n_params());
    let show_bar = std::io::stderr().is_terminal();
    let started = Instant::now();
    let per_epoch = n_train as u64;
    for epoch in 1..=epochs {
        let epoch_start = Instant::now();
        let target = epoch * per_epoch;
        let (mut sum_mse, mut n_batches) = (0.0, 0usize);
        while session.examples_seen() < target {
            let stats = session.train_batch().map_err(|e| e.0)?.ok_or("training stopped early")?;
            sum_mse += stats.mse_per_pixel;
            n_batches += 1;
            if show_bar && n_batches % 20 == 0 {
                let done = (session.examples_seen() - (target - per_epoch)) as f64 / per_epoch as f64;
                let rate = session.examples_seen() as f64 / started.elapsed().as_secs_f64();
                let bar: String = (0..30).map(|i| if (i as f64) < done * 30.0 { '#' } else { '.' }).collect();
                eprint!("\repoch {epoch}/{epochs} [{bar}] {rate:>8.0} ex/s  train {:.4} MSE/px ", sum_mse / n_batches as f64);
                let _ = std::io::stderr().flush();
            }
        }
        if show_bar {
            eprint!("\r{:78}\r", "");
        }
        let valid = session.evaluate(None).map_err(|e| e.0)?;
        let rate = per_epoch as f64 / epoch_start.elapsed().as_secs_f64();
        println!(
            "epoch {epoch:>3}  train {} MSE/px  validation {} MSE/px{}  {:>8.0} ex/s  {:>7.1} s",
            loss_text(sum_mse / n_batches.max(1) as f64),
            loss_text(valid.mse_per_pixel),
            valid.bce_per_pixel.map(|b| format!(" ({b:.5} BCE/px)")).unwrap_or_default(),
            rate,
            started.elapsed().as_secs_f64()
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    let seen = session.examples_seen();
    println!("trained {seen} examples in {seconds:.1} s: {:.0} examples/s", seen as f64 / seconds);
    let ever = session.trainer().ever_selected();
    if !ever.is_empty() {
        println!("top-k: {} of {} units were ever selected", ever.iter().filter(|&&u| u).count(), ever.len());
    }
    if let Some((k, pca_mse)) = session.pca_reference() {
        let final_eval = session.evaluate(None).map_err(|e| e.0)?;
        println!(
            "validation: autoencoder {} MSE/px, PCA with {k} components {} MSE/px (fit on up to 2,000 training images)",
            loss_text(final_eval.mse_per_pixel),
            loss_text(pca_mse)
        );
        if !session.experiment().data.is_mnist() {
            let valid = &session.valid_set().pixels;
            let n = valid.len() as f64;
            let mean = valid.iter().map(|&v| v as f64).sum::<f64>() / n;
            let variance = valid.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
            println!("relative to the data's variance ({variance:.4}): {:.3e}", final_eval.mse_per_pixel / variance);
        }
    }
    write_payload(&mut session, Command::Save, out)?;
    println!("snapshot written to {out}");
    Ok(())
}

/// Run a command whose reply carries text (a snapshot, a ConvNetJS file) and write it to `out`.
fn write_payload(session: &mut Session, command: Command, out: &str) -> Result<(), String> {
    let text = match session.apply(command).map_err(|e| e.0)?.payload {
        Payload::Snapshot(text) | Payload::Convnetjs(text) => text,
        other => unreachable!("save and export reply with text, not {other:?}"),
    };
    std::fs::write(out, text).map_err(|e| format!("cannot write {out}: {e}"))
}

enum Direction {
    Import,
    Export,
}

/// ConvNetJS `Net.toJSON()` to a Bottleneck snapshot or back, through a session opened on the
/// file (an imported network gets the ConvNetJS demo's training settings and seed 1).
fn convert(flags: &Flags, direction: Direction) -> Result<(), String> {
    let [path] = &flags.positional[..] else {
        return Err(format!("expected exactly one input file, got {:?}\n{USAGE}", flags.positional));
    };
    let out = flags.get("--out").ok_or("needs --out FILE")?;
    let mut session = Session::open(&read(path)?, None, DEFAULT_SEED, wall()).map_err(|e| format!("{path}: {e}"))?;
    let is_convnetjs = session.experiment().origin == Origin::ConvnetjsImport;
    match direction {
        Direction::Import if !is_convnetjs => {
            return Err(format!("{path}: this is a Bottleneck snapshot, not a ConvNetJS Net.toJSON() file (an object with a \"layers\" array)"))
        }
        Direction::Import => write_payload(&mut session, Command::Save, out)?,
        Direction::Export if is_convnetjs => return Err(format!("{path}: this looks like a ConvNetJS Net.toJSON() file already, not a Bottleneck snapshot")),
        Direction::Export => write_payload(&mut session, Command::ExportConvnetjs, out)?,
    }
    println!("wrote {out}");
    Ok(())
}

/// Greedy layer-wise pretraining, then fine-tuning beside a randomly initialised twin; prints
/// each phase and the two accuracy curves, and writes the pretrained classifier's snapshot.
fn pretrain(session: &mut Session, out: &str) -> Result<(), String> {
    let started = Instant::now();
    let phase_of = |s: &Session| s.pretrainer().expect("pretraining").phase;
    let p = session.pretrainer().expect("pretraining");
    println!(
        "preset {} · pretraining {} hidden layers on {} digits, then fine-tuning on {} labels · seed {}",
        session.experiment().origin.name(),
        p.n_hidden(),
        session.train_set().n_images,
        p.plan.n_labels,
        session.experiment().seed
    );
    let mut phase = phase_of(session);
    let mut phase_start = Instant::now();
    let mut sum = (0.0, 0usize);
    while phase != Phase::Done {
        if let Some(stats) = session.train_batch().map_err(|e| e.0)? {
            sum = (sum.0 + stats.bce_per_pixel.unwrap_or(stats.mse_per_pixel), sum.1 + 1);
        }
        let now = phase_of(session);
        if now != phase {
            if let Phase::Pretraining { layer } = phase {
                println!("layer {} autoencoder: train loss {:.5} per input (BCE or MSE) · {:.1} s", layer + 1, sum.0 / sum.1.max(1) as f64, phase_start.elapsed().as_secs_f64());
            }
            phase = now;
            phase_start = Instant::now();
            sum = (0.0, 0);
        }
    }
    println!("validation accuracy while fine-tuning (labelled examples seen: pretrained / random init):");
    let p = session.pretrainer().expect("pretraining");
    for ((seen, a), (_, b)) in p.pretrained_curve.iter().zip(&p.baseline_curve) {
        println!("  {seen:>7.0}  {:6.2} %  {:6.2} %", 100.0 * a, 100.0 * b);
    }
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    write_payload(session, Command::Save, out)?;
    println!("snapshot of the pretrained classifier written to {out}");
    Ok(())
}

/// A loss figure readable both near 0.05 and near 1e-9.
fn loss_text(v: f64) -> String {
    if v != 0.0 && v.abs() < 1e-3 {
        format!("{v:.3e}")
    } else {
        format!("{v:.5}")
    }
}

fn eval(flags: &Flags) -> Result<(), String> {
    let [path] = &flags.positional[..] else {
        return Err(format!("eval takes exactly one SNAPSHOT.json, got {:?}\n{USAGE}", flags.positional));
    };
    let session = Session::open(&read(path)?, None, DEFAULT_SEED, wall()).map_err(|e| format!("{path}: {e}"))?;
    // The snapshot's data transforms (classes, size) apply to whatever digits are given.
    let data = &session.experiment().data;
    let images = match flags.get("--images") {
        Some(_) => data.prepare(&load_images(flags.get("--images"), flags.get("--labels"))?)?,
        None if data.is_mnist() => data.build(Some(&load_images(None, flags.get("--labels"))?), session.experiment().seed)?.1,
        None => session.valid_set().clone(),
    };
    let result = session.evaluate(Some(&images)).map_err(|e| e.0)?;
    if flags.switches.iter().any(|s| s == "--json") {
        println!("{}", serde_json::to_string(&result).expect("eval serializes"));
    } else {
        match result.accuracy {
            Some(accuracy) => println!("{} images: {:.2} % classified right", result.n_images, 100.0 * accuracy),
            None => println!("{} images: {:.5} MSE/px", result.n_images, result.mse_per_pixel),
        }
        if let Some(bce) = result.bce_per_pixel {
            println!("{bce:.5} BCE/px");
        }
    }
    Ok(())
}
