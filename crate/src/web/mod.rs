//! The only module that touches wasm-bindgen and web-sys: `Handle`, which holds the page's
//! `Session` and the canvases it paints, and the benchmark hooks. Commands, replies and
//! figures cross as JavaScript objects through serde-wasm-bindgen; everything they mean is
//! the session's business.

mod paint;

use serde::Serialize;
use wasm_bindgen::prelude::*;
use web_sys::OffscreenCanvas;

use crate::benchmark;
use crate::data::asset;
use crate::model::network::Workspace;
use crate::session::panels::{self, Panel, Schedule};
use crate::presets;
use crate::session::{Clock, Command, Experiment, Query, Session, DEFAULT_SEED};

thread_local! {
    static PERFORMANCE: Option<web_sys::Performance> =
        js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance")).ok().and_then(|p| p.dyn_into().ok());
}

/// The page's clock: performance.now(), or Date.now() where that is missing.
struct PageClock;

impl Clock for PageClock {
    fn now_ms(&self) -> f64 {
        PERFORMANCE.with(|p| p.as_ref().map(|p| p.now()).unwrap_or_else(js_sys::Date::now))
    }
}

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

fn js_error(message: impl std::fmt::Display) -> JsError {
    JsError::new(&message.to_string())
}

/// Rust values reach JavaScript as plain objects, with null for None.
fn to_js(value: &impl Serialize) -> Result<JsValue, JsError> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(js_error)
}

/// A message from the page, typed; one that does not fit says so in a sentence.
fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| js_error(format!("the page sent a {what} this trainer does not understand ({e})")))
}

/// What the page opens with (from its URL); what is missing is the default.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Opening {
    preset: Option<String>,
    seed: Option<u64>,
}

/// The page's one session and the canvases it draws.
#[wasm_bindgen]
pub struct Handle {
    session: Session,
    canvases: Vec<(Panel, OffscreenCanvas)>,
    schedule: Schedule,
    work: Workspace,
}

#[wasm_bindgen]
impl Handle {
    /// Parse the digits asset and start `{preset, seed}` (either may be null: the defaults).
    #[wasm_bindgen(constructor)]
    pub fn new(asset_bytes: &[u8], opening: JsValue) -> Result<Handle, JsError> {
        let Opening { preset, seed } = from_js(opening, "start")?;
        let digits = asset::parse(asset_bytes).map_err(js_error)?;
        let experiment = Experiment::preset(preset.as_deref().unwrap_or(presets::DEFAULT), seed.unwrap_or(DEFAULT_SEED)).map_err(js_error)?;
        let session = Session::start(experiment, Some(digits), Box::new(PageClock)).map_err(js_error)?;
        Ok(Handle { session, canvases: Vec::new(), schedule: Schedule::default(), work: Workspace::default() })
    }

    /// Hand over the canvas of the panel with this name.
    pub fn attach(&mut self, panel: &str, canvas: OffscreenCanvas) -> Result<(), JsError> {
        let panel = Panel::from_name(panel).ok_or_else(|| js_error(format!("there is no panel called {panel:?}")))?;
        self.canvases.retain(|(p, _)| *p != panel);
        self.canvases.push((panel, canvas));
        self.schedule.all_due();
        Ok(())
    }

    /// Train for about `budget_ms` (unless paused), redraw the panels that are due, and return
    /// the figures.
    pub fn tick(&mut self, budget_ms: f64) -> Result<JsValue, JsError> {
        let stats = self.session.run_for(budget_ms);
        self.draw_due();
        to_js(&stats)
    }

    /// Carry out a command; the reply has the state in force, the figures and any payload.
    pub fn apply(&mut self, command: JsValue) -> Result<JsValue, JsError> {
        let command: Command = from_js(command, "command")?;
        let reply = self.session.apply(command).map_err(js_error)?;
        self.schedule.all_due();
        self.draw_due();
        to_js(&reply)
    }

    /// Answer a question about the network without changing it.
    pub fn query(&self, query: JsValue) -> Result<JsValue, JsError> {
        let query: Query = from_js(query, "query")?;
        to_js(&self.session.query(query).map_err(js_error)?)
    }
}

impl Handle {
    fn draw_due(&mut self) {
        for (panel, canvas) in &self.canvases {
            let start = PageClock.now_ms();
            if !self.schedule.is_due(*panel, start) {
                continue;
            }
            let scene = panels::scene(*panel, &self.session, &mut self.work);
            if let Err(e) = paint::paint(canvas, &scene) {
                web_sys::console::error_2(&JsValue::from_str(&format!("painting the {} panel failed:", panel.name())), &e);
            }
            self.schedule.drawn(*panel, start, PageClock.now_ms());
        }
    }
}

/// Which matrix-product tile this build carries: "relaxed-simd" or "simd128".
#[wasm_bindgen]
pub fn simd_level() -> String {
    crate::model::matmul::simd_level().to_string()
}

/// Benchmark hook: the simd128 peak in GFLOP/s (`fused`: relaxed-simd's multiply-add).
#[wasm_bindgen]
pub fn bench_peak(fused: bool, seconds: f64) -> Result<f64, JsError> {
    benchmark::peak(&PageClock, fused, seconds).map_err(js_error)
}

/// Benchmark hook: GFLOP/s of one dense-layer product (see `benchmark::gemm`).
#[wasm_bindgen]
pub fn bench_gemm(batch: usize, n_in: usize, n_out: usize, form: &str, backend: &str, seconds: f64) -> Result<f64, JsError> {
    benchmark::gemm(&PageClock, batch, n_in, n_out, form, backend, seconds).map_err(js_error)
}

/// Matrix-product flops of one training example of the named preset.
#[wasm_bindgen]
pub fn train_flops_per_example(preset: &str) -> Result<f64, JsError> {
    benchmark::flops_per_example(preset).map_err(js_error)
}

/// Benchmark hook: examples/s training the named preset on the digits asset on this thread.
#[wasm_bindgen]
pub fn bench_train(asset_bytes: &[u8], preset: &str, seconds: f64, backend: &str) -> Result<f64, JsError> {
    let digits = asset::parse(asset_bytes).map_err(js_error)?;
    benchmark::train(&PageClock, &digits, preset, seconds, backend).map_err(js_error)
}
