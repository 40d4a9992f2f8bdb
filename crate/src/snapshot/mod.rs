//! Versioned JSON snapshots: the spec, every parameter, the training settings, the optimiser's
//! state, progress counters and the generator's state, so a loaded snapshot resumes training
//! exactly where it stopped. Gradients are not saved. Field by field: docs/snapshot.md.
//! Loading validates everything and reports the first problem; nothing is half-loaded.
//! `convnetjs` converts to and from ConvNetJS's `Net.toJSON()`.

pub mod convnetjs;
pub mod floats;

use serde::{Deserialize, Serialize};

use crate::budget::BUDGET;
use crate::budget::{MAX_BYTES, MAX_COUNT};
use crate::data::DataSpec;
use crate::model::optim::OptimState;
use crate::model::{NetSpec, Network};
use crate::rng::{Rng, RngState};
use crate::pretrain::{Phase, PretrainPlan};
use crate::train::{Progress, TrainConfig, Trainer};

pub const FORMAT: &str = "bottleneck-snapshot";
/// Version 2 writes arrays of numbers as base64 of their little-endian f32 bytes; version 1
/// (JSON arrays of numbers) still reads.
pub const VERSION: u32 = 3;
const VERSIONS: [u32; 3] = [1, 2, 3];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub format: String,
    pub version: u32,
    pub seed: u64,
    /// The data the network trains on (absent in older files: the MNIST digits).
    #[serde(default)]
    pub data: DataSpec,
    pub spec: NetSpec,
    pub params: Vec<SavedParam>,
    pub train: TrainConfig,
    pub optimizer_state: SavedOptimState,
    pub progress: Progress,
    pub rng: RngState,
    /// Where the experiment came from: a preset's name, "custom", "snapshot" or
    /// "convnetjs-import" (absent in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Layer-wise pretraining in progress (this snapshot's network is then its classifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretraining: Option<Box<SavedPretraining>>,
    /// Networks training beside this one for comparison.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comparisons: Vec<SavedComparison>,
    /// The changes a user made while this run trained (its loss graph's markers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
}

/// A change a user made to a run: at how many examples seen, and what, in a few words
/// ("learning rate 0.05").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub examples_seen: u64,
    pub label: String,
}

/// A pretraining plan in progress: the plan, where it stands, its other two networks (each a
/// snapshot of its own) and the accuracy curves so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPretraining {
    pub plan: PretrainPlan,
    pub phase: Phase,
    pub autoencoder: Snapshot,
    pub baseline: Snapshot,
    pub pretrained_curve: Vec<(f64, f64)>,
    pub baseline_curve: Vec<(f64, f64)>,
    pub next_eval: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedComparison {
    pub label: String,
    pub network: Snapshot,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedParam {
    pub name: String,
    /// [rows, cols]; data is row-major.
    pub shape: [usize; 2],
    #[serde(with = "floats::array")]
    pub data: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedOptimState {
    /// Updates applied so far.
    pub step: u64,
    /// Per parameter (same order as `params`): the optimiser's arrays, each of the param's size.
    #[serde(with = "floats::nested")]
    pub slots: Vec<Vec<Vec<f32>>>,
}

impl Snapshot {
    /// The trainer as it stands, with the data it trains on.
    pub fn of(trainer: &Trainer, data: &DataSpec) -> Snapshot {
        let net = trainer.net();
        Snapshot {
            format: FORMAT.into(),
            version: VERSION,
            seed: trainer.seed(),
            data: data.clone(),
            spec: net.spec().clone(),
            params: net.params().iter().map(|p| SavedParam { name: p.name.clone(), shape: [p.rows, p.cols], data: p.value.clone() }).collect(),
            train: trainer.config().clone(),
            optimizer_state: SavedOptimState { step: trainer.optim().step, slots: trainer.optim().slots.clone() },
            progress: trainer.progress().clone(),
            rng: trainer.rng().state(),
            origin: None,
            pretraining: None,
            comparisons: Vec::new(),
            changes: Vec::new(),
        }
    }

    /// The snapshot as JSON text; refused (never written as `null`) if any number in it is
    /// not finite.
    pub fn to_json(&self) -> Result<String, String> {
        if !self.all_finite() {
            return Err("the network holds numbers that are not finite, so it cannot be saved; reset it or load a snapshot".into());
        }
        Ok(serde_json::to_string(self).expect("snapshot serializes"))
    }

    fn all_finite(&self) -> bool {
        let finite = |v: &f32| v.is_finite();
        let own = self.params.iter().all(|p| p.data.iter().all(finite)) && self.optimizer_state.slots.iter().flatten().flatten().all(finite);
        let pretraining = self.pretraining.as_ref().is_none_or(|p| p.autoencoder.all_finite() && p.baseline.all_finite());
        own && pretraining && self.comparisons.iter().all(|c| c.network.all_finite())
    }

    /// Parse and check the envelope (format, version, spec); `restore` checks the rest.
    pub fn parse(text: &str) -> Result<Snapshot, String> {
        match open(text.as_bytes())? {
            Opened::Bottleneck(snapshot) => Ok(*snapshot),
            Opened::ConvNetJs(_) => Err("this looks like a ConvNetJS Net.toJSON() snapshot, not a Bottleneck one: import it as ConvNetJS instead".into()),
        }
    }

    /// Read a snapshot's text straight into its types (numbers into f32 arrays: no tree of
    /// values in between, so a large file takes little more memory than its numbers). When it
    /// does not fit, the envelope (format, version, spec) is looked at to say why, in that order.
    fn from_text(text: &str) -> Result<Snapshot, String> {
        match serde_json::from_str::<Snapshot>(text) {
            Ok(snapshot) => {
                Snapshot::check_envelope(Some(&snapshot.format), Some(snapshot.version as u64))?;
                Ok(snapshot)
            }
            Err(e) => {
                #[derive(Deserialize)]
                struct Envelope {
                    format: Option<serde_json::Value>,
                    version: Option<serde_json::Value>,
                    spec: Option<serde_json::Value>,
                }
                let envelope: Envelope = serde_json::from_str(text).map_err(|_| format!("snapshot: {e}"))?;
                Snapshot::check_envelope(envelope.format.as_ref().and_then(|f| f.as_str()), envelope.version.as_ref().and_then(|v| v.as_u64()))?;
                // Check the spec on its own, so its errors name the layer.
                NetSpec::from_value(&envelope.spec.ok_or("snapshot: missing \"spec\"")?).map_err(|e| format!("snapshot spec: {e}"))?;
                if e.to_string().starts_with("number out of range") {
                    return Err(format!("snapshot: the number at line {}, column {} is too large for a 32-bit float (not a finite number)", e.line(), e.column()));
                }
                Err(format!("snapshot: {e}"))
            }
        }
    }

    fn check_envelope(format: Option<&str>, version: Option<u64>) -> Result<(), String> {
        match format {
            Some(FORMAT) => {}
            Some(other) => return Err(format!("snapshot: format is {other:?}, expected {FORMAT:?}")),
            None => return Err(format!("snapshot: missing \"format\": {FORMAT:?}")),
        }
        match version {
            Some(v) if VERSIONS.iter().any(|&known| known as u64 == v) => Ok(()),
            Some(v) => Err(format!("snapshot: version {v} is not supported (this build reads versions 1 to {VERSION})")),
            None => Err("snapshot: missing or non-integer \"version\"".into()),
        }
    }

    /// Rebuild the trainer, checking every shape and number, and the budget before any array
    /// of the sizes the file claims is allocated.
    pub fn restore(&self) -> Result<Trainer, String> {
        let checked = self.spec.check().map_err(|e| format!("snapshot spec: {e}"))?;
        self.train.validate().map_err(|e| format!("snapshot train settings: {e}"))?;
        BUDGET.judge_training(&checked, self.train.batch_size, &self.train.optimizer)?;
        let layout = Network::layout(&self.spec)?;
        if self.params.len() != layout.len() {
            return Err(format!("snapshot has {} parameter arrays, but its spec needs {}", self.params.len(), layout.len()));
        }
        for (array, saved) in layout.iter().zip(&self.params) {
            if saved.name != array.name {
                return Err(format!("snapshot parameter {:?} found where the spec needs {:?}", saved.name, array.name));
            }
            if saved.shape != [array.rows, array.cols] || saved.data.len() != array.rows * array.cols {
                return Err(format!(
                    "snapshot parameter {:?} has shape {:?} and {} numbers; the spec needs [{}, {}]",
                    saved.name,
                    saved.shape,
                    saved.data.len(),
                    array.rows,
                    array.cols
                ));
            }
        }
        let net = Network::with_values(&self.spec, self.params.iter().map(|p| p.data.clone()).collect()).map_err(|e| format!("snapshot {e}"))?;
        let optim = OptimState { step: self.optimizer_state.step, slots: self.optimizer_state.slots.clone() };
        if !optim.fits(&self.train.optimizer, net.params()) {
            return Err(format!(
                "snapshot optimizer_state does not fit: {} keeps {} arrays per parameter, of the parameter's size",
                self.train.optimizer.name(),
                self.train.optimizer.n_slots()
            ));
        }
        if optim.slots.iter().flatten().flatten().any(|v| !v.is_finite()) {
            return Err("snapshot optimizer_state holds a number that is not finite".into());
        }
        let progress = &self.progress;
        // The order is this epoch's shuffle: every example once.
        let mut listed = vec![false; progress.order.len()];
        for &example in &progress.order {
            if listed.get(example as usize).is_none_or(|&seen| seen) {
                return Err(format!("snapshot progress: the data order is not a shuffle of {} examples (index {example} is out of range or repeated)", listed.len()));
            }
            listed[example as usize] = true;
        }
        if progress.cursor > progress.order.len() {
            return Err(format!("snapshot progress: cursor {} is past the order's {} examples", progress.cursor, progress.order.len()));
        }
        for (name, count) in [("examples_seen", progress.examples_seen), ("steps", progress.steps), ("epoch", progress.epoch), ("optimizer_state.step", optim.step)] {
            if count > MAX_COUNT {
                return Err(format!("snapshot progress: {name} is {count}, beyond 2^53, the largest count shown exactly"));
            }
        }
        let rng = Rng::from_state(&self.rng).map_err(|e| format!("snapshot {e}"))?;
        Ok(Trainer::from_parts(self.seed, net, self.train.clone(), optim, rng, self.progress.clone()))
    }
}

/// What a file of network JSON turned out to be.
pub enum Opened {
    /// One of ours: everything needed to resume training.
    Bottleneck(Box<Snapshot>),
    /// ConvNetJS's `Net.toJSON()`: a network's weights and nothing about training.
    ConvNetJs(Network),
}

/// Recognise and parse the bytes of a snapshot file: ours (it has `"format"`) or ConvNetJS's
/// (it has `"layers"`). The text is parsed once; nothing else sniffs it.
pub fn open(bytes: &[u8]) -> Result<Opened, String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!("the file is {} MB, larger than the {} MB limit", bytes.len() >> 20, MAX_BYTES >> 20));
    }
    let inflated = gunzip(bytes)?;
    let text = std::str::from_utf8(&inflated).map_err(|_| "the file is not text (UTF-8), so it is not a snapshot".to_string())?;
    let keys = crate::json::top_level_keys(text, "the file").map_err(|e| if e.contains("expected a JSON object") || e.contains("invalid type") { "snapshot: expected a JSON object".to_string() } else { e })?;
    let has = |key: &str| keys.iter().any(|k| k == key);
    if !has("format") && has("layers") {
        return convnetjs::import_value(&crate::json::parse(text, "the file")?).map(Opened::ConvNetJs);
    }
    Snapshot::from_text(text).map(|s| Opened::Bottleneck(Box::new(s)))
}

/// Undo gzip (a saved file the page compressed) if the bytes start with its magic number,
/// inflating at most `MAX_BYTES`: a small hostile file cannot expand past the limit.
fn gunzip(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, String> {
    use std::io::Read;
    if bytes.len() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b {
        return Ok(bytes.into());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("the file is gzip-compressed but not a valid gzip stream ({e})"))?;
    if out.len() > MAX_BYTES {
        return Err(format!("the file unpacks to more than the {} MB limit", MAX_BYTES >> 20));
    }
    Ok(out.into())
}

/// Save a trainer and the data it trains on as snapshot JSON text (None if it holds a number
/// that is not finite, which training never leaves behind).
pub fn save(trainer: &Trainer, data: &DataSpec) -> Result<String, String> {
    Snapshot::of(trainer, data).to_json()
}

/// Load snapshot JSON text into a ready trainer.
pub fn load(text: &str) -> Result<Trainer, String> {
    Snapshot::parse(text)?.restore()
}
