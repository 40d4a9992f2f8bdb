//! The measurements behind `npm run bench`, in plain Rust on an injected clock: the simd128
//! peak, one dense-layer matrix product, and a preset's training rate. The web glue exports
//! them to the bench page; the tables and the comparison with other libraries live in
//! `www/bench.js` and `scripts/bench.mjs`.

use crate::data::Dataset;
use crate::model::matmul::{self, Backend};
use crate::presets;
use crate::train::{Clock, Trainer};

/// How long a measurement first runs unmeasured: V8 compiles wasm functions with its baseline
/// compiler first and swaps in optimised code for later calls a few milliseconds on.
const WARM_UP_MS: f64 = 200.0;

/// Run `f` (which reports the work it did: flops, examples) for about `seconds` after the
/// warm-up and return work per second.
fn per_second<E>(clock: &dyn Clock, seconds: f64, mut f: impl FnMut() -> Result<f64, E>) -> Result<f64, E> {
    let warm_up = clock.now_ms();
    while clock.now_ms() - warm_up < WARM_UP_MS {
        f()?;
    }
    let start = clock.now_ms();
    let mut work = 0.0;
    while clock.now_ms() - start < seconds * 1000.0 {
        work += f()?;
    }
    Ok(work * 1000.0 / (clock.now_ms() - start))
}

pub fn parse_backend(name: &str) -> Result<Backend, String> {
    match name {
        "auto" => Ok(Backend::Auto),
        "tiles" => Ok(Backend::Tiles),
        "matrixmultiply" => Ok(Backend::Matrixmultiply),
        other => Err(format!("unknown matrix-product backend {other:?}: use auto, tiles or matrixmultiply")),
    }
}

/// The simd128 peak in GFLOP/s, from independent f32x4 multiply-add chains; with `fused`, the
/// chains use relaxed-simd's fused multiply-add (relaxed build only).
pub fn peak(clock: &dyn Clock, fused: bool, seconds: f64) -> Result<f64, String> {
    if fused && matmul::simd_level() != "relaxed-simd" {
        return Err("the fused peak needs the relaxed-simd build".into());
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        const ROUNDS: u32 = 1 << 14;
        let flops = per_second(clock, seconds, || {
            std::hint::black_box(crate::model::kernel::peak_rounds(ROUNDS, fused));
            Ok::<f64, String>(ROUNDS as f64 * 12.0 * 8.0)
        })?;
        Ok(flops / 1e9)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let _ = (clock, seconds);
        Err("the simd128 peak is measured in the wasm build".into())
    }
}

/// GFLOP/s of one dense-layer product for a layer of `n_in` → `n_out` units on `batch` rows;
/// `form` is "forward" (Y = X·Wᵀ), "backward_input" (dX = dY·W) or "backward_weights"
/// (dW += dYᵀ·X).
pub fn gemm(clock: &dyn Clock, batch: usize, n_in: usize, n_out: usize, form: &str, backend: &str, seconds: f64) -> Result<f64, String> {
    let backend = parse_backend(backend)?;
    // The product, and its operand sizes: (first operand, second operand, result).
    type Product = fn(&[f32], &[f32], &mut [f32], usize, usize, usize);
    let (product, first, second, result): (Product, usize, usize, usize) = match form {
        "forward" => (matmul::forward, batch * n_in, n_out * n_in, batch * n_out),
        "backward_input" => (matmul::backward_input, batch * n_out, n_out * n_in, batch * n_in),
        "backward_weights" => (matmul::backward_weights, batch * n_out, batch * n_in, n_out * n_in),
        other => return Err(format!("unknown product form {other:?}")),
    };
    let a: Vec<f32> = (0..first).map(|i| (i % 13) as f32 * 0.01).collect();
    let b: Vec<f32> = (0..second).map(|i| (i % 7) as f32 * 0.01).collect();
    let mut c = vec![0.0f32; result];
    matmul::set_backend(backend);
    let flops = per_second(clock, seconds, || {
        product(&a, &b, &mut c, batch, n_in, n_out);
        Ok::<f64, String>(2.0 * (batch * n_in * n_out) as f64)
    });
    matmul::set_backend(Backend::Auto);
    Ok(flops? / 1e9)
}

/// Matrix-product flops of one training example of the named preset (forward and backward),
/// the numerator of the benchmark's effective GFLOP/s.
pub fn flops_per_example(preset: &str) -> Result<f64, String> {
    let preset = presets::find(preset)?;
    Ok(Trainer::new(&preset.spec, preset.train.clone(), 1)?.net().matmul_flops_per_example())
}

/// Examples per second of training the named preset on `digits` for about `seconds` with the
/// given matrix-product backend (the page's worker does the same work in slices).
pub fn train(clock: &dyn Clock, digits: &Dataset, preset: &str, seconds: f64, backend: &str) -> Result<f64, String> {
    let backend = parse_backend(backend)?;
    let preset = presets::find(preset)?;
    let (train, _) = preset.data.build(Some(digits), 1)?;
    let mut trainer = Trainer::new(&preset.spec, preset.train.clone(), 1)?;
    matmul::set_backend(backend);
    let batch = trainer.config().batch_size as f64;
    let result = per_second(clock, seconds, || trainer.step(&train).map(|_| batch));
    matmul::set_backend(Backend::Auto);
    result.map_err(|e| e.to_string())
}
