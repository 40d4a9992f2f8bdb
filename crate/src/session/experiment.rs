//! What an experiment is, as one value: the network spec, the data, the training settings, the
//! seed and any pretraining plan, and where it came from. Presets, the editor, snapshots and
//! ConvNetJS imports all become an `Experiment`, and every trainer, in the page and the CLI,
//! is started from one, so both front ends follow one policy. Running it is `run.rs`'s job.

use super::protocol::{ChoiceSource, Loaded, OptimizerChoice};
use crate::data::DataSpec;
use crate::model::{NetSpec, Optimizer};
use crate::presets::{self, Preset};
use crate::pretrain::PretrainPlan;
use crate::snapshot::{self, Opened, Snapshot};
use crate::train::{TrainConfig, Trainer};

/// What a file held, to continue from.
pub enum Saved {
    /// One of ours: everything to resume exactly, pretraining and a comparison included.
    Snapshot(Box<Snapshot>),
    /// An imported network, with fresh optimiser state.
    Network(Trainer),
}

/// Where an experiment came from: a preset's name, the editor, or a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Preset(String),
    Custom,
    Snapshot,
    ConvnetjsImport,
}

impl Origin {
    pub fn name(&self) -> &str {
        match self {
            Origin::Preset(name) => name,
            Origin::Custom => "custom",
            Origin::Snapshot => "snapshot",
            Origin::ConvnetjsImport => "convnetjs-import",
        }
    }
}

/// Everything needed to start the same run again from scratch, with the settings in force.
#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    pub origin: Origin,
    pub spec: NetSpec,
    pub data: DataSpec,
    pub train: TrainConfig,
    pub seed: u64,
    /// Greedy layer-wise pretraining before `train` fine-tunes the (classifier) spec.
    pub pretrain: Option<PretrainPlan>,
}

/// The seed a page or a CLI run starts from when none is given.
pub const DEFAULT_SEED: u64 = 1;

impl Experiment {
    /// A named preset from `seed`.
    pub fn preset(name: &str, seed: u64) -> Result<Experiment, String> {
        let preset = presets::find(name)?;
        Ok(Experiment {
            origin: Origin::Preset(preset.name.clone()),
            spec: preset.spec.clone(),
            data: preset.data.clone(),
            train: preset.train.clone(),
            seed,
            pretrain: preset.pretrain.clone(),
        })
    }

    /// Where a file's experiment came from, judged by what it is: the preset it names, if it
    /// still is that preset's network, data and pretraining (settings may have been changed, as
    /// in a live session); else a preset whose network, data, pretraining and settings it
    /// equals; else what the file said (`said`, never a preset it no longer is).
    fn recognise(&self, said: Origin) -> Origin {
        let same_network = |p: &Preset| p.spec == self.spec && p.data == self.data && p.pretrain == self.pretrain;
        if let Origin::Preset(name) = &said {
            if presets::find(name).is_ok_and(same_network) {
                return said;
            }
        }
        if let Some(preset) = presets::all().iter().find(|p| same_network(p) && p.train == self.train) {
            return Origin::Preset(preset.name.clone());
        }
        match said {
            Origin::Preset(_) => Origin::Snapshot,
            other => other,
        }
    }

    /// The preset this experiment is, if it is one (its comparison, shading, scale, epochs).
    pub fn preset_info(&self) -> Option<&'static Preset> {
        match &self.origin {
            Origin::Preset(name) => presets::find(name).ok(),
            _ => None,
        }
    }

    /// What each optimiser starts from when a user switches to it: the settings in force for
    /// the current one; for the others, those measured to keep this preset training, else the
    /// general defaults.
    pub fn optimizer_choices(&self) -> Vec<OptimizerChoice> {
        let measured = self.preset_info().map_or(&[][..], |p| &p.optimizers[..]);
        Optimizer::defaults()
            .into_iter()
            .map(|default| {
                let same = |o: &&Optimizer| o.name() == default.name();
                if default.name() == self.train.optimizer.name() {
                    OptimizerChoice { settings: self.train.optimizer, source: ChoiceSource::InForce }
                } else if let Some(tuned) = measured.iter().find(same) {
                    OptimizerChoice { settings: *tuned, source: ChoiceSource::Measured }
                } else {
                    OptimizerChoice { settings: default, source: ChoiceSource::Default }
                }
            })
            .collect()
    }

    /// A network from the editor: the same data, settings and seed, a fresh start. β comes
    /// with a variational (gaussian) layer, at 1 unless the settings had one, and goes with it.
    pub fn with_spec(&self, spec: NetSpec) -> Experiment {
        let variational = spec.layers.iter().any(|l| matches!(l, crate::model::spec::LayerSpec::Gaussian { .. }));
        let beta = if variational { self.train.beta.or(Some(1.0)) } else { None };
        Experiment { origin: Origin::Custom, spec, pretrain: None, train: TrainConfig { beta, ..self.train.clone() }, ..self.clone() }
    }

    pub fn with_seed(&self, seed: u64) -> Experiment {
        Experiment { seed, ..self.clone() }
    }

    /// A ConvNetJS network's spec: ConvNetJS files carry no training settings, so it trains
    /// with the ConvNetJS demo's own (the default preset's) on the digits.
    pub fn convnetjs_import(spec: NetSpec, seed: u64) -> Result<Experiment, String> {
        let demo = presets::find(presets::DEFAULT)?;
        Ok(Experiment { origin: Origin::ConvnetjsImport, spec, data: DataSpec::mnist(), train: demo.train.clone(), seed, pretrain: None })
    }

    /// Recognise a file's bytes (ours or ConvNetJS's): the experiment it continues and what
    /// to continue from. A snapshot resumes exactly; an imported network starts fresh
    /// optimiser state and data order from `seed`.
    pub fn open(bytes: &[u8], seed: u64) -> Result<(Experiment, Saved, Loaded), String> {
        match snapshot::open(bytes)? {
            Opened::Bottleneck(saved) => {
                let said = match saved.origin.as_deref() {
                    Some(name) if presets::find(name).is_ok() => Origin::Preset(name.to_string()),
                    Some("custom") => Origin::Custom,
                    Some("convnetjs-import") => Origin::ConvnetjsImport,
                    _ => Origin::Snapshot,
                };
                let mut experiment = Experiment {
                    origin: Origin::Snapshot,
                    spec: saved.spec.clone(),
                    data: saved.data.clone(),
                    train: saved.train.clone(),
                    seed: saved.seed,
                    pretrain: saved.pretraining.as_ref().map(|p| p.plan.clone()),
                };
                experiment.origin = experiment.recognise(said);
                Ok((experiment, Saved::Snapshot(saved), Loaded::Snapshot))
            }
            Opened::ConvNetJs(net) => {
                let mut experiment = Experiment::convnetjs_import(net.spec().clone(), seed)?;
                experiment.origin = experiment.recognise(Origin::ConvnetjsImport);
                let trainer = Trainer::with_network(seed, net, experiment.train.clone())?;
                Ok((experiment, Saved::Network(trainer), Loaded::Convnetjs))
            }
        }
    }
}
