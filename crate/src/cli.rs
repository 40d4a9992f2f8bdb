//! The native command line: `train`, `eval` and `presets`. File reading and printing happen
//! here, at the edge; everything else is the library. Errors come back as one-line messages.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::data::{asset, idx, Dataset};
use crate::model::pca::Pca;
use crate::presets;
use crate::pretrain::{Phase, PretrainPlan, Pretrainer};
use crate::snapshot;
use crate::train::{evaluate, Trainer};

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

fn train(flags: &Flags) -> Result<(), String> {
    if !flags.positional.is_empty() {
        return Err(format!("train takes no positional arguments, got {:?}", flags.positional));
    }
    let preset = presets::find(flags.get("--preset").ok_or("train needs --preset NAME (see `bottleneck presets`)")?)?;
    let out = flags.get("--out").ok_or("train needs --out SNAPSHOT.json")?;
    let epochs: u64 = flags.number("--epochs", preset.epochs)?;
    let seed: u64 = flags.number("--seed", 1)?;
    if epochs == 0 {
        return Err("--epochs must be at least 1".into());
    }
    let (train_set, valid_set) = if preset.data.is_mnist() {
        preset.data.build(Some(&load_images(flags.get("--images"), flags.get("--labels"))?), seed)?
    } else if flags.get("--images").is_some() {
        return Err(format!("preset {} makes its own synthetic data; --images does not apply", preset.name));
    } else {
        preset.data.build(None, seed)?
    };
    if let Some(plan) = &preset.pretrain {
        let mut plan = plan.clone();
        plan.finetune_epochs = epochs;
        return pretrain(&preset, plan, seed, &train_set, valid_set, out);
    }
    let mut trainer = Trainer::new(&preset.spec, preset.train.clone(), seed)?;
    trainer.data = preset.data.clone();
    if train_set.n_pixels() != trainer.net.n_inputs() {
        return Err(format!("preset {} takes {} inputs but the images have {} pixels", preset.name, trainer.net.n_inputs(), train_set.n_pixels()));
    }
    // Fail on an unwritable output now, not after an hour of training.
    std::fs::write(out, b"").map_err(|e| format!("cannot write {out}: {e}"))?;
    println!(
        "preset {} · {} parameters · {} train / {} validation images · seed {seed}",
        preset.name,
        trainer.net.n_params(),
        train_set.n_images,
        valid_set.n_images
    );
    let show_bar = std::io::stderr().is_terminal();
    let started = Instant::now();
    let per_epoch = train_set.n_images as u64;
    for epoch in 1..=epochs {
        let epoch_start = Instant::now();
        let target = epoch * per_epoch;
        let (mut sum_mse, mut n_batches) = (0.0, 0usize);
        while trainer.progress.examples_seen < target {
            let stats = trainer.step(&train_set).map_err(|e| e.to_string())?;
            sum_mse += stats.mse_per_pixel;
            n_batches += 1;
            if show_bar && n_batches % 20 == 0 {
                let done = (trainer.progress.examples_seen - (target - per_epoch)) as f64 / per_epoch as f64;
                let rate = trainer.progress.examples_seen as f64 / started.elapsed().as_secs_f64();
                let bar: String = (0..30).map(|i| if (i as f64) < done * 30.0 { '#' } else { '.' }).collect();
                eprint!("\repoch {epoch}/{epochs} [{bar}] {rate:>8.0} ex/s  train {:.4} MSE/px ", sum_mse / n_batches as f64);
                let _ = std::io::stderr().flush();
            }
        }
        if show_bar {
            eprint!("\r{:78}\r", "");
        }
        let valid = evaluate(&mut trainer.net, &valid_set);
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
    println!(
        "trained {} examples in {seconds:.1} s: {:.0} examples/s",
        trainer.progress.examples_seen,
        trainer.progress.examples_seen as f64 / seconds
    );
    if !trainer.ever_selected.is_empty() {
        let used = trainer.ever_selected.iter().filter(|&&u| u).count();
        println!("top-k: {used} of {} units were ever selected", trainer.ever_selected.len());
    }
    let code_units = trainer.net.layers[trainer.net.code_layer()].n_out;
    if code_units < trainer.net.n_inputs() {
        let pca = Pca::fit(&train_set.pixels, train_set.n_images, train_set.n_pixels(), code_units);
        let final_eval = evaluate(&mut trainer.net, &valid_set);
        println!(
            "validation: autoencoder {} MSE/px, PCA with {code_units} components {} MSE/px (fit on the training split)",
            loss_text(final_eval.mse_per_pixel),
            loss_text(pca.mse_per_pixel(&valid_set.pixels, valid_set.n_images, code_units))
        );
        if !preset.data.is_mnist() {
            let n = valid_set.pixels.len() as f64;
            let mean = valid_set.pixels.iter().map(|&v| v as f64).sum::<f64>() / n;
            let variance = valid_set.pixels.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
            println!("relative to the data's variance ({variance:.4}): {:.3e}", final_eval.mse_per_pixel / variance);
        }
    }
    std::fs::write(out, snapshot::save(&trainer)).map_err(|e| format!("cannot write {out}: {e}"))?;
    println!("snapshot written to {out}");
    Ok(())
}

enum Direction {
    Import,
    Export,
}

/// ConvNetJS `Net.toJSON()` to a Bottleneck snapshot or back. An imported network gets the
/// `convnetjs` preset's training settings and seed 1, ready to train on.
fn convert(flags: &Flags, direction: Direction) -> Result<(), String> {
    let [path] = &flags.positional[..] else {
        return Err(format!("expected exactly one input file, got {:?}\n{USAGE}", flags.positional));
    };
    let out = flags.get("--out").ok_or("needs --out FILE")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let converted = match direction {
        Direction::Import => {
            let net = snapshot::convnetjs::import(&text).map_err(|e| format!("{path}: {e}"))?;
            let trainer = Trainer::with_network(1, net, presets::find(presets::DEFAULT)?.train)?;
            snapshot::save(&trainer)
        }
        Direction::Export => {
            let trainer = snapshot::load(&text).map_err(|e| format!("{path}: {e}"))?;
            snapshot::convnetjs::export(&trainer.net)?
        }
    };
    std::fs::write(out, converted).map_err(|e| format!("cannot write {out}: {e}"))?;
    println!("wrote {out}");
    Ok(())
}

/// Greedy layer-wise pretraining, then fine-tuning beside a randomly initialised twin; prints
/// each phase and the two accuracy curves, and writes the pretrained classifier's snapshot.
fn pretrain(preset: &presets::Preset, plan: PretrainPlan, seed: u64, train: &Dataset, valid: Dataset, out: &str) -> Result<(), String> {
    std::fs::write(out, b"").map_err(|e| format!("cannot write {out}: {e}"))?;
    let started = Instant::now();
    let (mut p, mut classifier) = Pretrainer::new(&preset.spec, preset.train.clone(), plan, seed, train, valid)?;
    println!("preset {} · pretraining {} hidden layers on {} digits, then fine-tuning on {} labels · seed {seed}", preset.name, p.n_hidden(), train.n_images, p.plan.n_labels);
    let mut phase = p.phase;
    let mut phase_start = Instant::now();
    let mut sum = (0.0, 0usize);
    while p.phase != Phase::Done {
        if let Some(stats) = p.step(&mut classifier).map_err(|e| e.to_string())? {
            sum = (sum.0 + stats.bce_per_pixel.unwrap_or(stats.mse_per_pixel), sum.1 + 1);
        }
        if p.phase != phase {
            if let Phase::Pretraining { layer } = phase {
                println!("layer {} autoencoder: train loss {:.5} per input (BCE or MSE) · {:.1} s", layer + 1, sum.0 / sum.1.max(1) as f64, phase_start.elapsed().as_secs_f64());
            }
            phase = p.phase;
            phase_start = Instant::now();
            sum = (0.0, 0);
        }
    }
    println!("validation accuracy while fine-tuning (labelled examples seen: pretrained / random init):");
    for ((seen, a), (_, b)) in p.pretrained_curve.iter().zip(&p.baseline_curve) {
        println!("  {seen:>7.0}  {:6.2} %  {:6.2} %", 100.0 * a, 100.0 * b);
    }
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    std::fs::write(out, snapshot::save(&classifier)).map_err(|e| format!("cannot write {out}: {e}"))?;
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
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let mut trainer = snapshot::load(&text).map_err(|e| format!("{path}: {e}"))?;
    // The snapshot's data transforms (classes, size) apply to whatever digits are given.
    let data = match flags.get("--images") {
        Some(_) => trainer.data.prepare(&load_images(flags.get("--images"), flags.get("--labels"))?)?,
        None if trainer.data.is_mnist() => trainer.data.build(Some(&load_images(None, flags.get("--labels"))?), trainer.seed)?.1,
        None => trainer.data.build(None, trainer.seed)?.1,
    };
    if data.n_pixels() != trainer.net.n_inputs() {
        return Err(format!("the network takes {} inputs but the images have {} pixels", trainer.net.n_inputs(), data.n_pixels()));
    }
    let result = evaluate(&mut trainer.net, &data);
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
