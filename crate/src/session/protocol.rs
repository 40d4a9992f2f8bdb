//! The typed protocol between a front end and a `Session`: the commands that change it, the
//! queries that only read it, and what comes back (the state the controls show, the live
//! figures, and the page's defaults, limits and names). The page gets these as JavaScript
//! objects through serde-wasm-bindgen; tests and the CLI use them as Rust values. Nothing here
//! runs anything: `session/mod.rs` does.

use serde::{Deserialize, Serialize};

use super::knowledge::Knowledge;
use crate::data::{DataSpec, Noise};
use crate::model::Optimizer;
use crate::train::TrainConfig;

/// Everything a user can do to a session. Externally tagged: `"pause"` or
/// `{"set-config": {"config": {...}}}`. Each kind of change has one door: the training
/// settings `SetConfig`, the panels' selections `View`, slow motion `SetSpeed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Command {
    Pause,
    Resume,
    /// Train exactly one minibatch, and stay paused.
    Step,
    /// Go back to the run as it was just before the latest change to its settings.
    Undo,
    /// Start the experiment over from a seed (default: the current one). The seed field in the
    /// page takes effect only here (or with the preset `LoadPreset` starts): nothing else
    /// changes the seed of a run under way.
    Reset {
        seed: Option<u64>,
    },
    SetConfig {
        config: TrainConfig,
    },
    LoadPreset {
        name: String,
        seed: Option<u64>,
    },
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
    /// The scatter's layer and neuron pair, whether the decoded manifold fills its background,
    /// and the loss graph's scale.
    View {
        layer: Option<usize>,
        x: Option<usize>,
        y: Option<usize>,
        #[serde(default)]
        manifold: Option<bool>,
        log_y: Option<bool>,
        /// Plot the layer's first two principal components instead of two of its units (naming
        /// a neuron turns this off).
        #[serde(default)]
        components: Option<bool>,
        /// Draw each digit's spread (one σ) around it: for the units of a variational code.
        #[serde(default)]
        ellipses: Option<bool>,
    },
    /// Your digits (drawn, or from pictures), as `Query::Digitize` and `Query::Picture` made
    /// them: each one's code is marked on the scatter. An empty list clears them.
    Mark { digits: Vec<Vec<f32>> },
    /// Train on digits of your own: an IDX images file and, optionally, its labels, in either
    /// order (plain or gzipped, as MNIST, Fashion-MNIST and EMNIST come). The experiment starts
    /// over on them.
    UseDigits { files: Vec<serde_bytes::ByteBuf> },
    /// Back to the built-in digits (the experiment starts over on them).
    BuiltInDigits,
    /// Train at most this many steps a second (slow motion), or None for full speed.
    SetSpeed { steps_per_second: Option<f64> },
    /// Pause by itself once this many examples are trained (at the end of the batch that
    /// reaches it), or never: a link with `stop=N` gives every machine the same network.
    SetStop { examples: Option<u64> },
    /// The next neuron pair of the scatter's layer.
    Cycle,
    ClearGraph,
    /// Train a second network beside this one (same seed and data) with another spec and/or
    /// settings; with neither, the preset's own comparison.
    Compare { label: Option<String>, spec: Option<String>, config: Option<TrainConfig> },
    StopCompare,
    /// New samples from a variational code's prior (`State::prior_draw`).
    Resample,
    /// Watch for a moment of the run (a tour stop's), or for none (`session::moments`).
    Watch { watching: Option<super::moments::Watching> },
    /// The whole built-in digits asset, once the page has it (the session started on its
    /// first part: `Session::digits_arrived`).
    DigitsArrived {
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// The defaults, limits and names the page builds its controls from.
    Describe,
}

/// Questions that read the session and change nothing a user can see.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Query {
    /// The network's outputs for inputs (n, n_inputs), row after row.
    Reconstruct { inputs: Vec<f32> },
    /// The pointer at a pixel of the scatter's canvas: the code there, decoded, and the digit
    /// under it. `width` is the width (CSS pixels) the page gave the scatter, so the pixels map
    /// to codes with the geometry the scatter was drawn with; (px, py) are CSS pixels from the
    /// canvas's top-left.
    Point { px: f32, py: f32, width: f64 },
    /// The path between two of the scatter's digits (indices), decoded in code space and
    /// blended in pixels.
    Interpolate { from: usize, to: usize, steps: usize },
    /// Strokes drawn on a pad of `size` units with a `pen` that wide, made into a digit.
    Digitize { strokes: Vec<Vec<[f32; 2]>>, size: [f32; 2], pen: f32 },
    /// A picture of a digit (RGBA bytes, as a browser decodes a PNG), made into a digit.
    Picture {
        width: usize,
        height: usize,
        #[serde(with = "serde_bytes")]
        rgba: Vec<u8>,
    },
}

/// The answer to a `Query`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    /// (n, n_outputs), row after row.
    Outputs(Vec<f32>),
    Point(PointInfo),
    Path(Path),
    /// None when nothing is drawn.
    Drawing(Option<DrawingInfo>),
}

/// A grey image, values in [0, 1], row-major.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointInfo {
    /// The point under the pointer, in the plotted units' values.
    pub x: f64,
    pub y: f64,
    /// What the decoder draws there (None where the viewed layer has no decoder after it).
    pub decoded: Option<Image>,
    /// For layers of more than two units: the plotted digit whose other units are held.
    pub held: Option<usize>,
    /// The plotted digit under the pointer, if any.
    pub digit: Option<DigitInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DigitInfo {
    /// Its index among the scatter's digits, and its label.
    pub index: usize,
    pub label: Option<u8>,
    pub input: Image,
    pub reconstruction: Option<Image>,
    /// Its activations at the viewed layer.
    pub code: Vec<f32>,
    /// Its picture's frame on the scatter drawn at the asked width: left, top, width, height
    /// in CSS pixels, for the page to mark the digit it is showing.
    pub frame: [f32; 4],
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Path {
    /// Decoded from evenly spaced points on the line between the two codes.
    pub code: Vec<Image>,
    /// The two digits' pixels blended in the same proportions.
    pub pixels: Vec<Image>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrawingInfo {
    /// The network's input, made as its training digits were.
    pub input: Image,
    /// The input as the denoising noise corrupts it (denoising presets).
    pub corrupted: Option<Image>,
    pub reconstruction: Option<Image>,
    /// A classifier's class probabilities.
    pub classes: Option<Vec<f32>>,
    /// Its activations at the viewed layer, and what the scatter plots of them, in words
    /// ("neurons 0 and 1", "its first two principal components").
    pub code: Vec<f32>,
    pub axes: String,
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
    /// The training settings in force (`Description::settings` says where each lives here).
    pub config: TrainConfig,
    pub paused: bool,
    pub layers: Vec<LayerInfo>,
    pub code_layer: usize,
    pub view: View,
    /// The comparisons the preset offers, and those training now ("k = 70 and k = 10").
    pub comparison: Option<String>,
    pub comparing: Option<String>,
    /// Which draw of codes from the prior N(0, I) the reconstructions panel decodes, for a
    /// network with a variational (gaussian) code; None without one.
    pub prior_draw: Option<u64>,
    pub data: DataSpec,
    /// Each panel's title and note for this network.
    pub panels: Vec<PanelInfo>,
    /// What each optimiser would start from if picked now, and why.
    pub optimizer_choices: Vec<OptimizerChoice>,
    /// For each setting that is a choice (by key): what each choice starts from if picked now
    /// (the object the setting's `type` is in: an optimiser with its settings, a noise).
    pub choices: Vec<(String, Vec<serde_json::Value>)>,
    /// Slow motion: at most this many steps a second (None: full speed).
    pub speed: Option<f64>,
    /// Training pauses by itself at this many examples (None: never).
    pub stop: Option<u64>,
    /// The changes a user made while this run trained, each at the examples seen then.
    pub changes: Vec<crate::snapshot::Change>,
    /// The change `Undo` would take back, if any.
    pub undo: Option<String>,
    /// How many of your digits are marked on the scatter.
    pub marked: usize,
    /// Which digits the experiment trains on: "built-in", or your IDX file's count.
    pub digits: String,
    /// The moment watched for (a tour stop's), if any.
    pub watching: Option<super::moments::Watching>,
    /// The page's link: query-string pairs that start this experiment again with these
    /// settings and this view (`session::link` has the keys and what they leave out).
    pub link: Vec<(String, String)>,
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
    /// The decoded manifold behind the scatter.
    #[serde(default)]
    pub manifold: bool,
    /// The loss graph's scale.
    pub log_y: bool,
    /// The scatter plots the layer's first two principal components (over the plotted digits)
    /// instead of neurons x and y; the default on layers wider than two units.
    #[serde(default)]
    pub components: bool,
    /// Each digit's spread (one standard deviation) drawn as an ellipse around it: None where
    /// the scatter does not plot two units of a variational (gaussian) code, whose codes have
    /// none; on by default where it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ellipses: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PanelInfo {
    pub name: String,
    pub title: String,
    pub note: String,
    /// Whether the panel means something for this network (the page hides it otherwise).
    pub shown: bool,
}

/// A panel's accessible name: what it shows now, in a sentence or two (for screen readers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PanelText {
    pub name: String,
    pub label: String,
}

/// What the panels show now, in words: each panel's accessible name, and the stats panel's
/// rows as (label, value) text.
#[derive(Clone, Debug, Serialize)]
pub struct PanelTexts {
    pub labels: Vec<PanelText>,
    pub rows: Vec<(String, String)>,
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
    /// The networks trained beside for comparison.
    pub comparisons: Vec<CompanionStats>,
    /// Share of the top-k layer's units ever kept (k-sparse).
    pub units_ever_selected: Option<f64>,
    /// What the code knows about the labels, against PCA and the pixels (labelled data only).
    pub knowledge: Option<Knowledge>,
    pub pretraining: Option<PretrainingStats>,
    pub paused: bool,
    /// Why training stopped by itself (a divergence, say), in a sentence.
    pub paused_reason: Option<String>,
    /// Training paused where it was asked to (`stop`), in a sentence.
    pub stopped: Option<String>,
    /// What is wrong with the network though it is finite (a dead layer, saturated units, a
    /// stalled loss), in a sentence naming the latest change when there is one to undo.
    pub health: Option<String>,
    /// The k in force of a top-k layer (it anneals toward the spec's k).
    pub top_k: Option<usize>,
    /// While the built-in digits are still arriving: what training does meanwhile, in a
    /// sentence.
    pub arriving: Option<String>,
    /// Training waits for the rest of the digits (its first epoch, on the first part, is done).
    pub waiting: bool,
    /// The watched moment has come: its sentence, with the examples seen then.
    pub moment: Option<String>,
}

/// How fast training goes: examples per second of training time (validation and drawing not
/// counted; 0 while paused), the time per example of the forward pass and of the backward pass
/// with the update, and what the latest validation took.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Speed {
    pub examples_per_second: f64,
    pub forward_us: f64,
    pub backward_us: f64,
    pub validation_ms: f64,
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
    /// The slow-motion speeds the page offers (steps a second), slowest first; full speed after.
    pub speeds: Vec<f64>,
    pub limits: Limits,
    /// Every setting a link or a control can change, in link order (`session::settings`).
    pub settings: Vec<SettingInfo>,
}

/// Which command sets a setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Door {
    /// `SetConfig`: the training settings.
    Config,
    /// `View`: the panels' selections.
    View,
    /// `SetSpeed`: slow motion.
    Speed,
    /// `SetStop`: where training pauses by itself.
    Stop,
}

/// One setting as the page builds its control: its link key, its names, what it means, the
/// command that sets it, where its value lives in `State` (JSON pointers, the first that
/// exists), and the values it takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingInfo {
    pub key: String,
    /// What a sentence calls it ("learning rate").
    pub label: String,
    /// Its control's label ("β₁").
    pub short: String,
    /// What it means, in a sentence or two for a newcomer.
    pub help: String,
    pub door: Door,
    pub paths: Vec<String>,
    /// "choice", "number", "whole" or "switch".
    pub kind: String,
    /// The values it takes, in words ("a positive number"); empty for choices.
    pub range: String,
    /// For choices: each value and its name on the control.
    pub options: Vec<(String, String)>,
    /// The word for no value ("off" for the top-k schedule), if it can have none.
    pub none: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PresetInfo {
    pub name: String,
    pub title: String,
    pub caption: String,
    /// "What to look for: …": the finding the preset reproduces, in a sentence or two.
    pub look_for: String,
    /// The panels that show it, which the page puts first and brings into view.
    pub point: Vec<String>,
    pub comparison: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    pub max_batch: usize,
    pub max_file_bytes: usize,
    pub max_units: usize,
    pub max_params: usize,
}

/// The settings an optimiser starts from when picked, and why those.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerChoice {
    pub settings: Optimizer,
    pub source: ChoiceSource,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChoiceSource {
    /// The optimiser training now, as it is set.
    InForce,
    /// Measured to keep this preset training.
    Measured,
    /// The general default.
    Default,
}

/// A refusal, in one plain sentence. The session is exactly as it was before the command.
#[derive(Clone, Debug, PartialEq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Error {
    fn from(message: String) -> Error {
        Error(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Error {
        Error(message.to_string())
    }
}
