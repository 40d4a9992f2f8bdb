//! The fuzz targets' bodies, one function per input boundary of the library. The libFuzzer
//! binaries (`fuzz_targets/*.rs`, `npm run fuzz`) call them through this crate's lib, and the
//! stable test `crate/tests/fuzz_corpus.rs` includes this file to replay every file of
//! `corpus/<target>/` through the same functions.
//!
//! A target returns normally when the library accepts an input or refuses it in a sentence; it
//! panics only on a real bug: a panic inside the library, or a broken promise checked here (an
//! error that is not a plain sentence, a refused command that changed the session, a snapshot
//! that does not load again, an export that does not import with the same weights...).

use std::sync::OnceLock;

use serde_json::Value;

use bottleneck::budget::{Budget, BUDGET};
use bottleneck::clock::Manual;
use bottleneck::data::{asset, idx, synthetic, Dataset};
use bottleneck::model::network::Workspace;
use bottleneck::model::{NetSpec, Network, Optimizer};
use bottleneck::presets;
use bottleneck::rng::Rng;
use bottleneck::session::panels::{self, Panel};
use bottleneck::session::{link, Command, Experiment, Payload, Session};
use bottleneck::tour as tours;
use bottleneck::snapshot::{self, convnetjs, Opened};

/// All targets, by the names `cargo fuzz run` and the corpus directories use.
pub const ALL: [(&str, fn(&[u8])); 8] = [("snapshot", snapshot), ("convnetjs", convnetjs), ("idx", idx), ("spec", spec), ("command", command), ("link", link), ("asset", asset), ("tour", tour)];

/// The commands of one `command` input that are applied (the rest are ignored).
pub const MAX_COMMANDS: usize = 8;

/// Synthetic labelled digits (1,120: 1,008 to train, so the pretraining preset's 1,000 labels
/// fit), made once per process.
pub fn digits() -> &'static Dataset {
    static DIGITS: OnceLock<Dataset> = OnceLock::new();
    DIGITS.get_or_init(|| synthetic::digits(112))
}

/// What a refusal may not contain outside the text it quotes: Rust's and serde's debug output.
const NOT_IN_A_SENTENCE: &[&str] = &["Some(", "None", "::", "Ok(", "Err(", "Error(", ", line: ", "{ ", "\\u{"];

/// `text` without the parts it quotes ("…", `…`, with backslash escapes), which may hold
/// anything the input held.
fn unquoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '"' || c == '`' {
            out.push_str("\"…\"");
            while let Some(d) = chars.next() {
                if d == '\\' {
                    chars.next();
                } else if d == c {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Panic unless `message`, a refusal of `input`, is a plain sentence: not empty, and no Rust or
/// serde debug text outside what it quotes (unless the input itself holds that text).
pub fn assert_sentence(what: &str, message: &str, input: &[u8]) {
    assert!(!message.trim().is_empty(), "{what}: an empty refusal");
    let bare = unquoted(message);
    for bad in NOT_IN_A_SENTENCE {
        let from_input = input.windows(bad.len()).any(|w| w == bad.as_bytes());
        assert!(!bare.contains(bad) || from_input, "{what}: the refusal is not a plain sentence ({bad:?} in it): {message}");
    }
}

/// `Ok` as is; a refusal checked to be a sentence, then `None`.
fn refused<T>(what: &str, result: Result<T, String>, input: &[u8]) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(message) => {
            assert_sentence(what, &message, input);
            None
        }
    }
}

fn same_weights(a: &Network, b: &Network) -> bool {
    a.params().len() == b.params().len() && a.params().iter().zip(b.params()).all(|(x, y)| x.value == y.value)
}

/// Export a network to ConvNetJS JSON and import it again: the weights must come back.
fn export_round_trip(net: &Network, input: &[u8]) {
    let Some(text) = refused("convnetjs export", convnetjs::export(net), input) else { return };
    let back = convnetjs::import(&text).unwrap_or_else(|e| panic!("an exported network does not import again: {e}"));
    assert!(same_weights(net, &back), "export then import changed the weights");
}

/// `snapshot::open` on a file's bytes; a snapshot of ours is restored, saved and loaded again
/// (what the page does with it), a ConvNetJS file exported and imported again.
pub fn snapshot(data: &[u8]) {
    match refused("snapshot::open", snapshot::open(data), data) {
        None => {}
        Some(Opened::Bottleneck(saved)) => {
            let Some(trainer) = refused("restore", saved.restore(), data) else { return };
            let text = snapshot::save(&trainer, &saved.data).unwrap_or_else(|e| panic!("a restored snapshot cannot be saved: {e}"));
            let again = snapshot::load(&text).unwrap_or_else(|e| panic!("a restored snapshot, saved again, does not load: {e}"));
            assert!(same_weights(trainer.net(), again.net()), "save then load changed the weights");
        }
        Some(Opened::ConvNetJs(net)) => export_round_trip(&net, data),
    }
}

/// ConvNetJS `Net.toJSON()` text imported, exported and imported again.
pub fn convnetjs(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(net) = refused("convnetjs::import", convnetjs::import(text), data) {
        export_round_trip(&net, data);
    }
}

/// An IDX images file and optional labels file packed into one input: a flags byte (bit 0:
/// labels present), the images' length as a little-endian u32, the images' bytes, then the
/// labels' bytes. Either file may be gzipped.
pub fn idx_pack(images: &[u8], labels: Option<&[u8]>) -> Vec<u8> {
    let mut out = vec![labels.is_some() as u8];
    out.extend_from_slice(&(images.len() as u32).to_le_bytes());
    out.extend_from_slice(images);
    out.extend_from_slice(labels.unwrap_or_default());
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

/// `idx::parse` on the images (and labels); the same files dropped in the other order
/// (`parse_files`) give the same digits; then what `bottleneck train --images` does next with
/// small enough data: a session on them, one step and an evaluation, and the conv preset's data
/// (1s and 8s resized to 36×36).
pub fn idx(data: &[u8]) {
    let (images, labels) = idx_unpack(data);
    let Some(parsed) = refused("idx::parse", idx::parse(images, labels), data) else { return };
    let n_px = parsed.width * parsed.height;
    assert_eq!(parsed.pixels.len(), parsed.n_images * n_px, "pixels for {} images of {}x{}", parsed.n_images, parsed.width, parsed.height);
    assert!(parsed.labels.as_ref().is_none_or(|l| l.len() == parsed.n_images), "labels do not match the images");
    assert!(parsed.pixels.iter().all(|p| (0.0..=1.0).contains(p)), "a pixel outside [0, 1]");
    let files: Vec<&[u8]> = labels.into_iter().chain([images]).collect();
    let dropped = idx::parse_files(&files).unwrap_or_else(|e| panic!("parse_files refuses what parse accepts: {e}"));
    assert!(dropped.pixels == parsed.pixels && dropped.labels == parsed.labels, "parse_files and parse disagree");
    if parsed.n_images > 300 || n_px > 4096 {
        return;
    }
    let experiment = Experiment::preset(presets::DEFAULT, 1).expect("the default preset");
    let started = Session::start(experiment, Some(parsed.clone()), Manual::ticking(1.0).boxed()).map_err(|e| e.0);
    if let Some(mut session) = refused("Session::start", started, data) {
        if let Err(e) = session.apply(Command::Step) {
            assert_sentence("step", &e.0, data);
        }
        if let Err(e) = session.evaluate(None) {
            assert_sentence("evaluate", &e.0, data);
        }
    }
    let conv = &presets::find("conv-1s-8s").expect("the conv preset").data;
    refused("conv preset data", conv.build(Some(&parsed), 1), data);
}

/// What a fuzzed network may cost to be built and stepped here, a small part of the library's
/// budget (which `spec` judges first): a slow input would hide the rest from the fuzzer.
pub const FUZZ_BUDGET: Budget = Budget { training_bytes: 64 << 20, data_bytes: 64 << 20, step_flops: 40_000_000 };

/// A network definition: parsed and checked, judged by the budget at the editor's batch size,
/// then (where a small budget allows) built and run forward and backward on a batch of two,
/// through inference and training; its JSON reads back as the same spec.
pub fn spec(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(spec) = refused("NetSpec::from_json", NetSpec::from_json(text), data) else { return };
    let checked = spec.check().unwrap_or_else(|e| panic!("a parsed spec fails its check: {e}"));
    assert_eq!(NetSpec::from_json(&spec.to_json()).as_ref(), Ok(&spec), "to_json does not read back as the same spec");
    let adam = Optimizer::Adam { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    let batch = 2;
    refused("budget", BUDGET.judge_training(&checked, 50, &adam), data);
    if FUZZ_BUDGET.judge_training(&checked, batch, &adam).is_err() {
        return;
    }
    let mut net = Network::new(&spec, &mut Rng::from_seed(0)).unwrap_or_else(|e| panic!("a spec within the budget does not build: {e}"));
    let x: Vec<f32> = (0..batch * net.n_inputs()).map(|i| (i % 7) as f32 / 7.0).collect();
    let mut work = Workspace::default();
    let out = net.infer(&mut work, &x, batch, None).output().len();
    assert_eq!(out, batch * net.n_outputs(), "infer's outputs for a batch of {batch}");
    net.forward(&x, batch, None);
    let targets: Vec<f32> = if net.is_classifier() {
        (0..batch).flat_map(|b| (0..net.n_outputs()).map(move |o| (o == b % 2) as u8 as f32)).collect()
    } else {
        (0..batch * net.n_outputs()).map(|i| (i % 5) as f32 / 5.0).collect()
    };
    net.backward(&targets);
}

/// Everything a refused command must leave as it was: parameters, optimiser state, comparison
/// networks, progress, the generator, the state the controls show and the figures.
fn fingerprint(session: &Session) -> String {
    let trainer = session.trainer();
    let mut bits: Vec<u32> = trainer.net().params().iter().flat_map(|p| p.value.iter().map(|v| v.to_bits())).collect();
    bits.extend(trainer.optim().slots.iter().flatten().flatten().map(|v| v.to_bits()));
    for c in session.comparisons() {
        bits.extend(c.trainer.net().params().iter().flat_map(|p| p.value.iter().map(|v| v.to_bits())));
    }
    format!("{bits:?}{:?}{:?}{:?}{:?}", trainer.progress(), trainer.rng().state(), session.state(), session.stats())
}

/// A command's name as the protocol writes it: `"step"` or the key of `{"load": {...}}`.
fn command_name(value: &Value) -> String {
    match value {
        Value::String(name) => name.clone(),
        Value::Object(map) if map.len() == 1 => map.keys().next().cloned().unwrap_or_default(),
        _ => "?".into(),
    }
}

/// A JSON command, or an array of up to MAX_COMMANDS, applied to a session on the default
/// preset and synthetic digits through `Session::apply`, each followed by `run_for` on a manual
/// clock (moved past the validation period every other command), then every panel drawn at
/// the narrowest and natural widths. A refused command leaves the session exactly as it was and
/// says why in a sentence; a snapshot or export a command hands back opens again.
pub fn command(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else { return };
    let values = match value {
        Value::Array(items) => items.into_iter().take(MAX_COMMANDS).collect(),
        other => vec![other],
    };
    let commands: Vec<(String, Command)> = values.into_iter().filter_map(|v| Some((command_name(&v), serde_json::from_value(v).ok()?))).collect();
    if commands.is_empty() {
        return;
    }
    let clock = Manual::ticking(1.0);
    let experiment = Experiment::preset(presets::DEFAULT, 1).expect("the default preset");
    // An input of odd length starts on the first 400 digits while the rest arrive (its first
    // epoch on the first 300), and they arrive after its second command.
    let late = data.len() % 2 == 1;
    let all = digits().clone().with_first_part(300);
    let first = if late { all.first_images(400) } else { all.clone() };
    let mut session = Session::start(experiment, Some(first), clock.boxed()).expect("a session on synthetic digits starts");
    for (i, (name, command)) in commands.into_iter().enumerate() {
        if late && i == 2 {
            if let Err(e) = session.digits_arrived(all.clone()) {
                assert_sentence("digits_arrived", &e.0, data);
            }
            assert!(session.stats().arriving.is_none(), "the digits arrived but the session says they are arriving");
        }
        let before = fingerprint(&session);
        match session.apply(command) {
            Ok(reply) => match reply.payload {
                Payload::Snapshot(text) => {
                    snapshot::load(&text).unwrap_or_else(|e| panic!("{name}: the session's own snapshot does not load: {e}"));
                }
                Payload::Convnetjs(text) => {
                    convnetjs::import(&text).unwrap_or_else(|e| panic!("{name}: the session's ConvNetJS export does not import: {e}"));
                }
                _ => {}
            },
            Err(e) => {
                assert_sentence(&name, &e.0, data);
                assert!(before == fingerprint(&session), "the refused command {name} ({}) changed the session", e.0);
            }
        }
        if i % 2 == 1 {
            clock.advance(1600.0);
        }
        // One step a command (the clock moves 1 ms a read): under AddressSanitizer a step of
        // the conv preset takes about 9 s, and five a command ran an input of four commands
        // past libFuzzer's 90 s timeout (197 s for load-preset conv-1s-8s, step, export, view).
        session.run_for(1.0);
    }
    let mut work = Workspace::default();
    for panel in Panel::ALL {
        for width in [panels::MIN_WIDTH, panel.natural_width()] {
            panels::scene(panel, &session, &mut work, width);
        }
    }
}

/// The built-in digits asset as far as it has arrived (`asset::parse_arriving`): what it accepts
/// is whole images with a label each, the first part in them, arriving exactly when the file is
/// shorter than its header says; `parse` accepts exactly the complete ones; the split and the
/// first images keep the first part.
pub fn asset(data: &[u8]) {
    let Some(parsed) = refused("asset::parse_arriving", asset::parse_arriving(data), data) else {
        assert!(asset::parse(data).is_err(), "parse accepts what parse_arriving refuses");
        return;
    };
    assert_eq!(parsed.pixels.len(), parsed.n_images * parsed.n_pixels(), "pixels for {} images", parsed.n_images);
    assert!(parsed.labels.as_ref().is_some_and(|l| l.len() == parsed.n_images), "a label for each image");
    assert!(parsed.first_part <= parsed.n_images && parsed.first_part == asset::FIRST_PART.min(parsed.n_images));
    let needed = asset::bytes_needed(data, false).unwrap_or_else(|e| panic!("bytes_needed refuses a header parse_arriving accepts: {e}"));
    assert!(data.len() as u64 >= needed, "parsed {} bytes, fewer than the {needed} it needs", data.len());
    assert_eq!(asset::parse(data).is_ok(), !parsed.arriving, "parse accepts a file exactly when it is complete");
    let (train, valid) = parsed.split();
    assert_eq!(train.first_part + valid.first_part, parsed.first_part);
    assert_eq!((train.arriving, valid.arriving), (parsed.arriving, parsed.arriving));
    let part = parsed.first_images(parsed.first_part);
    assert_eq!(part.pixels[..], parsed.pixels[..part.pixels.len()]);
}

/// `%XX` and `+` decoded as the page's URLSearchParams does (bad escapes kept as they are,
/// invalid UTF-8 replaced).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(a), Some(b)) => {
                    out.push((a * 16 + b) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A query string split into (key, value) pairs as the page splits its address's.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').map_or((percent_decode(p), String::new()), |(k, v)| (percent_decode(k), percent_decode(v))))
        .collect()
}

/// The page's link: a query string opened through `link::start` on synthetic digits (every
/// preset can use them, so it must open), each note a sentence; then a moment of training, and
/// the link the session shows opens again without a note.
pub fn link(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let pairs = query_pairs(text);
    let (mut session, notes) = link::start(&pairs, Some(digits().clone()), Manual::ticking(1.0).boxed())
        .unwrap_or_else(|e| panic!("a link does not open on digits every preset can use: {e}"));
    for note in &notes {
        assert_sentence("link note", note, data);
        assert!(note.starts_with("The ") && note.ends_with('.'), "a link's note is not a sentence: {note}");
    }
    session.run_for(5.0);
    let own = session.state().link;
    let (_, notes) = link::start(&own, Some(digits().clone()), Manual::ticking(1.0).boxed()).unwrap_or_else(|e| panic!("the session's own link does not open: {e}"));
    assert!(notes.is_empty(), "the session's own link {own:?} opens with notes: {notes:?}");
}

/// A teacher's tour file (`session::tour::parse`): a refusal is a sentence; a tour it accepts
/// has stops within the limits, each of whose links opens a session (its notes sentences), whose
/// moment arms a watch, and which sends and reads back as the page gets it.
pub fn tour(data: &[u8]) {
    let Some(tour) = refused("tour::parse", tours::parse(data), data) else { return };
    assert!(!tour.stops.is_empty() && tour.stops.len() <= tours::MAX_STOPS, "{} stops accepted", tour.stops.len());
    let text = serde_json::to_string(&tour).expect("a tour serialises");
    assert_eq!(serde_json::from_str::<tours::Tour>(&text).expect("a tour reads back"), tour);
    for stop in tour.stops.iter().take(2) {
        assert!(stop.sources.iter().all(|s| s.url.starts_with("https://") || s.url.starts_with("http://")), "{:?}", stop.sources);
        let Ok((mut session, notes)) = link::start(&stop.link, Some(digits().clone()), Manual::ticking(1.0).boxed()) else { continue };
        for note in &notes {
            assert_sentence("a tour stop's link", note, data);
        }
        session.apply(Command::Watch { watching: stop.moment.clone() }).expect("a watch is never refused");
        session.run_for(2.0);
    }
}
