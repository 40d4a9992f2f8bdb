//! `cargo bench`: matrix-product throughput on the shapes that matter, the conv preset's layers,
//! and one training step of every preset on one thread and on all of them, printed as tables.
//! Numbers live here, never in tests. Uses the built-in digits when www/data/mnist10k.bin
//! exists, else synthetic images of the same size.

use std::time::Instant;

use bottleneck::benchmark;
use bottleneck::data::{asset, synthetic, Dataset};
use bottleneck::model::matmul::{gemm, Op};
use bottleneck::presets;
use bottleneck::pretrain::Pretrainer;
use bottleneck::clock::Wall;
use bottleneck::train::Trainer;


/// Run `f` repeatedly for about `seconds` (after one warm-up call); return calls per second.
fn rate(seconds: f64, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        f();
        calls += 1;
    }
    calls as f64 / start.elapsed().as_secs_f64()
}

fn digits() -> Dataset {
    let path = bottleneck::data::asset::builtin_path();
    match std::fs::read(&path).ok().and_then(|bytes| asset::parse(&bytes).ok()) {
        Some(data) => data,
        None => {
            eprintln!("(no {}: using synthetic digits)", path.display());
            let (labels, pixels) = synthetic::bars(10_000, 255);
            Dataset::new(28, 28, pixels.iter().map(|&p| p as f32 / 255.0).collect(), Some(labels))
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; a filter word, if any, selects rows by name.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let wanted = |name: &str| filter.as_ref().is_none_or(|f| name.contains(f.as_str()));
    println!("{:<34} {:>14} {:>12}", "matrix product (m×k×n)", "GFLOP/s", "");
    for &(m, k, n) in &[(20, 784, 50), (256, 784, 225), (256, 225, 10)] {
        for (label, op_a, op_b, (rows, inner, cols)) in [
            ("Y = X·Wᵀ", Op::N, Op::T, (m, k, n)),
            ("dX = dY·W", Op::N, Op::N, (m, n, k)),
            ("dW = dYᵀ·X", Op::T, Op::N, (n, m, k)),
        ] {
            let name = format!("{label} {m}×{k}×{n}");
            if !wanted(&name) {
                continue;
            }
            let a = vec![0.5f32; rows * inner];
            let b = vec![0.25f32; inner * cols];
            let mut c = vec![0.0f32; rows * cols];
            let per_second = rate(0.3, || gemm(rows, inner, cols, &a, op_a, &b, op_b, 0.0, &mut c));
            println!("{name:<34} {:>14.1}", per_second * 2.0 * (rows * inner * cols) as f64 / 1e9);
        }
    }
    let threads = rayon::current_num_threads();
    println!("\n{:<34} {:>14} {:>14} {:>8}", "conv layer products (preset layer)", "1 thread", format!("{threads} threads"), "GFLOP/s");
    let clock = Wall::new();
    for (preset, layer, direct) in [0, 1, 2, 3].into_iter().flat_map(|layer| [("conv-1s-8s", layer, true), ("conv-1s-8s", layer, false)]) {
        let name = format!("{preset} layer {layer} {}", if direct { "direct" } else { "im2col" });
        if !wanted(&name) {
            continue;
        }
        let mut rates = [0.0; 2];
        for (slot, single) in [(0, true), (1, false)] {
            benchmark::single_threaded(single);
            rates[slot] = benchmark::conv(&clock, preset, layer, 64, 0.5, direct).expect("a conv layer");
        }
        benchmark::single_threaded(false);
        println!("{name:<34} {:>14.1} {:>14.1}", rates[0], rates[1]);
    }
    let digits = digits();
    println!("\n{:<34} {:>14} {:>14} {:>8} {:>8}", "training step (preset), examples/s", "1 thread", format!("{threads} threads"), "scaling", "batch");
    for preset in presets::all() {
        if !wanted(&preset.name) {
            continue;
        }
        let Ok((train, _)) = preset.data.build(Some(&digits), 1) else { continue };
        let batch = preset.train.batch_size;
        let mut rates = [0.0; 2];
        for (slot, single) in [(0, true), (1, false)] {
            benchmark::single_threaded(single);
            rates[slot] = if let Some(plan) = preset.pretrain.clone() {
                // The pretraining preset's first phase: the 784-500-784 autoencoder.
                let mut p = Pretrainer::new(&preset.spec, preset.train.clone(), plan, 1, &train, train.clone()).expect("preset builds");
                let ae_batch = p.autoencoder.config().batch_size;
                rate(1.0, || {
                    p.step(None).expect("trains");
                }) * ae_batch as f64
            } else {
                let mut trainer = Trainer::new(&preset.spec, preset.train.clone(), 1).expect("preset builds");
                rate(1.0, || {
                    trainer.step(&train).expect("trains");
                }) * batch as f64
            };
        }
        benchmark::single_threaded(false);
        println!("{:<34} {:>14.0} {:>14.0} {:>7.2}x {:>8}", preset.name, rates[0], rates[1], rates[1] / rates[0], batch);
    }
}
