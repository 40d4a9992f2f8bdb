//! The typed protocol between a front end and a `Session`: the commands that change it, the
//! queries that only read it, and what comes back (the state the controls show, the live
//! figures, and the page's defaults, limits and names). The page gets these as JavaScript
//! objects through serde-wasm-bindgen; tests and the CLI use them as Rust values. Nothing here
//! runs anything: `session/mod.rs` does.

use serde::{Deserialize, Serialize};

use crate::data::{DataSpec, Noise};
use crate::model::Optimizer;
use crate::train::TrainConfig;

/// Everything a user can do to a session. Externally tagged: `"pause"` or
/// `{"set-learning-rate": {"lr": 0.01}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Command {
    Pause,
    Resume,
    /// Train exactly one minibatch, and stay paused.
    Step,
    /// Start the experiment over from a seed (default: the current one).
    Reset { seed: Option<u64> },
    SetLearningRate { lr: f32 },
    SetConfig { config: TrainConfig },
    LoadPreset { name: String, seed: Option<u64> },
    /// A network definition (JSON text) from the editor.
    LoadSpec { spec: String },
    /// The snapshot of the network as it is now (the reply's payload).
    Save,
    /// The bytes of a file: a Bottleneck snapshot or a ConvNetJS `Net.toJSON()`.
    Load {
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    ExportConvnetjs,
    /// The scatter's layer and neuron pair, and the loss graph's scale.
    View { layer: Option<usize>, x: Option<usize>, y: Option<usize>, log_y: Option<bool> },
    /// The next neuron pair of the scatter's layer.
    Cycle,
    ClearGraph,
    /// Train a second network beside this one (same seed and data) with another spec and/or
    /// settings; with neither, the preset's own comparison.
    Compare { label: Option<String>, spec: Option<String>, config: Option<TrainConfig> },
    StopCompare,
    /// The defaults, limits and names the page builds its controls from.
    Describe,
}

/// Questions that read the session and change nothing a user can see.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Query {
    /// The network's outputs for inputs (n, n_inputs), row after row.
    Reconstruct { inputs: Vec<f32> },
}

/// The answer to a `Query`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    /// (n, n_outputs), row after row.
    Outputs(Vec<f32>),
}

/// Every command's reply: the state in force afterwards, the figures, and what it produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub state: State,
    pub stats: Stats,
    pub payload: Payload,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Payload {
    None,
    /// Snapshot JSON text, to download.
    Snapshot(String),
    /// ConvNetJS `Net.toJSON()` text, to download.
    Convnetjs(String),
    /// What a `Load` found in the file.
    Loaded(Loaded),
    Description(Box<Description>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loaded {
    /// A Bottleneck snapshot: training resumes exactly where it stopped.
    Snapshot,
    /// A ConvNetJS network: its weights, trained on with the ConvNetJS demo's settings.
    Convnetjs,
}

/// What the controls show: the settings and network in force.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The preset's name, or "custom" (the editor), "snapshot" or "convnetjs-import".
    pub preset: String,
    pub seed: u64,
    /// The network definition as the editor shows it.
    pub spec: String,
    pub config: TrainConfig,
    pub optimizer: String,
    /// None for optimisers without one (Adadelta).
    pub learning_rate: Option<f64>,
    pub paused: bool,
    pub layers: Vec<LayerInfo>,
    pub code_layer: usize,
    pub view: View,
    /// The comparison the preset offers (its label), and the one training now.
    pub comparison: Option<String>,
    pub comparing: Option<String>,
    pub data: DataSpec,
    /// Each panel's title and note for this network.
    pub panels: Vec<PanelInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerInfo {
    pub name: String,
    /// "fc", "conv" or "deconv".
    pub kind: String,
    pub units: usize,
    pub activation: String,
    pub tied: bool,
}

/// The panels' selections.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct View {
    /// The scatter's layer and its two neurons.
    pub layer: usize,
    pub x: usize,
    pub y: usize,
    /// The loss graph's scale.
    pub log_y: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PanelInfo {
    pub name: String,
    pub title: String,
    pub note: String,
}

/// The live figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Examples trained, in all phases of the run.
    pub examples_seen: f64,
    pub steps: f64,
    pub epoch: f64,
    pub speed: Speed,
    pub loss: Losses,
    /// The network trained beside for comparison, if any.
    pub comparison: Option<CompanionStats>,
    /// Share of the top-k layer's units ever kept (k-sparse).
    pub units_ever_selected: Option<f64>,
    pub pretraining: Option<PretrainingStats>,
    pub paused: bool,
    /// Why training stopped by itself (a divergence, say), in a sentence.
    pub paused_reason: Option<String>,
    pub learning_rate: Option<f64>,
}

/// How fast training goes: examples per second (0 while paused), and the time per example of
/// the forward pass and of the backward pass with the update.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Speed {
    pub examples_per_second: f64,
    pub forward_us: f64,
    pub backward_us: f64,
}

/// Losses per pixel: the training batches' (smoothed), the validation digits', PCA's with as
/// many components as the code has units, and the weight-decay term.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Losses {
    pub train_mse: Option<f64>,
    /// Cross-entropy, for sigmoid outputs.
    pub train_bce: Option<f64>,
    pub valid_mse: Option<f64>,
    pub valid_bce: Option<f64>,
    pub pca_mse: Option<f64>,
    pub decay: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompanionStats {
    pub label: String,
    pub train_mse: Option<f64>,
    pub valid_mse: Option<f64>,
}

/// Where a pretraining plan stands, and the latest validation accuracy of the pretrained
/// classifier and of its randomly initialised twin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PretrainingStats {
    pub phase: String,
    pub accuracy_pretrained: Option<f64>,
    pub accuracy_random: Option<f64>,
}

/// Defaults, limits and names, written once here and read by the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Description {
    pub presets: Vec<PresetInfo>,
    pub default_preset: String,
    pub default_seed: u64,
    /// Each optimiser with the settings it starts from when picked.
    pub optimizers: Vec<Optimizer>,
    /// Each kind of noise at the level it starts from when picked.
    pub noises: Vec<Noise>,
    /// The panel names, in the order they are drawn.
    pub panels: Vec<String>,
    pub limits: Limits,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PresetInfo {
    pub name: String,
    pub title: String,
    pub caption: String,
    pub comparison: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    pub max_batch: usize,
    pub max_file_bytes: usize,
    pub max_units: usize,
    pub max_params: usize,
}
