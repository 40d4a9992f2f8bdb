//! What an experiment is, as one value: the network spec, the data, the training settings, the
//! seed and any pretraining plan, and where it came from. Presets, the editor, snapshots and
//! ConvNetJS imports all become an `Experiment`, and every trainer, in the page and the CLI,
//! is started from one, so both front ends follow one policy. Running it is `run.rs`'s job.

use super::protocol::Loaded;
use crate::data::DataSpec;
use crate::model::NetSpec;
use crate::presets::{self, Preset};
use crate::pretrain::PretrainPlan;
use crate::snapshot::{self, Opened};
use crate::train::{TrainConfig, Trainer};

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

    /// The preset this experiment is, if it is one (its comparison, shading, scale, epochs).
    pub fn preset_info(&self) -> Option<&'static Preset> {
        match &self.origin {
            Origin::Preset(name) => presets::find(name).ok(),
            _ => None,
        }
    }

    /// A network from the editor: the same data, settings and seed, a fresh start.
    pub fn with_spec(&self, spec: NetSpec) -> Experiment {
        Experiment { origin: Origin::Custom, spec, pretrain: None, ..self.clone() }
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

    /// Recognise a file's bytes (ours or ConvNetJS's) and build the experiment and the trainer
    /// that continues it: a snapshot resumes exactly; an imported network starts fresh
    /// optimiser state and data order from `seed`.
    pub fn open(bytes: &[u8], seed: u64) -> Result<(Experiment, Trainer, Loaded), String> {
        match snapshot::open(bytes)? {
            Opened::Bottleneck(saved) => {
                let trainer = saved.restore()?;
                let experiment = Experiment {
                    origin: Origin::Snapshot,
                    spec: saved.spec.clone(),
                    data: saved.data.clone(),
                    train: saved.train.clone(),
                    seed: saved.seed,
                    pretrain: None,
                };
                Ok((experiment, trainer, Loaded::Snapshot))
            }
            Opened::ConvNetJs(net) => {
                let experiment = Experiment::convnetjs_import(net.spec().clone(), seed)?;
                let trainer = Trainer::with_network(seed, net, experiment.train.clone())?;
                Ok((experiment, trainer, Loaded::Convnetjs))
            }
        }
    }
}
