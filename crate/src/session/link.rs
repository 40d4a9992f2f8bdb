//! The page's link as typed Rust, the way TensorFlow Playground keeps its whole state in the
//! query string: `link` writes the pairs that start this experiment again as it is set now,
//! `open` reads pairs back into an experiment and the changes to make on top of it, and `start`
//! starts that session and makes each change through `Session::apply`, as the controls do. A
//! link holds no weights, no digits of one's own, no marks, no comparison and no pause: it
//! always starts a run afresh, so a loaded snapshot's link rebuilds its network, not its weights.
//!
//! The keys, in the order a link writes them (their names are written once, in `Key::names`):
//!
//! | key | value | left out when |
//! |---|---|---|
//! | `preset` | a preset's name | the network is one's own (then `spec`) |
//! | `spec` | the network definition, compact JSON | the network is a preset's |
//! | `data` | the data definition, compact JSON, with `spec` only | the built-in digits |
//! | `seed` | a whole number from 0 to 2^53 | never written out |
//! | `optimizer` | `sgd`, `adagrad`, `rmsprop`, `adadelta` or `adam` | the preset's own |
//! | `lr`, `momentum`, `nesterov`, `rho`, `beta1`, `beta2`, `eps` | that optimiser's settings | what picking it starts from (`Experiment::optimizer_choices`) |
//! | `batch`, `l1`, `l2` | batch size, L1 and L2 decay | the preset's |
//! | `noise`, `noise_level` | `none`, `masking`, `gaussian` or `salt_pepper`; its fraction or σ | the preset's kind; the level picking that kind starts from |
//! | `k_start`, `k_anneal` | the top-k schedule's first k (or `off`) and its length in examples | the preset's |
//! | `speed` | slow motion, in steps a second | full speed |
//! | `layer`, `x`, `y` | the scatter's layer and its two neurons | the view the network opens with |
//! | `manifold`, `log` | `true` or `false` | off; the preset's scale |
//!
//! A network of one's own is measured against the default preset's settings on the data it
//! trains on. Numbers are written in their shortest exact form (the text reads back as the very
//! same f32 or f64): plain decimals, or exponent form where that is shorter and the decimal
//! longer than 8 characters (`1e-8`). So a fresh preset's link is `preset=convnetjs&seed=1`.
//! Keys the page reads for itself (`simd`) pass through unremarked; any other key is noted.

use serde::Deserialize;

use super::experiment::{Experiment, Origin};
use super::protocol::{Command, State, View};
use super::run::Run;
use super::{build_data, check_run, default_view, Clock, Error, Session, DEFAULT_SEED};
use crate::budget::BUDGET;
use crate::data::{DataSpec, Dataset, Noise};
use crate::model::spec::Checked;
use crate::model::{NetSpec, Optimizer};
use crate::presets;
use crate::snapshot::MAX_COUNT;
use crate::train::{KSchedule, TrainConfig};

/// A link's keys, in the order a link writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    Preset,
    Spec,
    Data,
    Seed,
    Optimizer,
    Lr,
    Momentum,
    Nesterov,
    Rho,
    Beta1,
    Beta2,
    Eps,
    Batch,
    L1,
    L2,
    Noise,
    NoiseLevel,
    KStart,
    KAnneal,
    Speed,
    Layer,
    X,
    Y,
    Manifold,
    Log,
}

/// Keys the page reads for itself (which build of the trainer to load).
pub const PAGE_KEYS: [&str; 1] = ["simd"];

impl Key {
    pub const ALL: [Key; 25] = [
        Key::Preset,
        Key::Spec,
        Key::Data,
        Key::Seed,
        Key::Optimizer,
        Key::Lr,
        Key::Momentum,
        Key::Nesterov,
        Key::Rho,
        Key::Beta1,
        Key::Beta2,
        Key::Eps,
        Key::Batch,
        Key::L1,
        Key::L2,
        Key::Noise,
        Key::NoiseLevel,
        Key::KStart,
        Key::KAnneal,
        Key::Speed,
        Key::Layer,
        Key::X,
        Key::Y,
        Key::Manifold,
        Key::Log,
    ];

    /// The key as a link writes it, and what a sentence calls it.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Key::Preset => ("preset", "preset"),
            Key::Spec => ("spec", "network definition"),
            Key::Data => ("data", "data"),
            Key::Seed => ("seed", "seed"),
            Key::Optimizer => ("optimizer", "optimiser"),
            Key::Lr => ("lr", "learning rate"),
            Key::Momentum => ("momentum", "momentum"),
            Key::Nesterov => ("nesterov", "Nesterov switch"),
            Key::Rho => ("rho", "rho"),
            Key::Beta1 => ("beta1", "beta1"),
            Key::Beta2 => ("beta2", "beta2"),
            Key::Eps => ("eps", "epsilon"),
            Key::Batch => ("batch", "batch size"),
            Key::L1 => ("l1", "L1 decay"),
            Key::L2 => ("l2", "L2 decay"),
            Key::Noise => ("noise", "noise"),
            Key::NoiseLevel => ("noise_level", "noise level"),
            Key::KStart => ("k_start", "top-k schedule's first k"),
            Key::KAnneal => ("k_anneal", "top-k schedule's length"),
            Key::Speed => ("speed", "slow-motion speed"),
            Key::Layer => ("layer", "scatter's layer"),
            Key::X => ("x", "scatter's x neuron"),
            Key::Y => ("y", "scatter's y neuron"),
            Key::Manifold => ("manifold", "manifold switch"),
            Key::Log => ("log", "log-scale switch"),
        }
    }

    pub fn name(self) -> &'static str {
        self.names().0
    }

    fn label(self) -> &'static str {
        self.names().1
    }

    pub fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|key| key.name() == name)
    }
}

/// One value of a link, read and typed; its key says what it sets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// The optimiser as picking it starts (`optimizer`).
    Optimizer(Optimizer),
    /// The noise as picking its kind starts (`noise`).
    Noise(Noise),
    /// `k_start`: the schedule's first k, or None for no schedule.
    KStart(Option<usize>),
    /// Learning rate, momentum, rho, betas, epsilon, decays, the noise level.
    Number(f32),
    /// Nesterov, manifold, log scale.
    Switch(bool),
    /// Batch size, layer, neurons.
    Count(usize),
    /// `k_anneal`.
    Examples(u64),
    Speed(f64),
}

/// A value to set once the experiment has started, with the link's own text for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub key: Key,
    pub text: String,
    pub value: Value,
}

impl Change {
    /// The command that makes this change to a session training with `config`, or why it does
    /// not apply there (a setting the optimiser in force does not have, say).
    pub fn command(&self, config: &TrainConfig) -> Result<Command, String> {
        let view = |layer, x, y, manifold, log_y| Command::View { layer, x, y, manifold, log_y };
        let mut config = config.clone();
        match (self.key, self.value) {
            (_, Value::Optimizer(optimizer)) => config.optimizer = optimizer,
            (_, Value::Noise(noise)) => config.noise = noise,
            (Key::Batch, Value::Count(n)) => config.batch_size = n,
            (Key::L1, Value::Number(v)) => config.l1_decay = v,
            (Key::L2, Value::Number(v)) => config.l2_decay = v,
            (Key::NoiseLevel, Value::Number(v)) => *level(&mut config.noise).ok_or("there is no noise")? = v,
            (_, Value::KStart(None)) => config.k_schedule = None,
            (_, Value::KStart(Some(start))) => {
                let anneal_examples = config.k_schedule.map_or(0, |k| k.anneal_examples);
                config.k_schedule = Some(KSchedule { start, anneal_examples });
            }
            (_, Value::Examples(n)) => config.k_schedule.as_mut().ok_or("there is no top-k schedule")?.anneal_examples = n,
            (_, Value::Speed(speed)) => return Ok(Command::SetSpeed { steps_per_second: Some(speed) }),
            (Key::Layer, Value::Count(n)) => return Ok(view(Some(n), None, None, None, None)),
            (Key::X, Value::Count(n)) => return Ok(view(None, Some(n), None, None, None)),
            (Key::Y, Value::Count(n)) => return Ok(view(None, None, Some(n), None, None)),
            (Key::Manifold, Value::Switch(on)) => return Ok(view(None, None, None, Some(on), None)),
            (Key::Log, Value::Switch(on)) => return Ok(view(None, None, None, None, Some(on))),
            (key, value) => {
                let name = config.optimizer.name();
                let slot = slots(&mut config.optimizer).into_iter().find(|(k, _)| *k == key).map(|(_, slot)| slot);
                match (slot, value) {
                    (Some(Slot::Number(slot)), Value::Number(v)) => *slot = v,
                    (Some(Slot::Switch(slot)), Value::Switch(v)) => *slot = v,
                    _ => return Err(format!("{name} has no {}", key.label())),
                }
            }
        }
        Ok(Command::SetConfig { config })
    }
}

/// What a link asks for: the experiment to start, the changes to make once it has started (in
/// link order), and one sentence for every value that cannot be used.
#[derive(Clone, Debug)]
pub struct Opening {
    pub experiment: Experiment,
    pub changes: Vec<Change>,
    pub notes: Vec<String>,
}

/// The pairs of a link that starts this experiment again with these settings and this view.
pub fn link(state: &State) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let base = if presets::find(&state.preset).is_ok() {
        pairs.push((Key::Preset, state.preset.clone()));
        Base::preset(&state.preset, state.seed)
    } else {
        NetSpec::from_json(&state.spec).and_then(|spec| {
            pairs.push((Key::Spec, serde_json::to_string(&spec).unwrap_or_default()));
            if state.data != DataSpec::mnist() {
                pairs.push((Key::Data, serde_json::to_string(&state.data).unwrap_or_default()));
            }
            Base::own(spec, state.data.clone(), state.seed)
        })
    };
    pairs.push((Key::Seed, state.seed.to_string()));
    if let Ok(base) = base {
        // The settings and view to tell apart from: the base's, with the optimiser and noise
        // the state has as picking them here starts, and the neurons its layer opens with.
        let start = &base.experiment.train;
        let mut from = start.clone();
        from.optimizer = base.optimizer(state.config.optimizer.name()).unwrap_or(state.config.optimizer);
        from.noise = base.noise(&noise_name(&state.config.noise)).unwrap_or(state.config.noise);
        let (x, y) = base.neurons(state.view.layer).unwrap_or((base.view.x, base.view.y));
        let from_view = View { x, y, ..base.view };
        for key in Key::ALL {
            let now = text_of(key, &state.config, state.speed, &state.view);
            let then = match key {
                Key::Optimizer | Key::Noise => text_of(key, start, None, &base.view),
                _ => text_of(key, &from, None, &from_view),
            };
            if let Some(now) = now.filter(|now| Some(now) != then.as_ref()) {
                pairs.push((key, now));
            }
        }
    }
    pairs.sort_by_key(|(key, _)| *key);
    pairs.into_iter().map(|(key, value)| (key.name().to_string(), value)).collect()
}

/// Read a link's pairs: the experiment they ask for and the changes to make on top, each value
/// typed; what cannot be read or does not apply is a note and falls back.
pub fn open(pairs: &[(String, String)]) -> Opening {
    let mut notes = Vec::new();
    let mut given: Vec<(Key, &str)> = Vec::new();
    for (name, text) in pairs {
        match Key::from_name(name) {
            Some(key) if given.iter().any(|(k, _)| *k == key) => notes.push(format!("The link gives the {} more than once; using the first.", key.label())),
            Some(key) => given.push((key, text)),
            None if PAGE_KEYS.contains(&name.as_str()) => {}
            None => notes.push(format!("The link's \"{}\" is not a setting this page knows; it was ignored.", quote(name))),
        }
    }
    let get = |key: Key| given.iter().find(|(k, _)| *k == key).map(|(_, text)| *text);

    let (seed, seed_note) = match get(Key::Seed).map(|text| (text, text.trim().parse::<u64>())) {
        None => (DEFAULT_SEED, None),
        Some((_, Ok(seed))) if seed <= MAX_COUNT => (seed, None),
        Some((text, _)) => {
            (DEFAULT_SEED, Some(format!("The link's seed \"{}\" is not a whole number from 0 to 2^53; using seed {DEFAULT_SEED} instead.", quote(text))))
        }
    };
    let base = base_of(get(Key::Preset), get(Key::Spec), get(Key::Data), seed, &mut notes);
    notes.extend(seed_note);

    // What the session will hold after each change, to judge the next against.
    let mut config = base.experiment.train.clone();
    let mut view = base.view;
    let mut changes = Vec::new();
    for key in Key::ALL.into_iter().skip_while(|key| *key != Key::Optimizer) {
        let Some(text) = get(key) else { continue };
        let missing = match key {
            Key::Lr | Key::Momentum | Key::Nesterov | Key::Rho | Key::Beta1 | Key::Beta2 | Key::Eps => {
                Some(format!("{} has no {}", config.optimizer.name(), key.label()))
            }
            Key::NoiseLevel => Some("there is no noise".to_string()),
            Key::KAnneal => Some("there is no top-k schedule".to_string()),
            _ => None,
        };
        if let Some(why) = missing.filter(|_| text_of(key, &config, None, &view).is_none()) {
            notes.push(format!("The {} in the link, \"{}\", was ignored: {why}.", key.label(), quote(text)));
            continue;
        }
        let mut change = |value: Value| changes.push(Change { key, text: text.to_string(), value });
        let value = match key {
            Key::Optimizer => base
                .optimizer(text)
                .ok_or_else(|| {
                    let names: Vec<&str> = Optimizer::defaults().iter().map(|o| o.name()).collect();
                    format!("is not one of {}", names.join(", "))
                })
                .map(Value::Optimizer),
            Key::Noise => base
                .noise(text)
                .ok_or_else(|| {
                    let names: Vec<String> = Noise::defaults().iter().map(noise_name).collect();
                    format!("is not one of {}", names.join(", "))
                })
                .map(Value::Noise),
            Key::KStart if text == "off" => Ok(Value::KStart(None)),
            Key::KStart => whole(text).map(|k| Value::KStart(Some(k))),
            Key::KAnneal => text.parse::<u64>().map(Value::Examples).map_err(|_| "is not a whole number".to_string()),
            Key::Speed => match text.parse::<f64>() {
                Ok(speed) if speed.is_finite() => Ok(Value::Speed(speed)),
                _ => Err("is not a finite number".to_string()),
            },
            Key::Nesterov | Key::Manifold | Key::Log => switch(text).map(Value::Switch),
            Key::Batch | Key::Layer | Key::X | Key::Y => whole(text).map(Value::Count),
            _ => match text.parse::<f32>() {
                Ok(v) if v.is_finite() => Ok(Value::Number(v)),
                _ => Err("is not a finite number".to_string()),
            },
        };
        let now = text_of(key, &config, None, &view).unwrap_or_else(|| "none".into());
        let value = match value {
            Ok(value) => value,
            Err(why) => {
                notes.push(format!("The {} in the link, \"{}\", {why}; using {now} instead.", key.label(), quote(text)));
                continue;
            }
        };
        let test = Change { key, text: text.to_string(), value };
        match test.command(&config) {
            Err(why) => notes.push(format!("The {} in the link, \"{}\", was ignored: {why}.", key.label(), quote(text))),
            Ok(Command::SetConfig { config: next }) => {
                config = next;
                change(value);
            }
            Ok(Command::View { layer, x, y, .. }) => {
                if let Some(layer) = layer {
                    (view.x, view.y) = base.neurons(layer).unwrap_or((0, 0));
                    view.layer = layer;
                }
                view.x = x.unwrap_or(view.x);
                view.y = y.unwrap_or(view.y);
                change(value);
            }
            Ok(_) => change(value),
        }
    }
    Opening { experiment: base.experiment, changes, notes }
}

/// Start the session a link asks for on `digits`, then make each of its changes through
/// `Session::apply`, as the controls would: a value the session refuses is a note and changes
/// nothing. A network that cannot train here opens the default preset instead, with a note. Only
/// digits that no preset can use are an error.
pub fn start(pairs: &[(String, String)], digits: Option<Dataset>, clock: Box<dyn Clock>) -> Result<(Session, Vec<String>), Error> {
    let Opening { experiment, mut changes, mut notes } = open(pairs);
    let ready = |experiment: &Experiment| -> Result<(Run, Dataset, Dataset), String> {
        let (train, valid) = build_data(experiment, digits.as_ref())?;
        let run = Run::start(experiment, &train, &valid)?;
        check_run(&run, &[], &train)?;
        Ok((run, train, valid))
    };
    let (experiment, (run, train, valid)) = match ready(&experiment) {
        Ok(parts) => (experiment, parts),
        Err(e) => {
            notes.push(format!("The network in the link cannot train here ({e}); showing {} with its own settings instead.", presets::DEFAULT));
            changes.clear();
            let fallback = Experiment::preset(presets::DEFAULT, experiment.seed)?;
            let parts = ready(&fallback)?;
            (fallback, parts)
        }
    };
    let mut session = Session::assemble(experiment, run, digits, train, valid, clock)?;
    for change in changes {
        let refused = match change.command(&session.experiment().train) {
            Ok(command) => session.apply(command).err().map(|e| e.0),
            Err(why) => Some(why),
        };
        if let Some(why) = refused {
            let now = match text_of(change.key, &session.experiment().train, session.speed, &session.view()) {
                Some(now) => now,
                None if change.key == Key::Speed => "full speed".into(),
                None => "none".into(),
            };
            notes.push(format!("The {} in the link, \"{}\", cannot be used ({why}); using {now} instead.", change.key.label(), quote(&change.text)));
        }
    }
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

    /// The settings picking this optimiser starts from here.
    fn optimizer(&self, name: &str) -> Option<Optimizer> {
        self.experiment.optimizer_choices().into_iter().map(|c| c.settings).find(|o| o.name() == name)
    }

    /// The noise picking this kind starts from here: the preset's own level, else the default.
    fn noise(&self, name: &str) -> Option<Noise> {
        let own = self.experiment.train.noise;
        std::iter::once(own).chain(Noise::defaults()).find(|n| noise_name(n) == name)
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

/// The text a link writes for `key` of these settings, speed and view; None where the key has
/// no value (`lr` for Adadelta, `speed` at full speed, the network's own keys).
fn text_of(key: Key, config: &TrainConfig, speed: Option<f64>, view: &View) -> Option<String> {
    let mut optimizer = config.optimizer;
    let mut noise = config.noise;
    match key {
        Key::Preset | Key::Spec | Key::Data | Key::Seed => None,
        Key::Optimizer => Some(optimizer.name().to_string()),
        Key::Batch => Some(config.batch_size.to_string()),
        Key::L1 => Some(f32_text(config.l1_decay)),
        Key::L2 => Some(f32_text(config.l2_decay)),
        Key::Noise => Some(noise_name(&noise)),
        Key::NoiseLevel => level(&mut noise).map(|v| f32_text(*v)),
        Key::KStart => Some(config.k_schedule.map_or("off".into(), |k| k.start.to_string())),
        Key::KAnneal => config.k_schedule.map(|k| k.anneal_examples.to_string()),
        Key::Speed => speed.map(f64_text),
        Key::Layer => Some(view.layer.to_string()),
        Key::X => Some(view.x.to_string()),
        Key::Y => Some(view.y.to_string()),
        Key::Manifold => Some(view.manifold.to_string()),
        Key::Log => Some(view.log_y.to_string()),
        Key::Lr | Key::Momentum | Key::Nesterov | Key::Rho | Key::Beta1 | Key::Beta2 | Key::Eps => {
            slots(&mut optimizer).into_iter().find(|(k, _)| *k == key).map(|(_, slot)| match slot {
                Slot::Number(v) => f32_text(*v),
                Slot::Switch(on) => on.to_string(),
            })
        }
    }
}

/// One of an optimiser's settings, to read or set.
enum Slot<'a> {
    Number(&'a mut f32),
    Switch(&'a mut bool),
}

/// An optimiser's settings under their link keys.
fn slots(optimizer: &mut Optimizer) -> Vec<(Key, Slot<'_>)> {
    use Slot::{Number, Switch};
    match optimizer {
        Optimizer::Sgd { lr, momentum, nesterov } => vec![(Key::Lr, Number(lr)), (Key::Momentum, Number(momentum)), (Key::Nesterov, Switch(nesterov))],
        Optimizer::Adagrad { lr, eps } => vec![(Key::Lr, Number(lr)), (Key::Eps, Number(eps))],
        Optimizer::Rmsprop { lr, rho, eps } => vec![(Key::Lr, Number(lr)), (Key::Rho, Number(rho)), (Key::Eps, Number(eps))],
        Optimizer::Adadelta { rho, eps } => vec![(Key::Rho, Number(rho)), (Key::Eps, Number(eps))],
        Optimizer::Adam { lr, beta1, beta2, eps } => {
            vec![(Key::Lr, Number(lr)), (Key::Beta1, Number(beta1)), (Key::Beta2, Number(beta2)), (Key::Eps, Number(eps))]
        }
    }
}

/// The noise's one level (its fraction or σ), if it has one.
fn level(noise: &mut Noise) -> Option<&mut f32> {
    match noise {
        Noise::None => None,
        Noise::Masking { fraction } | Noise::SaltPepper { fraction } => Some(fraction),
        Noise::Gaussian { sigma } => Some(sigma),
    }
}

/// The noise's kind as settings files name it ("salt_pepper").
fn noise_name(noise: &Noise) -> String {
    let value = serde_json::to_value(noise).unwrap_or_default();
    value["type"].as_str().unwrap_or_default().to_string()
}

/// The shortest text that reads back as exactly `value`.
pub fn f32_text(value: f32) -> String {
    shortest(format!("{value}"), format!("{value:e}"))
}

pub fn f64_text(value: f64) -> String {
    shortest(format!("{value}"), format!("{value:e}"))
}

/// Plain decimals up to 8 characters; past that, whichever form is shorter.
fn shortest(plain: String, exponent: String) -> String {
    if plain.len() <= 8 || plain.len() <= exponent.len() {
        plain
    } else {
        exponent
    }
}

fn whole(text: &str) -> Result<usize, String> {
    text.parse().map_err(|_| "is not a whole number".to_string())
}

fn switch(text: &str) -> Result<bool, String> {
    match text {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err("is not true or false".into()),
    }
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
    use crate::session::tests::digits;
    use crate::session::Payload;

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
        if !origin_too {
            state.preset = String::new();
            state.link.clear();
        }
        state
    }

    /// The snapshot as JSON, without the origin (the run itself: parameters, optimiser state,
    /// generator, progress).
    fn run_of(session: &Session) -> serde_json::Value {
        let mut value: serde_json::Value = serde_json::from_str(&session.snapshot_text().unwrap()).unwrap();
        value.as_object_mut().unwrap().remove("origin");
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
        assert_eq!(Key::ALL.iter().map(|k| k.name()).collect::<std::collections::HashSet<_>>().len(), Key::ALL.len(), "key names are unique");
        assert!(Key::ALL.windows(2).all(|w| w[0] < w[1]), "ALL is in writing order");
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
        let view = |layer, x, y, manifold, log_y| Command::View { layer, x, y, manifold, log_y };
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
                    Command::SetLearningRate { lr: 0.05 },
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
            ("pretrain: learning rate", "pretrain", vec![Command::SetLearningRate { lr: 0.05 }]),
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
                "The learning rate in the link, \"-1\", cannot be used (rmsprop: lr must be a positive number, got -1); using 0.001 instead.",
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
                "The network definition in the link cannot be used (training this network at batch size 50 needs about 1.0 GB of memory (15900794 parameters, their gradients and adadelta state, activations and scratch), more than the 768 MB allowed); showing convnetjs instead.",
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

    #[test]
    fn numbers_are_written_in_their_shortest_exact_form() {
        for (value, text) in [
            (0.001f32, "0.001"),
            (1e-8, "1e-8"),
            (0.95, "0.95"),
            (3.0, "3"),
            (1.5e-7, "1.5e-7"),
            (0.0003, "0.0003"),
            (1e30, "1e30"),
            (123456.7, "123456.7"),
            (0.1 + 0.2, "0.3"),
        ] {
            assert_eq!(f32_text(value), text);
            assert_eq!(text.parse::<f32>().unwrap().to_bits(), value.to_bits(), "{text} reads back exactly");
        }
        for value in [f32::MIN_POSITIVE, 1.0 / 3.0, f32::from_bits(0.3f32.to_bits() + 1), 7e-45, f32::MAX] {
            assert_eq!(f32_text(value).parse::<f32>().unwrap().to_bits(), value.to_bits(), "{value}");
        }
        for (value, text) in [(2.5f64, "2.5"), (0.1, "0.1"), (1e-9, "1e-9"), (1000.0, "1000")] {
            assert_eq!(f64_text(value), text);
            assert_eq!(text.parse::<f64>().unwrap().to_bits(), value.to_bits());
        }
    }
}
