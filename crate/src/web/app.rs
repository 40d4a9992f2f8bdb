//! The page's trainer handle. One `App` owns the trainer, the digits, the view settings, the
//! loss history and the canvases; the worker calls `tick` in a loop and forwards the page's
//! typed control messages to `command`. Panels are computed by the pure renderers and painted
//! by `paint`.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use web_sys::OffscreenCanvas;

use super::paint::paint;
use crate::data::{asset, DataSpec, Dataset};
use crate::model::pca::Pca;
use crate::model::spec::Kind;
use crate::model::{NetSpec, UnitMask};
use crate::presets;
use crate::pretrain::{Phase, Pretrainer};
use crate::render::netview::{LayerView, NetworkView};
use crate::render::plot::{LossGraph, Series};
use crate::render::scatter::Scatter;
use crate::render::image::{feature_maps, samples};
use crate::render::scene::{Align, Colour, Scene, INK, MUTED, REFERENCE, TRAIN, VALID};
use crate::render::TileGrid;
use crate::rng::Rng;
use crate::snapshot::{self, convnetjs};
use crate::train::{evaluate, TrainConfig, Trainer};

thread_local! {
    static PERFORMANCE: Option<web_sys::Performance> =
        js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance")).ok().and_then(|p| p.dyn_into().ok());
}

/// Milliseconds from the page's time origin (performance.now, or Date.now where absent).
pub fn now_ms() -> f64 {
    PERFORMANCE.with(|p| p.as_ref().map(|p| p.now()).unwrap_or_else(js_sys::Date::now))
}

/// Control messages from the page, as JSON `{"type": "...", ...}`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
enum Command {
    Pause,
    Resume,
    /// Train exactly one minibatch (while paused).
    Step,
    /// Re-initialise the current spec and settings from a seed (default: the current one).
    Reset { seed: Option<u64> },
    SetLearningRate { lr: f32 },
    SetConfig { config: TrainConfig },
    LoadPreset { name: String, seed: Option<u64> },
    /// A network definition (JSON text) from the editor.
    LoadSpec { spec: String },
    Save,
    LoadSnapshot { text: String },
    ImportConvnetjs { text: String },
    ExportConvnetjs,
    /// Scatter layer and neuron pair, and the loss graph's scale.
    View { layer: Option<usize>, x: Option<usize>, y: Option<usize>, log_y: Option<bool> },
    /// Next neuron pair of the scatter's layer.
    Cycle,
    ClearGraph,
    /// Train a second network beside this one (same seed and data) with another spec and/or
    /// settings; with neither given, the preset's own comparison. Again stops it.
    Compare { label: Option<String>, spec: Option<String>, config: Option<TrainConfig> },
    StopCompare,
    /// Test hook: reconstructions of `count` validation digits spread over the set.
    Probe { count: usize },
    /// Test hook: the network's outputs for arbitrary inputs (n, n_inputs).
    Forward { inputs: Vec<f32> },
}

#[derive(Clone, Copy, Debug, Serialize)]
struct View {
    layer: usize,
    x: usize,
    y: usize,
    log_y: bool,
}

/// Panels, in the order of `PANELS` and `next_due`.
#[derive(Clone, Copy)]
enum Panel {
    Stats,
    Loss,
    Scatter,
    Recon,
    Network,
    Current,
    Filters,
    Turnoff,
}
const N_PANELS: usize = 8;
// The network view and the current image share a period so they show the same example.
const PANELS: [(&str, f64, Panel); N_PANELS] = [
    ("stats", 200.0, Panel::Stats),
    ("loss", 500.0, Panel::Loss),
    ("scatter", 400.0, Panel::Scatter),
    ("recon", 1000.0, Panel::Recon),
    ("network", 400.0, Panel::Network),
    ("current", 400.0, Panel::Current),
    ("filters", 1000.0, Panel::Filters),
    ("turnoff", 1500.0, Panel::Turnoff),
];
const COMPARE_TRAIN: Colour = [150, 120, 255, 255];
const COMPARE_VALID: Colour = [255, 110, 200, 255];
/// The turn-off grid is drawn for codes of at most this many units.
const TURNOFF_MAX_UNITS: usize = 32;
const TURNOFF_DIGITS: usize = 8;
const VALIDATE_EVERY_MS: f64 = 1500.0;
const SCATTER_DIGITS: usize = 500;
const RECON_DIGITS: usize = 20;
const MAX_HISTORY: usize = 1200;
const PCA_MAX_IMAGES: usize = 2000;
const PCA_MAX_DIM_BY_BLOCK: usize = 120_000;

#[derive(Serialize)]
struct Stats {
    examples_seen: f64,
    steps: f64,
    epoch: f64,
    examples_per_second: f64,
    forward_us_per_example: f64,
    backward_us_per_example: f64,
    train_mse: Option<f64>,
    train_bce: Option<f64>,
    valid_mse: Option<f64>,
    valid_bce: Option<f64>,
    decay_loss: f64,
    pca_mse: Option<f64>,
    /// The comparison network's figures, when one trains beside.
    compare_label: Option<String>,
    compare_train_mse: Option<f64>,
    compare_valid_mse: Option<f64>,
    /// Share of the top-k layer's units ever kept (k-sparse).
    units_ever_selected: Option<f64>,
    /// Pretraining: where the plan stands, and the latest validation accuracy of the
    /// pretrained classifier and of its randomly initialised twin.
    phase: Option<String>,
    accuracy_pretrained: Option<f64>,
    accuracy_random: Option<f64>,
    paused: bool,
    paused_reason: Option<String>,
    learning_rate: Option<f32>,
}

#[derive(Serialize)]
struct LayerInfo {
    name: String,
    kind: &'static str,
    units: usize,
    activation: &'static str,
    tied: bool,
}

#[derive(Serialize)]
struct State<'a> {
    preset: &'a str,
    seed: u64,
    spec: String,
    config: &'a TrainConfig,
    optimizer: &'static str,
    learning_rate: Option<f32>,
    paused: bool,
    layers: Vec<LayerInfo>,
    code_layer: usize,
    view: View,
    /// The comparison the preset offers (label), and whether one is training now.
    comparison: Option<String>,
    comparing: Option<String>,
    data: &'a DataSpec,
}

/// A second network trained beside the first, for comparison.
struct Shadow {
    label: String,
    trainer: Trainer,
    smoothed_mse: Option<f64>,
    valid_mse: Option<f64>,
    train_history: Vec<(f64, f64)>,
    valid_history: Vec<(f64, f64)>,
}

#[wasm_bindgen]
pub struct App {
    trainer: Trainer,
    preset: String,
    /// All the built-in digits; `train` and `valid` are built from the trainer's DataSpec.
    digits: Dataset,
    train: Dataset,
    valid: Dataset,
    /// The (data, seed) that `train` and `valid` were built from.
    built_from: (DataSpec, u64),
    shadow: Option<Shadow>,
    /// Layer-wise pretraining in progress; `trainer` is then the classifier it pretrains.
    pretrain: Option<Pretrainer>,
    canvases: [Option<OffscreenCanvas>; N_PANELS],
    next_due: [f64; N_PANELS],
    view: View,
    paused: bool,
    paused_reason: Option<String>,
    smoothed_mse: Option<f64>,
    smoothed_bce: Option<f64>,
    forward_us: f64,
    backward_us: f64,
    valid_mse: Option<f64>,
    valid_bce: Option<f64>,
    next_validation: f64,
    train_history: Vec<(f64, f64)>,
    valid_history: Vec<(f64, f64)>,
    /// PCA reconstruction error on the validation digits for k components: (k, MSE/px).
    pca: Option<(usize, f64)>,
    /// (time, examples seen) samples for the examples/s figure.
    rate_window: Vec<(f64, f64)>,
    started: f64,
}

fn js_error(message: impl std::fmt::Display) -> JsError {
    JsError::new(&message.to_string())
}

#[wasm_bindgen]
impl App {
    /// Parse the digits asset and build the named preset's network from `seed`.
    #[wasm_bindgen(constructor)]
    pub fn new(asset_bytes: &[u8], preset: &str, seed: u32) -> Result<App, JsError> {
        let digits = asset::parse(asset_bytes).map_err(js_error)?;
        let found = presets::find(preset).map_err(js_error)?;
        let mut trainer = Trainer::new(&found.spec, found.train, seed as u64).map_err(js_error)?;
        trainer.data = found.data;
        let (train, valid) = trainer.data.build(Some(&digits), seed as u64).map_err(js_error)?;
        let now = now_ms();
        let mut app = App {
            built_from: (trainer.data.clone(), seed as u64),
            trainer,
            preset: found.name,
            digits,
            train,
            valid,
            shadow: None,
            pretrain: None,
            canvases: Default::default(),
            next_due: [0.0; N_PANELS],
            view: View { layer: 0, x: 0, y: 1, log_y: found.log_scale },
            paused: false,
            paused_reason: None,
            smoothed_mse: None,
            smoothed_bce: None,
            forward_us: 0.0,
            backward_us: 0.0,
            valid_mse: None,
            valid_bce: None,
            next_validation: 0.0,
            train_history: Vec::new(),
            valid_history: Vec::new(),
            pca: None,
            rate_window: Vec::new(),
            started: now,
        };
        app.replaced();
        app.start_pretraining(&found.pretrain.zip(Some(found.spec)))?;
        Ok(app)
    }

    /// Hand over a canvas for one panel: "stats", "loss", "scatter", "recon", "network", "current".
    pub fn attach_canvas(&mut self, panel: &str, canvas: OffscreenCanvas) -> Result<(), JsError> {
        let idx = PANELS.iter().position(|(name, _, _)| *name == panel).ok_or_else(|| js_error(format!("no panel named {panel:?}")))?;
        self.canvases[idx] = Some(canvas);
        self.next_due[idx] = 0.0;
        Ok(())
    }

    /// Train for about `budget_ms` (unless paused), redraw the panels that are due, and return
    /// the stats as JSON.
    pub fn tick(&mut self, budget_ms: f64) -> String {
        let start = now_ms();
        if !self.paused {
            loop {
                if !self.train_one() || now_ms() - start >= budget_ms {
                    break;
                }
                self.train_shadow();
            }
        }
        self.housekeeping();
        self.draw_due();
        self.stats_json()
    }

    /// Run one control message (JSON); the reply is JSON with the new `state` and any payload.
    pub fn command(&mut self, message: &str) -> Result<String, JsError> {
        let command: Command = serde_json::from_str(message).map_err(|e| js_error(format!("bad command: {e}")))?;
        let mut extra = serde_json::Map::new();
        match command {
            Command::Pause => self.paused = true,
            Command::Resume => {
                self.paused = false;
                self.paused_reason = None;
            }
            Command::Step => {
                self.paused = true;
                self.paused_reason = None;
                self.train_one();
                self.housekeeping();
            }
            Command::Reset { seed } => {
                let seed = seed.unwrap_or(self.trainer.seed);
                let plan = self.pretrain.as_ref().map(|p| (p.plan.clone(), self.trainer.net.spec.clone()));
                let mut trainer = Trainer::new(&self.trainer.net.spec, self.trainer.config.clone(), seed).map_err(js_error)?;
                trainer.data = self.trainer.data.clone();
                self.replace(trainer, None)?;
                self.start_pretraining(&plan)?;
            }
            Command::SetLearningRate { lr } => {
                self.trainer.set_learning_rate(lr).map_err(js_error)?;
                if let Some(p) = &mut self.pretrain {
                    p.baseline.set_learning_rate(lr).map_err(js_error)?;
                }
            }
            Command::SetConfig { config } => {
                self.trainer.set_config(config.clone()).map_err(js_error)?;
                if let Some(p) = &mut self.pretrain {
                    p.baseline.set_config(config).map_err(js_error)?;
                }
            }
            Command::LoadPreset { name, seed } => {
                let preset = presets::find(&name).map_err(js_error)?;
                let mut trainer = Trainer::new(&preset.spec, preset.train, seed.unwrap_or(self.trainer.seed)).map_err(js_error)?;
                trainer.data = preset.data;
                self.replace(trainer, Some(preset.name))?;
                self.view.log_y = preset.log_scale;
                self.start_pretraining(&preset.pretrain.zip(Some(preset.spec)))?;
            }
            Command::LoadSpec { spec } => {
                let spec = NetSpec::from_json(&spec).map_err(js_error)?;
                let mut trainer = Trainer::new(&spec, self.trainer.config.clone(), self.trainer.seed).map_err(js_error)?;
                trainer.data = self.trainer.data.clone();
                self.replace(trainer, Some("custom".into()))?;
            }
            Command::Save => {
                extra.insert("snapshot".into(), snapshot::save(&self.trainer).into());
            }
            Command::LoadSnapshot { text } => {
                let trainer = snapshot::load(&text).map_err(js_error)?;
                self.replace(trainer, Some("snapshot".into()))?;
            }
            Command::ImportConvnetjs { text } => {
                let net = convnetjs::import(&text).map_err(js_error)?;
                let mut trainer = Trainer::with_network(self.trainer.seed, net, self.trainer.config.clone()).map_err(js_error)?;
                trainer.data = DataSpec::mnist();
                self.replace(trainer, Some("convnetjs-import".into()))?;
            }
            Command::ExportConvnetjs => {
                extra.insert("convnetjs".into(), convnetjs::export(&self.trainer.net).map_err(js_error)?.into());
            }
            Command::View { layer, x, y, log_y } => {
                if let Some(layer) = layer {
                    if layer >= self.trainer.net.layers.len() {
                        return Err(js_error(format!("no layer {layer}")));
                    }
                    self.view.layer = layer;
                    let units = self.trainer.net.layers[layer].n_out;
                    self.view.x = 0;
                    self.view.y = 1.min(units - 1);
                }
                let units = self.trainer.net.layers[self.view.layer].n_out;
                for (slot, value) in [(&mut self.view.x, x), (&mut self.view.y, y)] {
                    if let Some(v) = value {
                        if v >= units {
                            return Err(js_error(format!("layer {} has {units} units; there is no neuron {v}", self.view.layer)));
                        }
                        *slot = v;
                    }
                }
                if let Some(log_y) = log_y {
                    self.view.log_y = log_y;
                }
            }
            Command::Cycle => {
                let units = self.trainer.net.layers[self.view.layer].n_out;
                self.view.x = (self.view.x + 1) % units;
                self.view.y = (self.view.y + 1) % units;
            }
            Command::ClearGraph => {
                self.train_history.clear();
                self.valid_history.clear();
                if let Some(shadow) = &mut self.shadow {
                    shadow.train_history.clear();
                    shadow.valid_history.clear();
                }
            }
            Command::Compare { label, spec, config } => self.start_compare(label, spec, config)?,
            Command::StopCompare => self.shadow = None,
            Command::Probe { count } => {
                let inputs = self.valid.spread(count);
                self.trainer.net.forward(&inputs.pixels, inputs.n_images, None);
                extra.insert("outputs".into(), serde_json::to_value(self.trainer.net.output()).expect("floats"));
            }
            Command::Forward { inputs } => {
                let n_inputs = self.trainer.net.n_inputs();
                if inputs.is_empty() || inputs.len() % n_inputs != 0 {
                    return Err(js_error(format!("forward: {} numbers is not a whole number of {n_inputs}-input examples", inputs.len())));
                }
                self.trainer.net.forward(&inputs, inputs.len() / n_inputs, None);
                extra.insert("outputs".into(), serde_json::to_value(self.trainer.net.output()).expect("floats"));
            }
        }
        self.next_due = [0.0; N_PANELS];
        self.draw_due();
        extra.insert("state".into(), serde_json::from_str(&self.state()).expect("state is JSON"));
        extra.insert("stats".into(), serde_json::from_str(&self.stats_json()).expect("stats are JSON"));
        Ok(serde_json::Value::Object(extra).to_string())
    }

    /// The settings and network description the page's controls show, as JSON.
    pub fn state(&self) -> String {
        let net = &self.trainer.net;
        let layers = net
            .layers
            .iter()
            .map(|l| LayerInfo { name: l.name.clone(), kind: kind_name(l.kind), units: l.n_out, activation: l.activation.name(), tied: l.tied })
            .collect();
        let state = State {
            preset: &self.preset,
            seed: self.trainer.seed,
            spec: net.spec.to_json(),
            config: &self.trainer.config,
            optimizer: self.trainer.config.optimizer.name(),
            learning_rate: self.trainer.config.optimizer.learning_rate(),
            paused: self.paused,
            layers,
            code_layer: net.code_layer(),
            view: self.view,
            comparison: presets::find(&self.preset).ok().and_then(|p| p.comparison).map(|c| c.label),
            comparing: self.shadow.as_ref().map(|s| s.label.clone()),
            data: &self.trainer.data,
        };
        serde_json::to_string(&state).expect("state serializes")
    }
}

impl App {
    /// Train one minibatch; false when training had to stop (divergence pauses it).
    fn train_one(&mut self) -> bool {
        let result = match &mut self.pretrain {
            Some(p) => match p.step(&mut self.trainer) {
                Ok(Some(stats)) => Ok(stats),
                Ok(None) => {
                    self.paused = true;
                    return false;
                }
                Err(e) => Err(e),
            },
            None => self.trainer.step(&self.train),
        };
        match result {
            Ok(stats) => {
                self.smoothed_mse = ema(self.smoothed_mse, stats.mse_per_pixel);
                if let Some(bce) = stats.bce_per_pixel {
                    self.smoothed_bce = ema(self.smoothed_bce, bce);
                }
                let per = 1000.0 / stats.batch as f64;
                let blend = |old: f64, new: f64| if old == 0.0 { new } else { 0.9 * old + 0.1 * new };
                self.forward_us = blend(self.forward_us, stats.forward_ms * per);
                self.backward_us = blend(self.backward_us, stats.backward_ms * per);
                true
            }
            Err(e) => {
                self.paused = true;
                self.paused_reason = Some(e.to_string());
                false
            }
        }
    }

    /// Periodic bookkeeping: history points, validation, the PCA reference, examples/s.
    fn housekeeping(&mut self) {
        let now = now_ms();
        if let Some(p) = &self.pretrain {
            // The pretrainer scores itself; here only the loss history of its current phase.
            let seen = p.examples_seen(&self.trainer) as f64;
            if let Some(loss) = self.smoothed_bce.or(self.smoothed_mse).filter(|_| matches!(p.phase, Phase::Pretraining { .. })) {
                if self.train_history.last().is_none_or(|q| q.0 < seen) {
                    self.train_history.push((seen, loss));
                }
            }
            self.rate_window.push((now, seen));
            while self.rate_window.len() > 2 && now - self.rate_window[0].0 > 1500.0 {
                self.rate_window.remove(0);
            }
            return;
        }
        let seen = self.trainer.progress.examples_seen as f64;
        if let Some(mse) = self.smoothed_mse {
            if self.train_history.last().is_none_or(|p| p.0 < seen) {
                self.train_history.push((seen, mse));
            }
        }
        if now >= self.next_validation && (self.valid_mse.is_none() || !self.paused || self.valid_history.last().is_none_or(|p| p.0 < seen)) {
            let eval = evaluate(&mut self.trainer.net, &self.valid);
            let mse = eval.mse_per_pixel;
            self.valid_mse = Some(mse);
            self.valid_bce = eval.bce_per_pixel;
            if self.valid_history.last().is_none_or(|p| p.0 < seen) {
                self.valid_history.push((seen, mse));
            }
            let cost = now_ms() - now;
            self.next_validation = now + VALIDATE_EVERY_MS.max(10.0 * cost);
        }
        if let Some(shadow) = &mut self.shadow {
            let shadow_seen = shadow.trainer.progress.examples_seen as f64;
            if let Some(mse) = shadow.smoothed_mse.filter(|_| shadow.train_history.last().is_none_or(|p| p.0 < shadow_seen)) {
                shadow.train_history.push((shadow_seen, mse));
            }
            if self.valid_history.last().is_some_and(|p| p.0 == seen) && shadow.valid_history.last().is_none_or(|p| p.0 < shadow_seen) {
                let mse = evaluate(&mut shadow.trainer.net, &self.valid).mse_per_pixel;
                shadow.valid_mse = Some(mse);
                shadow.valid_history.push((shadow_seen, mse));
            }
            for history in [&mut shadow.train_history, &mut shadow.valid_history] {
                if history.len() > MAX_HISTORY {
                    *history = history.iter().step_by(2).copied().collect();
                }
            }
        }
        for history in [&mut self.train_history, &mut self.valid_history] {
            if history.len() > MAX_HISTORY {
                let kept: Vec<(f64, f64)> = history.iter().step_by(2).copied().collect();
                *history = kept;
            }
        }
        // The PCA line waits until training has run a moment, so the first frames come fast.
        // It is fit on at most 2,000 training images, and left out where even that would stall
        // the worker for seconds (many components of large images: the CLI still reports it).
        let k = self.trainer.net.layers[self.trainer.net.code_layer()].n_out;
        let dim = self.train.n_pixels();
        let affordable = dim * (k + 8) <= PCA_MAX_DIM_BY_BLOCK;
        if self.pca.is_none_or(|(pk, _)| pk != k) && now - self.started > 1000.0 && k < dim && affordable && !self.trainer.net.is_classifier() {
            let sample = self.train.spread(PCA_MAX_IMAGES);
            let pca = Pca::fit(&sample.pixels, sample.n_images, dim, k);
            self.pca = Some((k, pca.mse_per_pixel(&self.valid.pixels, self.valid.n_images, k)));
        }
        self.rate_window.push((now, seen));
        while self.rate_window.len() > 2 && now - self.rate_window[0].0 > 1500.0 {
            self.rate_window.remove(0);
        }
    }

    fn examples_per_second(&self) -> f64 {
        match (self.rate_window.first(), self.rate_window.last()) {
            (Some(a), Some(b)) if b.0 - a.0 > 200.0 && !self.paused => (b.1 - a.1) * 1000.0 / (b.0 - a.0),
            _ => 0.0,
        }
    }

    fn stats_json(&self) -> String {
        let p = &self.trainer.progress;
        let pre = self.pretrain.as_ref();
        let stats = Stats {
            examples_seen: pre.map_or(p.examples_seen, |pt| pt.examples_seen(&self.trainer)) as f64,
            steps: p.steps as f64,
            epoch: self.trainer.epochs_done(),
            examples_per_second: self.examples_per_second(),
            forward_us_per_example: self.forward_us,
            backward_us_per_example: self.backward_us,
            train_mse: self.smoothed_mse,
            train_bce: self.smoothed_bce,
            valid_mse: self.valid_mse,
            valid_bce: self.valid_bce,
            decay_loss: self.trainer.decay_loss(),
            pca_mse: self.pca.map(|p| p.1),
            compare_label: self.shadow.as_ref().map(|s| s.label.clone()),
            compare_train_mse: self.shadow.as_ref().and_then(|s| s.smoothed_mse),
            compare_valid_mse: self.shadow.as_ref().and_then(|s| s.valid_mse),
            units_ever_selected: self.units_ever_selected(),
            phase: pre.map(|pt| pt.describe()),
            accuracy_pretrained: pre.and_then(|pt| pt.pretrained_curve.last()).map(|c| c.1),
            accuracy_random: pre.and_then(|pt| pt.baseline_curve.last()).map(|c| c.1),
            paused: self.paused,
            paused_reason: self.paused_reason.clone(),
            learning_rate: self.trainer.config.optimizer.learning_rate(),
        };
        serde_json::to_string(&stats).expect("stats serialize")
    }

    /// Swap in a new trainer (reset, preset, spec, snapshot, import); refuse networks that do
    /// not fit the digits, leaving the old one in place.
    fn replace(&mut self, mut trainer: Trainer, preset: Option<String>) -> Result<(), JsError> {
        let key = (trainer.data.clone(), trainer.seed);
        // Digits do not depend on the seed; synthetic data does.
        let same = key.0 == self.built_from.0 && (key.0.is_mnist() || key.1 == self.built_from.1);
        let rebuilt = if !same {
            Some(trainer.data.build(Some(&self.digits), trainer.seed).map_err(js_error)?)
        } else {
            None
        };
        let n_pixels = rebuilt.as_ref().map_or(self.train.n_pixels(), |(t, _)| t.n_pixels());
        if trainer.net.n_inputs() != n_pixels {
            return Err(js_error(format!("the network takes {} inputs, but its data has {n_pixels} numbers per example", trainer.net.n_inputs())));
        }
        if let Some((train, valid)) = rebuilt {
            self.train = train;
            self.valid = valid;
            self.built_from = key;
        }
        trainer.clock = Some(now_ms);
        self.trainer = trainer;
        self.shadow = None;
        self.pretrain = None;
        if let Some(name) = preset {
            self.preset = name;
        }
        self.replaced();
        Ok(())
    }

    /// Reset everything that described the previous network.
    fn replaced(&mut self) {
        self.trainer.clock = Some(now_ms);
        let net = &self.trainer.net;
        // A classifier's narrowest layer is its class scores: show its last hidden layer.
        let code = if net.is_classifier() && net.layers.len() > 1 { net.layers.len() - 2 } else { net.code_layer() };
        let units = net.layers[code].n_out;
        self.view = View { layer: code, x: 0, y: 1.min(units - 1), log_y: self.view.log_y };
        self.paused_reason = None;
        self.smoothed_mse = None;
        self.smoothed_bce = None;
        self.valid_mse = None;
        self.valid_bce = None;
        self.next_validation = 0.0;
        self.train_history.clear();
        self.valid_history.clear();
        self.rate_window.clear();
        self.next_due = [0.0; N_PANELS];
    }

    /// Begin layer-wise pretraining of the current classifier: `trainer` becomes the
    /// pretrainer's classifier. `plan` None leaves things as they are.
    fn start_pretraining(&mut self, plan: &Option<(crate::pretrain::PretrainPlan, NetSpec)>) -> Result<(), JsError> {
        let Some((plan, spec)) = plan else { return Ok(()) };
        let (pretrainer, mut classifier) =
            Pretrainer::new(spec, self.trainer.config.clone(), plan.clone(), self.trainer.seed, &self.train, self.valid.clone()).map_err(js_error)?;
        classifier.data = self.trainer.data.clone();
        classifier.clock = Some(now_ms);
        self.trainer = classifier;
        self.pretrain = Some(pretrainer);
        Ok(())
    }

    fn start_compare(&mut self, label: Option<String>, spec: Option<String>, config: Option<TrainConfig>) -> Result<(), JsError> {
        let (label, spec, config) = if spec.is_none() && config.is_none() {
            let preset = presets::find(&self.preset).map_err(|_| js_error("this network has no preset comparison; give a spec or settings to compare with"))?;
            let comparison = preset.comparison.ok_or_else(|| js_error(format!("preset {} has no comparison", preset.name)))?;
            (comparison.label, comparison.spec.unwrap_or_else(|| self.trainer.net.spec.clone()), comparison.train.unwrap_or_else(|| self.trainer.config.clone()))
        } else {
            let spec = match spec {
                Some(text) => NetSpec::from_json(&text).map_err(js_error)?,
                None => self.trainer.net.spec.clone(),
            };
            (label.unwrap_or_else(|| "comparison".into()), spec, config.unwrap_or_else(|| self.trainer.config.clone()))
        };
        let mut trainer = Trainer::new(&spec, config, self.trainer.seed).map_err(js_error)?;
        if trainer.net.n_inputs() != self.train.n_pixels() {
            return Err(js_error(format!("the comparison network takes {} inputs, but the data has {}", trainer.net.n_inputs(), self.train.n_pixels())));
        }
        trainer.data = self.trainer.data.clone();
        self.shadow = Some(Shadow { label, trainer, smoothed_mse: None, valid_mse: None, train_history: Vec::new(), valid_history: Vec::new() });
        Ok(())
    }

    /// One batch for the comparison network, if any (it shares the main network's time).
    fn train_shadow(&mut self) {
        let Some(shadow) = &mut self.shadow else { return };
        match shadow.trainer.step(&self.train) {
            Ok(stats) => shadow.smoothed_mse = ema(shadow.smoothed_mse, stats.mse_per_pixel),
            Err(e) => {
                web_sys::console::warn_1(&JsValue::from_str(&format!("the comparison stopped: {e}")));
                self.shadow = None;
            }
        }
    }

    fn units_ever_selected(&self) -> Option<f64> {
        let ever = &self.trainer.ever_selected;
        (!ever.is_empty()).then(|| ever.iter().filter(|&&e| e).count() as f64 / ever.len() as f64)
    }

    /// Redraw the panels that are due. A panel that takes long to compute (big networks) waits
    /// at least ten times its own cost before the next redraw, so drawing never crowds out
    /// training.
    fn draw_due(&mut self) {
        for (idx, (name, every, panel)) in PANELS.iter().enumerate() {
            let start = now_ms();
            if self.canvases[idx].is_none() || start < self.next_due[idx] {
                continue;
            }
            let scene = self.scene(*panel);
            if let Some(canvas) = &self.canvases[idx] {
                if let Err(e) = paint(canvas, &scene) {
                    web_sys::console::error_2(&JsValue::from_str(&format!("painting the {name} panel failed:")), &e);
                }
            }
            let end = now_ms();
            self.next_due[idx] = end + every.max(10.0 * (end - start));
        }
    }

    fn scene(&mut self, panel: Panel) -> Scene {
        match panel {
            Panel::Stats => self.stats_scene(),
            Panel::Loss => self.loss_scene(),
            Panel::Scatter => self.scatter_scene(),
            Panel::Recon => self.recon_scene(),
            Panel::Network => self.network_scene(),
            Panel::Current => self.current_scene(),
            Panel::Filters => self.filters_scene(),
            Panel::Turnoff => self.turnoff_scene(),
        }
    }

    fn stats_scene(&self) -> Scene {
        if let Some(pre) = &self.pretrain {
            let pct = |v: Option<&(f64, f64)>| v.map_or("–".to_string(), |c| format!("{:.1} %", 100.0 * c.1));
            let rows = [
                ("phase", pre.describe()),
                ("examples trained (all phases)", group_thousands(pre.examples_seen(&self.trainer))),
                ("examples/s", if self.paused { "paused".into() } else { group_thousands(self.examples_per_second() as u64) }),
                ("current loss (moving avg.)", self.smoothed_bce.or(self.smoothed_mse).map_or("–".into(), |v| format!("{v:.4}"))),
                ("validation accuracy, pretrained", pct(pre.pretrained_curve.last())),
                ("validation accuracy, random init", pct(pre.baseline_curve.last())),
                ("labelled examples", group_thousands(pre.plan.n_labels as u64)),
            ];
            return rows_scene(&rows, 6);
        }
        let p = &self.trainer.progress;
        let fmt = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.5}"));
        let opt = &self.trainer.config.optimizer;
        let valid_label = format!("validation MSE/px ({} examples)", group_thousands(self.valid.n_images as u64));
        let mut rows = vec![
            ("examples seen", group_thousands(p.examples_seen)),
            ("epoch", format!("{:.2}", self.trainer.epochs_done())),
            ("examples/s", if self.paused { "paused".into() } else { group_thousands(self.examples_per_second() as u64) }),
            ("forward, per example", format!("{:.1} µs", self.forward_us)),
            ("backward + update, per example", format!("{:.1} µs", self.backward_us)),
            ("train loss (MSE/px, moving avg.)", fmt(self.smoothed_mse)),
            (valid_label.as_str(), fmt(self.valid_mse)),
            ("weight-decay loss", format!("{:.5}", self.trainer.decay_loss())),
            ("optimiser", match opt.learning_rate() {
                Some(lr) => format!("{} · lr {lr}", opt.name()),
                None => format!("{} · no learning rate", opt.name()),
            }),
            ("batch size", self.trainer.config.batch_size.to_string()),
        ];
        if self.trainer.net.output_is_sigmoid() {
            // Sigmoid outputs report cross-entropy too (Larochelle's figures).
            rows.insert(6, ("train BCE/px (moving avg.)", fmt(self.smoothed_bce)));
            rows.insert(8, ("validation BCE/px", fmt(self.valid_bce)));
        }
        if let Some(share) = self.units_ever_selected() {
            rows.push(("top-k units ever selected", format!("{:.1} %", 100.0 * share)));
        }
        let mut scene = rows_scene(&rows, 22);
        let status = match (&self.paused_reason, self.paused) {
            (Some(reason), _) => format!("paused: {}", reason.chars().take(60).collect::<String>()),
            (None, true) => "paused".into(),
            (None, false) => "training".into(),
        };
        let colour = if self.paused_reason.is_some() { [255, 107, 107, 255] } else { MUTED };
        scene.text(10.0, 16.0 + rows.len() as f32 * 20.0 + 4.0, status, 12.0, colour, Align::Left);
        scene
    }

    fn loss_scene(&self) -> Scene {
        if let Some(p) = &self.pretrain {
            let fine_tuning = !matches!(p.phase, Phase::Pretraining { .. });
            let series = if fine_tuning {
                vec![
                    Series { label: "pretrained", colour: TRAIN, points: &p.pretrained_curve },
                    Series { label: "random init", colour: VALID, points: &p.baseline_curve },
                ]
            } else {
                vec![Series { label: "autoencoder loss, layer by layer", colour: TRAIN, points: &self.train_history }]
            };
            let y_label = if fine_tuning { "validation accuracy" } else { "autoencoder loss (BCE/input)" };
            return LossGraph { width: 560, height: 260, series, reference: None, log_y: self.view.log_y, y_label }.scene();
        }
        let label = self.pca.map(|(k, _)| format!("PCA-{k}")).unwrap_or_default();
        let mut series = vec![
            Series { label: "train (smoothed)", colour: TRAIN, points: &self.train_history },
            Series { label: "validation", colour: VALID, points: &self.valid_history },
        ];
        let shadow_labels = self.shadow.as_ref().map(|s| (format!("train: {}", s.label), format!("validation: {}", s.label)));
        if let (Some(shadow), Some((train_label, valid_label))) = (&self.shadow, &shadow_labels) {
            series.push(Series { label: train_label, colour: COMPARE_TRAIN, points: &shadow.train_history });
            series.push(Series { label: valid_label, colour: COMPARE_VALID, points: &shadow.valid_history });
        }
        let graph = LossGraph {
            width: 560,
            height: 260,
            series,
            reference: self.pca.map(|(_, mse)| (label.as_str(), mse, REFERENCE)),
            log_y: self.view.log_y,
            y_label: "MSE/px",
        };
        graph.scene()
    }

    fn scatter_scene(&mut self) -> Scene {
        let digits = self.valid.spread(SCATTER_DIGITS);
        let net = &mut self.trainer.net;
        net.forward(&digits.pixels, digits.n_images, None);
        let layer = &net.layers[self.view.layer];
        let units = layer.n_out;
        let acts = net.activations(self.view.layer);
        let (x, y) = (self.view.x.min(units - 1), self.view.y.min(units - 1));
        let points: Vec<(f32, f32)> = acts.chunks_exact(units).map(|row| (row[x], row[y])).collect();
        let title = format!(
            "layer {} ({}: {} {}{}) · x: neuron {x} · y: neuron {y} · {} examples",
            self.view.layer + 1,
            layer.name,
            units,
            layer.activation.name(),
            if self.view.layer == net.code_layer() { ", code" } else { "" },
            digits.n_images
        );
        let labels = digits.labels.clone().unwrap_or_default();
        Scatter { width: 560, height: 560, points: &points, labels: &labels, images: &digits.pixels, thumb_w: digits.width, thumb_h: digits.height, title }.scene()
    }

    fn recon_scene(&mut self) -> Scene {
        if self.trainer.net.is_classifier() {
            return self.predictions_scene();
        }
        let vectors = self.valid.height <= 1;
        let digits = self.valid.spread(if vectors { 6 } else { RECON_DIGITS });
        let noise = self.trainer.config.noise;
        let mut corrupted = digits.pixels.clone();
        // Display noise comes from a generator derived from the run's seed, so drawing never
        // draws from (and never changes) the training stream.
        noise.apply(&mut corrupted, &mut Rng::from_seed(self.trainer.seed ^ 0xd15_91a7));
        self.trainer.net.forward(&corrupted, digits.n_images, None);
        let outputs = self.trainer.net.output().to_vec();
        let n_px = digits.n_pixels();
        let out_label = if noise.is_none() { "F(x)" } else { "F(H(x))" };
        let caption = if noise.is_none() { "input x and reconstruction F(x)" } else { "input x, corrupted H(x), reconstruction F(H(x))" };
        // Rows of (label, values): blocks of ten digits, or one strip per vector.
        let per_block = if vectors { 1 } else { 10 };
        let mut rows: Vec<(&str, &[f32])> = Vec::new();
        for block in 0..digits.n_images.div_ceil(per_block) {
            let range = block * per_block * n_px..((block + 1) * per_block).min(digits.n_images) * n_px;
            rows.push(("x", &digits.pixels[range.clone()]));
            if !noise.is_none() {
                rows.push(("H(x)", &corrupted[range.clone()]));
            }
            rows.push((out_label, &outputs[range]));
        }
        let tiles: Vec<f32> = rows.iter().flat_map(|(_, v)| v.iter().copied()).collect();
        let image = samples(&tiles, (digits.width, digits.height), per_block, 2, Some((0.0, 1.0)));
        let row_height = image.height as f32 / rows.len() as f32;
        let mut scene = Scene::new(image.width + 70, image.height + 24);
        for (row, (label, _)) in rows.iter().enumerate() {
            scene.text(62.0, 22.0 + (row as f32 + 0.5) * row_height, *label, 12.0, MUTED, Align::Right);
        }
        scene.text(70.0, 10.0, caption, 12.0, INK, Align::Left);
        scene.image(70.0, 22.0, image);
        scene
    }

    /// A classifier's answers for validation digits: each digit with its predicted class.
    fn predictions_scene(&mut self) -> Scene {
        let digits = self.valid.spread(RECON_DIGITS);
        let net = &mut self.trainer.net;
        net.forward(&digits.pixels, digits.n_images, None);
        let n_classes = net.n_outputs();
        let predicted: Vec<usize> = net
            .output()
            .chunks_exact(n_classes)
            .map(|p| p.iter().enumerate().fold(0, |best, (i, &v)| if v > p[best] { i } else { best }))
            .collect();
        let grid = TileGrid { tile_w: digits.width, tile_h: digits.height, cols: 10, scale: 2, gap: 18 };
        let image = grid.render(&digits.pixels, Some((0.0, 1.0)));
        let mut scene = Scene::new(image.width + 20, image.height + 24);
        scene.text(10.0, 10.0, "validation digits and the classifier's answer (green: right, red: wrong)", 12.0, INK, Align::Left);
        scene.image(10.0, 22.0, image);
        let labels = digits.labels.clone().unwrap_or_default();
        for (idx, &class) in predicted.iter().enumerate() {
            let (x, y) = grid.origin(idx);
            let right = labels.get(idx).is_some_and(|&l| l as usize == class);
            let colour = if right { [110, 220, 120, 255] } else { [255, 107, 107, 255] };
            let tile_h = (digits.height * 2) as f32;
            scene.text(10.0 + x as f32 + digits.width as f32, 22.0 + y as f32 + tile_h + 9.0, class.to_string(), 12.0, colour, Align::Center);
        }
        scene
    }

    /// First-layer weights as tiles (or strips), with the comparison network's beside them.
    fn filters_scene(&mut self) -> Scene {
        if self.trainer.net.layers.iter().any(|l| l.kind != Kind::Fc) {
            return self.conv_filters_scene();
        }
        const MAX_TILES: usize = 400;
        let (w, h, depth) = self.trainer.net.checked.input_shape;
        let range = presets::find(&self.preset).ok().and_then(|p| p.filters_range);
        let mut blocks = vec![("this network".to_string(), self.trainer.net.weights(0), self.trainer.net.layers[0].n_out)];
        if let Some(shadow) = &self.shadow {
            blocks.push((shadow.label.clone(), shadow.trainer.net.weights(0), shadow.trainer.net.layers[0].n_out));
        }
        if let Some(p) = &self.pretrain {
            blocks = match p.phase {
                Phase::Pretraining { layer: 0 } => vec![("the layer-1 autoencoder (pretraining)".into(), p.autoencoder.net.weights(0), p.autoencoder.net.layers[0].n_out)],
                Phase::Pretraining { .. } => vec![("the classifier, pretrained".into(), self.trainer.net.weights(0), self.trainer.net.layers[0].n_out)],
                _ => vec![
                    ("the pretrained classifier".into(), self.trainer.net.weights(0), self.trainer.net.layers[0].n_out),
                    ("the classifier from random init".into(), p.baseline.net.weights(0), p.baseline.net.layers[0].n_out),
                ],
            };
        }
        let mut scene = Scene::new(620, 0);
        let mut y = 10.0;
        if depth != 1 {
            scene.text(8.0, y, "filters are drawn for one-channel inputs", 12.0, MUTED, Align::Left);
            scene.height = 30;
            return scene;
        }
        let shading = match range {
            Some((lo, hi)) => format!("black ≤ {lo}, white ≥ {hi}"),
            None => "each filter stretched to its own range".into(),
        };
        for (label, weights, n_units) in blocks {
            let shown = n_units.min(MAX_TILES);
            scene.text(8.0, y, format!("layer 1 of {label}: {shown} of {n_units} units · {shading}"), 12.0, INK, Align::Left);
            y += 14.0;
            let image = samples(&weights[..shown * w * h], (w, h), 20, 1, range);
            let height = image.height;
            scene.image(4.0, y, image);
            y += height as f32 + 16.0;
        }
        if let Some(share) = self.units_ever_selected() {
            scene.text(8.0, y - 4.0, format!("units ever among the top k: {:.0} %", 100.0 * share), 12.0, MUTED, Align::Left);
            y += 14.0;
        }
        scene.height = y as usize;
        scene
    }

    /// Every conv layer's filters: one row of tiles per output channel, one tile per input
    /// channel (seed 001: layer 1 is 20 tiles of 17×17, layer 2 is 2 × 20 tiles of 11×11).
    fn conv_filters_scene(&self) -> Scene {
        let net = &self.trainer.net;
        let mut scene = Scene::new(620, 0);
        let mut y = 10.0;
        for (idx, layer) in net.layers.iter().enumerate() {
            let Kind::Conv(g) = layer.kind else { continue };
            let (c_small, c_big) = (g.small.0, g.big.0);
            scene.text(8.0, y, format!("layer {} ({}): {c_small} × {c_big} filters of {}×{}, each stretched to its range", idx + 1, layer.name, g.size, g.size), 12.0, INK, Align::Left);
            y += 14.0;
            let scale = (48 / g.size).clamp(1, 4);
            let cols = if c_small == 1 || c_big == 1 { ((600 / (g.size * scale + 2)).max(1)).min(c_small * c_big) } else { c_big };
            let image = TileGrid { tile_w: g.size, tile_h: g.size, cols, scale, gap: 2 }.render(&net.weights(idx), None);
            let height = image.height;
            scene.image(4.0, y, image);
            y += height as f32 + 16.0;
        }
        scene.height = y as usize;
        scene
    }

    /// Seed 001's "sample activations": for one example of each of the first two classes, the
    /// input, every layer's feature maps and the output, left to right.
    fn samples_scene(&mut self) -> Scene {
        let labels = self.valid.labels.clone().unwrap_or_default();
        let mut picks: Vec<usize> = Vec::new();
        for (idx, label) in labels.iter().enumerate() {
            if picks.iter().all(|&p| labels[p] != *label) {
                picks.push(idx);
            }
            if picks.len() == 2 {
                break;
            }
        }
        if picks.is_empty() {
            picks.push(0);
        }
        let net = &mut self.trainer.net;
        let (w, h, _) = net.checked.input_shape;
        let mut scene = Scene::new(620, 0);
        let mut y = 8.0;
        for &pick in &picks {
            let input = self.valid.image(pick).to_vec();
            net.forward(&input, 1, None);
            let label = labels.get(pick).map_or("example".to_string(), |l| format!("digit {l}"));
            scene.text(8.0, y + 6.0, label, 12.0, INK, Align::Left);
            y += 18.0;
            let mut x = 8.0;
            let mut row_height = 0usize;
            let mut blocks = vec![("input".to_string(), TileGrid { tile_w: w, tile_h: h, cols: 1, scale: 2, gap: 0 }.render(&input, Some((0.0, 1.0))))];
            for (idx, layer) in net.layers.iter().enumerate() {
                let (c, lh, lw) = layer.out_shape;
                let acts = net.activations(idx);
                let image = if idx == net.layers.len() - 1 && layer.n_out == w * h {
                    TileGrid { tile_w: w, tile_h: h, cols: 1, scale: 2, gap: 0 }.render(acts, Some((0.0, 1.0)))
                } else {
                    let cols = if c > 4 { c.div_ceil(4) } else { 1 };
                    feature_maps(acts, (c, lh, lw), cols, if lh <= 12 { 2 } else { 1 })
                };
                let title = if idx == net.layers.len() - 1 { "output".to_string() } else { format!("layer {}", idx + 1) };
                blocks.push((title, image));
            }
            for (title, image) in blocks {
                scene.text(x, y + 4.0, title, 11.0, MUTED, Align::Left);
                row_height = row_height.max(image.height);
                let width = image.width;
                scene.image(x, y + 12.0, image);
                x += width as f32 + 12.0;
            }
            y += 12.0 + row_height as f32 + 14.0;
            scene.width = scene.width.max(x as usize);
        }
        scene.height = y as usize;
        scene
    }

    /// Seed 000's experiment: the decoder's output when every code unit but one is set to 0.
    fn turnoff_scene(&mut self) -> Scene {
        if self.trainer.net.layers.iter().any(|l| l.kind != Kind::Fc) {
            return self.samples_scene();
        }
        let net = &mut self.trainer.net;
        let code = net.code_layer();
        let units = net.layers[code].n_out;
        let (w, h, _) = net.checked.input_shape;
        if units > TURNOFF_MAX_UNITS || h <= 1 || net.is_classifier() {
            let mut scene = Scene::new(560, 30);
            let why = if net.is_classifier() {
                "autoencoders".to_string()
            } else if h <= 1 {
                "image data".to_string()
            } else { format!("codes of at most {TURNOFF_MAX_UNITS} units (this one has {units})") };
            scene.text(8.0, 14.0, format!("the turn-off grid is drawn for {why}"), 12.0, MUTED, Align::Left);
            return scene;
        }
        // A unit is dead when no validation digit activates it.
        net.forward(&self.valid.pixels, self.valid.n_images, None);
        let acts = net.activations(code);
        let dead: Vec<bool> = (0..units).map(|u| acts.chunks_exact(units).all(|row| row[u] == 0.0)).collect();
        let digits = self.valid.spread(TURNOFF_DIGITS);
        let mut tiles = digits.pixels.clone();
        net.forward(&digits.pixels, digits.n_images, None);
        tiles.extend_from_slice(net.output());
        for unit in 0..units {
            let keep = (0..units).map(|u| u == unit).collect();
            net.forward(&digits.pixels, digits.n_images, Some(&UnitMask { layer: code, keep }));
            tiles.extend_from_slice(net.output());
        }
        let grid = TileGrid { tile_w: w, tile_h: h, cols: TURNOFF_DIGITS, scale: 1, gap: 2 };
        let image = grid.render(&tiles, Some((0.0, 1.0)));
        let mut scene = Scene::new(image.width + 130, image.height + 24);
        let n_dead = dead.iter().filter(|&&d| d).count();
        scene.text(130.0, 10.0, format!("all code units but one set to 0 · {n_dead} dead unit{}", if n_dead == 1 { "" } else { "s" }), 12.0, INK, Align::Left);
        let row_y = |row: usize| 22.0 + grid.origin(row * TURNOFF_DIGITS).1 as f32 + h as f32 / 2.0;
        scene.text(122.0, row_y(0), "input", 12.0, MUTED, Align::Right);
        scene.text(122.0, row_y(1), "all units on", 12.0, MUTED, Align::Right);
        for (unit, is_dead) in dead.iter().enumerate() {
            let (label, colour) = if *is_dead { (format!("unit {unit} only · dead"), [255, 107, 107, 255]) } else { (format!("unit {unit} only"), MUTED) };
            scene.text(122.0, row_y(unit + 2), label, 12.0, colour, Align::Right);
        }
        scene.image(130.0, 22.0, image);
        scene
    }

    /// The example the network looks at: the first of the last trained batch, as it saw it.
    fn current_example(&self) -> (Vec<f32>, Vec<f32>, Option<u8>) {
        let net = &self.trainer.net;
        let n = net.n_inputs();
        let (inputs, targets, indices) = self.trainer.last_batch();
        if inputs.len() < n || indices.is_empty() {
            return (self.valid.image(0).to_vec(), self.valid.image(0).to_vec(), self.valid.labels.as_ref().map(|l| l[0]));
        }
        let input = inputs[..n].to_vec();
        if net.is_classifier() {
            // A classifier's targets are one-hot rows: the label is where the 1 is.
            let row = &targets[..net.n_outputs()];
            let label = row.iter().position(|&t| t == 1.0).map(|c| c as u8);
            return (input.clone(), input, label);
        }
        let label = self.train.labels.as_ref().and_then(|l| l.get(indices[0] as usize).copied());
        (input, targets[..n].to_vec(), label)
    }

    fn network_scene(&mut self) -> Scene {
        let (input, _, _) = self.current_example();
        let net = &mut self.trainer.net;
        net.forward(&input, 1, None);
        let (w, h, depth) = net.checked.input_shape;
        let n_layers = net.layers.len();
        let titles: Vec<String> = net
            .layers
            .iter()
            .enumerate()
            .map(|(idx, l)| {
                let tied = if l.tied { " (tied)" } else { "" };
                let code = if idx == net.code_layer() { " · code" } else { "" };
                let (c, h, w) = l.out_shape;
                let shape = if l.kind == Kind::Fc { format!("{}→{}", l.n_in, l.n_out) } else { format!("{c}×{h}×{w}") };
                format!("layer {} · {} {} · {shape} {}{tied}{code}", idx + 1, kind_name(l.kind), l.name, l.activation.name())
            })
            .collect();
        let filters = (depth == 1 && net.layers[0].kind == Kind::Fc).then(|| net.weights(0));
        let layers = (0..n_layers)
            .map(|idx| LayerView {
                title: titles[idx].clone(),
                activations: net.activations(idx),
                image_shape: (idx == n_layers - 1 && depth == 1 && net.layers[idx].n_out == w * h).then_some((w, h)),
                maps: (net.layers[idx].kind != Kind::Fc).then_some(net.layers[idx].out_shape),
            })
            .collect();
        NetworkView { width: 520, input: &input, input_shape: (w, h), layers, filters: filters.as_deref(), max_filters: 256 }.scene()
    }

    fn current_scene(&self) -> Scene {
        let (input, target, label) = self.current_example();
        let (w, h, _) = self.trainer.net.checked.input_shape;
        let noisy = !self.trainer.config.noise.is_none();
        let tiles = if noisy { [input, target].concat() } else { input };
        let image = samples(&tiles, (w, h), 2, 4, Some((0.0, 1.0)));
        let mut scene = Scene::new(image.width.max(200), image.height + 26);
        let text = match label {
            Some(l) => format!("digit {l}{}", if noisy { " · as seen, and clean" } else { "" }),
            None => "current example".into(),
        };
        scene.text(4.0, 10.0, text, 12.0, MUTED, Align::Left);
        scene.image(0.0, 22.0, image);
        scene
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Fc => "fc",
        Kind::Conv(_) => "conv",
        Kind::Deconv(_) => "deconv",
    }
}

/// Exponential moving average of per-batch figures for display.
fn ema(old: Option<f64>, new: f64) -> Option<f64> {
    Some(old.map_or(new, |o| 0.97 * o + 0.03 * new))
}

/// Label/value rows as a stats panel scene, with room for `extra_height` below them.
fn rows_scene(rows: &[(&str, String)], extra_height: usize) -> Scene {
    let mut scene = Scene::new(380, 20 + rows.len() * 20 + extra_height);
    for (row, (label, value)) in rows.iter().enumerate() {
        let y = 16.0 + row as f32 * 20.0;
        scene.text(10.0, y, *label, 13.0, MUTED, Align::Left);
        scene.text(370.0, y, value.clone(), 13.0, INK, Align::Right);
    }
    scene
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (idx, ch) in digits.chars().enumerate() {
        if idx > 0 && (digits.len() - idx).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
