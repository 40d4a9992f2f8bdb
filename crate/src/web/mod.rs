//! The only module that touches wasm-bindgen and web-sys: `App`, the handle the page's worker
//! drives, and `paint`, which draws renderer scenes onto OffscreenCanvases.

mod app;
mod paint;

use wasm_bindgen::prelude::*;

pub use app::App;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Every preset as JSON text: `[{"name", "title", "description", "caption", "spec", "train"}]`.
#[wasm_bindgen]
pub fn presets_json() -> String {
    serde_json::to_string(&crate::presets::all()).expect("presets serialize")
}

/// Benchmark hook: train the named preset on `asset_bytes` for about `seconds` on the calling
/// thread and return examples per second (the page's worker does the same work in slices).
#[wasm_bindgen]
pub fn bench_train(asset_bytes: &[u8], preset: &str, seconds: f64) -> Result<f64, JsError> {
    let digits = crate::data::asset::parse(asset_bytes).map_err(|e| JsError::new(&e))?;
    let preset = crate::presets::find(preset).map_err(|e| JsError::new(&e))?;
    let (train, _) = preset.data.build(Some(&digits), 1).map_err(|e| JsError::new(&e))?;
    let mut trainer = crate::train::Trainer::new(&preset.spec, preset.train, 1).map_err(|e| JsError::new(&e))?;
    trainer.step(&train).map_err(|e| JsError::new(&e.to_string()))?; // warm-up
    let start = app::now_ms();
    let seen = trainer.progress.examples_seen;
    while app::now_ms() - start < seconds * 1000.0 {
        trainer.step(&train).map_err(|e| JsError::new(&e.to_string()))?;
    }
    Ok((trainer.progress.examples_seen - seen) as f64 * 1000.0 / (app::now_ms() - start))
}
