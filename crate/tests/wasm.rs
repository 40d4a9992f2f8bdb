//! Tests that run inside WebAssembly (Node, via wasm-bindgen-test-runner): the `web::App`
//! handle the page's worker drives, on a small synthetic digits asset, and the core's
//! determinism in wasm. Canvases are a browser matter; the browser tests cover them.
#![cfg(target_arch = "wasm32")]

use bottleneck::data::{asset, synthetic};
use bottleneck::web::App;
use serde_json::{json, Value};
use wasm_bindgen_test::wasm_bindgen_test;

fn synthetic_asset() -> Vec<u8> {
    let (labels, pixels) = synthetic::bars(200, 255);
    asset::encode(&labels, &pixels, 28, 28)
}

fn command(app: &mut App, message: Value) -> Result<Value, String> {
    app.command(&message.to_string())
        .map(|reply| serde_json::from_str(&reply).unwrap())
        .map_err(|e| format!("{:?}", wasm_bindgen::JsValue::from(e)))
}

fn probe(app: &mut App) -> Value {
    command(app, json!({"type": "probe", "count": 5})).unwrap()["outputs"].clone()
}

#[wasm_bindgen_test]
fn the_app_trains_and_its_loss_falls() {
    let mut app = App::new(&synthetic_asset(), "convnetjs", 1).unwrap();
    let first: Value = serde_json::from_str(&app.tick(5.0)).unwrap();
    for _ in 0..40 {
        app.tick(5.0);
    }
    let later: Value = serde_json::from_str(&app.tick(5.0)).unwrap();
    assert!(later["examples_seen"].as_f64().unwrap() > first["examples_seen"].as_f64().unwrap());
    let (a, b) = (first["train_mse"].as_f64().unwrap(), later["train_mse"].as_f64().unwrap());
    assert!(b < a, "train MSE/px went from {a} to {b}");
    assert!(later["forward_us_per_example"].as_f64().unwrap() > 0.0);
}

#[wasm_bindgen_test]
fn snapshots_round_trip_and_bad_ones_change_nothing() {
    let bytes = synthetic_asset();
    let mut a = App::new(&bytes, "convnetjs", 3).unwrap();
    a.tick(20.0);
    let saved = command(&mut a, json!({"type": "save"})).unwrap()["snapshot"].as_str().unwrap().to_string();
    let mut b = App::new(&bytes, "turnoff", 9).unwrap();
    let reply = command(&mut b, json!({"type": "load-snapshot", "text": saved})).unwrap();
    assert_eq!(reply["state"]["layers"].as_array().unwrap().len(), 6, "the loaded network replaced turnoff's");
    assert_eq!(probe(&mut a), probe(&mut b));
    // Broken snapshots are refused and the loaded network is untouched.
    let before = probe(&mut b);
    let err = command(&mut b, json!({"type": "load-snapshot", "text": "{\"format\": \"bottleneck-snapshot\", \"version\": 1}"})).unwrap_err();
    assert!(err.contains("snapshot"), "{err}");
    assert!(command(&mut b, json!({"type": "load-snapshot", "text": &saved[..saved.len() / 2]})).is_err());
    assert_eq!(probe(&mut b), before);
}

#[wasm_bindgen_test]
fn the_same_seed_trains_identically_in_wasm() {
    let bytes = synthetic_asset();
    let run = || {
        let mut app = App::new(&bytes, "convnetjs", 5).unwrap();
        for _ in 0..3 {
            command(&mut app, json!({"type": "step"})).unwrap();
        }
        command(&mut app, json!({"type": "save"})).unwrap()["snapshot"].clone()
    };
    assert_eq!(run(), run());
}

#[wasm_bindgen_test]
fn controls_are_validated() {
    let bytes = synthetic_asset();
    let mut app = App::new(&bytes, "convnetjs", 1).unwrap();
    let err = command(&mut app, json!({"type": "set-learning-rate", "lr": 0.1})).unwrap_err();
    assert!(err.contains("no learning rate"), "{err}");
    let reply = command(&mut app, json!({"type": "load-preset", "name": "turnoff"})).unwrap();
    assert_eq!(reply["state"]["optimizer"], "rmsprop");
    let reply = command(&mut app, json!({"type": "set-learning-rate", "lr": 0.01})).unwrap();
    assert!((reply["state"]["learning_rate"].as_f64().unwrap() - 0.01).abs() < 1e-9);
    assert!(command(&mut app, json!({"type": "load-spec", "spec": "{\"layers\": []}"})).unwrap_err().contains("layer 0"));
    assert!(command(&mut app, json!({"type": "view", "layer": 1, "x": 99})).unwrap_err().contains("no neuron 99"));
    assert!(command(&mut app, json!({"type": "fly"})).unwrap_err().contains("bad command"));
    assert!(App::new(&bytes[..100], "convnetjs", 1).is_err());
    assert!(App::new(&bytes, "no-such-preset", 1).is_err());
}

#[wasm_bindgen_test]
fn a_diverging_learning_rate_pauses_and_keeps_the_network() {
    let mut app = App::new(&synthetic_asset(), "convnetjs", 1).unwrap();
    let config = json!({"optimizer": {"type": "sgd", "lr": 100.0}, "batch_size": 16});
    command(&mut app, json!({"type": "set-config", "config": config})).unwrap();
    let mut stats = Value::Null;
    for _ in 0..200 {
        stats = serde_json::from_str(&app.tick(2.0)).unwrap();
        if stats["paused"] == true {
            break;
        }
    }
    assert_eq!(stats["paused"], true, "lr 100 never diverged: {stats}");
    assert!(stats["paused_reason"].as_str().unwrap().contains("diverged"));
    let outputs = probe(&mut app);
    assert!(outputs.as_array().unwrap().iter().all(|v| v.as_f64().is_some_and(f64::is_finite)));
}

/// The simd128 (or relaxed-simd) tiles through both drivers, in every transpose combination
/// and on shapes with ragged edges, against the textbook triple loop in f64. The two builds
/// may differ from each other in the last bits (relaxed_madd fuses), so this checks a
/// tolerance, not bits.
#[wasm_bindgen_test]
fn the_simd_matrix_products_match_the_triple_loop() {
    use bottleneck::model::matmul::{gemm, set_backend, Backend, Op};
    set_backend(Backend::Tiles);
    let filled = |len: usize, salt: usize| -> Vec<f32> { (0..len).map(|i| (((i * 7 + salt * 13) % 23) as f32 - 11.0) / 8.0).collect() };
    for &(m, k, n) in &[(1, 1, 1), (5, 3, 9), (50, 784, 50), (70, 300, 270), (4, 515, 10), (65, 7, 257)] {
        for op_a in [Op::N, Op::T] {
            for op_b in [Op::N, Op::T] {
                let (a, b, c0) = (filled(m * k, 1), filled(k * n, 2), filled(m * n, 3));
                let a_at = |i: usize, p: usize| if op_a == Op::N { a[i * k + p] } else { a[p * m + i] } as f64;
                let b_at = |p: usize, j: usize| if op_b == Op::N { b[p * n + j] } else { b[j * k + p] } as f64;
                let mut c = c0.clone();
                gemm(m, k, n, &a, op_a, &b, op_b, 1.0, &mut c);
                for i in 0..m {
                    for j in 0..n {
                        let want = (0..k).map(|p| a_at(i, p) * b_at(p, j)).sum::<f64>() + c0[i * n + j] as f64;
                        let got = c[i * n + j] as f64;
                        assert!((got - want).abs() <= 1e-4 * (1.0 + want.abs()), "{m}x{k}x{n} {op_a:?}{op_b:?} ({i},{j}): {got} vs {want}");
                    }
                }
            }
        }
    }
    set_backend(Backend::Auto);
}
