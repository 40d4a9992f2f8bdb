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
use crate::session::panels::{self, Display, Panel};
use crate::session::{self, Clock, Command, Query, Session};

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

/// A message from the page, typed; one that does not fit says so in a sentence (the serde
/// detail goes to the console, for whoever wrote the page).
fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| {
        web_sys::console::warn_1(&JsValue::from_str(&format!("unreadable {what}: {e}")));
        js_error(format!("the page sent a {what} this trainer does not understand"))
    })
}

/// The page's one session, the canvases it draws, and their layout and schedule.
#[wasm_bindgen]
pub struct Handle {
    session: Session,
    /// What the link asked for that could not be had, in sentences.
    notes: Vec<String>,
    canvases: Vec<(Panel, OffscreenCanvas)>,
    display: Display,
}

#[wasm_bindgen]
impl Handle {
    /// Parse the digits asset (all of it, or as much as has arrived: at least its first part,
    /// `asset::parse_arriving`) and start what the page's link asks for: its query string as
    /// `[key, value]` pairs (`[...new URLSearchParams(location.search)]`; none: the defaults).
    #[wasm_bindgen(constructor)]
    pub fn new(asset_bytes: &[u8], link: JsValue) -> Result<Handle, JsError> {
        let pairs: Vec<(String, String)> = from_js(link, "link")?;
        let digits = asset::parse_arriving(asset_bytes).map_err(js_error)?;
        let (session, notes) = session::link::start(&pairs, Some(digits), Box::new(PageClock)).map_err(js_error)?;
        Ok(Handle { session, notes, canvases: Vec::new(), display: Display::default() })
    }

    /// What the link asked for that could not be had, in sentences (shown once at the start).
    pub fn notes(&self) -> Result<JsValue, JsError> {
        to_js(&self.notes)
    }

    /// Hand over the canvas of the panel with this name.
    pub fn attach(&mut self, panel: &str, canvas: OffscreenCanvas) -> Result<(), JsError> {
        let panel = Panel::named(panel).map_err(js_error)?;
        self.canvases.retain(|(p, _)| *p != panel);
        self.canvases.push((panel, canvas));
        self.display.schedule.all_due();
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
        self.display.schedule.all_due();
        self.draw_due();
        to_js(&reply)
    }

    /// Answer a question about the network without changing it.
    pub fn query(&self, query: JsValue) -> Result<JsValue, JsError> {
        let query: Query = from_js(query, "query")?;
        to_js(&self.session.query(query).map_err(js_error)?)
    }

    /// The page's layout, `{ dpr, widths: { [panelName]: cssPixels } }` (`panels::Layout`).
    pub fn layout(&mut self, value: JsValue) -> Result<(), JsError> {
        self.display.set_layout(from_js(value, "layout")?).map_err(js_error)
    }

    /// The width (CSS pixels) the named panel is drawn at: the layout's, or its natural width.
    pub fn panel_width(&self, panel: &str) -> Result<usize, JsError> {
        Ok(self.display.width_of(Panel::named(panel).map_err(js_error)?))
    }

    /// Draw the named panel now onto a canvas the page did not attach (for a PNG).
    pub fn draw_on(&mut self, panel: &str, canvas: OffscreenCanvas) -> Result<(), JsError> {
        let panel = Panel::named(panel).map_err(js_error)?;
        let scene = self.display.scene(panel, &self.session);
        paint::paint(&canvas, &scene, self.display.dpr).map_err(|e| js_error(format!("painting the {} panel failed: {e:?}", panel.name())))
    }

    /// The panels in words, `{ labels: [{name, label}], rows: [[label, value]] }` (`panels::texts`).
    pub fn panel_text(&self) -> Result<JsValue, JsError> {
        to_js(&panels::texts(&self.session))
    }
}

impl Handle {
    fn draw_due(&mut self) {
        let dpr = self.display.dpr;
        self.display.draw_due(&self.session, &PageClock, &self.canvases, |canvas, panel, scene| {
            if let Err(e) = paint::paint(canvas, scene, dpr) {
                web_sys::console::error_2(&JsValue::from_str(&format!("painting the {} panel failed:", panel.name())), &e);
            }
        });
    }
}

/// How many bytes of the digits asset (from its first 20) the link's experiment needs before
/// it starts (`session::link::digits_needed`).
#[wasm_bindgen]
pub fn digits_needed(header: &[u8], link: JsValue) -> Result<f64, JsError> {
    Ok(session::link::digits_needed(&from_js::<Vec<(String, String)>>(link, "link")?, header).map_err(js_error)? as f64)
}

/// The guided tour: a tour file's bytes (a teacher's, `tour::parse`), or none for the built-in.
#[wasm_bindgen]
pub fn tour(bytes: Option<Vec<u8>>) -> Result<JsValue, JsError> {
    to_js(&bytes.map_or_else(|| Ok(crate::tour::builtin()), |b| crate::tour::parse(&b)).map_err(js_error)?)
}

/// Which matrix-product tile this build carries: "relaxed-simd" or "simd128".
#[wasm_bindgen]
pub fn simd_level() -> String {
    crate::model::matmul::simd_level().to_string()
}

/// The threaded builds' pool: www/simd.js calls `initThreadPool(n)`, then `single_threaded(false)`.
#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

/// Keep training on the calling thread (`true`: wasm's default; the benchmarks' 1-thread rows).
#[wasm_bindgen]
pub fn single_threaded(on: bool) {
    crate::model::matmul::set_single_threaded(on);
}

/// Threads a training step spreads over now.
#[wasm_bindgen]
pub fn threads() -> usize {
    crate::model::matmul::threads()
}

/// Benchmark hook: one of the bench page's measurements (`benchmark::Measure`).
#[wasm_bindgen]
pub fn bench(measure: JsValue) -> Result<f64, JsError> {
    benchmark::measure(&PageClock, &from_js(measure, "measurement")?).map_err(js_error)
}

/// Benchmark hook: a checksum of the parameters after `steps` steps (see `benchmark::fingerprint`).
#[wasm_bindgen]
pub fn bench_fingerprint(asset_bytes: &[u8], preset: &str, steps: usize) -> Result<f64, JsError> {
    benchmark::fingerprint(asset_bytes, preset, steps).map_err(js_error)
}

/// Benchmark hook: examples/s training the named preset on the digits asset.
#[wasm_bindgen]
pub fn bench_train(asset_bytes: &[u8], preset: &str, seconds: f64, backend: &str) -> Result<f64, JsError> {
    benchmark::train(&PageClock, asset_bytes, preset, seconds, backend).map_err(js_error)
}
