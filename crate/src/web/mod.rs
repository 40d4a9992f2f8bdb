//! The only module that touches wasm-bindgen and web-sys: `App`, the handle the page's worker
//! drives, and `paint`, which draws renderer scenes onto OffscreenCanvases.

mod app;
mod paint;

use wasm_bindgen::prelude::*;

use crate::model::matmul::{self, Backend};

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

/// Which matrix-product tile this build carries: "relaxed-simd" or "simd128". The page loads
/// the relaxed build where the browser validates relaxed-simd (www/simd.js).
#[wasm_bindgen]
pub fn simd_level() -> String {
    crate::model::matmul::simd_level().to_string()
}

fn parse_backend(name: &str) -> Result<Backend, JsError> {
    match name {
        "auto" => Ok(Backend::Auto),
        "tiles" => Ok(Backend::Tiles),
        "matrixmultiply" => Ok(Backend::Matrixmultiply),
        other => Err(JsError::new(&format!("unknown matrix-product backend {other:?}: use auto, tiles or matrixmultiply"))),
    }
}

/// How long a measurement first runs unmeasured: V8 compiles wasm functions with its baseline
/// compiler first and swaps in optimised code for later calls a few milliseconds on.
const WARM_UP_MS: f64 = 200.0;

/// Run `f` (which reports the work it did: flops, examples) for about `seconds` after the
/// warm-up and return work per second.
fn per_second<E>(seconds: f64, mut f: impl FnMut() -> Result<f64, E>) -> Result<f64, E> {
    let warm_up = app::now_ms();
    while app::now_ms() - warm_up < WARM_UP_MS {
        f()?;
    }
    let start = app::now_ms();
    let mut work = 0.0;
    while app::now_ms() - start < seconds * 1000.0 {
        work += f()?;
    }
    Ok(work * 1000.0 / (app::now_ms() - start))
}

/// Benchmark hook: the simd128 peak in GFLOP/s, from independent f32x4 multiply-add chains;
/// with `fused`, the chains use relaxed-simd's fused multiply-add (relaxed build only).
#[wasm_bindgen]
pub fn bench_peak(fused: bool, seconds: f64) -> Result<f64, JsError> {
    if fused && crate::model::matmul::simd_level() != "relaxed-simd" {
        return Err(JsError::new("the fused peak needs the relaxed-simd build"));
    }
    const ROUNDS: u32 = 1 << 14;
    let flops = per_second(seconds, || {
        std::hint::black_box(crate::model::kernel::peak_rounds(ROUNDS, fused));
        Ok::<f64, JsError>(ROUNDS as f64 * 12.0 * 8.0)
    })?;
    Ok(flops / 1e9)
}

/// Benchmark hook: GFLOP/s of one dense-layer product for a layer of `n_in` → `n_out` units
/// on `batch` rows; `form` is "forward" (Y = X·Wᵀ), "backward_input" (dX = dY·W) or
/// "backward_weights" (dW += dYᵀ·X); `backend` is "auto", "tiles" or "matrixmultiply".
#[wasm_bindgen]
pub fn bench_gemm(batch: usize, n_in: usize, n_out: usize, form: &str, backend: &str, seconds: f64) -> Result<f64, JsError> {
    let backend = parse_backend(backend)?;
    let product: fn(&[f32], &[f32], &mut [f32], usize, usize, usize) = match form {
        "forward" => matmul::forward,
        "backward_input" => matmul::backward_input,
        "backward_weights" => matmul::backward_weights,
        other => return Err(JsError::new(&format!("unknown product form {other:?}"))),
    };
    // Operand sizes per form: (first operand, second operand, result).
    let (first, second, result) = match form {
        "forward" => (batch * n_in, n_out * n_in, batch * n_out),
        "backward_input" => (batch * n_out, n_out * n_in, batch * n_in),
        _ => (batch * n_out, batch * n_in, n_out * n_in),
    };
    let a: Vec<f32> = (0..first).map(|i| (i % 13) as f32 * 0.01).collect();
    let b: Vec<f32> = (0..second).map(|i| (i % 7) as f32 * 0.01).collect();
    let mut c = vec![0.0f32; result];
    matmul::set_backend(backend);
    let flops = per_second(seconds, || {
        product(&a, &b, &mut c, batch, n_in, n_out);
        Ok::<f64, JsError>(2.0 * (batch * n_in * n_out) as f64)
    });
    matmul::set_backend(Backend::Auto);
    Ok(flops? / 1e9)
}

/// Matrix-product flops of one training example of the named preset (forward and backward),
/// the numerator of the benchmark's effective GFLOP/s.
#[wasm_bindgen]
pub fn train_flops_per_example(preset: &str) -> Result<f64, JsError> {
    let preset = crate::presets::find(preset).map_err(|e| JsError::new(&e))?;
    let trainer = crate::train::Trainer::new(&preset.spec, preset.train, 1).map_err(|e| JsError::new(&e))?;
    Ok(trainer.net.matmul_flops_per_example())
}

/// Benchmark hook: train the named preset on `asset_bytes` for about `seconds` on the calling
/// thread with the given matrix-product backend and return examples per second (the page's
/// worker does the same work in slices).
#[wasm_bindgen]
pub fn bench_train(asset_bytes: &[u8], preset: &str, seconds: f64, backend: &str) -> Result<f64, JsError> {
    let backend = parse_backend(backend)?;
    let digits = crate::data::asset::parse(asset_bytes).map_err(|e| JsError::new(&e))?;
    let preset = crate::presets::find(preset).map_err(|e| JsError::new(&e))?;
    let (train, _) = preset.data.build(Some(&digits), 1).map_err(|e| JsError::new(&e))?;
    let mut trainer = crate::train::Trainer::new(&preset.spec, preset.train, 1).map_err(|e| JsError::new(&e))?;
    matmul::set_backend(backend);
    let batch = trainer.config.batch_size as f64;
    let result = per_second(seconds, || trainer.step(&train).map(|_| batch));
    matmul::set_backend(Backend::Auto);
    result.map_err(|e| JsError::new(&e.to_string()))
}
