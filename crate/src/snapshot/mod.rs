//! Versioned JSON snapshots: the spec, every parameter, the training settings, the optimiser's
//! state, progress counters and the generator's state, so a loaded snapshot resumes training
//! exactly where it stopped. Gradients are not saved. Field by field: docs/snapshot.md.
//! Loading validates everything and reports the first problem; nothing is half-loaded.
//! `convnetjs` converts to and from ConvNetJS's `Net.toJSON()`.

pub mod convnetjs;

use serde::{Deserialize, Serialize};

use crate::data::DataSpec;
use crate::model::optim::OptimState;
use crate::model::{NetSpec, Network};
use crate::rng::{Rng, RngState};
use crate::train::{Progress, TrainConfig, Trainer};

pub const FORMAT: &str = "bottleneck-snapshot";
pub const VERSION: u32 = 1;
/// Larger text is refused before parsing.
pub const MAX_BYTES: usize = 50 * 1024 * 1024;

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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedParam {
    pub name: String,
    /// [rows, cols]; data is row-major.
    pub shape: [usize; 2],
    pub data: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedOptimState {
    /// Updates applied so far.
    pub step: u64,
    /// Per parameter (same order as `params`): the optimiser's arrays, each of the param's size.
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
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("snapshot serializes")
    }

    /// Parse and check the envelope (format, version, spec); `restore` checks the rest.
    pub fn parse(text: &str) -> Result<Snapshot, String> {
        match open(text.as_bytes())? {
            Opened::Bottleneck(snapshot) => Ok(*snapshot),
            Opened::ConvNetJs(_) => Err("this looks like a ConvNetJS Net.toJSON() snapshot, not a Bottleneck one: import it as ConvNetJS instead".into()),
        }
    }

    /// Check the envelope of parsed JSON (format, version, spec) and take the snapshot out of it.
    fn from_value(value: serde_json::Value) -> Result<Snapshot, String> {
        let object = value.as_object().ok_or("snapshot: expected a JSON object")?;
        match object.get("format").and_then(|f| f.as_str()) {
            Some(FORMAT) => {}
            Some(other) => return Err(format!("snapshot: format is {other:?}, expected {FORMAT:?}")),
            None => return Err(format!("snapshot: missing \"format\": {FORMAT:?}")),
        }
        match object.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == VERSION as u64 => {}
            Some(v) => return Err(format!("snapshot: version {v} is not supported (this build reads version {VERSION})")),
            None => return Err("snapshot: missing or non-integer \"version\"".into()),
        }
        // Check the spec on its own first, so its errors name the layer.
        NetSpec::from_value(object.get("spec").ok_or("snapshot: missing \"spec\"")?).map_err(|e| format!("snapshot spec: {e}"))?;
        serde_json::from_value(value).map_err(|e| format!("snapshot: {e}"))
    }

    /// Rebuild the trainer, checking every shape and number.
    pub fn restore(&self) -> Result<Trainer, String> {
        let mut net = Network::new(&self.spec, &mut Rng::from_seed(0)).map_err(|e| format!("snapshot spec: {e}"))?;
        let values: Vec<(&str, [usize; 2], &[f32])> = self.params.iter().map(|p| (p.name.as_str(), p.shape, &p.data[..])).collect();
        net.set_params(&values).map_err(|e| format!("snapshot {e}"))?;
        self.train.validate().map_err(|e| format!("snapshot train settings: {e}"))?;
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
        if progress.cursor > progress.order.len() || progress.order.iter().any(|&i| i as usize >= progress.order.len()) {
            return Err("snapshot progress: cursor or order indices out of range".into());
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
    let text = std::str::from_utf8(bytes).map_err(|_| "the file is not text (UTF-8), so it is not a snapshot".to_string())?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("the file is not valid JSON: {e}"))?;
    let object = value.as_object().ok_or("snapshot: expected a JSON object")?;
    if !object.contains_key("format") && object.contains_key("layers") {
        return convnetjs::import_value(&value).map(Opened::ConvNetJs);
    }
    Snapshot::from_value(value).map(|s| Opened::Bottleneck(Box::new(s)))
}

/// Save a trainer and the data it trains on as snapshot JSON text.
pub fn save(trainer: &Trainer, data: &DataSpec) -> String {
    Snapshot::of(trainer, data).to_json()
}

/// Load snapshot JSON text into a ready trainer.
pub fn load(text: &str) -> Result<Trainer, String> {
    Snapshot::parse(text)?.restore()
}
