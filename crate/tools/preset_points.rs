//! How long each preset takes to show its point, measured natively, and what that means in the
//! page ("a page for everyone": each preset shows its point within a minute on a 2-core laptop,
//! or says plainly how long it needs).
//!
//! Every preset gets a criterion that can be measured on the network as it trains (the
//! `POINTS` table below): the structure of the first-layer filters for the presets whose point
//! is their filters, the validation error against what a smaller code can possibly reach for
//! linear-20, the gap between the two networks' curves for denoising, the 5-nearest-neighbour
//! accuracy of the 2-D code for convnetjs, and so on. The program trains the preset from seed 1
//! (with its comparison networks beside it where the point is a comparison, one step each after
//! each of the main network's, as the page does once "compare" is clicked), checks the
//! criterion every `--every` examples, and stops at the first check that meets it.
//!
//! Time: only the training steps are timed (not the checks). The page trains at roughly 0.4×
//! native release speed on a 2-core laptop (wasm, minus the time drawing takes), so the
//! browser-seconds estimate is native training seconds / 0.4 (`BROWSER_SHARE`). Other work on
//! the machine slows the native clock: the table also gives the examples, which do not depend
//! on it.
//!
//! ```text
//! cargo run --release --example preset_points -- [PRESET...] [--train JSON] [--max-examples N]
//!     [--every N] [--final] [--trace] [--through] [--png DIR] [--seed S]
//! ```
//! `--train JSON` merges a JSON object into the preset's training settings (and into each
//! comparison's own settings, except `noise`), to try settings before writing them to
//! presets.json: `--train '{"optimizer": {"type": "adam", "lr": 0.001}, "batch_size": 16}'`.
//! `--final` also trains the preset's usual number of epochs (`epochs` in presets.json) and
//! reports the validation MSE/px and, for presets on the digits, the MSE/px on the held-out
//! MNIST test digits (`../shared/holdout` beside the repository, or `BOTTLENECK_HOLDOUT=DIR`). `--trace` prints every
//! check, and `--through` goes on training to the maximum after the point; `--png DIR` writes the first-layer filters at every check as PNG files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use bottleneck::data::{asset, idx, DataSpec, Dataset};
use bottleneck::model::pca::Pca;
use bottleneck::model::probe::knn_accuracy;
use bottleneck::model::Network;
use bottleneck::presets::{self, Preset};
use bottleneck::rng::Rng;
use bottleneck::train::{evaluate, TrainConfig, Trainer};

/// The page's training speed as a share of native release speed (2-core laptop, wasm, drawing).
const BROWSER_SHARE: f64 = 0.4;
/// The time the page has to show a preset's point.
const BROWSER_BUDGET_S: f64 = 60.0;

/// What shows a preset's point, and the threshold it must pass.
#[derive(Clone, Copy, Debug)]
enum Criterion {
    /// First-layer filters: the share of their energy (mean removed) at spatial frequencies of
    /// at most a quarter of the filter's side in each direction (periods of 4 px or more) is at
    /// least this, averaged over the filters. Random initial filters hold about 0.27 (17×17) or
    /// 0.28 (28×28) of it; stroke detectors most of it.
    FilterStructure(f64),
    /// The validation MSE/px is at most this share of what the comparison's smaller code can
    /// reach at best (PCA with its number of components, on the validation data).
    BelowSmallerCode(f64),
    /// The comparison's validation MSE/px differs from the main network's by at least this
    /// share of the larger.
    CurvesApart(f64),
    /// 5-nearest-neighbour accuracy of the code on the validation digits (neighbours among 2,000
    /// training digits) is at least this.
    CodeKnn(f64),
    /// The validation MSE/px is at most this.
    ValidBelow(f64),
}

struct Point {
    preset: &'static str,
    criterion: Criterion,
    /// Whether the point needs the comparison trained beside (its time counts).
    with_comparison: bool,
    /// Examples to give up after, unless `--max-examples` says otherwise.
    max_examples: u64,
    /// Examples between checks.
    every: u64,
    what: &'static str,
}

const POINTS: &[Point] = &[
    Point { preset: "convnetjs", criterion: Criterion::CodeKnn(0.6), with_comparison: false, max_examples: 2_000_000, every: 10_000, what: "2-D code: 5-NN accuracy" },
    Point { preset: "turnoff", criterion: Criterion::ValidBelow(0.03), with_comparison: false, max_examples: 2_000_000, every: 10_000, what: "validation MSE/px" },
    Point { preset: "tied-sigmoid", criterion: Criterion::FilterStructure(0.6), with_comparison: false, max_examples: 2_000_000, every: 10_000, what: "filters: low-frequency share" },
    Point { preset: "denoising", criterion: Criterion::CurvesApart(0.2), with_comparison: true, max_examples: 2_000_000, every: 10_000, what: "validation curves apart" },
    Point { preset: "k-sparse", criterion: Criterion::FilterStructure(0.6), with_comparison: false, max_examples: 500_000, every: 10_000, what: "filters: low-frequency share" },
    Point { preset: "k-sparse-70", criterion: Criterion::FilterStructure(0.6), with_comparison: false, max_examples: 500_000, every: 10_000, what: "filters: low-frequency share" },
    Point { preset: "k-sparse-10", criterion: Criterion::FilterStructure(0.6), with_comparison: false, max_examples: 500_000, every: 10_000, what: "filters: low-frequency share" },
    Point { preset: "linear-20", criterion: Criterion::BelowSmallerCode(0.01), with_comparison: true, max_examples: 3_000_000, every: 5_000, what: "20 units ÷ best 19" },
    Point { preset: "conv-1s-8s", criterion: Criterion::FilterStructure(0.8), with_comparison: false, max_examples: 60_000, every: 1_000, what: "filters: low-frequency share" },
];

struct Args {
    only: Vec<String>,
    train: Option<serde_json::Value>,
    max_examples: Option<u64>,
    every: Option<u64>,
    final_quality: bool,
    trace: bool,
    /// Go on training to the maximum after the point shows (with --trace: what comes after).
    through: bool,
    png: Option<PathBuf>,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { only: Vec::new(), train: None, max_examples: None, every: None, final_quality: false, trace: false, through: false, png: None, seed: 1 };
    let mut it = std::env::args().skip(1);
    let number = |v: Option<String>, what: &str| v.and_then(|t| t.replace('_', "").parse::<u64>().ok()).filter(|&n| n > 0).ok_or(format!("{what} needs a positive number"));
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--train" => {
                let text = it.next().ok_or("--train needs a JSON object")?;
                let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("--train: {e}"))?;
                if !value.is_object() {
                    return Err("--train needs a JSON object".into());
                }
                args.train = Some(value);
            }
            "--max-examples" => args.max_examples = Some(number(it.next(), "--max-examples")?),
            "--every" => args.every = Some(number(it.next(), "--every")?),
            "--seed" => args.seed = number(it.next(), "--seed")?,
            "--final" => args.final_quality = true,
            "--trace" => args.trace = true,
            "--through" => args.through = true,
            "--png" => args.png = Some(PathBuf::from(it.next().ok_or("--png needs a directory")?)),
            "-h" | "--help" => return Err("usage: preset_points [PRESET...] [--train JSON] [--max-examples N] [--every N] [--final] [--trace] [--through] [--png DIR] [--seed S]".into()),
            name if !name.starts_with('-') => {
                presets::find(name)?;
                if !POINTS.iter().any(|p| p.preset == name) {
                    return Err(format!("{name} has no criterion here (pretrain's point is its own phases)"));
                }
                args.only.push(name.to_string());
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(args)
}

/// `base` with the members of `patch` put in (objects merged member by member).
fn merged(base: &TrainConfig, patch: &serde_json::Value, keep_noise: bool) -> Result<TrainConfig, String> {
    let mut value = serde_json::to_value(base).map_err(|e| e.to_string())?;
    let (target, patch) = (value.as_object_mut().expect("a config is an object"), patch.as_object().expect("checked"));
    for (key, v) in patch {
        if keep_noise && key == "noise" {
            continue;
        }
        // An optimiser of another type replaces the old one whole; of the same type, merges.
        match (target.get_mut(key), v) {
            (Some(serde_json::Value::Object(old)), serde_json::Value::Object(new)) if key != "optimizer" || old.get("type") == new.get("type") || new.get("type").is_none() => {
                for (k, x) in new {
                    old.insert(k.clone(), x.clone());
                }
            }
            _ => {
                target.insert(key.clone(), v.clone());
            }
        }
    }
    let config: TrainConfig = serde_json::from_value(value).map_err(|e| format!("--train: {e}"))?;
    config.validate()?;
    Ok(config)
}

fn load_digits() -> Dataset {
    let path = asset::builtin_path();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read the digits at {}: {e} (npm run build:data)", path.display()));
    asset::parse(&bytes).expect("the digits asset parses")
}

/// The held-out MNIST test digits, if they are there.
fn load_holdout() -> Option<Dataset> {
    let dir = std::env::var("BOTTLENECK_HOLDOUT").map(PathBuf::from).unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/holdout"));
    let images = std::fs::read(dir.join("mnist-test-3000-images-idx3-ubyte")).ok()?;
    let labels = std::fs::read(dir.join("mnist-test-3000-labels-idx1-ubyte")).ok()?;
    idx::parse(&images, Some(&labels)).ok()
}

// ---- Measures -------------------------------------------------------------------------------

/// The first layer's filters as square images (side, filters), where they are square images.
fn first_filters(net: &Network) -> Option<(usize, Vec<Vec<f32>>)> {
    let layer = &net.layers()[0];
    let w = net.weights(0);
    let (n_filters, side) = match layer.kind().geometry() {
        Some(g) => (layer.out_shape().0, g.size),
        None => {
            let (width, height, depth) = net.input_shape();
            if width != height || depth != 1 || width < 4 {
                return None; // not an image (linear-20's 100 numbers)
            }
            (layer.n_out(), width)
        }
    };
    if n_filters == 0 || w.len() != n_filters * side * side {
        return None;
    }
    Some((side, w.chunks_exact(side * side).map(<[f32]>::to_vec).collect()))
}

/// Share of a filter's energy (its mean removed) at spatial frequencies |k| ≤ side/4 along both
/// axes (the discrete Fourier transform, done directly: filters are at most 28×28).
fn low_frequency_share(side: usize, filter: &[f32]) -> f64 {
    let mean = filter.iter().map(|&v| v as f64).sum::<f64>() / filter.len() as f64;
    let x: Vec<f64> = filter.iter().map(|&v| v as f64 - mean).collect();
    let cut = side / 4;
    let low = |k: usize| k.min(side - k) <= cut;
    let (cos, sin): (Vec<f64>, Vec<f64>) = (0..side).map(|n| (2.0 * std::f64::consts::PI * n as f64 / side as f64).sin_cos()).map(|(s, c)| (c, s)).unzip();
    // Rows first: (side rows) × (side frequencies), then columns.
    let mut rows = vec![(0.0f64, 0.0f64); side * side];
    for r in 0..side {
        for k in 0..side {
            let (mut re, mut im) = (0.0, 0.0);
            for n in 0..side {
                let a = (k * n) % side;
                re += x[r * side + n] * cos[a];
                im -= x[r * side + n] * sin[a];
            }
            rows[r * side + k] = (re, im);
        }
    }
    let (mut total, mut lowpart) = (0.0, 0.0);
    for kx in 0..side {
        for ky in 0..side {
            let (mut re, mut im) = (0.0, 0.0);
            for r in 0..side {
                let a = (ky * r) % side;
                let (vr, vi) = rows[r * side + kx];
                re += vr * cos[a] + vi * sin[a];
                im += vi * cos[a] - vr * sin[a];
            }
            let e = re * re + im * im;
            total += e;
            if low(kx) && low(ky) {
                lowpart += e;
            }
        }
    }
    if total > 0.0 {
        lowpart / total
    } else {
        0.0
    }
}

/// Mean over the first layer's filters of `low_frequency_share`.
fn filter_structure(net: &Network) -> Option<f64> {
    let (side, filters) = first_filters(net)?;
    Some(filters.iter().map(|f| low_frequency_share(side, f)).sum::<f64>() / filters.len() as f64)
}

/// 5-NN accuracy of the code layer on the validation set, neighbours among 2,000 training
/// digits spread over the set.
fn code_knn(net: &Network, train: &Dataset, valid: &Dataset) -> Option<f64> {
    let (train_labels, valid_labels) = (train.labels.as_ref()?, valid.labels.as_ref()?);
    let sample = train.spread(2000);
    let code = net.code_layer();
    let units = net.layers()[code].n_out();
    let codes = |data: &Dataset| -> Vec<f32> {
        let mut work = bottleneck::model::network::Workspace::default();
        let mut out = Vec::with_capacity(data.n_images * units);
        for start in (0..data.n_images).step_by(256) {
            let n = 256.min(data.n_images - start);
            let x = &data.pixels[start * data.n_pixels()..(start + n) * data.n_pixels()];
            out.extend_from_slice(&net.infer(&mut work, x, n, None).activations(code)[..n * units]);
        }
        out
    };
    let _ = train_labels;
    Some(knn_accuracy(&codes(&sample), sample.labels.as_ref().expect("spread keeps labels"), &codes(valid), valid_labels, units, 5))
}

// ---- Filters as a picture ---------------------------------------------------------------------

/// A grayscale PNG (stored, not compressed: no encoder needed).
fn write_png(path: &Path, width: usize, height: usize, gray: &[u8]) {
    fn crc(bytes: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in bytes {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc(&body).to_be_bytes());
    }
    let mut raw = Vec::with_capacity((width + 1) * height);
    for row in gray.chunks_exact(width) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    // zlib with stored blocks of at most 65,535 bytes, then Adler-32.
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        z.extend_from_slice(&(block.len() as u16).to_le_bytes());
        z.extend_from_slice(&(!(block.len() as u16)).to_le_bytes());
        z.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + byte as u32) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&(width as u32).to_be_bytes());
    header.extend_from_slice(&(height as u32).to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    std::fs::write(path, out).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// The first-layer filters tiled (at most 100), each stretched to its own range (or `range`),
/// every pixel drawn as a 4×4 block.
fn filters_png(net: &Network, range: Option<(f32, f32)>, path: &Path) {
    let Some((side, filters)) = first_filters(net) else { return };
    let filters = &filters[..filters.len().min(100)];
    let per_row = (filters.len() as f64).sqrt().ceil() as usize;
    let n_rows = filters.len().div_ceil(per_row);
    let (scale, gap) = (4, 2);
    let cell = side * scale + gap;
    let (width, height) = (per_row * cell + gap, n_rows * cell + gap);
    let mut gray = vec![128u8; width * height];
    for (i, f) in filters.iter().enumerate() {
        let (lo, hi) = range.unwrap_or_else(|| f.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v))));
        let (x0, y0) = (gap + (i % per_row) * cell, gap + (i / per_row) * cell);
        for y in 0..side * scale {
            for x in 0..side * scale {
                let v = f[(y / scale) * side + x / scale];
                let t = ((v - lo) / (hi - lo).max(1e-12)).clamp(0.0, 1.0);
                gray[(y0 + y) * width + x0 + x] = (t * 255.0).round() as u8;
            }
        }
    }
    write_png(path, width, height, &gray);
}

// ---- Running ----------------------------------------------------------------------------------

/// Where a run stood when its point showed (or when it gave up).
struct Reached {
    examples: Option<u64>,
    /// Native training seconds (all networks trained) to that point, or until giving up.
    seconds: f64,
    /// Examples/s of the main network alone, natively.
    rate: f64,
    value: f64,
    comparison_note: String,
    /// With --through: the criterion's range over the later checks, and whether every one met it.
    after: Option<(f64, f64)>,
    holds: bool,
}

struct Setup {
    preset: &'static Preset,
    point: &'static Point,
    train: Dataset,
    valid: Dataset,
    main_config: TrainConfig,
    /// (label, spec, settings) of the comparisons trained beside, where the point needs them.
    comparisons: Vec<(String, bottleneck::model::NetSpec, TrainConfig)>,
    /// The best validation MSE/px of the comparison's code size (PCA), for BelowSmallerCode.
    smaller_code_floor: Option<f64>,
}

fn setup(point: &'static Point, digits: &Dataset, args: &Args) -> Result<Setup, String> {
    let preset = presets::find(point.preset)?;
    let (train, valid) = preset.data.build(Some(digits), args.seed)?;
    let main_config = match &args.train {
        Some(patch) => merged(&preset.train, patch, false)?,
        None => preset.train.clone(),
    };
    let mut comparisons = Vec::new();
    if point.with_comparison {
        for c in &preset.comparisons {
            let base = c.train.clone().unwrap_or_else(|| preset.train.clone());
            // A comparison with settings of its own differs in them on purpose (noise): the
            // override changes the rest.
            let config = match (&args.train, c.train.is_some()) {
                (Some(patch), own) => merged(&base, patch, own)?,
                (None, _) => base,
            };
            comparisons.push((c.label.clone(), c.spec.clone().unwrap_or_else(|| preset.spec.clone()), config));
        }
    }
    let smaller_code_floor = match point.criterion {
        Criterion::BelowSmallerCode(_) => {
            let spec = &comparisons.first().ok_or("BelowSmallerCode needs a comparison")?.1;
            let checked = spec.check()?;
            let k = checked.layers[checked.code_layer].n_out;
            let dim = train.n_pixels();
            let pca = Pca::fit(&train.pixels, train.n_images, dim, k);
            Some(pca.mse_per_pixel(&valid.pixels, valid.n_images, k))
        }
        _ => None,
    };
    Ok(Setup { preset, point, train, valid, main_config, comparisons, smaller_code_floor })
}

/// The criterion's value now, and whether it is met.
fn measure(s: &Setup, main: &Trainer, others: &[Trainer]) -> (f64, bool, String) {
    let net = main.net();
    match s.point.criterion {
        Criterion::FilterStructure(min) => {
            let v = filter_structure(net).unwrap_or(0.0);
            (v, v >= min, String::new())
        }
        Criterion::BelowSmallerCode(max_share) => {
            let floor = s.smaller_code_floor.expect("computed in setup");
            let mse = evaluate(net, &s.valid).mse_per_pixel;
            let other = others.first().map(|t| evaluate(t.net(), &s.valid).mse_per_pixel);
            let note = format!("valid {} vs {} (best possible {})", sci(mse), other.map_or("-".into(), sci), sci(floor));
            (mse / floor, mse <= max_share * floor, note)
        }
        Criterion::CurvesApart(min_gap) => {
            let mse = evaluate(net, &s.valid).mse_per_pixel;
            let other = evaluate(others[0].net(), &s.valid).mse_per_pixel;
            let gap = (mse - other).abs() / mse.max(other);
            // Both networks on the validation digits corrupted as the main one trains (the
            // same corruption for both): what F(H(x)) = x is about.
            let mut corrupted = s.valid.clone();
            s.main_config.noise.apply(&mut corrupted.pixels, &mut Rng::from_seed(7));
            let on_corrupted = |n: &Network| {
                let mut sse = 0.0f64;
                let mut work = bottleneck::model::network::Workspace::default();
                let px = s.valid.n_pixels();
                for start in (0..s.valid.n_images).step_by(256) {
                    let count = 256.min(s.valid.n_images - start);
                    let out = n.infer(&mut work, &corrupted.pixels[start * px..(start + count) * px], count, None).output();
                    sse += out.iter().zip(&s.valid.pixels[start * px..(start + count) * px]).map(|(&y, &x)| ((y - x) as f64).powi(2)).sum::<f64>();
                }
                sse / (s.valid.n_images * px) as f64
            };
            let note = format!("clean valid {} vs {}; corrupted valid {} vs {}", sci(mse), sci(other), sci(on_corrupted(net)), sci(on_corrupted(others[0].net())));
            (gap, gap >= min_gap, note)
        }
        Criterion::CodeKnn(min) => {
            let v = code_knn(net, &s.train, &s.valid).unwrap_or(0.0);
            (v, v >= min, String::new())
        }
        Criterion::ValidBelow(max) => {
            let v = evaluate(net, &s.valid).mse_per_pixel;
            (v, v <= max, String::new())
        }
    }
}

fn run_to_point(s: &Setup, args: &Args) -> Result<Reached, String> {
    let mut main = Trainer::new(&s.preset.spec, s.main_config.clone(), args.seed)?;
    let mut others: Vec<Trainer> = s.comparisons.iter().map(|(_, spec, config)| Trainer::new(spec, config.clone(), args.seed)).collect::<Result<_, _>>()?;
    let max = args.max_examples.unwrap_or(s.point.max_examples);
    let every = args.every.unwrap_or(s.point.every);
    let (mut main_s, mut all_s) = (0.0f64, 0.0f64);
    let mut next_check = 0u64;
    let mut first: Option<Reached> = None;
    let initial = first_filters(main.net());
    let png = |examples: u64, net: &Network| {
        if let Some(dir) = &args.png {
            std::fs::create_dir_all(dir).expect("the PNG directory");
            filters_png(net, s.preset.filters_range, &dir.join(format!("{}-{examples:08}.png", s.preset.name)));
        }
    };
    loop {
        let seen = main.progress().examples_seen;
        if seen >= next_check {
            next_check = seen + every;
            let (value, met, note) = measure(s, &main, &others);
            if args.trace {
                let change = initial.as_ref().map_or(String::new(), |(side, w0)| {
                    let (_, w) = first_filters(main.net()).expect("the same network");
                    let delta: Vec<Vec<f32>> = w.iter().zip(w0).map(|(a, b)| a.iter().zip(b).map(|(x, y)| x - y).collect()).collect();
                    let norm = |f: &[Vec<f32>]| f.iter().flatten().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
                    let share = delta.iter().map(|d| low_frequency_share(*side, d)).sum::<f64>() / delta.len() as f64;
                    format!("  change {:.3} of the start, its low-frequency share {share:.3}", norm(&delta) / norm(w0))
                });
                println!(
                    "  {:>9} examples {:>8.1} s native  {} {:.4}  valid {}  {note}{change}",
                    seen,
                    all_s,
                    s.point.what,
                    value,
                    sci(evaluate(main.net(), &s.valid).mse_per_pixel)
                );
            }
            png(seen, main.net());
            if met && first.is_none() {
                let note = if others.is_empty() { String::new() } else { note };
                first = Some(Reached { examples: Some(seen), seconds: all_s, rate: seen as f64 / main_s.max(1e-9), value, comparison_note: note, after: None, holds: true });
            } else if seen >= max && first.is_none() {
                let note = if others.is_empty() { String::new() } else { note };
                first = Some(Reached { examples: None, seconds: all_s, rate: seen as f64 / main_s.max(1e-9), value, comparison_note: note, after: None, holds: true });
            }
            if let Some(f) = first.as_mut() {
                if f.examples.is_some_and(|e| e < seen) {
                    f.after = Some(f.after.map_or((value, value), |(lo, hi): (f64, f64)| (lo.min(value), hi.max(value))));
                    f.holds &= met;
                }
            }
            if first.is_some() && (!args.through || seen >= max) {
                return Ok(first.expect("just checked"));
            }
        }
        let t = Instant::now();
        main.step(&s.train).map_err(|e| format!("{}: {e}", s.preset.name))?;
        let dt = t.elapsed().as_secs_f64();
        main_s += dt;
        let t = Instant::now();
        for other in &mut others {
            other.step(&s.train).map_err(|e| format!("{} comparison: {e}", s.preset.name))?;
        }
        all_s += dt + t.elapsed().as_secs_f64();
    }
}

/// The preset's usual training length: validation MSE/px, and on the held-out digits.
fn final_quality(s: &Setup, holdout: Option<&Dataset>, seed: u64) -> Result<(f64, Option<f64>, f64), String> {
    let mut trainer = Trainer::new(&s.preset.spec, s.main_config.clone(), seed)?;
    let examples = s.preset.epochs * s.train.n_images as u64;
    let t = Instant::now();
    while trainer.progress().epoch < s.preset.epochs {
        trainer.step(&s.train).map_err(|e| format!("{}: {e}", s.preset.name))?;
    }
    let seconds = t.elapsed().as_secs_f64();
    let valid = evaluate(trainer.net(), &s.valid).mse_per_pixel;
    let held = match (holdout, &s.preset.data) {
        (Some(h), DataSpec::Mnist { .. }) => Some(evaluate(trainer.net(), &s.preset.data.prepare(h)?).mse_per_pixel),
        _ => None,
    };
    let _ = examples;
    Ok((valid, held, seconds))
}

fn sci(x: f64) -> String {
    if x.is_finite() && x != 0.0 && !(0.001..1000.0).contains(&x.abs()) {
        format!("{x:.3e}")
    } else {
        format!("{x:.5}")
    }
}

fn describe(c: &Criterion) -> String {
    match *c {
        Criterion::FilterStructure(min) => format!("filters' low-frequency share ≥ {min}"),
        Criterion::BelowSmallerCode(share) => format!("valid MSE ≤ {share} × best of the smaller code"),
        Criterion::CurvesApart(gap) => format!("validation curves ≥ {:.0} % apart", gap * 100.0),
        Criterion::CodeKnn(min) => format!("code 5-NN accuracy ≥ {:.0} %", min * 100.0),
        Criterion::ValidBelow(max) => format!("valid MSE/px ≤ {max}"),
    }
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("preset_points: {e}");
        std::process::exit(2);
    });
    let digits = load_digits();
    let holdout = if args.final_quality { load_holdout() } else { None };
    let chosen: Vec<&Point> = POINTS.iter().filter(|p| args.only.is_empty() || args.only.iter().any(|n| n == p.preset)).collect();
    let mut rows = Vec::new();
    for point in chosen {
        let s = setup(point, &digits, &args).unwrap_or_else(|e| panic!("{}: {e}", point.preset));
        println!("{}: {} ({}), {}", point.preset, describe(&point.criterion), point.what, describe_config(&s.main_config));
        let reached = run_to_point(&s, &args).unwrap_or_else(|e| panic!("{e}"));
        let browser_s = reached.seconds / BROWSER_SHARE;
        let verdict = match reached.examples {
            Some(_) if browser_s <= BROWSER_BUDGET_S => "within a minute".to_string(),
            Some(_) => format!("needs about {:.0} s", browser_s),
            None => "not reached".to_string(),
        };
        let quality = if args.final_quality { Some(final_quality(&s, holdout.as_ref(), args.seed).unwrap_or_else(|e| panic!("{e}"))) } else { None };
        println!(
            "  -> {} examples, {:.1} s native ({:.0} ex/s), ~{:.0} s in the page: {verdict}; value {:.4} {}",
            reached.examples.map_or(">max".into(), |e| e.to_string()),
            reached.seconds,
            reached.rate,
            browser_s,
            reached.value,
            reached.comparison_note
        );
        if let Some((lo, hi)) = reached.after {
            println!("  after the point: value between {} and {}; {}", sci(lo), sci(hi), if reached.holds { "it holds at every check" } else { "it does NOT hold at every check" });
        }
        if let Some((valid, held, secs)) = quality {
            println!("  final ({} epochs, {secs:.0} s): validation {} MSE/px, held-out {}", s.preset.epochs, sci(valid), held.map_or("-".into(), sci));
        }
        rows.push((point, s.main_config.clone(), reached, browser_s, verdict, quality));
    }
    println!();
    println!("| preset | criterion | settings | examples to point | native s | ex/s (main) | page s (÷{BROWSER_SHARE}) | verdict | final valid | final held-out |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (point, config, r, browser_s, verdict, quality) in rows {
        println!(
            "| {} | {} | {} | {} | {:.1} | {:.0} | {:.0} | {} | {} | {} |",
            point.preset,
            describe(&point.criterion),
            describe_config(&config),
            r.examples.map_or(format!("> {}", args.max_examples.unwrap_or(point.max_examples)), |e| e.to_string()),
            r.seconds,
            r.rate,
            browser_s,
            verdict,
            quality.map_or("-".into(), |q| sci(q.0)),
            quality.and_then(|q| q.1).map_or("-".into(), sci),
        );
    }
}

fn describe_config(c: &TrainConfig) -> String {
    use bottleneck::model::Optimizer::*;
    let opt = match c.optimizer {
        Sgd { lr, momentum, nesterov } => format!("sgd lr {lr} mom {momentum}{}", if nesterov { " nesterov" } else { "" }),
        Adagrad { lr, eps } => format!("adagrad lr {lr} eps {eps:e}"),
        Rmsprop { lr, rho, eps } => format!("rmsprop lr {lr} rho {rho} eps {eps:e}"),
        Adadelta { rho, eps } => format!("adadelta rho {rho} eps {eps:e}"),
        Adam { lr, beta1, beta2, eps } => format!("adam lr {lr} β {beta1}/{beta2} eps {eps:e}"),
    };
    format!("{opt}, batch {}", c.batch_size)
}
