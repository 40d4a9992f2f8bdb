//! End-to-end properties of training through the public API: learning, determinism, exact
//! resume through snapshots, rollback on divergence, and refusal of damaged snapshots.

use bottleneck::data::{DataSpec, Dataset, Noise};
use bottleneck::model::optim::FieldValue;
use bottleneck::model::optim::Optimizer;
use bottleneck::model::NetSpec;
use bottleneck::rng::Rng;
use bottleneck::snapshot::{self, Snapshot};
use bottleneck::train::{evaluate, TrainConfig, TrainError, Trainer};

/// Change the learning rate the one way there is: a new config.
fn set_lr(trainer: &mut Trainer, lr: f32) {
    let mut config = trainer.config().clone();
    config.optimizer.set("lr", FieldValue::Number(lr)).unwrap();
    trainer.set_config(config).unwrap();
}

/// 8x8 "images" that are random mixtures of 3 fixed patterns: a code of 3 numbers suffices.
fn low_rank_images(n_images: usize, seed: u64) -> Dataset {
    let mut rng = Rng::from_seed(seed);
    let dim = 64;
    let patterns: Vec<f32> = (0..3 * dim).map(|_| rng.uniform()).collect();
    let mut pixels = Vec::with_capacity(n_images * dim);
    for _ in 0..n_images {
        let mix: Vec<f32> = (0..3).map(|_| rng.uniform() / 3.0).collect();
        for px in 0..dim {
            pixels.push((0..3).map(|k| mix[k] * patterns[k * dim + px]).sum());
        }
    }
    Dataset::new(8, 8, pixels, None)
}

fn spec(code: usize) -> NetSpec {
    NetSpec::from_json(&format!(
        r#"{{"layers":[
            {{"type":"input","width":8,"height":8,"depth":1}},
            {{"type":"fc","name":"enc","units":16,"activation":"tanh"}},
            {{"type":"fc","name":"code","units":{code},"activation":"linear","code":true}},
            {{"type":"fc","name":"dec","units":16,"activation":"tanh"}},
            {{"type":"fc","name":"out","units":64,"activation":"linear"}},
            {{"type":"output","loss":"mse"}}]}}"#
    ))
    .unwrap()
}

fn config(optimizer: Optimizer, noise: Noise) -> TrainConfig {
    TrainConfig { optimizer, batch_size: 16, l1_decay: 0.0, l2_decay: 0.0001, noise, k_schedule: None, beta: None }
}

const ADAM: Optimizer = Optimizer::Adam { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

fn params_of(trainer: &Trainer) -> Vec<Vec<f32>> {
    trainer.net().params().iter().map(|p| p.value.clone()).collect()
}

fn train_steps(trainer: &mut Trainer, data: &Dataset, steps: usize) {
    for _ in 0..steps {
        trainer.step(data).unwrap();
    }
}

#[test]
fn a_tiny_network_learns_the_identity() {
    let data = low_rank_images(400, 1);
    let variance = {
        let mean = data.pixels.iter().sum::<f32>() / data.pixels.len() as f32;
        data.pixels.iter().map(|v| (v - mean).powi(2)).sum::<f32>() as f64 / data.pixels.len() as f64
    };
    let mut trainer = Trainer::new(&spec(3), config(ADAM, Noise::None), 5).unwrap();
    let before = evaluate(trainer.net(), &data).mse_per_pixel;
    train_steps(&mut trainer, &data, 3000);
    let after = evaluate(trainer.net(), &data).mse_per_pixel;
    assert!(after < 0.01 * variance, "MSE/px {after} is not near zero (data variance {variance}, before {before})");
}

#[test]
fn the_same_seed_gives_identical_parameters_and_another_seed_does_not() {
    let data = low_rank_images(100, 2);
    let noise = Noise::Masking { fraction: 0.2 };
    let run = |seed| {
        let mut trainer = Trainer::new(&spec(3), config(ADAM, noise), seed).unwrap();
        train_steps(&mut trainer, &data, 50);
        params_of(&trainer)
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}

/// Train n + m steps straight, or n steps, save, load and m more: the result must be identical
/// to the bit, for every optimiser, with noise on and across epoch boundaries.
#[test]
fn resuming_from_a_snapshot_is_exact() {
    let data = low_rank_images(100, 3);
    let optimizers = [
        Optimizer::Sgd { lr: 0.05, momentum: 0.9, nesterov: true },
        Optimizer::Adagrad { lr: 0.05, eps: 1e-8 },
        Optimizer::Rmsprop { lr: 0.001, rho: 0.9, eps: 1e-8 },
        Optimizer::Adadelta { rho: 0.95, eps: 1e-6 },
        ADAM,
    ];
    for optimizer in optimizers {
        let noise = Noise::Gaussian { sigma: 0.1 };
        let (n, m) = (9, 11); // 9 · 16 = 144 examples: one epoch of 100 and part of the next.
        let mut straight = Trainer::new(&spec(3), config(optimizer, noise), 11).unwrap();
        train_steps(&mut straight, &data, n + m);

        let mut first = Trainer::new(&spec(3), config(optimizer, noise), 11).unwrap();
        train_steps(&mut first, &data, n);
        let text = snapshot::save(&first, &DataSpec::mnist()).unwrap();
        let mut resumed = snapshot::load(&text).unwrap();
        assert_eq!(params_of(&resumed), params_of(&first), "{optimizer:?}: save/load changed parameters");
        train_steps(&mut resumed, &data, m);
        assert_eq!(params_of(&resumed), params_of(&straight), "{optimizer:?}: resumed run differs");
        assert_eq!(resumed.progress(), straight.progress());
        assert_eq!(resumed.rng(), straight.rng());
    }
}

#[test]
fn a_diverging_learning_rate_rolls_back_and_says_so() {
    let data = low_rank_images(100, 4);
    let sgd = Optimizer::Sgd { lr: 0.01, momentum: 0.0, nesterov: false };
    let mut trainer = Trainer::new(&spec(3), config(sgd, Noise::None), 3).unwrap();
    train_steps(&mut trainer, &data, 5);
    set_lr(&mut trainer, 1e6);
    let mut history = vec![params_of(&trainer)];
    let err = loop {
        match trainer.step(&data) {
            Ok(_) => history.push(params_of(&trainer)),
            Err(e) => break e,
        }
        assert!(history.len() < 100, "a learning rate of 1e6 never diverged");
    };
    let TrainError::Diverged(message) = err else { panic!("wrong error {err:?}") };
    assert!(message.contains("diverged") && message.contains("restored"), "{message}");
    // The update that exploded is undone at once: the parameters are those from before it.
    assert!(trainer.net().all_finite());
    assert_eq!(&params_of(&trainer), history.last().unwrap());
    assert_eq!(trainer.progress().steps, 5, "the refused step is not counted");
    // Training goes on once the rate is sane again.
    set_lr(&mut trainer, 0.01);
    let stats = trainer.step(&data).unwrap();
    assert!(stats.mse_per_pixel.is_finite());
}

/// A relu output turns NaN into 0 (f32::max(NaN, 0) = 0), so a loss can look finite while the
/// parameters are not: the check after every update still catches it, and nothing past the
/// explosion limit survives.
#[test]
fn a_relu_output_cannot_hide_a_divergence() {
    let data = low_rank_images(100, 6);
    let relu = NetSpec::from_json(
        r#"{"layers":[{"type":"input","width":8,"height":8,"depth":1},
            {"type":"fc","units":6,"activation":"relu"},{"type":"fc","units":64,"activation":"relu"},
            {"type":"output","loss":"mse"}]}"#,
    )
    .unwrap();
    let sgd = Optimizer::Sgd { lr: 1e9, momentum: 0.9, nesterov: false };
    let mut trainer = Trainer::new(&relu, config(sgd, Noise::None), 1).unwrap();
    let err = (0..50).find_map(|_| trainer.step(&data).err()).expect("lr 1e9 diverges");
    assert!(matches!(err, TrainError::Diverged(_)), "{err:?}");
    let params = params_of(&trainer);
    assert!(params.iter().flatten().all(|v| v.is_finite() && v.abs() <= bottleneck::train::EXPLODED));
    // Saving it writes numbers, never null.
    let text = snapshot::save(&trainer, &DataSpec::mnist()).unwrap();
    assert!(!text.contains("null"));
    assert!(snapshot::load(&text).is_ok());
}

/// Training that goes wrong slowly (the loss grows for many steps before anything explodes)
/// is rolled back past the damage, to the last checkpoint taken while the loss was healthy.
#[test]
fn a_slow_divergence_rolls_back_to_the_last_healthy_checkpoint() {
    let data = low_rank_images(200, 7);
    let sgd = |lr| Optimizer::Sgd { lr, momentum: 0.9, nesterov: false };
    let mut trainer = Trainer::new(&spec(3), config(sgd(0.01), Noise::None), 2).unwrap();
    train_steps(&mut trainer, &data, 1000);
    let healthy = evaluate(trainer.net(), &data).mse_per_pixel;
    // A rate that makes things worse for a while before they blow up.
    set_lr(&mut trainer, 0.6);
    let err = (0..5000).find_map(|_| trainer.step(&data).err()).expect("lr 0.6 diverges");
    let TrainError::Diverged(message) = err else { panic!("{err:?}") };
    assert!(message.contains("last healthy checkpoint"), "{message}");
    assert_eq!(trainer.progress().steps % 200, 0, "checkpoints are taken every 200 steps");
    assert!(trainer.progress().steps <= 1000, "back before the rate went up: step {}", trainer.progress().steps);
    let after = evaluate(trainer.net(), &data).mse_per_pixel;
    assert!(after <= 2.0 * healthy, "the checkpoint's loss {after} is near the healthy {healthy}");
}

#[test]
fn changing_settings_between_steps() {
    let data = low_rank_images(100, 5);
    let mut trainer = Trainer::new(&spec(3), config(ADAM, Noise::None), 3).unwrap();
    train_steps(&mut trainer, &data, 3);
    let mut new = trainer.config().clone();
    new.batch_size = 7;
    new.l2_decay = 0.01;
    new.optimizer = Optimizer::Sgd { lr: 0.1, momentum: 0.5, nesterov: false };
    trainer.set_config(new).unwrap();
    let stats = trainer.step(&data).unwrap();
    assert_eq!(stats.batch, 7);
    assert_eq!(trainer.progress().examples_seen, 3 * 16 + 7);
    let mut bad = trainer.config().clone();
    bad.batch_size = 0;
    assert!(trainer.set_config(bad).unwrap_err().contains("batch_size"));
    assert_eq!(trainer.config().batch_size, 7, "a refused config leaves the old one in place");
}

/// One damaged-snapshot case: edit the JSON of a good snapshot; loading must fail with an error
/// containing `fragment`.
fn check(edit: impl Fn(&mut serde_json::Value), fragment: &str) {
    let trainer = Trainer::new(&spec(2), config(ADAM, Noise::None), 1).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&snapshot::save(&trainer, &DataSpec::mnist()).unwrap()).unwrap();
    edit(&mut value);
    let err = snapshot::load(&value.to_string()).err().unwrap_or_else(|| panic!("loaded despite the edit; wanted {fragment:?}"));
    assert!(err.contains(fragment), "{err:?} should mention {fragment:?}");
}

#[test]
fn damaged_snapshots_are_refused_with_a_reason() {
    check(|v| v["format"] = "something-else".into(), "format is \"something-else\"");
    check(|v| v["version"] = 99.into(), "version 99 is not supported");
    check(|v| v.as_object_mut().unwrap().remove("params").map(|_| ()).unwrap(), "missing field `params`");
    // Version 2 writes arrays as base64 strings; version 1's arrays of numbers still read.
    check(|v| v["params"][0]["data"] = serde_json::json!([0.5, 1, 2]), "has shape [16, 64] and 3 numbers");
    check(|v| v["params"][0]["data"] = "AAAAAA==".into(), "has shape [16, 64] and 1 numbers");
    check(|v| v["params"][0]["shape"] = serde_json::json!([64, 16]), "has shape [64, 16]");
    check(|v| v["params"][0]["data"] = serde_json::json!(vec![1e39; 16 * 64]), "not a finite number");
    check(|v| v["params"][0]["name"] = "bogus".into(), "\"bogus\" found where");
    check(|v| v["params"].as_array_mut().unwrap().pop().map(|_| ()).unwrap(), "parameter arrays");
    check(|v| v["spec"]["layers"][1]["units"] = 0.into(), "snapshot spec: layer 1");
    check(|v| v["train"]["batch_size"] = 0.into(), "batch_size");
    check(|v| v["train"]["optimizer"] = serde_json::json!({"type": "sgd", "lr": 0.1}), "optimizer_state does not fit");
    check(|v| v["rng"]["state"] = "not hex".into(), "rng.state");
    check(|v| v["progress"]["cursor"] = 5.into(), "cursor");
    check(|v| v["extra"] = 1.into(), "unknown field `extra`");
    check(|v| *v = serde_json::json!({"layers": []}), "ConvNetJS");
    check(|v| *v = serde_json::json!([1, 2]), "expected a JSON object");

    for text in ["", "{", "null", "not json at all", "{\"format\": \"bottleneck-snapshot\"}"] {
        assert!(snapshot::load(text).is_err(), "{text:?} loaded");
    }
    let huge = " ".repeat(bottleneck::budget::MAX_BYTES + 1);
    assert!(snapshot::load(&huge).unwrap_err().contains("larger than"));
    // Truncating a real snapshot anywhere is an error, never a panic.
    let good = snapshot::save(&Trainer::new(&spec(2), config(ADAM, Noise::None), 1).unwrap(), &DataSpec::mnist()).unwrap();
    for cut in (0..good.len()).step_by(good.len() / 97 + 1) {
        assert!(snapshot::load(&good[..cut]).is_err());
    }
    let parsed = Snapshot::parse(&good).unwrap();
    assert_eq!(parsed.version, snapshot::VERSION);
}

/// Version 3 writes an epoch's order as the generator state that shuffled it, not as indices;
/// the order comes back bit for bit, a file with the indices (versions 1 and 2) still reads, and
/// a damaged shuffle is refused before any order is made.
#[test]
fn the_epoch_order_is_saved_as_its_shuffle_and_comes_back_exactly() {
    let data = low_rank_images(100, 3);
    let mut trainer = Trainer::new(&spec(3), config(ADAM, Noise::None), 5).unwrap();
    train_steps(&mut trainer, &data, 9); // 144 examples: into the second epoch
    assert_eq!(trainer.progress().epoch, 1);
    let text = snapshot::save(&trainer, &DataSpec::mnist()).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(value["progress"].get("order").is_none(), "no indices written: {}", value["progress"]);
    assert_eq!(value["progress"]["shuffled"]["examples"], 100);
    let loaded = snapshot::load(&text).unwrap();
    assert_eq!(loaded.progress(), trainer.progress());
    assert_eq!(loaded.progress().order.len(), 100);

    // As version 2 wrote it: the indices themselves.
    let mut old = value.clone();
    old["version"] = 2.into();
    old["progress"].as_object_mut().unwrap().remove("shuffled");
    old["progress"]["order"] = serde_json::json!(trainer.progress().order);
    let mut from_old = snapshot::load(&old.to_string()).unwrap();
    assert_eq!(from_old.progress().order, trainer.progress().order);
    // Both go on the same way, to the bit.
    let mut resumed = loaded;
    train_steps(&mut resumed, &data, 10);
    train_steps(&mut from_old, &data, 10);
    train_steps(&mut trainer, &data, 10);
    assert_eq!(params_of(&resumed), params_of(&trainer));
    assert_eq!(params_of(&from_old), params_of(&trainer));

    let damaged = |edit: &dyn Fn(&mut serde_json::Value), fragment: &str| {
        let mut v = value.clone();
        edit(&mut v);
        let err = snapshot::load(&v.to_string()).err().unwrap_or_else(|| panic!("loaded; wanted {fragment:?}"));
        assert!(err.contains(fragment), "{err:?} should mention {fragment:?}");
    };
    damaged(&|v| v["progress"]["shuffled"]["examples"] = 4_000_000_000u64.into(), "more than the 768 MB allowed for data");
    damaged(&|v| v["progress"]["shuffled"]["from"]["state"] = "zz".into(), "progress.shuffled.from");
    damaged(&|v| v["progress"]["cursor"] = 101.into(), "cursor 101 is past");
}

/// Seed 004's example: 100 numbers of which 20 are independent. A linear 100-20-100
/// autoencoder drives the error to about zero; with 19 hidden units it cannot.
#[test]
fn twenty_hidden_units_reproduce_the_linear_data_and_nineteen_cannot() {
    let (train, valid) = bottleneck::data::DataSpec::Linear { n_samples: 2000, n_independent: 20, dim: 100 }.build(None, 7).unwrap();
    let variance = {
        let n = valid.pixels.len() as f64;
        let mean = valid.pixels.iter().map(|&v| v as f64).sum::<f64>() / n;
        valid.pixels.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n
    };
    let error = |units: usize| {
        let spec = NetSpec::from_json(&format!(
            r#"{{"layers":[{{"type":"input","width":100,"height":1,"depth":1}},
                {{"type":"fc","name":"code","units":{units},"activation":"linear"}},
                {{"type":"fc","units":100,"activation":"linear"}},{{"type":"output","loss":"mse"}}]}}"#
        ))
        .unwrap();
        let adam = Optimizer::Adam { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
        let mut trainer = Trainer::new(&spec, TrainConfig { batch_size: 50, l2_decay: 0.0, ..config(adam, Noise::None) }, 7).unwrap();
        train_steps(&mut trainer, &train, 4000);
        evaluate(trainer.net(), &valid).mse_per_pixel / variance
    };
    let (twenty, nineteen) = (error(20), error(19));
    assert!(twenty < 1e-4, "20 units: relative MSE {twenty}");
    assert!(nineteen > 100.0 * twenty && nineteen > 1e-3, "19 units: relative MSE {nineteen} (20 units: {twenty})");
}
