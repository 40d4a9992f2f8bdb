//! Tests that run inside WebAssembly (Node, via wasm-bindgen-test-runner): the `web::Session`
//! handle the page uses, on a small synthetic digits asset, and the core's determinism in wasm.
#![cfg(target_arch = "wasm32")]

use bottleneck::data::asset;
use bottleneck::web::Session;
use wasm_bindgen_test::wasm_bindgen_test;

/// 200 synthetic 28x28 "digits": a bar whose position depends on the label.
fn synthetic_asset() -> Vec<u8> {
    let (labels, pixels) = bottleneck::data::synthetic::bars(200, 255);
    asset::encode(&labels, &pixels, 28, 28)
}

#[wasm_bindgen_test]
fn a_session_trains_and_its_loss_falls() {
    let mut session = Session::new(&synthetic_asset(), "convnetjs", 1).unwrap();
    let before = session.validate();
    for _ in 0..30 {
        session.train_for(5.0).unwrap();
    }
    assert!(session.examples_seen() > 0.0);
    let after = session.validate();
    assert!(after < before, "validation MSE/px went from {before} to {after}");
    assert!(session.train_mse().is_finite());
}

#[wasm_bindgen_test]
fn snapshots_round_trip_and_bad_ones_change_nothing() {
    let bytes = synthetic_asset();
    let mut a = Session::new(&bytes, "convnetjs", 3).unwrap();
    a.train_for(20.0).unwrap();
    let saved = a.save_snapshot();
    let mut b = Session::new(&bytes, "turnoff", 9).unwrap();
    b.load_snapshot(&saved).unwrap();
    assert_eq!(a.reconstruct_validation(5), b.reconstruct_validation(5));
    // A broken snapshot is refused and the loaded network is untouched.
    let before = b.reconstruct_validation(5);
    assert!(b.load_snapshot("{\"format\": \"bottleneck-snapshot\", \"version\": 1}").is_err());
    assert!(b.load_snapshot(&saved[..saved.len() / 2]).is_err());
    assert_eq!(b.reconstruct_validation(5), before);
}

#[wasm_bindgen_test]
fn the_same_seed_trains_identically_in_wasm() {
    let bytes = synthetic_asset();
    let run = || {
        let mut s = Session::new(&bytes, "convnetjs", 5).unwrap();
        // Step counts, not time budgets, so both runs do the same work.
        for _ in 0..3 {
            s.train_for(0.0).unwrap();
        }
        s.save_snapshot()
    };
    assert_eq!(run(), run());
}

#[wasm_bindgen_test]
fn adadelta_refuses_a_learning_rate_and_rmsprop_takes_one() {
    let bytes = synthetic_asset();
    let mut convnetjs = Session::new(&bytes, "convnetjs", 1).unwrap();
    assert_eq!(convnetjs.learning_rate(), None);
    assert!(convnetjs.set_learning_rate(0.1).is_err());
    let mut turnoff = Session::new(&bytes, "turnoff", 1).unwrap();
    turnoff.set_learning_rate(0.01).unwrap();
    assert_eq!(turnoff.learning_rate(), Some(0.01));
    assert!(Session::new(&bytes[..100], "convnetjs", 1).is_err());
    assert!(Session::new(&bytes, "no-such-preset", 1).is_err());
}
