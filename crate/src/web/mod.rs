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

/// The page's one session and the canvases it draws.
#[wasm_bindgen]
pub struct Handle {
    session: Session,
    /// What the link asked for that could not be had, in sentences.
    notes: Vec<String>,
    canvases: Vec<(Panel, OffscreenCanvas)>,
    schedule: Schedule,
    work: Workspace,
    /// The page's devicePixelRatio, and the CSS width it gives each panel (`layout`).
    dpr: f64,
    widths: Vec<(Panel, usize)>,
}

/// How the page lays the panels out: its devicePixelRatio, and the CSS width (in pixels) of
/// each panel's canvas, by panel name (a panel left out is drawn at its natural width).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Layout {
    dpr: f64,
    #[serde(default)]
    widths: std::collections::BTreeMap<String, f64>,
}

/// What the panels show now, in words: each panel's accessible name, and the stats panel's
/// rows as (label, value) text.
#[derive(Serialize)]
struct PanelTexts {
    labels: Vec<crate::session::protocol::PanelText>,
    rows: Vec<(String, String)>,
}

#[wasm_bindgen]
impl Handle {
    /// Parse the digits asset and start what the page's link asks for: its query string as
    /// `[key, value]` pairs (`[...new URLSearchParams(location.search)]`; none: the defaults).
    #[wasm_bindgen(constructor)]
    pub fn new(asset_bytes: &[u8], link: JsValue) -> Result<Handle, JsError> {
        let pairs: Vec<(String, String)> = from_js(link, "link")?;
        let digits = asset::parse(asset_bytes).map_err(js_error)?;
        let (session, notes) = session::link::start(&pairs, Some(digits), Box::new(PageClock)).map_err(js_error)?;
        Ok(Handle { session, notes, canvases: Vec::new(), schedule: Schedule::default(), work: Workspace::default(), dpr: 1.0, widths: Vec::new() })
    }

    /// What the link asked for that could not be had, in sentences (shown once at the start).
    pub fn notes(&self) -> Result<JsValue, JsError> {
        to_js(&self.notes)
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

    /// How the page lays the panels out, `{ dpr, widths: { [panelName]: cssPixels } }`: each
    /// panel is then drawn exactly that wide (within `panels::MIN_WIDTH..=MAX_WIDTH`), its
    /// canvas's backing store `devicePixelRatio` times larger; every panel is redrawn.
    pub fn layout(&mut self, value: JsValue) -> Result<(), JsError> {
        let Layout { dpr, widths } = from_js(value, "layout")?;
        if !(dpr.is_finite() && dpr > 0.0) {
            return Err(js_error(format!("a device pixel ratio is a positive number, not {dpr}")));
        }
        let widths = widths
            .into_iter()
            .map(|(name, width)| {
                let panel = Panel::from_name(&name).ok_or_else(|| js_error(format!("there is no panel called {name:?}")))?;
                Ok((panel, panels::clamp_width(width)))
            })
            .collect::<Result<Vec<_>, JsError>>()?;
        self.dpr = dpr.clamp(0.5, 4.0);
        self.widths = widths;
        self.schedule.all_due();
        Ok(())
    }

    /// The width (CSS pixels) the named panel is drawn at: the layout's, or its natural width.
    pub fn panel_width(&self, panel: &str) -> Result<usize, JsError> {
        Ok(self.width_of(panel_named(panel)?))
    }

    /// Draw the named panel now onto `canvas` (one the page did not attach, say for a PNG), at
    /// its width and the page's pixel ratio.
    pub fn draw_on(&mut self, panel: &str, canvas: OffscreenCanvas) -> Result<(), JsError> {
        let panel = panel_named(panel)?;
        let width = self.width_of(panel);
        let scene = panels::scene(panel, &self.session, &mut self.work, width);
        paint::paint(&canvas, &scene, self.dpr).map_err(|e| js_error(format!("painting the {} panel failed: {e:?}", panel.name())))
    }

    /// What the panels show now, in words: `{ labels: [{name, label}], rows: [[label, value]] }`,
    /// each panel's accessible name and the stats panel's rows as text (a forward pass or two:
    /// ask about once a second).
    pub fn panel_text(&self) -> Result<JsValue, JsError> {
        to_js(&PanelTexts { labels: panels::describe(&self.session), rows: panels::stats_rows(&self.session) })
    }
}

fn panel_named(name: &str) -> Result<Panel, JsError> {
    Panel::from_name(name).ok_or_else(|| js_error(format!("there is no panel called {name:?}")))
}

impl Handle {
    /// The width the page gives `panel`, or its natural width.
    fn width_of(&self, panel: Panel) -> usize {
        self.widths.iter().find(|(p, _)| *p == panel).map_or(panel.natural_width(), |(_, w)| *w)
    }

    fn draw_due(&mut self) {
        for (panel, canvas) in &self.canvases {
            let start = PageClock.now_ms();
            if !self.schedule.is_due(*panel, start) {
                continue;
            }
            let width = self.widths.iter().find(|(p, _)| p == panel).map_or(panel.natural_width(), |(_, w)| *w);
            let scene = panels::scene(*panel, &self.session, &mut self.work, width);
            if let Err(e) = paint::paint(canvas, &scene, self.dpr) {
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

/// The threaded builds' pool: `initThreadPool(n)` starts n workers sharing this module's memory
/// (www/simd.js calls it, then `single_threaded(false)`).
#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

/// Keep training on the calling thread (`true`: the default in wasm, and the benchmarks'
/// one-thread rows) or spread each step over the pool.
#[wasm_bindgen]
pub fn single_threaded(on: bool) {
    crate::model::matmul::set_single_threaded(on);
}

/// Threads a training step spreads over now.
#[wasm_bindgen]
pub fn threads() -> usize {
    crate::model::matmul::threads()
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

/// Benchmark hook: GFLOP/s of the products in one conv or deconv layer's step (see
/// `benchmark::conv`).
#[wasm_bindgen]
pub fn bench_conv(preset: &str, layer: usize, batch: usize, seconds: f64) -> Result<f64, JsError> {
    benchmark::conv(&PageClock, preset, layer, batch, seconds).map_err(js_error)
}

/// Benchmark hook: a checksum of the parameters after `steps` steps (see `benchmark::fingerprint`).
#[wasm_bindgen]
pub fn bench_fingerprint(asset_bytes: &[u8], preset: &str, steps: usize) -> Result<f64, JsError> {
    benchmark::fingerprint(&asset::parse(asset_bytes).map_err(js_error)?, preset, steps).map_err(js_error)
}

/// Benchmark hook: examples/s training the named preset on the digits asset.
#[wasm_bindgen]
pub fn bench_train(asset_bytes: &[u8], preset: &str, seconds: f64, backend: &str) -> Result<f64, JsError> {
    let digits = asset::parse(asset_bytes).map_err(js_error)?;
    benchmark::train(&PageClock, &digits, preset, seconds, backend).map_err(js_error)
}
