//! The native command line: `train` (a preset from scratch, or `--resume` of a snapshot),
//! `eval`, `presets`, and ConvNetJS import and export, each with `--help`. Each drives a
//! `Session`, as the page does, so both front ends follow one policy; parsing arguments
//! (lexopt), reading files, writing them whole or not at all, and printing happen here, at the
//! edge. Errors come back as one-line messages (a command's usage may follow on later lines).

use std::ffi::OsString;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use lexopt::{Arg, Parser};

use crate::data::{asset, idx, DataSpec, Dataset};
use crate::presets;
use crate::pretrain::Phase;
use crate::session::{Clock, Command, Experiment, Loaded, Payload, Session, DEFAULT_SEED};
use crate::session::knowledge;

/// One subcommand: its name, the options it takes (with a value, and switches) and its help,
/// whose first paragraph is its usage.
struct Subcommand {
    name: &'static str,
    with_value: &'static [&'static str],
    switches: &'static [&'static str],
    help: &'static str,
}

const TRAIN: Subcommand = Subcommand {
    name: "train",
    with_value: &["--preset", "--resume", "--epochs", "--seed", "--images", "--labels", "--out"],
    switches: &[],
    help: "usage: bottleneck train --preset NAME [--epochs N] [--seed S] [--images IDX --labels IDX] --out SNAPSHOT.json
       bottleneck train --resume SNAPSHOT.json [--epochs N] [--images IDX --labels IDX] --out SNAPSHOT.json

Trains a preset from scratch, or goes on with a saved run exactly where it stopped (its
network, settings, optimiser state, data order and generator continue as if training had
never stopped), on the built-in digits or on IDX files. Prints train and validation MSE/px per
epoch, examples/s and the PCA baseline, then writes the snapshot.

  --preset NAME      a named experiment (see `bottleneck presets`)
  --resume FILE      a Bottleneck snapshot to go on training
  --epochs N         train until N epochs are complete in all, counting those a resumed
                     snapshot has done (default: the preset's; with --resume, one more);
                     for a pretraining preset, the fine-tuning epochs
  --seed S           the seed of a fresh run (default 1); a resumed run keeps its own
  --images IDX       MNIST-format images (plain or gzipped) instead of the built-in digits;
  --labels IDX       their labels. A resumed run needs the data it was trained on.
  --out FILE         where the snapshot goes. It is written to a temporary file beside FILE
                     and renamed, so a run that fails leaves no FILE (and an existing one as
                     it was); an unwritable place is reported before training starts.
  -h, --help         this help",
};

const EVAL: Subcommand = Subcommand {
    name: "eval",
    with_value: &["--images", "--labels"],
    switches: &["--json"],
    help: "usage: bottleneck eval SNAPSHOT.json [--images IDX [--labels IDX]] [--json]

Scores a snapshot (or a ConvNetJS Net.toJSON() file) on the built-in validation digits, or on
IDX files: MSE/px (and BCE/px for a sigmoid output), or the share classified right for a
classifier. The snapshot's data transforms (classes, size) apply to the images given. For an
autoencoder on labelled digits, also what its code knows, as the page's table measures it: a
linear probe and 5-nearest-neighbour voting on the code, on PCA with as many components and on
the pixels (fit on the training split, scored on the validation split of the same digits).

  --images IDX       MNIST-format images (plain or gzipped; MNIST, Fashion-MNIST, EMNIST)
  --labels IDX       their labels (a classifier needs them)
  --json             print the result as one JSON object
  -h, --help         this help",
};

const PRESETS: Subcommand = Subcommand {
    name: "presets",
    with_value: &[],
    switches: &[],
    help: "usage: bottleneck presets

Lists the named experiments `train --preset` starts, one a line.",
};

const IMPORT: Subcommand = Subcommand {
    name: "import-convnetjs",
    with_value: &["--out"],
    switches: &[],
    help: "usage: bottleneck import-convnetjs CONVNETJS.json --out SNAPSHOT.json

Converts ConvNetJS's Net.toJSON() to a Bottleneck snapshot, which trains with the ConvNetJS
demo's settings from seed 1. --out is written whole or not at all.",
};

const EXPORT: Subcommand = Subcommand {
    name: "export-convnetjs",
    with_value: &["--out"],
    switches: &[],
    help: "usage: bottleneck export-convnetjs SNAPSHOT.json --out CONVNETJS.json

Writes the network in ConvNetJS's Net.toJSON() format, which its Net.fromJSON() loads, with
the same forward pass: an autoencoder ends with a regression layer, a classifier with a
softmax layer, tied weights are written out. A network ConvNetJS cannot compute (a deconv or
a top-k layer) is refused, naming the layer. Only the network crosses, not the training.
--out is written whole or not at all.",
};

const TOUR: Subcommand = Subcommand {
    name: "tour",
    with_value: &[],
    switches: &[],
    help: "usage: bottleneck tour [TOUR.json]

Lists the guided tour's stops: the built-in tour, or a tour file of your own, checked as the
page checks it (a mistake is a sentence naming the stop and the field). The page opens your
file by link: ?tour=1&tour-file=ADDRESS (the file's host must allow the page to fetch it).",
};

const COMMANDS: [&Subcommand; 6] = [&TRAIN, &EVAL, &PRESETS, &IMPORT, &EXPORT, &TOUR];

impl Subcommand {
    /// The usage lines: the help's first paragraph.
    fn usage(&self) -> &'static str {
        self.help.split("\n\n").next().unwrap_or(self.help)
    }

    /// A command line this subcommand cannot make sense of: the sentence, then its usage.
    fn misuse(&self, message: impl std::fmt::Display) -> String {
        format!("{message}\n{}", self.usage())
    }
}

/// The help `bottleneck help` prints: every command's usage.
pub fn usage() -> String {
    let lines: Vec<String> = COMMANDS.iter().flat_map(|c| c.usage().lines()).map(|l| format!("  {}", l.trim_start_matches("usage: ").trim_start())).collect();
    format!(
        "usage:
{}
  bottleneck help [COMMAND]

`bottleneck COMMAND --help` (or `bottleneck help COMMAND`) explains a command and its options.
The built-in digits are read from www/data/mnist10k.bin (built by `npm start` or
`npm run build:data`); set BOTTLENECK_DATA to read them from elsewhere.",
        lines.join("\n")
    )
}

/// Run one command line (without the program name); Ok carries nothing, output is printed.
pub fn run<I>(args: I) -> Result<(), String>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut parser = Parser::from_args(args);
    let name = match parser.next().map_err(|e| e.to_string())? {
        None => return Err(format!("no command given\n{}", usage())),
        Some(Arg::Long("help") | Arg::Short('h')) => {
            println!("{}", usage());
            return Ok(());
        }
        Some(Arg::Long(option)) => return Err(format!("unknown option --{option}\n{}", usage())),
        Some(Arg::Short(option)) => return Err(format!("unknown option -{option}\n{}", usage())),
        Some(Arg::Value(name)) => name.to_string_lossy().into_owned(),
    };
    if name == "help" {
        return help(&mut parser);
    }
    let command = COMMANDS.iter().find(|c| c.name == name).ok_or_else(|| format!("unknown command {name:?}\n{}", usage()))?;
    let Some(args) = Args::parse(&mut parser, command)? else {
        println!("{}", command.help);
        return Ok(());
    };
    match command.name {
        "train" => train(&args),
        "eval" => eval(&args),
        "presets" => {
            args.no_positional(&PRESETS)?;
            for preset in presets::all() {
                println!("{:<12} {}", preset.name, preset.description);
            }
            Ok(())
        }
        "tour" => {
            let tour = match &args.positional[..] {
                [] => crate::tour::builtin(),
                [path] => crate::tour::parse(&read_at_most(Path::new(path), crate::tour::MAX_BYTES)?)?,
                more => return Err(TOUR.misuse(format!("tour reads one tour file at most, got {more:?}"))),
            };
            println!("{}: {} stops", tour.title, tour.stops.len());
            for (i, stop) in tour.stops.iter().enumerate() {
                let link: Vec<String> = stop.link.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let moment = stop.moment.as_ref().map(|m| format!(", waits for \"{}\"", m.mark)).unwrap_or_default();
                println!("{:>2}. {} ({}; the {} panel{moment})", i + 1, stop.title, link.join("&"), stop.panel);
            }
            Ok(())
        }
        "import-convnetjs" => convert(&args, &IMPORT),
        _ => convert(&args, &EXPORT),
    }
}

/// `bottleneck help [COMMAND]`.
fn help(parser: &mut Parser) -> Result<(), String> {
    const HELP: Subcommand = Subcommand { name: "help", with_value: &[], switches: &[], help: "usage: bottleneck help [COMMAND]" };
    let topic = match Args::parse(parser, &HELP)? {
        None => None,
        Some(args) => match &args.positional[..] {
            [] => None,
            [topic] => Some(topic.to_string_lossy().into_owned()),
            more => return Err(HELP.misuse(format!("help explains one command at a time, got {more:?}"))),
        },
    };
    match topic {
        None => println!("{}", usage()),
        Some(topic) => {
            let command = COMMANDS.iter().find(|c| c.name == topic).ok_or_else(|| format!("unknown command {topic:?}\n{}", usage()))?;
            println!("{}", command.help);
        }
    }
    Ok(())
}

/// A subcommand's arguments as given: values by option name, switches, positional arguments.
struct Args {
    values: Vec<(&'static str, OsString)>,
    switches: Vec<&'static str>,
    positional: Vec<OsString>,
}

impl Args {
    /// Read the rest of the command line for `command`; None when it asks for `--help`.
    fn parse(parser: &mut Parser, command: &Subcommand) -> Result<Option<Args>, String> {
        let mut args = Args { values: Vec::new(), switches: Vec::new(), positional: Vec::new() };
        loop {
            let arg = match parser.next() {
                Ok(Some(arg)) => arg,
                Ok(None) => return Ok(Some(args)),
                Err(lexopt::Error::UnexpectedValue { option, .. }) => return Err(command.misuse(format!("{option} takes no value"))),
                Err(e) => return Err(command.misuse(e)),
            };
            let option = match arg {
                Arg::Long("help") | Arg::Short('h') => return Ok(None),
                Arg::Value(value) => {
                    args.positional.push(value);
                    continue;
                }
                Arg::Short(option) => return Err(command.misuse(format!("unknown option -{option}"))),
                Arg::Long(option) => format!("--{option}"),
            };
            if let Some(&known) = command.with_value.iter().find(|&&o| o == option) {
                let value = parser.value().ok().filter(|v| !v.is_empty()).ok_or_else(|| command.misuse(format!("{known} needs a value")))?;
                if args.values.iter().any(|(o, _)| *o == known) {
                    return Err(command.misuse(format!("{known} given twice")));
                }
                args.values.push((known, value));
            } else if let Some(&known) = command.switches.iter().find(|&&o| o == option) {
                args.switches.push(known);
            } else {
                return Err(command.misuse(format!("unknown option {option}")));
            }
        }
    }

    fn has(&self, option: &str) -> bool {
        self.values.iter().any(|(o, _)| *o == option) || self.switches.contains(&option)
    }

    fn path(&self, option: &str) -> Option<PathBuf> {
        self.values.iter().find(|(o, _)| *o == option).map(|(_, v)| PathBuf::from(v))
    }

    fn text(&self, option: &str) -> Result<Option<String>, String> {
        match self.values.iter().find(|(o, _)| *o == option) {
            None => Ok(None),
            Some((_, value)) => value.to_str().map(|s| Some(s.to_string())).ok_or_else(|| format!("{option}: {value:?} is not valid text (UTF-8)")),
        }
    }

    fn number<T: std::str::FromStr>(&self, option: &str, default: T) -> Result<T, String> {
        match self.text(option)? {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| format!("{option}: expected a whole number, got {text:?}")),
        }
    }

    fn no_positional(&self, command: &Subcommand) -> Result<(), String> {
        match &self.positional[..] {
            [] => Ok(()),
            given => Err(command.misuse(format!("{} takes no positional arguments, got {given:?}", command.name))),
        }
    }

    /// The one input file a command works on.
    fn one_file(&self, command: &Subcommand, what: &str) -> Result<PathBuf, String> {
        match &self.positional[..] {
            [path] => Ok(PathBuf::from(path)),
            given => Err(command.misuse(format!("{} takes exactly one {what}, got {given:?}", command.name))),
        }
    }
}

/// A file no longer than `max` bytes (its size judged before it is read).
fn read_at_most(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let size = std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?.len();
    if size > max {
        return Err(format!("{} is {size} bytes; it may be at most {max}", path.display()));
    }
    read(path)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// A file written whole or not at all: the text goes to a temporary file beside it, which is
/// then renamed over it, so a failure (a refused export, a diverged run, a full disk) leaves no
/// partial or empty file, and a file already there stays as it was.
struct Output {
    path: PathBuf,
    temp: PathBuf,
}

impl Output {
    /// Check now, before any long work, that `path` can be written: create the temporary file
    /// beside it and remove it again.
    fn check(path: &Path) -> Result<Output, String> {
        let cannot = |why: &dyn std::fmt::Display| format!("cannot write {}: {why}", path.display());
        if path.is_dir() {
            return Err(cannot(&"it is a directory"));
        }
        let name = path.file_name().ok_or_else(|| cannot(&"it does not name a file"))?;
        let mut temp_name = OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.tmp", std::process::id()));
        let temp = path.with_file_name(temp_name);
        File::create(&temp).map_err(|e| cannot(&e))?;
        std::fs::remove_file(&temp).map_err(|e| cannot(&e))?;
        Ok(Output { path: path.to_path_buf(), temp })
    }

    fn write(&self, text: &str) -> Result<(), String> {
        let written = File::create(&self.temp).and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()
        });
        written.and_then(|()| std::fs::rename(&self.temp, &self.path)).map_err(|e| {
            let _ = std::fs::remove_file(&self.temp);
            format!("cannot write {}: {e}", self.path.display())
        })
    }

    fn display(&self) -> std::path::Display<'_> {
        self.path.display()
    }
}

/// The images to work on: IDX files when given, else the built-in digits.
fn load_images(images: Option<&Path>, labels: Option<&Path>) -> Result<Dataset, String> {
    match images {
        Some(path) => {
            let labels = labels.map(read).transpose()?;
            idx::parse(&read(path)?, labels.as_deref())
        }
        None if labels.is_some() => Err("--labels needs --images".into()),
        None => {
            let path = asset::builtin_path();
            let bytes = std::fs::read(&path).map_err(|e| {
                format!("cannot read the built-in digits at {}: {e} (run `npm run build:data` first, or set BOTTLENECK_DATA)", path.display())
            })?;
            asset::parse(&bytes)
        }
    }
}

/// The digits a run on `data` trains on: the IDX files given, else the built-in digits; none
/// for synthetic data, which `who` makes itself.
fn digits_for(data: &DataSpec, args: &Args, who: &str) -> Result<Option<Dataset>, String> {
    if data.is_mnist() {
        Ok(Some(load_images(args.path("--images").as_deref(), args.path("--labels").as_deref())?))
    } else if args.has("--images") {
        Err(format!("{who} makes its own synthetic data; --images does not apply"))
    } else {
        Ok(None)
    }
}

fn wall() -> Box<dyn Clock> {
    crate::clock::Wall::boxed()
}

fn train(args: &Args) -> Result<(), String> {
    args.no_positional(&TRAIN)?;
    match (args.text("--preset")?, args.path("--resume")) {
        (Some(_), Some(_)) => Err(TRAIN.misuse("give --preset NAME or --resume SNAPSHOT.json, not both")),
        (None, None) => Err("train needs --preset NAME (see `bottleneck presets`) or --resume SNAPSHOT.json".into()),
        (Some(name), None) => train_preset(args, &name),
        (None, Some(path)) => train_resumed(args, &path),
    }
}

/// `train --preset NAME`: a fresh run.
fn train_preset(args: &Args, name: &str) -> Result<(), String> {
    let seed: u64 = args.number("--seed", DEFAULT_SEED)?;
    let mut experiment = Experiment::preset(name, seed)?;
    let out = args.path("--out").ok_or("train needs --out SNAPSHOT.json")?;
    let preset = experiment.preset_info().expect("a preset's experiment");
    let epochs: u64 = args.number("--epochs", preset.epochs)?;
    if epochs == 0 {
        return Err("--epochs must be at least 1".into());
    }
    // For a pretraining preset, the epochs are fine-tuning's.
    if let Some(plan) = &mut experiment.pretrain {
        plan.finetune_epochs = epochs;
    }
    let digits = digits_for(&experiment.data, args, &format!("preset {}", preset.name))?;
    let mut session = Session::start(experiment, digits, wall()).map_err(|e| format!("preset {}: {e}", preset.name))?;
    // Fail on an unwritable output now, not after an hour of training.
    let out = Output::check(&out)?;
    if session.pretrainer().is_some() {
        return pretrain(&mut session, &out);
    }
    let (n_train, n_valid) = (session.train_set().n_images, session.valid_set().n_images);
    println!("preset {} · {} parameters · {n_train} train / {n_valid} validation images · seed {seed}", preset.name, session.network().n_params());
    train_epochs(&mut session, 0, epochs, &out)
}

/// `train --resume SNAPSHOT.json`: the saved run goes on exactly, on the same data, until
/// `--epochs` are complete in all.
fn train_resumed(args: &Args, path: &Path) -> Result<(), String> {
    if args.has("--seed") {
        return Err("--seed does not apply to --resume: a resumed run goes on with the seed and generator state it was saved with".into());
    }
    let out = args.path("--out").ok_or("train needs --out SNAPSHOT.json")?;
    let bytes = read(path)?;
    let at = |e: String| format!("{}: {e}", path.display());
    let mut session = Session::open_with(&bytes, DEFAULT_SEED, wall(), |loaded, data| match loaded {
        Loaded::Convnetjs => Err("a ConvNetJS Net.toJSON() file holds no training to resume; convert it with `bottleneck import-convnetjs` first".into()),
        Loaded::Snapshot => digits_for(data, args, "the snapshot"),
    })
    .map_err(|e| at(e.0))?;
    // (The session refuses digits other than the run's when their count differs from its data
    // order's.)
    if session.pretrainer().is_some() {
        // A pretraining run goes on through its phases to the end of its plan.
        let out = Output::check(&out)?;
        return pretrain(&mut session, &out);
    }
    let (n_train, n_valid) = (session.train_set().n_images, session.valid_set().n_images);
    let done = session.examples_seen() / n_train.max(1) as u64;
    let epochs: u64 = args.number("--epochs", done + 1)?;
    if epochs == 0 {
        return Err("--epochs must be at least 1".into());
    }
    if epochs <= done {
        let complete = if done == 1 { "1 epoch is".to_string() } else { format!("{done} epochs are") };
        return Err(at(format!("{complete} complete already; --epochs counts them all, so give more than {done}")));
    }
    let out = Output::check(&out)?;
    println!(
        "resuming {} · {} parameters · {n_train} train / {n_valid} validation images · {done} of {epochs} epochs done · seed {}",
        path.display(),
        session.network().n_params(),
        session.experiment().seed
    );
    train_epochs(&mut session, done, epochs, &out)
}

/// Train epochs `done + 1 ..= epochs` (an epoch ends once `epoch` × the training set's size
/// examples are seen), print each, then the PCA baseline, and write the snapshot to `out`.
fn train_epochs(session: &mut Session, done: u64, epochs: u64, out: &Output) -> Result<(), String> {
    let show_bar = std::io::stderr().is_terminal();
    let started = Instant::now();
    let seen_before = session.examples_seen();
    let per_epoch = session.train_set().n_images as u64;
    for epoch in done + 1..=epochs {
        let epoch_start = Instant::now();
        let epoch_seen = session.examples_seen();
        let target = epoch * per_epoch;
        let (mut sum_mse, mut n_batches) = (0.0, 0usize);
        while session.examples_seen() < target {
            let stats = session.train_batch().map_err(|e| e.0)?.ok_or("training stopped early")?;
            sum_mse += stats.mse_per_pixel;
            n_batches += 1;
            if show_bar && n_batches % 20 == 0 {
                let share = (session.examples_seen() - (target - per_epoch)) as f64 / per_epoch as f64;
                let rate = (session.examples_seen() - seen_before) as f64 / started.elapsed().as_secs_f64();
                let bar: String = (0..30).map(|i| if (i as f64) < share * 30.0 { '#' } else { '.' }).collect();
                eprint!("\repoch {epoch}/{epochs} [{bar}] {rate:>8.0} ex/s  train {:.4} MSE/px ", sum_mse / n_batches as f64);
                let _ = std::io::stderr().flush();
            }
        }
        if show_bar {
            eprint!("\r{:78}\r", "");
        }
        let valid = session.evaluate(None).map_err(|e| e.0)?;
        let rate = (session.examples_seen() - epoch_seen) as f64 / epoch_start.elapsed().as_secs_f64();
        println!(
            "epoch {epoch:>3}  train {} MSE/px  validation {} MSE/px{}  {:>8.0} ex/s  {:>7.1} s",
            loss_text(sum_mse / n_batches.max(1) as f64),
            loss_text(valid.mse_per_pixel),
            valid.bce_per_pixel.map(|b| format!(" ({b:.5} BCE/px)")).unwrap_or_default() + &valid.elbo.map(|e| format!("  -ELBO {:.2} = {:.2} + KL {:.2}", e.negative_elbo, e.reconstruction, e.kl)).unwrap_or_default(),
            rate,
            started.elapsed().as_secs_f64()
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    let seen = session.examples_seen() - seen_before;
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
    write_payload(session, Command::Save, out)?;
    println!("snapshot written to {}", out.display());
    Ok(())
}

/// Run a command whose reply carries text (a snapshot, a ConvNetJS file) and write it to `out`.
fn write_payload(session: &mut Session, command: Command, out: &Output) -> Result<(), String> {
    let text = match session.apply(command).map_err(|e| e.0)?.payload {
        Payload::Snapshot(text) | Payload::Convnetjs(text) => text,
        other => unreachable!("save and export reply with text, not {other:?}"),
    };
    out.write(&text)
}

/// ConvNetJS `Net.toJSON()` to a Bottleneck snapshot (`import-convnetjs`) or back, through a
/// session opened on the file (an imported network gets the ConvNetJS demo's training settings
/// and seed 1).
fn convert(args: &Args, command: &Subcommand) -> Result<(), String> {
    let import = command.name == IMPORT.name;
    let path = args.one_file(command, if import { "CONVNETJS.json" } else { "SNAPSHOT.json" })?;
    let out = args.path("--out").ok_or("needs --out FILE")?;
    let at = |e: String| format!("{}: {e}", path.display());
    let bytes = read(&path)?;
    let out = Output::check(&out)?;
    // What the file is decides before anything else is read (a snapshot of an imported network
    // is a Bottleneck snapshot, whatever its origin says).
    let mut kind = Loaded::Snapshot;
    let mut session = Session::open_with(&bytes, DEFAULT_SEED, wall(), |loaded, _| {
        kind = loaded;
        Ok(None)
    })
    .map_err(|e| at(e.0))?;
    match (import, kind == Loaded::Convnetjs) {
        (true, false) => return Err(at("this is a Bottleneck snapshot, not a ConvNetJS Net.toJSON() file (an object with a \"layers\" array)".into())),
        (true, true) => write_payload(&mut session, Command::Save, &out)?,
        (false, true) => return Err(at("this looks like a ConvNetJS Net.toJSON() file already, not a Bottleneck snapshot".into())),
        (false, false) => write_payload(&mut session, Command::ExportConvnetjs, &out).map_err(at)?,
    }
    println!("wrote {}", out.display());
    Ok(())
}

/// Greedy layer-wise pretraining, then fine-tuning beside a randomly initialised twin; prints
/// each phase and the two accuracy curves, and writes the pretrained classifier's snapshot.
fn pretrain(session: &mut Session, out: &Output) -> Result<(), String> {
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
    println!("snapshot of the pretrained classifier written to {}", out.display());
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

fn eval(args: &Args) -> Result<(), String> {
    let path = args.one_file(&EVAL, "SNAPSHOT.json")?;
    let session = Session::open(&read(&path)?, None, DEFAULT_SEED, wall()).map_err(|e| format!("{}: {e}", path.display()))?;
    // The snapshot's data transforms (classes, size) apply to whatever digits are given.
    let data = &session.experiment().data;
    let seed = session.experiment().seed;
    let (images, labels) = (args.path("--images"), args.path("--labels"));
    let digits = if data.is_mnist() { Some(load_images(images.as_deref(), labels.as_deref())?) } else { None };
    // Scored on every image given, or on the validation split of the built-in digits; what the
    // code knows is measured on the split of the same digits (probes fit on its training part).
    let (train, valid) = match &digits {
        Some(digits) => data.build(Some(digits), seed)?,
        None => (session.train_set().clone(), session.valid_set().clone()),
    };
    let scored = match (&digits, images.is_some()) {
        (Some(digits), true) => data.prepare(digits)?,
        _ => valid.clone(),
    };
    let result = session.evaluate(Some(&scored)).map_err(|e| e.0)?;
    let knowledge = session.knowledge_on(&train, &valid);
    if args.has("--json") {
        let mut json = serde_json::to_value(result).expect("eval serializes");
        json["knowledge"] = serde_json::to_value(&knowledge).expect("knowledge serializes");
        println!("{json}");
    } else {
        match result.accuracy {
            Some(accuracy) => println!("{} images: {:.2} % classified right", result.n_images, 100.0 * accuracy),
            None => println!("{} images: {:.5} MSE/px", result.n_images, result.mse_per_pixel),
        }
        if let Some(bce) = result.bce_per_pixel {
            println!("{bce:.5} BCE/px");
        }
        if let Some(elbo) = &result.elbo {
            println!(
                "negative ELBO {:.2} nats per image = reconstruction {:.2} + KL {:.2} (each image's code drawn {} times; MSE/px above is of the decoded mean)",
                elbo.negative_elbo,
                elbo.reconstruction,
                elbo.kl,
                crate::train::ELBO_DRAWS
            );
        }
        if let Some(k) = &knowledge {
            let pct = |v: f64| format!("{:.1} %", 100.0 * v);
            println!("what the code knows ({} validation digits, probes fit on {} training digits):", valid.n_images, train.n_images.min(knowledge::PROBE_DIGITS));
            println!("  {:<18} {:>12} {:>8}", "", "linear probe", "5-NN");
            println!("  {:<18} {:>12} {:>8}", format!("code ({} units)", k.units), pct(k.code.linear), pct(k.code.knn));
            if let Some(pca) = &k.pca {
                println!("  {:<18} {:>12} {:>8}", format!("PCA-{}", k.units), pct(pca.linear), pct(pca.knn));
            }
            println!("  {:<18} {:>12} {:>8}", "pixels", pct(k.pixels.linear), pct(k.pixels.knn));
        }
    }
    Ok(())
}
