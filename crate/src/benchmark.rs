//! The measurements behind `npm run bench`, in plain Rust on an injected clock: the simd128
//! peak, one dense-layer matrix product, and a preset's training rate. The web glue exports
//! them to the bench page; the tables and the comparison with other libraries live in
//! `www/bench.js` and `scripts/bench.mjs`.

use crate::model::matmul::{self, Backend};
use crate::model::spec::Kind;
use crate::model::{conv, Activation};
use crate::presets;
use crate::clock::Clock;
use crate::train::Trainer;

/// One of the bench page's measurements, as it asks for it (`web::bench`): the simd128 peak
/// (`peak`), one dense-layer product (`gemm`), one conv layer (`conv`), a preset's flops per
/// example (`flops`).
#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Measure {
    Peak { fused: bool, seconds: f64 },
    Gemm { batch: usize, n_in: usize, n_out: usize, form: String, backend: String, seconds: f64 },
    Conv { preset: String, layer: usize, batch: usize, seconds: f64, direct: bool },
    Flops { preset: String },
}

/// Carry out `measure` on `clock`.
pub fn measure(clock: &dyn Clock, measure: &Measure) -> Result<f64, String> {
    match measure {
        Measure::Peak { fused, seconds } => peak(clock, *fused, *seconds),
        Measure::Gemm { batch, n_in, n_out, form, backend, seconds } => gemm(clock, *batch, *n_in, *n_out, form, backend, *seconds),
        Measure::Conv { preset, layer, batch, seconds, direct } => conv(clock, preset, *layer, *batch, *seconds, *direct),
        Measure::Flops { preset } => flops_per_example(preset),
    }
}

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
            // The arguments are opaque too: with constants LLVM folds the whole loop away (the
            // bench once reported 24,000 "GFLOP/s").
            std::hint::black_box(crate::model::kernel::peak_rounds(std::hint::black_box(ROUNDS), std::hint::black_box(fused)));
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

/// GFLOP/s of one conv or deconv layer of the named preset (layer index among its computing
/// layers) over a batch: its forward product, its filter gradient and its input gradient, with
/// the unfolding, bias and activation that come with them, as a training step runs them.
pub fn conv(clock: &dyn Clock, preset: &str, layer_idx: usize, batch: usize, seconds: f64, direct: bool) -> Result<f64, String> {
    let checked = presets::find(preset)?.spec.check()?;
    let layer = checked.layers.get(layer_idx).ok_or_else(|| format!("{preset} has no layer {layer_idx}"))?;
    let (g, deconv) = match layer.kind {
        Kind::Conv(g) => (g, false),
        Kind::Deconv { geometry, .. } => (geometry, true),
        Kind::Dense { .. } | Kind::Gaussian => return Err(format!("layer {layer_idx} of {preset} is not a conv or deconv layer")),
    };
    let (n_in, n_out) = (layer.n_in, layer.n_out);
    let pattern = |len: usize, salt: usize| (0..len).map(|i| ((i * 7 + salt) % 13) as f32 * 0.01 - 0.06).collect::<Vec<f32>>();
    let (x, dy, filters) = (pattern(batch * n_in, 1), pattern(batch * n_out, 2), pattern(g.small.0 * g.patch_len(), 3));
    let bias = vec![0.0; layer.out_shape.0];
    let (mut y, mut dx, mut d_filters, mut scratch) = (vec![0.0; batch * n_out], vec![0.0; batch * n_in], vec![0.0; filters.len()], Vec::new());
    let flops = 3.0 * 2.0 * (g.small.0 * g.patch_len() * g.small.1 * g.small.2 * batch) as f64;
    conv::set_direct(Some(direct));
    let rate = per_second(clock, seconds, || {
        if deconv {
            conv::deconv_forward(&x, &filters, &bias, Activation::Tanh, &mut y, &g, batch, &mut scratch);
            conv::deconv_backward(&x, &filters, &dy, &mut d_filters, Some(&mut dx), &g, batch, &mut scratch, |_, _| {});
        } else {
            conv::conv_forward(&x, &filters, &bias, Activation::Tanh, &mut y, &g, batch, &mut scratch);
            conv::conv_backward(&x, &filters, &dy, &mut d_filters, Some(&mut dx), &g, batch, &mut scratch, |_, _| {});
        }
        Ok::<f64, String>(flops)
    });
    conv::set_direct(None);
    Ok(rate? / 1e9)
}

/// A checksum of the parameters after `steps` training steps of the named preset from seed 1 on
/// the digits asset's bytes:
/// equal checksums on one thread and on many show that threads do not change the arithmetic.
pub fn fingerprint(asset_bytes: &[u8], preset: &str, steps: usize) -> Result<f64, String> {
    let preset = presets::find(preset)?;
    let (train, _) = preset.data.build(Some(&crate::data::asset::parse(asset_bytes)?), 1)?;
    let mut trainer = Trainer::new(&preset.spec, preset.train.clone(), 1)?;
    for _ in 0..steps {
        trainer.step(&train).map_err(|e| e.to_string())?;
    }
    let params = trainer.net().params().iter().flat_map(|p| p.value.iter());
    // FNV-1a over the bits, folded to 32 bits so it crosses into JavaScript exactly.
    let hash = params.fold(0x811c_9dc5u32, |h, v| (h ^ v.to_bits()).wrapping_mul(0x0100_0193));
    Ok(hash as f64)
}

/// Keep every measurement that follows on the calling thread (`true`) or use all threads.
pub fn single_threaded(on: bool) {
    matmul::set_single_threaded(on);
}

/// Matrix-product flops of one training example of the named preset (forward and backward),
/// the numerator of the benchmark's effective GFLOP/s.
pub fn flops_per_example(preset: &str) -> Result<f64, String> {
    let preset = presets::find(preset)?;
    Ok(Trainer::new(&preset.spec, preset.train.clone(), 1)?.net().matmul_flops_per_example())
}

/// Examples per second of training the named preset on the digits asset's bytes for about `seconds` with the
/// given matrix-product backend (the page's worker does the same work in slices).
pub fn train(clock: &dyn Clock, asset_bytes: &[u8], preset: &str, seconds: f64, backend: &str) -> Result<f64, String> {
    let backend = parse_backend(backend)?;
    let preset = presets::find(preset)?;
    let (train, _) = preset.data.build(Some(&crate::data::asset::parse(asset_bytes)?), 1)?;
    let mut trainer = Trainer::new(&preset.spec, preset.train.clone(), 1)?;
    matmul::set_backend(backend);
    let batch = trainer.config().batch_size as f64;
    let result = per_second(clock, seconds, || trainer.step(&train).map(|_| batch));
    matmul::set_backend(Backend::Auto);
    result.map_err(|e| e.to_string())
}
