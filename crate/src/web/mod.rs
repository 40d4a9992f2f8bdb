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
