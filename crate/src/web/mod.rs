//! The only module that touches wasm-bindgen: one `Session` handle owns the trainer and the
//! data, JavaScript passes small values in and gets numbers, JSON text or RGBA bytes out.

use wasm_bindgen::prelude::*;

use crate::data::{asset, Dataset};
use crate::presets;
use crate::render::TileGrid;
use crate::snapshot;
use crate::train::{evaluate, TrainError, Trainer};

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Every preset as JSON text: `[{"name", "title", "description", "caption", ...}]`.
#[wasm_bindgen]
pub fn presets_json() -> String {
    serde_json::to_string(&presets::all()).expect("presets serialize")
}

/// An RGBA picture for a canvas's putImageData.
#[wasm_bindgen]
pub struct Picture {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

#[wasm_bindgen]
impl Picture {
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> usize {
        self.width
    }
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> usize {
        self.height
    }
    /// The RGBA bytes (copied into a Uint8Array).
    pub fn pixels(&self) -> Vec<u8> {
        self.pixels.clone()
    }
}

#[wasm_bindgen]
pub struct Session {
    trainer: Trainer,
    train: Dataset,
    valid: Dataset,
    /// Exponential moving average of the per-batch train MSE/px.
    smoothed_mse: Option<f64>,
    valid_mse: Option<f64>,
}

fn js_error(message: impl std::fmt::Display) -> JsError {
    JsError::new(&message.to_string())
}

#[wasm_bindgen]
impl Session {
    /// Parse the digits asset and build the named preset's network from `seed`.
    #[wasm_bindgen(constructor)]
    pub fn new(asset_bytes: &[u8], preset: &str, seed: u32) -> Result<Session, JsError> {
        let data = asset::parse(asset_bytes).map_err(js_error)?;
        let (train, valid) = data.split();
        let preset = presets::find(preset).map_err(js_error)?;
        let trainer = Trainer::new(&preset.spec, preset.train, seed as u64).map_err(js_error)?;
        Ok(Session { trainer, train, valid, smoothed_mse: None, valid_mse: None })
    }

    /// Train whole minibatches until `budget_ms` milliseconds have passed (at least one).
    /// Returns the number of batches trained; a divergence is an error (the network is rolled back).
    pub fn train_for(&mut self, budget_ms: f64) -> Result<u32, JsError> {
        let start = js_sys::Date::now();
        let mut batches = 0;
        loop {
            let stats = self.trainer.step(&self.train).map_err(|e| match e {
                TrainError::Diverged(m) | TrainError::Data(m) => js_error(m),
            })?;
            self.smoothed_mse = Some(match self.smoothed_mse {
                None => stats.mse_per_pixel,
                Some(avg) => 0.98 * avg + 0.02 * stats.mse_per_pixel,
            });
            batches += 1;
            if js_sys::Date::now() - start >= budget_ms {
                return Ok(batches);
            }
        }
    }

    pub fn examples_seen(&self) -> f64 {
        self.trainer.progress.examples_seen as f64
    }

    pub fn epochs(&self) -> f64 {
        self.trainer.epochs_done()
    }

    /// Moving average of the train MSE/px, NaN before the first batch.
    pub fn train_mse(&self) -> f64 {
        self.smoothed_mse.unwrap_or(f64::NAN)
    }

    /// Evaluate on the 1,000 validation digits and return MSE/px.
    pub fn validate(&mut self) -> f64 {
        let mse = evaluate(&mut self.trainer.net, &self.valid).mse_per_pixel;
        self.valid_mse = Some(mse);
        mse
    }

    /// The learning rate, or undefined when the optimiser has none (Adadelta).
    pub fn learning_rate(&self) -> Option<f32> {
        self.trainer.config.optimizer.learning_rate()
    }

    pub fn optimizer_name(&self) -> String {
        self.trainer.config.optimizer.name().into()
    }

    pub fn set_learning_rate(&mut self, lr: f32) -> Result<(), JsError> {
        self.trainer.set_learning_rate(lr).map_err(js_error)
    }

    pub fn save_snapshot(&self) -> String {
        snapshot::save(&self.trainer)
    }

    /// Replace the network and its trainer with the snapshot's; on any error nothing changes.
    pub fn load_snapshot(&mut self, text: &str) -> Result<(), JsError> {
        let trainer = snapshot::load(text).map_err(js_error)?;
        if trainer.net.n_inputs() != self.train.n_pixels() {
            return Err(js_error(format!(
                "the snapshot's network takes {} inputs, but these images have {} pixels",
                trainer.net.n_inputs(),
                self.train.n_pixels()
            )));
        }
        self.trainer = trainer;
        self.smoothed_mse = None;
        self.valid_mse = None;
        Ok(())
    }

    /// Indices of `count` validation digits spread evenly over the set (so over the classes).
    fn spread(&self, count: usize) -> Vec<usize> {
        let count = count.clamp(1, self.valid.n_images);
        (0..count).map(|k| k * self.valid.n_images / count).collect()
    }

    /// The network's outputs for `count` validation digits spread over the set, (count, 784).
    pub fn reconstruct_validation(&mut self, count: usize) -> Vec<f32> {
        let inputs = self.valid.subset(&self.spread(count));
        self.trainer.net.forward(&inputs.pixels, inputs.n_images, None);
        self.trainer.net.output().to_vec()
    }

    /// A picture of `count` validation digits (top row) above their reconstructions.
    pub fn render_reconstructions(&mut self, count: usize, scale: usize) -> Picture {
        let inputs = self.valid.subset(&self.spread(count));
        let outputs = self.reconstruct_validation(count);
        let mut tiles = inputs.pixels;
        tiles.extend_from_slice(&outputs);
        let grid = TileGrid { tile_w: self.valid.width, tile_h: self.valid.height, cols: inputs.n_images, scale: scale.max(1), gap: 2 };
        let image = grid.render(&tiles, Some((0.0, 1.0)));
        Picture { width: image.width, height: image.height, pixels: image.pixels }
    }
}
