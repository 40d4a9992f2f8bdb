//! Named experiments as data: `presets.json` (beside this file) lists each preset's network
//! spec and training settings. This module parses and looks them up; it runs nothing.

use serde::{Deserialize, Serialize};

use crate::data::DataSpec;
use crate::model::NetSpec;
use crate::train::TrainConfig;

pub const PRESETS_JSON: &str = include_str!("presets.json");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub name: String,
    pub title: String,
    /// One line for `bottleneck presets`.
    pub description: String,
    /// The seed document (in shared/seeds/) the experiment comes from.
    pub seed_doc: String,
    /// Two or three sentences shown beside the experiment.
    pub caption: String,
    pub spec: NetSpec,
    pub train: TrainConfig,
    /// The data it trains on (default: the MNIST digits).
    #[serde(default)]
    pub data: DataSpec,
    /// The CLI's default training length.
    pub epochs: u64,
    /// How the filters panel shades weights: a fixed [lo, hi] range, or (None) each filter
    /// stretched to its own range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters_range: Option<(f32, f32)>,
    /// Start the loss graph on a log scale (for losses that fall by orders of magnitude).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub log_scale: bool,
    /// Greedy layer-wise pretraining of the (classifier) spec before fine-tuning with `train`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretrain: Option<crate::pretrain::PretrainPlan>,
    /// A second network trained beside the first, for comparison (same seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
}

/// The variant a preset compares against: its spec and/or settings replace the preset's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<NetSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<TrainConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    presets: Vec<Preset>,
}

/// Every preset, in file order. The file is part of the build, so a broken one is a bug
/// caught by the tests, not a user error.
pub fn all() -> Vec<Preset> {
    let file: PresetFile = serde_json::from_str(PRESETS_JSON).expect("presets.json parses");
    file.presets
}

pub fn find(name: &str) -> Result<Preset, String> {
    let presets = all();
    let names: Vec<String> = presets.iter().map(|p| p.name.clone()).collect();
    presets
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("unknown preset {name:?}; the presets are: {}", names.join(", ")))
}

pub const DEFAULT: &str = "convnetjs";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::optim::Optimizer;
    use crate::model::{Activation, Loss};

    /// What a preset must be, in the terms of the issues that define it.
    struct Want {
        name: &'static str,
        sizes: &'static [usize],
        activations: &'static [Activation],
        tied: bool,
        code_units: usize,
        loss: Loss,
        optimizer: Optimizer,
        batch_size: usize,
        l2_decay: f32,
    }

    /// Check one preset's layers, optimiser and settings against the description.
    fn check(want: &Want) {
        let preset = find(want.name).unwrap();
        let checked = preset.spec.check().unwrap_or_else(|e| panic!("{}: {e}", want.name));
        let mut sizes = vec![checked.n_inputs];
        sizes.extend(checked.dense.iter().map(|d| d.n_out));
        assert_eq!(sizes, want.sizes, "{}: layer sizes", want.name);
        let acts: Vec<Activation> = checked.dense.iter().map(|d| d.activation).collect();
        assert_eq!(acts, want.activations, "{}: activations", want.name);
        assert_eq!(checked.dense.iter().any(|d| d.tied_to.is_some()), want.tied, "{}: tied", want.name);
        assert_eq!(checked.dense[checked.code_layer].n_out, want.code_units, "{}: code", want.name);
        assert_eq!(checked.loss, want.loss, "{}: loss", want.name);
        assert_eq!(preset.train.optimizer, want.optimizer, "{}: optimizer", want.name);
        assert_eq!(preset.train.batch_size, want.batch_size, "{}: batch", want.name);
        assert_eq!(preset.train.l2_decay, want.l2_decay, "{}: l2", want.name);
        preset.train.validate().unwrap();
        assert!(preset.caption.len() > 40 && preset.description.len() > 20);
    }

    #[test]
    fn presets_are_what_the_issues_describe() {
        use Activation::*;
        check(&Want {
            name: "convnetjs",
            sizes: &[784, 50, 50, 2, 50, 50, 784],
            activations: &[Tanh, Tanh, Linear, Tanh, Tanh, Linear],
            tied: false,
            code_units: 2,
            loss: Loss::Mse,
            optimizer: Optimizer::Adadelta { rho: 0.95, eps: 1e-8 },
            batch_size: 50,
            l2_decay: 0.001,
        });
        check(&Want {
            name: "turnoff",
            sizes: &[784, 225, 10, 225, 784],
            activations: &[Relu, Relu, Relu, Relu],
            tied: false,
            code_units: 10,
            loss: Loss::Mse,
            optimizer: Optimizer::Rmsprop { lr: 0.001, rho: 0.9, eps: 1e-7 },
            batch_size: 256,
            l2_decay: 0.0,
        });
        let names: Vec<String> = all().into_iter().map(|p| p.name).collect();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names, unique);
        assert!(find("nope").unwrap_err().contains("convnetjs"));
    }
}
