//! The page's link, the way TensorFlow Playground keeps its whole state in the query string:
//! `write` gives the pairs that start this experiment again as it is set now, and `start`
//! opens a session from pairs, making each setting's change through `Session::apply` as the
//! controls do. Both are loops over the settings table (`settings.rs`); nothing here knows a
//! setting by name. A link holds no weights, no digits of one's own, no marks, no comparison
//! and no pause: it always starts a run afresh, so a loaded snapshot's link rebuilds its
//! network, not its weights.
//!
//! A link starts with what the experiment is, then the settings that differ:
//!
//! | key | value | left out when |
//! |---|---|---|
//! | `preset` | a preset's name | the network is one's own (then `spec`) |
//! | `spec` | the network definition, compact JSON | the network is a preset's |
//! | `data` | the data definition, compact JSON, with `spec` only | the built-in digits |
//! | `seed` | a whole number from 0 to 2^53 | never |
//! | each row of the settings table, in its order | its text | it equals what the rows before it leave |
//!
//! "What the rows before it leave" is the experiment's own setting after the link's earlier
//! values are applied: picking Adam brings the settings Adam starts from here, picking a layer
//! brings the neurons it opens with, and only what differs from those is written. A network of
//! one's own is measured against the default preset's settings on the data it trains on.
//! Numbers are written in their shortest exact form (`decimal::f32_text`), so a fresh preset's
//! link is `preset=convnetjs&seed=1`. Keys the page reads for itself (`simd`) pass through
//! unremarked; any other key is noted.

use serde::Deserialize;

use super::experiment::{Experiment, Origin};
use super::protocol::View;
use super::run::{build_data, check_run, Run};
use super::settings::{self, Row, Settings};
use super::{default_view, Clock, Error, Session, DEFAULT_SEED};
use crate::budget::{BUDGET, MAX_COUNT};
use crate::data::{DataSpec, Dataset};
use crate::model::spec::Checked;
use crate::model::NetSpec;
use crate::presets;

/// Keys the page reads for itself (which build of the trainer to load).
pub const PAGE_KEYS: [&str; 1] = ["simd"];

/// The keys that say what the experiment is, and what a sentence calls each.
const IDENTITY: [(&str, &str); 4] = [("preset", "preset"), ("spec", "network definition"), ("data", "data"), ("seed", "seed")];

/// Whether a link may give `key` (what the experiment is, or a setting).
pub fn is_key(key: &str) -> bool {
    IDENTITY.iter().any(|(k, _)| *k == key) || settings::table().iter().any(|r| r.key == key)
}

/// The pairs of a link that starts this session's experiment again with its settings and view.
pub fn write(session: &Session) -> Vec<(String, String)> {
    write_with(settings::table(), session)
}

/// `write`, with the rows of `table`.
pub fn write_with(table: &[Row], session: &Session) -> Vec<(String, String)> {
    let experiment = session.experiment();
    let mut pairs: Vec<(String, String)> = Vec::new();
    let base = match &experiment.origin {
        Origin::Preset(name) => {
            pairs.push(("preset".into(), name.clone()));
            Base::preset(name, experiment.seed)
        }
        _ => {
            pairs.push(("spec".into(), serde_json::to_string(&experiment.spec).unwrap_or_default()));
            if experiment.data != DataSpec::mnist() {
                pairs.push(("data".into(), serde_json::to_string(&experiment.data).unwrap_or_default()));
            }
            Base::own(experiment.spec.clone(), experiment.data.clone(), experiment.seed)
        }
    };
    pairs.push(("seed".into(), experiment.seed.to_string()));
    let Ok(base) = base else { return pairs };
    let now = session.settings().to_json();
    // What reading the link so far makes of the base; the neurons the view's layer opens with.
    let mut then = base.settings();
    if let Some((x, y)) = base.neurons(session.view().layer) {
        (then.view.x, then.view.y) = (x, y);
    }
    let mut then = then.to_json();
    for row in table {
        let Some(text) = row.text(&now).filter(|text| row.text(&then).as_ref() != Some(text)) else {
            continue;
        };
        if let Ok(next) = row.parse(&text, &base.experiment).and_then(|value| row.set(&then, value, &base.experiment)) {
            then = next;
        }
        pairs.push((row.key.to_string(), text));
    }
    pairs
}

/// Start the session a link asks for on `digits`, then make each of its settings' changes
/// through `Session::apply`, as the controls would: a value the session refuses is a note and
/// changes nothing. A network that cannot train here opens the default preset instead, with a
/// note. Only digits that no preset can use are an error.
pub fn start(pairs: &[(String, String)], digits: Option<Dataset>, clock: Box<dyn Clock>) -> Result<(Session, Vec<String>), Error> {
    start_with(settings::table(), pairs, digits, clock)
}

/// How many bytes of the digits asset (`header`: its first 20) the experiment a link opens
/// needs before it starts: the first part, or every digit where pretraining draws its
/// labelled digits from all of them.
pub fn digits_needed(pairs: &[(String, String)], header: &[u8]) -> Result<u64, String> {
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, text)| text.as_str());
    let seed = get("seed").and_then(|text| text.trim().parse::<u64>().ok()).unwrap_or(DEFAULT_SEED);
    let all = base_of(get("preset"), get("spec"), get("data"), seed, &mut Vec::new()).experiment.pretrain.is_some();
    crate::data::asset::bytes_needed(header, all)
}

/// `start`, with the rows of `table`.
pub fn start_with(table: &[Row], pairs: &[(String, String)], digits: Option<Dataset>, clock: Box<dyn Clock>) -> Result<(Session, Vec<String>), Error> {
    let mut notes = Vec::new();
    let label = |key: &str| IDENTITY.iter().find(|(k, _)| *k == key).map(|(_, l)| *l).or_else(|| table.iter().find(|r| r.key == key).map(|r| r.label));
    let mut given: Vec<(&str, &str)> = Vec::new();
    for (key, text) in pairs {
        match label(key) {
            Some(label) if given.iter().any(|(k, _)| k == key) => notes.push(format!("The link gives the {label} more than once; using the first.")),
            Some(_) => given.push((key, text)),
            None if PAGE_KEYS.contains(&key.as_str()) => {}
            None => notes.push(format!("The link's \"{}\" is not a setting this page knows; it was ignored.", quote(key))),
        }
    }
    let get = |key: &str| given.iter().find(|(k, _)| *k == key).map(|(_, text)| *text);

    let (seed, seed_note) = match get("seed").map(|text| (text, text.trim().parse::<u64>())) {
        None => (DEFAULT_SEED, None),
        Some((_, Ok(seed))) if seed <= MAX_COUNT => (seed, None),
        Some((text, _)) => {
            (DEFAULT_SEED, Some(format!("The link's seed \"{}\" is not a whole number from 0 to 2^53; using seed {DEFAULT_SEED} instead.", quote(text))))
        }
    };
    let base = base_of(get("preset"), get("spec"), get("data"), seed, &mut notes);
    notes.extend(seed_note);

    let ready = |experiment: &Experiment| -> Result<(Run, Dataset, Dataset), String> {
        let (train, valid) = build_data(experiment, digits.as_ref())?;
        let run = Run::start(experiment, &train, &valid)?;
        check_run(&run, &[], &train)?;
        Ok((run, train, valid))
    };
    let (experiment, (run, train, valid), settings_apply) = match ready(&base.experiment) {
        Ok(parts) => (base.experiment, parts, true),
        Err(e) => {
            notes.push(format!("The network in the link cannot train here ({e}); showing {} with its own settings instead.", presets::DEFAULT));
            let fallback = Experiment::preset(presets::DEFAULT, base.experiment.seed)?;
            let parts = ready(&fallback)?;
            (fallback, parts, false)
        }
    };
    let mut session = Session::assemble(experiment, run, digits, train, valid, clock)?;
    for row in table.iter().filter(|_| settings_apply) {
        let Some(text) = get(row.key) else { continue };
        let now = session.settings();
        let json = now.to_json();
        let Some(in_force) = row.text(&json) else {
            notes.push(format!("The {} in the link, \"{}\", was ignored: {}.", row.label, quote(text), row.absent_reason(&json)));
            continue;
        };
        let next = match row.parse(text, session.experiment()) {
            Ok(value) => row.set(&json, value, session.experiment()).and_then(Settings::from_json),
            Err(why) => {
                notes.push(format!("The {} in the link, \"{}\", {why}; using {in_force} instead.", row.label, quote(text)));
                continue;
            }
        };
        let refused = match next {
            Ok(next) => session.apply(now.command(&next, row.door)).err().map(|e| e.0),
            Err(why) => Some(why),
        };
        if let Some(why) = refused {
            notes.push(format!("The {} in the link, \"{}\", cannot be used ({why}); using {in_force} instead.", row.label, quote(text)));
        }
    }
    // A link opens a fresh run: what it set is where the run starts, not a change to mark.
    session.changes.clear();
    session.undo = None;
    Ok((session, notes))
}

/// What a link's values are told apart from: the experiment a preset starts (or a network of
/// one's own, with the default preset's settings, on its data), and the view it opens with.
struct Base {
    experiment: Experiment,
    checked: Checked,
    view: View,
}

impl Base {
    fn preset(name: &str, seed: u64) -> Result<Base, String> {
        let experiment = Experiment::preset(name, seed)?;
        let log_y = experiment.preset_info().is_some_and(|p| p.log_scale);
        Base::of(experiment, log_y)
    }

    fn own(spec: NetSpec, data: DataSpec, seed: u64) -> Result<Base, String> {
        let demo = Experiment::preset(presets::DEFAULT, seed)?;
        Base::of(Experiment { origin: Origin::Custom, spec, data, train: demo.train, seed, pretrain: None }, false)
    }

    fn of(experiment: Experiment, log_y: bool) -> Result<Base, String> {
        let checked = experiment.spec.check()?;
        Ok(Base { view: default_view(&checked, log_y), checked, experiment })
    }

    fn settings(&self) -> Settings {
        Settings { config: self.experiment.train.clone(), view: self.view, speed: None, stop: None }
    }

    /// The neurons the scatter shows when it moves to this layer.
    fn neurons(&self, layer: usize) -> Option<(usize, usize)> {
        self.checked.layers.get(layer).map(|l| (0, 1.min(l.n_out.saturating_sub(1))))
    }
}

/// The base a link's preset or network definition (and data) asks for, from `seed`: the
/// default preset where they cannot be used, with a note saying why.
fn base_of(preset: Option<&str>, spec: Option<&str>, data: Option<&str>, seed: u64, notes: &mut Vec<String>) -> Base {
    let default = || Base::preset(presets::DEFAULT, seed).expect("the default preset starts");
    let Some(spec) = spec else {
        if data.is_some() {
            notes.push("The data in the link goes only with a network definition of one's own (a preset brings its own data); it was ignored.".into());
        }
        return match preset {
            None => default(),
            Some(name) => Base::preset(name, seed).unwrap_or_else(|_| {
                notes.push(format!("The link asks for a preset called \"{}\", which does not exist; showing {} instead.", quote(name), presets::DEFAULT));
                default()
            }),
        };
    };
    if preset.is_some() {
        notes.push("The link gives both a preset and a network definition; using the network definition.".into());
    }
    let data = match data.map(|text| crate::json::parse(text, "data").ok().and_then(|v| DataSpec::deserialize(v).ok())) {
        None => DataSpec::mnist(),
        Some(Some(data)) => data,
        Some(None) => {
            notes.push(format!(
                "The data in the link, \"{}\", is not a data definition this page can read; training on the digits instead.",
                quote(data.unwrap_or_default())
            ));
            DataSpec::mnist()
        }
    };
    // Judged like any network definition: parsed, checked, and held to the budget.
    let judged = NetSpec::from_json(spec).and_then(|spec| Base::own(spec, data, seed)).and_then(|base| {
        let train = &base.experiment.train;
        BUDGET.judge_training(&base.checked, train.batch_size, &train.optimizer)?;
        Ok(base)
    });
    judged.unwrap_or_else(|e| {
        notes.push(format!("The network definition in the link cannot be used ({e}); showing {} instead.", presets::DEFAULT));
        default()
    })
}

/// A link's text as a note quotes it: at most 40 characters.
fn quote(text: &str) -> String {
    if text.chars().count() <= 40 {
        return text.to_string();
    }
    let mut short: String = text.chars().take(39).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Noise;
    use crate::model::optim::{FieldValue, Optimizer};
    use crate::session::tests::digits;
    use crate::session::{Command, Payload, State};
    use crate::train::{KSchedule, TrainConfig};

    /// A clock that stands still: these sessions train by `Command::Step` only.
    fn still() -> Box<dyn Clock> {
        crate::clock::Manual::at(0.0).boxed()
    }

    /// Enough digits for the pretraining preset's 1,000 labels, made once.
    fn some_digits() -> Dataset {
        static DIGITS: std::sync::OnceLock<Dataset> = std::sync::OnceLock::new();
        DIGITS.get_or_init(|| digits(120)).clone()
    }

    fn session(preset: &str, seed: u64) -> Session {
        Session::start(Experiment::preset(preset, seed).unwrap(), Some(some_digits()), still()).unwrap()
    }

    fn opened(pairs: &[(String, String)]) -> (Session, Vec<String>) {
        start(pairs, Some(some_digits()), still()).unwrap()
    }

    /// "a=1&b=2" as the page's pairs (no percent-decoding: the tests write plain text).
    fn pairs(query: &str) -> Vec<(String, String)> {
        query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').map_or((p.into(), String::new()), |(k, v)| (k.into(), v.into()))).collect()
    }

    fn query(pairs: &[(String, String)]) -> String {
        pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
    }

    fn apply(session: &mut Session, command: Command) {
        session.apply(command.clone()).unwrap_or_else(|e| panic!("{command:?}: {e}"));
    }

    /// What a link does not carry, set alike: pause, marks, digits of one's own, a comparison
    /// under way, and where a loaded network came from ("snapshot" and "convnetjs-import" open
    /// as "custom": the link rebuilds the network, not its weights).
    fn comparable(mut state: State, origin_too: bool) -> State {
        state.paused = false;
        state.marked = 0;
        state.digits = String::new();
        state.comparing = None;
        state.changes.clear();
        state.undo = None;
        if !origin_too {
            state.preset = String::new();
            state.link.clear();
        }
        state
    }

    /// The snapshot as JSON, without the origin and the marks of changes (the run itself:
    /// parameters, optimiser state, generator, progress).
    fn run_of(session: &Session) -> serde_json::Value {
        let mut value: serde_json::Value = serde_json::from_str(&session.snapshot_text().unwrap()).unwrap();
        value.as_object_mut().unwrap().remove("origin");
        value.as_object_mut().unwrap().remove("changes");
        value
    }

    /// Open `original`'s link in a new session: it says nothing, shows the same state, and, when
    /// the original started afresh (`fresh`), trains the next steps to the same bits.
    fn check_round_trip(what: &str, mut original: Session, fresh: bool) {
        let state = original.state();
        let (mut copy, notes) = opened(&state.link);
        assert!(notes.is_empty(), "{what}: {} gave notes {notes:?}", query(&state.link));
        let same_origin = !matches!(state.preset.as_str(), "snapshot" | "convnetjs-import");
        assert_eq!(comparable(copy.state(), same_origin), comparable(state.clone(), same_origin), "{what}: {}", query(&state.link));
        if !same_origin {
            assert_eq!(copy.state().preset, "custom", "{what}");
        }
        if fresh {
            for _ in 0..2 {
                apply(&mut original, Command::Step);
                apply(&mut copy, Command::Step);
            }
            assert!(original.examples_seen() > 0);
            assert_eq!(run_of(&copy), run_of(&original), "{what}: the same link trains to other bits");
        }
    }

    #[test]
    fn a_fresh_presets_link_is_its_name_and_seed() {
        for preset in presets::all() {
            let state = session(&preset.name, 1).state();
            assert_eq!(query(&state.link), format!("preset={}&seed=1", preset.name));
        }
        let state = session("turnoff", 42).state();
        assert_eq!(query(&state.link), "preset=turnoff&seed=42");
    }

    /// A setting added to the table (here the decoded map under another key) is written and
    /// read by the same two loops, with no change to this file.
    #[test]
    fn a_new_row_round_trips_through_the_link() {
        let table: Vec<Row> = settings::table()
            .iter()
            .map(|row| if row.key == "manifold" { Row { key: "decoded", label: "decoded map", ..row.clone() } } else { row.clone() })
            .collect();
        let mut original = session("convnetjs", 4);
        apply(&mut original, Command::View { layer: None, x: Some(1), y: Some(0), manifold: Some(true), log_y: None, components: None, ellipses: None });
        let written = write_with(&table, &original);
        assert_eq!(query(&written), "preset=convnetjs&seed=4&x=1&y=0&decoded=true");
        let (copy, notes) = start_with(&table, &written, Some(some_digits()), still()).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(copy.view(), original.view());
        let (_, notes) = start_with(&table, &pairs("decoded=perhaps"), Some(some_digits()), still()).unwrap();
        assert_eq!(notes, ["The decoded map in the link, \"perhaps\", is not true or false; using false instead."]);
    }

    /// Every preset as it starts, and after each kind of change a user can make; each link
    /// opens the same state and, from a fresh start, the same run.
    #[test]
    fn links_round_trip_every_preset_and_every_change() {
        for preset in presets::all() {
            check_round_trip(&preset.name, session(&preset.name, 3), true);
        }
        let config = |preset: &str, edit: &dyn Fn(&mut TrainConfig)| {
            let mut config = presets::find(preset).unwrap().train.clone();
            edit(&mut config);
            Command::SetConfig { config }
        };
        let view = |layer, x, y, manifold, log_y| Command::View { layer, x, y, manifold, log_y, components: None, ellipses: None };
        let k_sparse_30 = presets::find("k-sparse").unwrap().spec.to_json().replace("\"top_k\": 25", "\"top_k\": 30");
        assert!(k_sparse_30.contains("\"top_k\": 30"));
        let narrow_conv = presets::find("conv-1s-8s").unwrap().spec.to_json().replace("\"filters\": 20", "\"filters\": 6");
        assert!(narrow_conv.contains("\"filters\": 6"));
        let cases: Vec<(&str, &str, Vec<Command>)> = vec![
            (
                "turnoff: adam with its settings, batch, decays, noise, seed, speed, view",
                "turnoff",
                vec![
                    config("turnoff", &|c| {
                        c.optimizer = Optimizer::Adam { lr: 0.002, beta1: 0.8, beta2: 0.99, eps: 1e-7 };
                        c.batch_size = 100;
                        c.l1_decay = 1e-5;
                        c.l2_decay = 0.0005;
                        c.noise = Noise::Gaussian { sigma: 0.15 };
                    }),
                    Command::Reset { seed: Some(7) },
                    Command::SetSpeed { steps_per_second: Some(2.5) },
                    view(Some(0), Some(3), Some(7), Some(true), Some(true)),
                ],
            ),
            (
                "tied-sigmoid: learning rate, masking noise, log scale",
                "tied-sigmoid",
                vec![
                    config("tied-sigmoid", &|c| c.optimizer.set("lr", FieldValue::Number(0.05)).unwrap()),
                    config("tied-sigmoid", &|c| {
                        c.optimizer = Optimizer::Sgd { lr: 0.05, momentum: 0.0, nesterov: false };
                        c.noise = Noise::Masking { fraction: 0.25 };
                    }),
                    view(None, None, None, None, Some(true)),
                ],
            ),
            (
                "convnetjs: sgd with Nesterov momentum, slow motion, manifold, a big seed",
                "convnetjs",
                vec![
                    Command::Reset { seed: Some(9_007_199_254_740_992) },
                    config("convnetjs", &|c| c.optimizer = Optimizer::Sgd { lr: 0.001, momentum: 0.5, nesterov: true }),
                    Command::SetSpeed { steps_per_second: Some(0.1) },
                    view(None, Some(1), Some(0), Some(true), None),
                ],
            ),
            (
                "convnetjs: rmsprop as measured, but its epsilon",
                "convnetjs",
                vec![config("convnetjs", &|c| c.optimizer = Optimizer::Rmsprop { lr: 0.003, rho: 0.9, eps: 1e-6 })],
            ),
            (
                "denoising: no noise, batch 32",
                "denoising",
                vec![config("denoising", &|c| {
                    c.noise = Noise::None;
                    c.batch_size = 32;
                })],
            ),
            (
                "k-sparse: no k schedule, the output layer's neurons",
                "k-sparse",
                vec![config("k-sparse", &|c| c.k_schedule = None), view(Some(1), Some(400), Some(401), None, None)],
            ),
            (
                "k-sparse-10: another k schedule",
                "k-sparse-10",
                vec![config("k-sparse-10", &|c| c.k_schedule = Some(KSchedule { start: 200, anneal_examples: 5000 }))],
            ),
            (
                "linear-20: linear scale, salt and pepper",
                "linear-20",
                vec![view(None, None, None, None, Some(false)), config("linear-20", &|c| c.noise = Noise::SaltPepper { fraction: 0.125 })],
            ),
            ("pretrain: learning rate", "pretrain", vec![config("pretrain", &|c| c.optimizer.set("lr", FieldValue::Number(0.05)).unwrap())]),
            (
                "k-sparse with k = 30: a network of one's own keeps the k schedule",
                "k-sparse",
                vec![Command::LoadSpec { spec: k_sparse_30 }, view(None, Some(5), None, None, None)],
            ),
            (
                "conv-1s-8s with 6 filters: a network of one's own on resized 1s and 8s",
                "conv-1s-8s",
                vec![Command::LoadSpec { spec: narrow_conv }, config("conv-1s-8s", &|c| c.optimizer = Optimizer::Adagrad { lr: 0.002, eps: 1e-8 })],
            ),
        ];
        for (what, preset, commands) in cases {
            let mut original = session(preset, 1);
            for command in commands {
                apply(&mut original, command);
            }
            let link = query(&original.state().link);
            assert!(link.split('&').count() > 2, "{what}: {link} carries the changes");
            check_round_trip(what, original, true);
        }
        // Loaded files: a snapshot's network and an imported one open as networks of one's own.
        let mut source = session("turnoff", 5);
        apply(&mut source, Command::LoadSpec { spec: presets::find("turnoff").unwrap().spec.to_json().replace("\"units\": 10", "\"units\": 12") });
        apply(&mut source, Command::Step);
        let saved = source.snapshot_text().unwrap();
        let mut value: serde_json::Value = serde_json::from_str(&saved).unwrap();
        value.as_object_mut().unwrap().remove("origin");
        let Payload::Convnetjs(exported) = source.apply(Command::ExportConvnetjs).unwrap().payload else { panic!("export") };
        for (what, bytes, origin) in [
            ("custom snapshot", saved.into_bytes(), "custom"),
            ("anonymous snapshot", value.to_string().into_bytes(), "snapshot"),
            ("ConvNetJS import", exported.into_bytes(), "convnetjs-import"),
        ] {
            let mut loaded = session("linear-20", 2);
            apply(&mut loaded, Command::Load { bytes });
            assert_eq!(loaded.state().preset, origin, "{what}");
            check_round_trip(what, loaded, false);
        }
    }

    /// Bad links, each value judged alone: the link the session opens with (what was used) and
    /// one sentence for each value that was not.
    #[test]
    fn bad_links_open_anyway_and_say_why_in_a_sentence() {
        let turnoff = serde_json::to_string(&presets::find("turnoff").unwrap().spec).unwrap();
        let huge = turnoff.replace("\"units\":225", "\"units\":10000");
        assert_ne!(huge, turnoff);
        let cases: Vec<(String, &str, Vec<&str>)> = vec![
            ("".into(), "preset=convnetjs&seed=1", vec![]),
            ("preset=nope&seed=1.5".into(), "preset=convnetjs&seed=1", vec![
                "The link asks for a preset called \"nope\", which does not exist; showing convnetjs instead.",
                "The link's seed \"1.5\" is not a whole number from 0 to 2^53; using seed 1 instead.",
            ]),
            ("seed=9007199254740993".into(), "preset=convnetjs&seed=1", vec!["The link's seed \"9007199254740993\" is not a whole number from 0 to 2^53; using seed 1 instead."]),
            ("preset=turnoff&lr=abc".into(), "preset=turnoff&seed=1", vec!["The learning rate in the link, \"abc\", is not a finite number; using 0.001 instead."]),
            ("preset=turnoff&lr=-1&batch=100".into(), "preset=turnoff&seed=1&batch=100", vec![
                "The learning rate in the link, \"-1\", cannot be used (rmsprop: learning rate must be a positive number, got -1); using 0.001 instead.",
            ]),
            ("preset=turnoff&lr=inf".into(), "preset=turnoff&seed=1", vec!["The learning rate in the link, \"inf\", is not a finite number; using 0.001 instead."]),
            ("lr=0.1".into(), "preset=convnetjs&seed=1", vec!["The learning rate in the link, \"0.1\", was ignored: adadelta has no learning rate."]),
            ("optimizer=nadam".into(), "preset=convnetjs&seed=1", vec!["The optimiser in the link, \"nadam\", is not one of sgd, adagrad, rmsprop, adadelta, adam; using adadelta instead."]),
            ("optimizer=adam&beta1=1.5&lr=0.002".into(), "preset=convnetjs&seed=1&optimizer=adam&lr=0.002", vec![
                "The beta1 in the link, \"1.5\", cannot be used (adam: beta1 must be in [0, 1), got 1.5); using 0.9 instead.",
            ]),
            ("preset=turnoff&nesterov=true".into(), "preset=turnoff&seed=1", vec!["The Nesterov switch in the link, \"true\", was ignored: rmsprop has no Nesterov switch."]),
            ("preset=turnoff&batch=0".into(), "preset=turnoff&seed=1", vec!["The batch size in the link, \"0\", cannot be used (batch_size must be between 1 and 4096, got 0); using 256 instead."]),
            ("batch=2.5".into(), "preset=convnetjs&seed=1", vec!["The batch size in the link, \"2.5\", is not a whole number; using 50 instead."]),
            ("l2=7".into(), "preset=convnetjs&seed=1", vec!["The L2 decay in the link, \"7\", cannot be used (l2_decay must be a number between 0 and 1, got 7); using 0.001 instead."]),
            ("noise=pink".into(), "preset=convnetjs&seed=1", vec!["The noise in the link, \"pink\", is not one of none, masking, gaussian, salt_pepper; using none instead."]),
            ("noise_level=0.5".into(), "preset=convnetjs&seed=1", vec!["The noise level in the link, \"0.5\", was ignored: there is no noise."]),
            ("preset=denoising&noise_level=2".into(), "preset=denoising&seed=1", vec![
                "The noise level in the link, \"2\", cannot be used (noise: the fraction of pixels must be between 0 and 1, got 2); using 0.3 instead.",
            ]),
            ("k_anneal=5".into(), "preset=convnetjs&seed=1", vec!["The top-k schedule's length in the link, \"5\", was ignored: there is no top-k schedule."]),
            ("preset=k-sparse&k_start=0&k_anneal=500".into(), "preset=k-sparse&seed=1&k_anneal=500", vec![
                "The top-k schedule's first k in the link, \"0\", cannot be used (k_schedule.start must be between 1 and 65536, got 0); using 100 instead.",
            ]),
            ("speed=5000".into(), "preset=convnetjs&seed=1", vec![
                "The slow-motion speed in the link, \"5000\", cannot be used (slow motion runs from 0.1 to 1000 steps a second, not 5000); using full speed instead.",
            ]),
            ("layer=9&x=1&y=0".into(), "preset=convnetjs&seed=1&x=1&y=0", vec![
                "The scatter's layer in the link, \"9\", cannot be used (there is no layer 9: the network has 6); using 2 instead.",
            ]),
            ("x=99".into(), "preset=convnetjs&seed=1", vec!["The scatter's x neuron in the link, \"99\", cannot be used (layer 2 has 2 units; there is no neuron 99); using 0 instead."]),
            ("manifold=maybe&log=1".into(), "preset=convnetjs&seed=1&log=true", vec!["The manifold switch in the link, \"maybe\", is not true or false; using false instead."]),
            ("foo=1&simd=simd128&seed=3&seed=4".into(), "preset=convnetjs&seed=3", vec![
                "The link's \"foo\" is not a setting this page knows; it was ignored.",
                "The link gives the seed more than once; using the first.",
            ]),
            ("spec={bad".into(), "preset=convnetjs&seed=1", vec![
                "The network definition in the link cannot be used (network spec is not valid JSON (line 1, column 2: key must be a string)); showing convnetjs instead.",
            ]),
            (format!("spec={huge}"), "preset=convnetjs&seed=1", vec![
                "The network definition in the link cannot be used (training this network at batch size 50 needs about 1.3 GB of memory (15900794 parameters, their gradients and adadelta state, activations and scratch), more than the 768 MB allowed); showing convnetjs instead.",
            ]),
            ("preset=turnoff&data={\"type\":\"mnist\"}".into(), "preset=turnoff&seed=1", vec![
                "The data in the link goes only with a network definition of one's own (a preset brings its own data); it was ignored.",
            ]),
            (format!("spec={turnoff}&data=[1,2]"), "", vec![
                "The data in the link, \"[1,2]\", is not a data definition this page can read; training on the digits instead.",
            ]),
            (format!("preset=convnetjs&spec={turnoff}"), "", vec!["The link gives both a preset and a network definition; using the network definition."]),
            (format!("spec={turnoff}&data={{\"type\":\"mnist\",\"size\":[36,36]}}&batch=10"), "preset=convnetjs&seed=1", vec![
                "The network in the link cannot train here (the network takes 784 inputs, but its data has 1296 numbers per example); showing convnetjs with its own settings instead.",
            ]),
        ];
        for (link, want_link, want_notes) in cases {
            let (session, notes) = opened(&pairs(&link));
            assert_eq!(notes, want_notes, "{link}");
            let got = query(&session.state().link);
            if want_link.is_empty() {
                assert!(got.starts_with(&format!("spec={turnoff}&seed=1")), "{link}: {got}");
            } else {
                assert_eq!(got, want_link, "{link}");
            }
            for note in &notes {
                assert!(note.starts_with("The ") && note.ends_with('.') && !note.contains("Some(") && !note.contains("::"), "{note}");
            }
        }
        // Long values are quoted short.
        let (_, notes) = opened(&pairs(&format!("preset={}", "x".repeat(100))));
        assert_eq!(notes, [format!("The link asks for a preset called \"{}…\", which does not exist; showing convnetjs instead.", "x".repeat(39))]);
    }
}
