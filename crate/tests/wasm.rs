//! Tests that run inside WebAssembly (Node, via wasm-bindgen-test-runner): the `web::Handle`
//! the page's worker drives, with commands and replies crossing as JavaScript objects through
//! serde-wasm-bindgen, on a small synthetic digits asset; the core's determinism in wasm; and
//! the SIMD matrix products. What the session does is tested natively (session::tests);
//! canvases are the browser tests' business.
#![cfg(target_arch = "wasm32")]

use bottleneck::data::{asset, synthetic};
use bottleneck::session::{Answer, Command, Payload, Query, Reply, Stats};
use bottleneck::web::Handle;
use serde_json::json;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

fn synthetic_asset() -> Vec<u8> {
    let (labels, pixels) = synthetic::bars(200, 255);
    asset::encode(&labels, &pixels, 28, 28)
}

/// JSON as the page writes it: plain objects (not ES Maps).
fn js(value: serde_json::Value) -> JsValue {
    serde::Serialize::serialize(&value, &serde_wasm_bindgen::Serializer::json_compatible()).unwrap()
}

/// The page's link as it sends it: `[...new URLSearchParams(location.search)]`.
fn opening(preset: &str, seed: u64) -> JsValue {
    js(json!([["preset", preset], ["seed", seed.to_string()]]))
}

fn handle(preset: &str, seed: u64) -> Handle {
    Handle::new(&synthetic_asset(), opening(preset, seed)).unwrap()
}

fn error_text(e: wasm_bindgen::JsError) -> String {
    let value = JsValue::from(e);
    js_sys::Reflect::get(&value, &"message".into()).unwrap().as_string().unwrap()
}

/// Send a typed command as a JavaScript object; the reply comes back typed.
fn apply(handle: &mut Handle, command: Command) -> Result<Reply, String> {
    let message = serde_wasm_bindgen::to_value(&command).unwrap();
    handle.apply(message).map(|reply| serde_wasm_bindgen::from_value(reply).unwrap()).map_err(error_text)
}

fn tick(handle: &mut Handle, ms: f64) -> Stats {
    serde_wasm_bindgen::from_value(handle.tick(ms).unwrap()).unwrap()
}

fn outputs(handle: &Handle) -> Vec<f32> {
    let inputs: Vec<f32> = (0..3 * 784).map(|i| ((i * 37) % 101) as f32 / 100.0).collect();
    let query = serde_wasm_bindgen::to_value(&Query::Reconstruct { inputs }).unwrap();
    let Answer::Outputs(outputs) = serde_wasm_bindgen::from_value(handle.query(query).unwrap()).unwrap() else { panic!("outputs") };
    outputs
}

#[wasm_bindgen_test]
fn the_handle_trains_and_its_loss_falls() {
    let mut handle = handle("convnetjs", 1);
    let first = tick(&mut handle, 5.0);
    for _ in 0..40 {
        tick(&mut handle, 5.0);
    }
    let later = tick(&mut handle, 5.0);
    assert!(later.examples_seen > first.examples_seen);
    let (a, b) = (first.loss.train_mse.unwrap(), later.loss.train_mse.unwrap());
    assert!(b < a, "train MSE/px went from {a} to {b}");
    assert!(later.speed.forward_us > 0.0);
}

#[wasm_bindgen_test]
fn messages_cross_as_plain_objects() {
    let mut handle = handle("convnetjs", 1);
    // A command written as the page writes it: plain strings and objects, not JSON text.
    let reply = handle.apply(JsValue::from_str("describe")).unwrap();
    let state = js_sys::Reflect::get(&reply, &"state".into()).unwrap();
    assert_eq!(js_sys::Reflect::get(&state, &"preset".into()).unwrap().as_string().unwrap(), "convnetjs");
    let payload = js_sys::Reflect::get(&reply, &"payload".into()).unwrap();
    assert!(js_sys::Reflect::get(&payload, &"description".into()).unwrap().is_object());
    // None crosses as null, and a learning rate typed as 0.0005 comes back as 0.0005.
    let stats = js_sys::Reflect::get(&reply, &"stats".into()).unwrap();
    let loss = js_sys::Reflect::get(&stats, &"loss".into()).unwrap();
    assert!(js_sys::Reflect::get(&loss, &"valid_mse".into()).unwrap().is_null());
    apply(&mut handle, Command::LoadPreset { name: "turnoff".into(), seed: None }).unwrap();
    let mut config = bottleneck::presets::find("turnoff").unwrap().train.clone();
    config.optimizer.set("lr", bottleneck::model::optim::FieldValue::Number(0.0005)).unwrap();
    let reply = handle.apply(js(json!({ "set-config": { "config": config } }))).unwrap();
    let state = js_sys::Reflect::get(&reply, &"state".into()).unwrap();
    let config = js_sys::Reflect::get(&state, &"config".into()).unwrap();
    let optimizer = js_sys::Reflect::get(&config, &"optimizer".into()).unwrap();
    assert_eq!(js_sys::Reflect::get(&optimizer, &"lr".into()).unwrap().as_f64(), Some(0.0005));
    // A file's bytes cross as one Uint8Array.
    let bytes = js_sys::Uint8Array::from(&b"not json"[..]);
    let load = js_sys::Object::new();
    let inner = js_sys::Object::new();
    js_sys::Reflect::set(&inner, &"bytes".into(), &bytes).unwrap();
    js_sys::Reflect::set(&load, &"load".into(), &inner).unwrap();
    let err = error_text(handle.apply(load.into()).unwrap_err());
    assert!(err.contains("not valid JSON"), "{err}");
    // Messages that fit no command say so in a sentence.
    let err = error_text(handle.apply(JsValue::from_str("fly")).unwrap_err());
    assert!(err.starts_with("the page sent a command this trainer does not understand"), "{err}");
    assert!(Handle::new(&synthetic_asset()[..100], opening("convnetjs", 1)).is_err());
    // A link naming no preset opens the default, and says so.
    let fallback = Handle::new(&synthetic_asset(), opening("no-such-preset", 1)).unwrap();
    let notes: Vec<String> = serde_wasm_bindgen::from_value(fallback.notes().unwrap()).unwrap();
    assert!(notes[0].contains("does not exist; showing convnetjs instead"), "{notes:?}");
}

#[wasm_bindgen_test]
fn snapshots_round_trip_through_the_handle() {
    let mut a = handle("convnetjs", 3);
    tick(&mut a, 20.0);
    let Payload::Snapshot(saved) = apply(&mut a, Command::Save).unwrap().payload else { panic!("save replies with a snapshot") };
    let mut b = handle("turnoff", 9);
    let reply = apply(&mut b, Command::Load { bytes: saved.into_bytes() }).unwrap();
    assert_eq!(reply.state.layers.len(), 6, "the loaded network replaced turnoff's");
    assert_eq!(outputs(&a), outputs(&b));
}

#[wasm_bindgen_test]
fn the_same_seed_trains_identically_in_wasm() {
    let run = || {
        let mut handle = handle("convnetjs", 5);
        for _ in 0..3 {
            apply(&mut handle, Command::Step).unwrap();
        }
        apply(&mut handle, Command::Save).unwrap().payload
    };
    assert_eq!(run(), run());
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

/// The page's layout reaches the panels (widths by name, the pixel ratio), a layout that names
/// no panel or a ratio that is no number is refused in a sentence, and the panels' words come
/// back as `{ labels: [{name, label}], rows: [[label, value]] }`.
#[wasm_bindgen_test]
fn the_page_lays_the_panels_out_and_reads_them_as_text() {
    let mut handle = handle("convnetjs", 1);
    handle.layout(js(json!({ "dpr": 2.0, "widths": { "scatter": 343.5, "stats": 360 } }))).unwrap();
    assert_eq!((handle.panel_width("scatter").unwrap(), handle.panel_width("loss").unwrap()), (343, 560), "whole pixels; the rest at their natural width");
    assert!(handle.panel_width("nope").is_err());
    let mut refused = |value| error_text(handle.layout(js(value)).unwrap_err());
    assert!(refused(json!({ "dpr": 2.0, "widths": { "nope": 300 } })).contains("no panel called \"nope\""));
    assert!(refused(json!({ "dpr": -1.0 })).contains("device pixel ratio"));
    tick(&mut handle, 5.0);
    let text = handle.panel_text().unwrap();
    let get = |value: &JsValue, key: &str| js_sys::Reflect::get(value, &key.into()).unwrap();
    let labels = js_sys::Array::from(&get(&text, "labels"));
    assert_eq!(labels.length(), 8);
    assert_eq!(get(&labels.get(0), "name").as_string().unwrap(), "stats");
    assert!(get(&labels.get(1), "label").as_string().unwrap().starts_with("Loss graph"));
    let rows = js_sys::Array::from(&get(&text, "rows"));
    let first = js_sys::Array::from(&rows.get(0));
    assert_eq!(first.get(0).as_string().unwrap(), "examples seen");
    assert!(first.get(1).as_string().is_some());
}
