//! Every setting a user can change on top of an experiment, as one table (the way TensorFlow
//! Playground's `state.ts` keeps its state): a row per setting with its link key, its names,
//! what it means, the command that sets it, where its value lives (JSON pointers into
//! `Settings`, which are also pointers into `State`), and the values it takes. The link
//! (`link.rs`) is two loops over the rows, the page builds its controls from them
//! (`describe`), and a row reads and writes its value through its pointers, so nothing here or
//! there dispatches on a key. Limits themselves are checked where they live (`TrainConfig::
//! validate`, `Session::apply`); a row only names them for the page.
//!
//! To add a setting: one field where it lives (`TrainConfig`, `View`, or an optimiser through
//! `optim::FIELDS`) and one row below.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::experiment::Experiment;
use super::protocol::{Command, Door, SettingInfo, View};
use crate::budget::MAX_COUNT;
use crate::data::Noise;
use crate::model::optim::{self, Bound};
use crate::model::spec::MAX_UNITS;
use crate::train::{TrainConfig, MAX_BATCH, MAX_BETA, MAX_DECAY};

/// What a link and the controls change on top of an experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub config: TrainConfig,
    pub view: View,
    /// Slow motion, in steps a second (None: full speed).
    pub speed: Option<f64>,
    /// Where training pauses by itself, in examples (None: never).
    #[serde(default)]
    pub stop: Option<u64>,
}

/// The values a setting takes.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// One of the choices `choices` gives; picking one replaces the object the pointer's
    /// `type` is in with that choice (an optimiser with its settings, a noise at its level).
    Choice {
        choices: fn(&Experiment) -> Vec<Value>,
        names: &'static [(&'static str, &'static str)],
    },
    /// A number: an f32 field (read as f32, so the text means the same value), or an f64.
    Number {
        bound: Bound,
        f32: bool,
    },
    Whole {
        bound: Bound,
    },
    Switch,
}

/// One setting.
#[derive(Clone, Debug)]
pub struct Row {
    pub key: &'static str,
    /// What a sentence calls it.
    pub label: &'static str,
    /// Its control's label.
    pub short: &'static str,
    pub help: &'static str,
    pub door: Door,
    /// Where its value lives: JSON pointers into `Settings`, the first that exists.
    pub paths: Vec<String>,
    pub kind: Kind,
    /// Why a value has no place here, when none of the pointers exists ("{optimizer}" and
    /// "{label}" stand for the optimiser in force and the row's label).
    pub absent: &'static str,
    /// A pointer that is null when the setting is off, the word for that, and the object
    /// to create there when a value is set ("off", `{}` for the top-k schedule).
    pub none: Option<(&'static str, &'static str, &'static str)>,
}

/// A row's value: text as a link writes it, or the word for none.
impl Row {
    /// The value at the first pointer that exists (null where the setting is off); None
    /// where the setting has no place in these settings.
    pub fn value<'a>(&self, settings: &'a Value) -> Option<&'a Value> {
        if let Some((pointer, _, _)) = self.none {
            // Off is null, or left out (a schedule that is not there).
            if settings.pointer(pointer).is_none_or(Value::is_null) {
                return Some(&Value::Null);
            }
        }
        self.paths.iter().find_map(|path| settings.pointer(path))
    }

    /// The value as a link writes it.
    pub fn text(&self, settings: &Value) -> Option<String> {
        let value = self.value(settings)?;
        Some(match value {
            Value::Null => self.none.map_or("none", |(_, word, _)| word).to_string(),
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) if n.is_u64() => n.to_string(),
            Value::Number(n) => crate::decimal::f64_text(n.as_f64().unwrap_or(f64::NAN)),
            other => other.to_string(),
        })
    }

    /// Why this setting has no place in these settings, in words.
    pub fn absent_reason(&self, settings: &Value) -> String {
        let optimizer = settings.pointer("/config/optimizer/type").and_then(Value::as_str).unwrap_or("this optimiser");
        self.absent.replace("{optimizer}", optimizer).replace("{label}", self.label)
    }

    /// Read `text` as this setting's value, or say why it cannot be one ("is not a whole
    /// number"). Choices are judged against those `experiment` offers.
    pub fn parse(&self, text: &str, experiment: &Experiment) -> Result<Value, String> {
        if self.none.is_some_and(|(_, word, _)| word == text) {
            return Ok(Value::Null);
        }
        match self.kind {
            Kind::Choice { choices, .. } => {
                let choices = choices(experiment);
                let names: Vec<&str> = choices.iter().filter_map(|c| c["type"].as_str()).collect();
                names.contains(&text).then(|| Value::String(text.to_string())).ok_or_else(|| format!("is not one of {}", names.join(", ")))
            }
            Kind::Number { f32: true, .. } => match text.parse::<f32>() {
                Ok(v) if v.is_finite() => Ok(serde_json::json!(crate::decimal::widen(v))),
                _ => Err("is not a finite number".into()),
            },
            Kind::Number { f32: false, .. } => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(serde_json::json!(v)),
                _ => Err("is not a finite number".into()),
            },
            Kind::Whole { .. } => text.parse::<u64>().map(Value::from).map_err(|_| "is not a whole number".into()),
            Kind::Switch => match text {
                "true" | "1" => Ok(Value::Bool(true)),
                "false" | "0" => Ok(Value::Bool(false)),
                _ => Err("is not true or false".into()),
            },
        }
    }

    /// These settings with this row set to `value` (as `parse` reads it), or why it has no
    /// place in them.
    pub fn set(&self, settings: &Value, value: Value, experiment: &Experiment) -> Result<Value, String> {
        let mut out = settings.clone();
        if let Some((pointer, _, create)) = self.none {
            let slot = field_mut(&mut out, pointer).ok_or_else(|| self.absent_reason(settings))?;
            if value.is_null() {
                *slot = Value::Null;
                return Ok(out);
            }
            if slot.is_null() {
                *slot = serde_json::from_str(create).expect("a row's object to create is JSON");
            }
        }
        if let Kind::Choice { choices, .. } = self.kind {
            let parent = self.paths[0].rsplit_once('/').map_or("", |(parent, _)| parent);
            let choice = choices(experiment).into_iter().find(|c| c["type"] == value).ok_or("there is no such choice")?;
            *out.pointer_mut(parent).ok_or_else(|| self.absent_reason(settings))? = choice;
            return Ok(out);
        }
        let path = match self.paths.iter().find(|path| out.pointer(path).is_some()) {
            Some(path) => path.clone(),
            // A setting whose object was just created (the schedule's first k) is new there.
            None if self.none.is_some() => self.paths[0].clone(),
            None => return Err(self.absent_reason(settings)),
        };
        *field_mut(&mut out, &path).ok_or_else(|| self.absent_reason(settings))? = value;
        Ok(out)
    }

    /// The row as the page builds its control.
    pub fn info(&self) -> SettingInfo {
        let (kind, range, options) = match self.kind {
            Kind::Choice { names, .. } => ("choice", String::new(), names.iter().map(|(v, t)| (v.to_string(), t.to_string())).collect()),
            Kind::Number { bound, .. } => ("number", bound.words(), Vec::new()),
            Kind::Whole { bound } => ("whole", bound.words(), Vec::new()),
            Kind::Switch => ("switch", Bound::Switch.words(), Vec::new()),
        };
        SettingInfo {
            key: self.key.into(),
            label: self.label.into(),
            short: self.short.into(),
            help: self.help.into(),
            door: self.door,
            paths: self.paths.clone(),
            kind: kind.into(),
            range,
            options,
            none: self.none.map(|(_, word, _)| word.to_string()),
        }
    }
}

impl Settings {
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("settings serialise")
    }

    /// Settings from JSON a row has changed; an out-of-range number (a whole number past what
    /// this machine's sizes hold, say) is a sentence.
    pub fn from_json(value: Value) -> Result<Settings, String> {
        Settings::deserialize(value).map_err(|_| "it is out of range".to_string())
    }

    /// The command that takes a session from `self` to `next` through `door`: the whole config,
    /// the view's changed fields only (a new layer picks its own neurons), or the speed.
    pub fn command(&self, next: &Settings, door: Door) -> Command {
        match door {
            Door::Config => Command::SetConfig { config: next.config.clone() },
            Door::Speed => Command::SetSpeed { steps_per_second: next.speed },
            Door::Stop => Command::SetStop { examples: next.stop },
            Door::View => {
                let (a, b) = (self.view, next.view);
                let changed = |x: usize, y: usize| (x != y).then_some(y);
                let layer = changed(a.layer, b.layer);
                // After a new layer the neurons are its own unless the change names them.
                let neuron = |x: usize, y: usize| if layer.is_some() { None } else { changed(x, y) };
                Command::View {
                    layer,
                    x: neuron(a.x, b.x),
                    y: neuron(a.y, b.y),
                    manifold: (a.manifold != b.manifold).then_some(b.manifold),
                    log_y: (a.log_y != b.log_y).then_some(b.log_y),
                    components: (a.components != b.components).then_some(b.components),
                    ellipses: (a.ellipses != b.ellipses).then_some(b.ellipses).flatten(),
                }
            }
        }
    }
}

/// The field a pointer names, made (null) where its object does not have it yet.
fn field_mut<'a>(value: &'a mut Value, pointer: &str) -> Option<&'a mut Value> {
    let (parent, field) = pointer.rsplit_once('/')?;
    Some(value.pointer_mut(parent)?.as_object_mut()?.entry(field).or_insert(Value::Null))
}

/// Each optimiser with the settings picking it starts from here.
fn optimizer_choices(experiment: &Experiment) -> Vec<Value> {
    experiment.optimizer_choices().iter().map(|c| serde_json::to_value(c.settings).expect("optimisers serialise")).collect()
}

/// Each kind of noise at the level picking it starts from here: the experiment's own level
/// for its own kind, the default for the others.
fn noise_choices(experiment: &Experiment) -> Vec<Value> {
    let own = experiment.train.noise;
    Noise::defaults()
        .iter()
        .map(|default| if std::mem::discriminant(default) == std::mem::discriminant(&own) { own } else { *default })
        .map(|noise| serde_json::to_value(noise).expect("noise serialises"))
        .collect()
}

/// The table, in link order.
pub fn table() -> &'static [Row] {
    static TABLE: std::sync::OnceLock<Vec<Row>> = std::sync::OnceLock::new();
    TABLE.get_or_init(rows)
}

fn rows() -> Vec<Row> {
    let paths = |paths: &[&str]| paths.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    let row = |key, label, short, help, door, path: &[&str], kind| Row { key, label, short, help, door, paths: paths(path), kind, absent: "", none: None };
    let config = |key, label, short, help, path: &str, kind| row(key, label, short, help, Door::Config, &[path], kind);
    let f32_number = |bound| Kind::Number { bound, f32: true };
    let mut rows = vec![Row {
        absent: "",
        ..config(
            "optimizer",
            "optimiser",
            "optimiser",
            "The rule that turns gradients into weight changes. SGD, Adagrad, RMSProp and Adam take a learning rate; Adadelta sizes its own steps.",
            "/config/optimizer/type",
            Kind::Choice {
                choices: optimizer_choices,
                names: &[("sgd", "SGD"), ("adagrad", "Adagrad"), ("rmsprop", "RMSProp"), ("adadelta", "Adadelta"), ("adam", "Adam")],
            },
        )
    }];
    rows.extend(optim::FIELDS.iter().map(|field| Row {
        absent: "{optimizer} has no {label}",
        ..config(
            field.key,
            field.label,
            field.short,
            field.help,
            &format!("/config/optimizer/{}", field.key),
            if field.bound == Bound::Switch { Kind::Switch } else { f32_number(field.bound) },
        )
    }));
    rows.extend([
        config(
            "batch",
            "batch size",
            "batch size",
            "How many digits each training step averages its gradient over. Bigger batches give steadier but fewer steps.",
            "/config/batch_size",
            Kind::Whole { bound: Bound::Whole(1, MAX_BATCH as u64) },
        ),
        config(
            "l1",
            "L1 decay",
            "L1 decay",
            "L1 weight decay: every step also pulls each weight toward zero by a fixed amount, so unneeded weights end at exactly zero.",
            "/config/l1_decay",
            f32_number(Bound::AtMost(MAX_DECAY as f64)),
        ),
        config(
            "l2",
            "L2 decay",
            "L2 decay",
            "L2 weight decay: every step also shrinks each weight in proportion to its size, which keeps weights small and smooth.",
            "/config/l2_decay",
            f32_number(Bound::AtMost(MAX_DECAY as f64)),
        ),
        config(
            "noise",
            "noise",
            "noise",
            "Denoising: the network sees a corrupted digit and is trained to draw the clean one. Masking blanks pixels, Gaussian adds blur-like noise, salt and pepper sets pixels to black or white.",
            "/config/noise/type",
            Kind::Choice { choices: noise_choices, names: &[("none", "none"), ("masking", "masking"), ("gaussian", "Gaussian"), ("salt_pepper", "salt and pepper")] },
        ),
        Row {
            absent: "there is no noise",
            ..row(
                "noise_level",
                "noise level",
                "noise level",
                "How much corruption: the fraction of pixels hit (0 to 1) for masking and salt and pepper, the standard deviation σ for Gaussian noise.",
                Door::Config,
                &["/config/noise/fraction", "/config/noise/sigma"],
                f32_number(Bound::NonNegative),
            )
        },
        Row {
            absent: "the network has no variational (gaussian) code",
            ..config(
                "beta",
                "β, the weight of the KL term",
                "β (KL weight)",
                "A variational autoencoder pays, beside its reconstruction error, β times how far each digit's code distribution strays from a standard normal (the KL divergence). β = 1 is the true variational bound; 0 drops that price, and the code space gets holes again; above 1 the codes crowd toward 0 and the digits blur.",
                "/config/beta",
                f32_number(Bound::AtMost(MAX_BETA as f64)),
            )
        },
        Row {
            none: Some(("/config/k_schedule", "off", "{}")),
            ..config(
                "k_start",
                "top-k schedule's first k",
                "first k",
                "k-sparse codes keep only the k largest code units. Training starts with this many kept and lowers it to the network's k, so no unit is left out from the start.",
                "/config/k_schedule/start",
                Kind::Whole { bound: Bound::Whole(1, MAX_UNITS as u64) },
            )
        },
        Row {
            absent: "there is no top-k schedule",
            ..config(
                "k_anneal",
                "top-k schedule's length",
                "lowered over",
                "How many training examples it takes to lower k from its first value to the network's own.",
                "/config/k_schedule/anneal_examples",
                Kind::Whole { bound: Bound::Whole(0, MAX_COUNT) },
            )
        },
        Row {
            none: Some(("/speed", "full speed", "null")),
            ..row("speed", "slow-motion speed", "speed", "Slow motion: at most this many training steps a second.", Door::Speed, &["/speed"], Kind::Number { bound: Bound::Positive, f32: false })
        },
        Row {
            none: Some(("/stop", "never", "null")),
            ..row("stop", "stopping point", "stop at", "Pause by itself at exactly this many examples trained (the last batch cut short if need be), so a link gives every machine the same network.", Door::Stop, &["/stop"], Kind::Whole { bound: Bound::Whole(1, MAX_COUNT) })
        },
        row("layer", "scatter's layer", "layer", "The layer whose units the code scatter plots.", Door::View, &["/view/layer"], Kind::Whole { bound: Bound::Whole(0, MAX_UNITS as u64) }),
        row("x", "scatter's x neuron", "x", "The unit plotted across.", Door::View, &["/view/x"], Kind::Whole { bound: Bound::Whole(0, MAX_UNITS as u64) }),
        row("y", "scatter's y neuron", "y", "The unit plotted up.", Door::View, &["/view/y"], Kind::Whole { bound: Bound::Whole(0, MAX_UNITS as u64) }),
        row("pc", "principal-components switch", "principal components", "Plot the code's two principal components (the two directions along which the plotted codes vary most, found by PCA) instead of two of its units.", Door::View, &["/view/components"], Kind::Switch),
        Row {
            absent: "the scatter does not plot two units of a variational (gaussian) code",
            ..row(
                "ellipses",
                "spread ellipses switch",
                "spreads (σ)",
                "A variational code gives each digit a spread, not a point: draw around each digit the ellipse one standard deviation wide, where the encoder says its code may lie (training draws the code from it).",
                Door::View,
                &["/view/ellipses"],
                Kind::Switch,
            )
        },
        row("manifold", "manifold switch", "decoded map", "Fill the scatter's background with what the decoder draws at each point.", Door::View, &["/view/manifold"], Kind::Switch),
        row("log", "log-scale switch", "log scale", "Draw the loss graph on a logarithmic scale, where halving the loss is always the same step.", Door::View, &["/view/log_y"], Kind::Switch),
    ]);
    rows
}

/// What changed between two settings, in a few words ("optimiser adam, batch size 100"): each
/// training setting whose text differs, but not the settings a new choice brought with it.
pub fn changed(before: &Value, after: &Value) -> String {
    let mut words = Vec::new();
    let mut picked: Vec<&str> = Vec::new();
    for row in table().iter().filter(|row| row.door == Door::Config) {
        let (was, now) = (row.text(before), row.text(after));
        let Some(now) = now.filter(|now| Some(now) != was.as_ref()) else { continue };
        if picked.iter().any(|parent| row.paths.iter().any(|p| p.starts_with(parent))) {
            continue;
        }
        if let Kind::Choice { .. } = row.kind {
            picked.push(row.paths[0].rsplit_once('/').map_or("", |(parent, _)| parent));
        }
        words.push(format!("{} {now}", row.label));
    }
    words.join(", ")
}

/// For each choice (by key), what each of its values starts from if picked in `experiment`.
pub fn choices(experiment: &Experiment) -> Vec<(String, Vec<Value>)> {
    table()
        .iter()
        .filter_map(|row| match row.kind {
            Kind::Choice { choices, .. } => Some((row.key.to_string(), choices(experiment))),
            _ => None,
        })
        .collect()
}

/// The row with this link key.
pub fn find(key: &str) -> Option<&'static Row> {
    table().iter().find(|row| row.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::optim::Optimizer;
    use crate::presets;

    /// Every row finds its value in every preset's settings where it applies, and setting the
    /// text it reads gives back the same settings: the pointers and the serde forms agree.
    #[test]
    fn every_row_reads_and_writes_its_own_value_in_every_preset() {
        for preset in presets::all() {
            let experiment = Experiment::preset(&preset.name, 1).unwrap();
            let settings = Settings { config: experiment.train.clone(), view: View { layer: 1, x: 0, y: 1, manifold: false, log_y: true, components: false, ellipses: None }, speed: Some(2.5), stop: None };
            let json = settings.to_json();
            for row in table() {
                let Some(text) = row.text(&json) else {
                    assert!(row.set(&json, Value::Bool(true), &experiment).is_err(), "{}: {} has no place, so cannot be set", preset.name, row.key);
                    continue;
                };
                let value = row.parse(&text, &experiment).unwrap_or_else(|e| panic!("{}: {}={text} {e}", preset.name, row.key));
                let again = Settings::from_json(row.set(&json, value, &experiment).unwrap()).unwrap();
                assert_eq!(again, settings, "{}: {}={text}", preset.name, row.key);
            }
        }
    }

    #[test]
    fn keys_are_unique_and_every_optimiser_field_has_a_row() {
        let keys: Vec<&str> = table().iter().map(|r| r.key).collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len());
        for field in optim::FIELDS {
            assert!(find(field.key).is_some(), "{}", field.key);
        }
        // Choices name exactly the optimisers and noises there are.
        let experiment = Experiment::preset(presets::DEFAULT, 1).unwrap();
        for (key, count) in [("optimizer", Optimizer::defaults().len()), ("noise", Noise::defaults().len())] {
            let Kind::Choice { choices, names } = find(key).unwrap().kind else { panic!("{key} is a choice") };
            let types: Vec<Value> = choices(&experiment).iter().map(|c| c["type"].clone()).collect();
            assert_eq!(types.len(), count);
            assert_eq!(types, names.iter().map(|(v, _)| Value::from(*v)).collect::<Vec<_>>());
        }
    }

    #[test]
    fn the_top_k_schedule_turns_off_and_on() {
        let experiment = Experiment::preset("k-sparse", 1).unwrap();
        let settings = Settings { config: experiment.train.clone(), view: View { layer: 0, x: 0, y: 1, manifold: false, log_y: false, components: false, ellipses: None }, speed: None, stop: None };
        let row = find("k_start").unwrap();
        let off = row.set(&settings.to_json(), row.parse("off", &experiment).unwrap(), &experiment).unwrap();
        assert_eq!(Settings::from_json(off.clone()).unwrap().config.k_schedule, None);
        assert_eq!(row.text(&off).as_deref(), Some("off"));
        assert_eq!(find("k_anneal").unwrap().text(&off), None);
        let on = row.set(&off, row.parse("40", &experiment).unwrap(), &experiment).unwrap();
        assert_eq!(Settings::from_json(on).unwrap().config.k_schedule, Some(crate::train::KSchedule { start: 40, anneal_examples: 0 }));
        assert_eq!(find("speed").unwrap().text(&settings.to_json()).as_deref(), Some("full speed"));
    }
}
