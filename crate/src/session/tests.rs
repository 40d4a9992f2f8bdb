//! The session as a front end drives it, natively: every command, every preset's first steps,
//! save → load → continue bit for bit, refusals that change nothing, and training budgets on a
//! clock the test turns by hand.

use std::cell::Cell;
use std::rc::Rc;

use super::*;
use crate::data::Noise;
use crate::model::Optimizer;
use crate::pretrain::PretrainPlan;

/// A clock that moves `per_read` ms every time it is read, from a time the test can see.
struct TestClock {
    now: Rc<Cell<f64>>,
    per_read: f64,
}

impl Clock for TestClock {
    fn now_ms(&self) -> f64 {
        let t = self.now.get();
        self.now.set(t + self.per_read);
        t
    }
}

fn clock(per_read: f64) -> (Box<dyn Clock>, Rc<Cell<f64>>) {
    let now = Rc::new(Cell::new(0.0));
    (Box::new(TestClock { now: now.clone(), per_read }), now)
}

/// `per_class` 28×28 synthetic digits of each class, stored class by class as the built-in
/// digits are (so the fixed split keeps a tenth of each class): a bar placed by the class and
/// a faint diagonal that varies with the image.
pub(super) fn digits(per_class: usize) -> Dataset {
    let n = 10 * per_class;
    let mut pixels = vec![0.0f32; n * 784];
    let labels: Vec<u8> = (0..n).map(|i| (i / per_class) as u8).collect();
    for (image_idx, &label) in labels.iter().enumerate() {
        let image = &mut pixels[image_idx * 784..(image_idx + 1) * 784];
        for row in 4..24 {
            image[row * 28 + 4 + 2 * label as usize] = 1.0;
            image[row * 28 + (row + image_idx) % 28] += 0.3;
        }
    }
    Dataset::new(28, 28, pixels, Some(labels))
}

fn start(preset: &str, seed: u64) -> Session {
    Session::start(Experiment::preset(preset, seed).unwrap(), Some(digits(30)), clock(0.01).0).unwrap()
}

fn steps(session: &mut Session, n: usize) {
    for _ in 0..n {
        session.apply(Command::Step).unwrap();
    }
}

fn snapshot(session: &mut Session) -> String {
    match session.apply(Command::Save).unwrap().payload {
        Payload::Snapshot(text) => text,
        other => panic!("save replied {other:?}"),
    }
}

fn outputs(session: &Session) -> Vec<f32> {
    let inputs: Vec<f32> = (0..3 * 784).map(|i| ((i * 37) % 101) as f32 / 100.0).collect();
    let Answer::Outputs(outputs) = session.query(Query::Reconstruct { inputs }).unwrap();
    outputs
}

/// One refused command: it fails with `fragment` in its sentence and leaves the session as it
/// was: the same network, optimiser state and generator (the snapshot), the same state the
/// controls show and the same figures.
fn check_refused(session: &mut Session, command: Command, fragment: &str) {
    let before = (session.snapshot_text(), session.state(), session.stats());
    let label = format!("{command:?}");
    let err = session.apply(command).err().unwrap_or_else(|| panic!("{label} was accepted"));
    assert!(err.0.contains(fragment), "{label}: {err:?} should contain {fragment:?}");
    assert_eq!((session.snapshot_text(), session.state(), session.stats()), before, "{label} changed the session");
}

#[test]
fn session_starts_every_preset_and_trains_its_first_steps() {
    // The pretraining preset fine-tunes on 1,000 labels, so it needs more than 1,000 digits.
    let digits = digits(120);
    for preset in crate::presets::all() {
        let mut session = Session::start(Experiment::preset(&preset.name, 1).unwrap(), Some(digits.clone()), clock(0.01).0).unwrap();
        assert_eq!(session.state().preset, preset.name);
        let before = session.examples_seen();
        steps(&mut session, 2);
        let stats = session.stats();
        let trained = session.examples_seen() - before;
        let batch = match session.pretrainer() {
            Some(p) => p.autoencoder.config().batch_size,
            None => preset.train.batch_size,
        };
        assert_eq!(trained, 2 * batch as u64, "{}: two steps train two batches", preset.name);
        assert!(stats.loss.train_mse.is_some_and(f64::is_finite), "{}: {stats:?}", preset.name);
        assert!(stats.paused && stats.paused_reason.is_none(), "{}: step pauses, without a complaint", preset.name);
        assert!(session.network().all_finite(), "{}", preset.name);
    }
}

#[test]
fn session_run_for_trains_until_the_clock_says_stop() {
    // Each step reads the clock four times (the loop, forward, backward, the end), so a
    // budget of 40 ms at 1 ms a read allows the same steps on every run.
    let run = || {
        let (clock, now) = clock(1.0);
        let mut session = Session::start(Experiment::preset("convnetjs", 2).unwrap(), Some(digits(30)), clock).unwrap();
        let stats = session.run_for(40.0);
        (stats.examples_seen, now.get(), session.snapshot_text())
    };
    let (seen, elapsed, text) = run();
    assert!(seen >= 50.0 * 5.0 && seen <= 50.0 * 20.0, "{seen} examples in a 40 ms budget");
    assert!(elapsed >= 40.0, "the budget was spent: {elapsed} ms");
    assert_eq!(run(), (seen, elapsed, text), "the same clock gives the same run");
}

#[test]
fn session_pause_stops_training_and_resume_restarts_it() {
    let mut session = start("convnetjs", 1);
    session.run_for(5.0);
    let reply = session.apply(Command::Pause).unwrap();
    assert!(reply.state.paused && reply.stats.paused);
    let seen = session.examples_seen();
    session.run_for(20.0);
    assert_eq!(session.examples_seen(), seen, "no training while paused");
    assert!(!session.apply(Command::Resume).unwrap().state.paused);
    session.run_for(5.0);
    assert!(session.examples_seen() > seen);
}

#[test]
fn session_step_trains_one_batch_and_stays_paused() {
    let mut session = start("turnoff", 1);
    let reply = session.apply(Command::Step).unwrap();
    assert_eq!(reply.stats.examples_seen, 256.0);
    assert!(reply.state.paused);
    session.run_for(10.0);
    assert_eq!(session.examples_seen(), 256, "still paused");
}

#[test]
fn session_reset_starts_over_from_a_seed() {
    let mut session = start("convnetjs", 3);
    let fresh = snapshot(&mut session);
    steps(&mut session, 3);
    session.apply(Command::Reset { seed: None }).unwrap();
    assert_eq!(snapshot(&mut session), fresh, "reset without a seed starts the same run again");
    let reply = session.apply(Command::Reset { seed: Some(4) }).unwrap();
    assert_eq!(reply.state.seed, 4);
    assert_eq!(reply.stats.examples_seen, 0.0);
    assert_eq!(snapshot(&mut session), snapshot(&mut start("convnetjs", 4)), "as if the page had opened with seed 4");
}

#[test]
fn session_learning_rate_changes_at_once_and_adadelta_has_none() {
    let mut session = start("convnetjs", 1);
    check_refused(&mut session, Command::SetLearningRate { lr: 0.1 }, "no learning rate");
    let mut session = start("turnoff", 1);
    let reply = session.apply(Command::SetLearningRate { lr: 0.0005 }).unwrap();
    assert_eq!(reply.state.learning_rate, Some(0.0005), "the rate typed is the rate shown");
    assert_eq!(session.trainer().config().optimizer.learning_rate(), Some(0.0005));
    check_refused(&mut session, Command::SetLearningRate { lr: -3.0 }, "learning rate must be a positive number");
    check_refused(&mut session, Command::SetLearningRate { lr: f32::NAN }, "learning rate must be a positive number");
}

#[test]
fn session_set_config_changes_settings_between_steps() {
    let mut session = start("convnetjs", 1);
    steps(&mut session, 1);
    let mut config = session.state().config;
    config.batch_size = 7;
    config.noise = Noise::Masking { fraction: 0.3 };
    config.optimizer = Optimizer::Sgd { lr: 0.01, momentum: 0.9, nesterov: false };
    let reply = session.apply(Command::SetConfig { config: config.clone() }).unwrap();
    assert_eq!((reply.state.config, reply.state.optimizer.as_str()), (config, "sgd"));
    let reply = session.apply(Command::Step).unwrap();
    assert_eq!(reply.stats.examples_seen, 57.0, "one batch of 50, then one of 7");
    let mut bad = session.state().config;
    bad.batch_size = 0;
    check_refused(&mut session, Command::SetConfig { config: bad }, "batch_size");
}

#[test]
fn session_load_preset_replaces_the_network_its_settings_and_its_scale() {
    let mut session = start("convnetjs", 5);
    steps(&mut session, 2);
    let reply = session.apply(Command::LoadPreset { name: "linear-20".into(), seed: None }).unwrap();
    assert_eq!((reply.state.preset.as_str(), reply.state.seed, reply.state.optimizer.as_str()), ("linear-20", 5, "adam"));
    assert!(reply.state.view.log_y, "linear-20 starts on a log scale");
    assert_eq!(reply.stats.examples_seen, 0.0);
    assert_eq!(session.train_set().n_pixels(), 100, "its own synthetic data");
    assert_eq!(reply.state.comparison.as_deref(), Some("19 hidden units"));
    let reply = session.apply(Command::LoadPreset { name: "turnoff".into(), seed: Some(9) }).unwrap();
    assert_eq!((reply.state.seed, reply.state.view.log_y, session.train_set().n_pixels()), (9, false, 784));
    check_refused(&mut session, Command::LoadPreset { name: "nope".into(), seed: None }, "unknown preset \"nope\"");
}

#[test]
fn session_load_spec_builds_a_network_of_ones_own_with_the_same_settings() {
    let mut session = start("turnoff", 2);
    let spec = r#"{"layers":[{"type":"input","width":28,"height":28,"depth":1},
        {"type":"fc","name":"code","units":3,"activation":"relu"},
        {"type":"fc","units":784,"activation":"sigmoid"},{"type":"output","loss":"bce"}]}"#;
    let reply = session.apply(Command::LoadSpec { spec: spec.into() }).unwrap();
    assert_eq!(reply.state.preset, "custom");
    assert_eq!(reply.state.layers.iter().map(|l| l.units).collect::<Vec<_>>(), vec![3, 784]);
    assert_eq!((reply.state.optimizer.as_str(), reply.state.seed), ("rmsprop", 2), "the settings and seed stay");
    steps(&mut session, 1);
    assert!(session.stats().loss.train_bce.is_some(), "a sigmoid output reports cross-entropy");
    check_refused(&mut session, Command::LoadSpec { spec: "{".into() }, "not valid JSON");
    let bad = spec.replace(r#""units":3"#, r#""units":0"#);
    check_refused(&mut session, Command::LoadSpec { spec: bad }, "layer 1 (\"code\"): units must be");
    let wrong_size = spec.replace(r#""width":28"#, r#""width":20"#).replace(r#""units":784"#, r#""units":560"#);
    check_refused(&mut session, Command::LoadSpec { spec: wrong_size }, "takes 560 inputs, but its data has 784");
}

/// Train n + m steps straight, or n steps, save, load into another session and m more: the
/// same network, optimiser state, data order and generator to the bit.
#[test]
fn session_save_load_continue_is_bit_for_bit() {
    for preset in ["convnetjs", "denoising", "k-sparse"] {
        let (n, m) = (4, 5);
        let mut straight = start(preset, 7);
        steps(&mut straight, n + m);
        let mut first = start(preset, 7);
        steps(&mut first, n);
        let saved = snapshot(&mut first);
        let mut second = start("turnoff", 1);
        let reply = second.apply(Command::Load { bytes: saved.clone().into_bytes() }).unwrap();
        assert_eq!(reply.payload, Payload::Loaded(Loaded::Snapshot));
        assert_eq!(reply.state.preset, "snapshot");
        assert_eq!(snapshot(&mut second), saved, "{preset}: loading changed nothing");
        steps(&mut second, m);
        assert_eq!(snapshot(&mut second), snapshot(&mut straight), "{preset}: the resumed run differs");
    }
}

#[test]
fn session_loads_convnetjs_networks_with_the_demo_settings() {
    let mut source = start("turnoff", 3);
    steps(&mut source, 1);
    let Payload::Convnetjs(text) = source.apply(Command::ExportConvnetjs).unwrap().payload else { panic!("export replies with ConvNetJS text") };
    let mut session = start("linear-20", 8);
    let reply = session.apply(Command::Load { bytes: text.into_bytes() }).unwrap();
    assert_eq!(reply.payload, Payload::Loaded(Loaded::Convnetjs));
    assert_eq!((reply.state.preset.as_str(), reply.state.seed), ("convnetjs-import", 8));
    assert_eq!(reply.state.config, crate::presets::find(crate::presets::DEFAULT).unwrap().train, "the ConvNetJS demo's settings");
    assert_eq!(session.train_set().n_pixels(), 784, "it trains on the digits");
    let (a, b) = (outputs(&source), outputs(&session));
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5), "the same forward pass");
    // The CLI's way in gives the same experiment.
    let cli = Session::open(&source.apply(Command::ExportConvnetjs).map(|r| match r.payload {
        Payload::Convnetjs(t) => t.into_bytes(),
        _ => unreachable!(),
    }).unwrap(), None, 8, clock(0.0).0).unwrap();
    assert_eq!(cli.experiment().train, session.experiment().train);
    check_refused(&mut session, Command::Load { bytes: b"{\"layers\": []}".to_vec() }, "ConvNetJS layer 0");
}

#[test]
fn session_export_refuses_what_convnetjs_cannot_hold() {
    let mut session = Session::start(Experiment::preset("conv-1s-8s", 1).unwrap(), Some(digits(12)), clock(0.01).0).unwrap();
    check_refused(&mut session, Command::ExportConvnetjs, "ConvNetJS has no such layer");
}

#[test]
fn session_view_picks_layers_and_neurons_and_cycle_moves_on() {
    let mut session = start("convnetjs", 1);
    let view = session.state().view;
    assert_eq!((view.layer, view.x, view.y), (2, 0, 1), "the code layer's two units");
    let reply = session.apply(Command::View { layer: Some(0), x: None, y: Some(7), log_y: Some(true) }).unwrap();
    assert_eq!(reply.state.view, View { layer: 0, x: 0, y: 7, log_y: true });
    let reply = session.apply(Command::Cycle).unwrap();
    assert_eq!((reply.state.view.x, reply.state.view.y), (1, 8));
    check_refused(&mut session, Command::View { layer: Some(9), x: None, y: None, log_y: None }, "there is no layer 9");
    check_refused(&mut session, Command::View { layer: Some(2), x: Some(5), y: None, log_y: None }, "no neuron 5");
    check_refused(&mut session, Command::View { layer: None, x: Some(99), y: None, log_y: Some(false) }, "no neuron 99");
    // Cycling wraps around the layer's units.
    session.apply(Command::View { layer: Some(2), x: None, y: None, log_y: None }).unwrap();
    let reply = session.apply(Command::Cycle).unwrap();
    assert_eq!((reply.state.view.x, reply.state.view.y), (1, 0));
}

#[test]
fn session_clear_graph_empties_the_curves_and_keeps_the_network() {
    let mut session = start("convnetjs", 1);
    session.run_for(30.0);
    assert!(!session.monitor.curves.train.is_empty());
    let before = snapshot(&mut session);
    session.apply(Command::ClearGraph).unwrap();
    assert!(session.monitor.curves.train.is_empty() && session.monitor.curves.valid.is_empty());
    assert_eq!(snapshot(&mut session), before);
}

#[test]
fn session_compares_with_the_presets_own_variant_and_stops() {
    let mut session = Session::start(Experiment::preset("linear-20", 2).unwrap(), None, clock(0.5).0).unwrap();
    let reply = session.apply(Command::Compare { label: None, spec: None, config: None }).unwrap();
    assert_eq!(reply.state.comparing.as_deref(), Some("19 hidden units"));
    session.run_for(100.0);
    let companion = session.comparison().unwrap();
    assert_eq!(companion.trainer.net().layers()[0].n_out(), 19);
    // It trained beside, batch for batch (the main network may be one batch ahead).
    let (main, other) = (session.examples_seen(), companion.trainer.progress().examples_seen);
    assert!(main - other <= 50 && other > 0, "{main} vs {other}");
    assert!(session.stats().comparison.is_some_and(|c| c.train_mse.is_some()));
    assert!(session.apply(Command::StopCompare).unwrap().state.comparing.is_none());
    // A comparison of one's own, and one that does not fit the data.
    let spec = session.experiment().spec.to_json().replace("\"units\": 20", "\"units\": 5");
    let reply = session.apply(Command::Compare { label: Some("five".into()), spec: Some(spec), config: None }).unwrap();
    assert_eq!(reply.state.comparing.as_deref(), Some("five"));
    let mut session = start("convnetjs", 1);
    check_refused(&mut session, Command::Compare { label: None, spec: None, config: None }, "has no comparison");
    let small = r#"{"layers":[{"type":"input","width":2,"height":2,"depth":1},{"type":"fc","units":4,"activation":"linear"},{"type":"output","loss":"mse"}]}"#;
    check_refused(&mut session, Command::Compare { label: None, spec: Some(small.into()), config: None }, "does not fit");
}

#[test]
fn session_describe_gives_the_pages_defaults_limits_and_names() {
    let mut session = start("convnetjs", 1);
    let Payload::Description(description) = session.apply(Command::Describe).unwrap().payload else { panic!("describe replies with a description") };
    assert_eq!(description.panels, panels::Panel::ALL.iter().map(|p| p.name()).collect::<Vec<_>>());
    assert_eq!(description.presets.len(), crate::presets::all().len());
    assert_eq!((description.default_preset.as_str(), description.default_seed), ("convnetjs", 1));
    let names: Vec<&str> = description.optimizers.iter().map(|o| o.name()).collect();
    assert_eq!(names, ["sgd", "adagrad", "rmsprop", "adadelta", "adam"]);
    assert!(description.optimizers.iter().all(|o| o.validate().is_ok()), "every default is a valid setting");
    assert!(description.noises.iter().all(|n| n.validate().is_ok()));
    assert_eq!(description.limits.max_batch, MAX_BATCH);
    assert_eq!(description.limits.max_file_bytes, snapshot::MAX_BYTES);
    let linear = description.presets.iter().find(|p| p.name == "linear-20").unwrap();
    assert_eq!(linear.comparison.as_deref(), Some("19 hidden units"));
}

#[test]
fn session_refused_commands_leave_it_exactly_as_it_was() {
    let mut session = start("turnoff", 1);
    steps(&mut session, 2);
    session.apply(Command::Resume).unwrap();
    session.run_for(10.0);
    let saved = snapshot(&mut session);
    let mut cases: Vec<(Command, &str)> = vec![
        (Command::SetLearningRate { lr: 0.0 }, "positive"),
        (Command::LoadPreset { name: "".into(), seed: Some(3) }, "unknown preset"),
        (Command::LoadSpec { spec: r#"{"layers": []}"#.into() }, "layer 0"),
        (Command::Load { bytes: saved.as_bytes()[..saved.len() / 2].to_vec() }, "not valid JSON"),
        (Command::Load { bytes: vec![0xff, 0xfe, 0x00] }, "not text"),
        (Command::Load { bytes: b"[1, 2]".to_vec() }, "expected a JSON object"),
        (Command::Load { bytes: saved.replacen("\"version\":1", "\"version\":99", 1).into_bytes() }, "version 99"),
        (Command::Load { bytes: saved.replacen("\"train\":{", "\"extra\":1,\"train\":{", 1).into_bytes() }, "unknown field `extra`"),
        (Command::View { layer: None, x: None, y: Some(10), log_y: None }, "no neuron 10"),
        (Command::Compare { label: None, spec: Some("nope".into()), config: None }, "not valid JSON"),
    ];
    let mut config = session.state().config;
    config.l2_decay = -1.0;
    cases.push((Command::SetConfig { config: config.clone() }, "l2_decay"));
    config.l2_decay = 0.0;
    config.noise = Noise::Masking { fraction: 2.0 };
    cases.push((Command::SetConfig { config }, "fractions must be in [0, 1]"));
    for (command, fragment) in cases {
        check_refused(&mut session, command, fragment);
    }
    // And training goes on from where it was.
    assert_eq!(snapshot(&mut session), saved);
    let seen = session.examples_seen();
    session.run_for(10.0);
    assert!(session.examples_seen() > seen);
}

#[test]
fn session_divergence_pauses_says_why_and_keeps_the_network_finite() {
    let mut session = start("convnetjs", 1);
    let mut config = session.state().config;
    config.optimizer = Optimizer::Sgd { lr: 100.0, momentum: 0.0, nesterov: false };
    config.batch_size = 16;
    session.apply(Command::SetConfig { config }).unwrap();
    let mut stats = session.stats();
    for _ in 0..200 {
        stats = session.run_for(5.0);
        if stats.paused {
            break;
        }
    }
    assert!(stats.paused, "lr 100 never diverged");
    assert!(stats.paused_reason.as_deref().is_some_and(|r| r.contains("diverged")), "{stats:?}");
    assert!(session.network().all_finite());
    assert!(outputs(&session).iter().all(|v| v.is_finite()));
    // Resuming clears the complaint.
    assert!(session.apply(Command::Resume).unwrap().stats.paused_reason.is_none());
}

#[test]
fn session_pretraining_runs_its_phases_and_scores_both_classifiers() {
    // The pretraining preset's classifier, 784-500-250-100-10, shrunk to 784-16-8-10.
    let mut experiment = Experiment::preset("pretrain", 1).unwrap();
    let mut layers = experiment.spec.layers.clone();
    layers.remove(3);
    for (layer, units) in layers[1..3].iter_mut().zip([16, 8]) {
        let crate::model::LayerSpec::Fc { units: u, .. } = layer else { panic!("fc layers") };
        *u = units;
    }
    experiment.spec = NetSpec { layers };
    let plan = experiment.pretrain.as_mut().unwrap();
    (plan.n_labels, plan.epochs_per_layer, plan.finetune_epochs) = (60, 1, 20);
    let mut session = Session::start(experiment, Some(digits(20)), clock(0.001).0).unwrap();
    assert!(session.stats().pretraining.unwrap().phase.starts_with("pretraining layer 1 of 2"));
    let phase = |s: &Session| s.stats().pretraining.unwrap().phase;
    let mut phases = vec![phase(&session)];
    while session.train_batch().unwrap().is_some() {
        let phase = phase(&session);
        if phases.last() != Some(&phase) {
            phases.push(phase);
        }
    }
    session.run_for(1.0);
    let words: Vec<&str> = phases.iter().map(|p| p.split(' ').next().unwrap()).collect();
    assert_eq!(words, ["pretraining", "pretraining", "fine-tuning", "done"], "{phases:?}");
    let stats = session.stats();
    assert!(stats.paused, "a finished plan pauses");
    let pretraining = stats.pretraining.as_ref().unwrap();
    assert!(pretraining.accuracy_pretrained.is_some() && pretraining.accuracy_random.is_some());
    assert!(stats.paused_reason.is_none(), "finishing is not a complaint");
    // The pretraining plan is a policy the CLI shares: the same experiment, the same numbers.
    let PretrainPlan { n_labels, .. } = session.pretrainer().unwrap().plan;
    assert_eq!(n_labels, 60);
}

#[test]
fn session_queries_read_and_change_nothing() {
    let mut session = start("convnetjs", 1);
    steps(&mut session, 2);
    let before = (session.snapshot_text(), session.state(), session.stats());
    let a = outputs(&session);
    assert_eq!(a.len(), 3 * 784);
    assert_eq!(outputs(&session), a);
    assert_eq!((session.snapshot_text(), session.state(), session.stats()), before);
    let err = session.query(Query::Reconstruct { inputs: vec![0.0; 100] }).unwrap_err();
    assert!(err.0.contains("not a whole number of 784-number examples"), "{err}");
    assert!(session.query(Query::Reconstruct { inputs: vec![f32::NAN; 784] }).is_err());
}

#[test]
fn session_validation_and_the_pca_line_follow_the_clock() {
    let (clock, now) = clock(0.0);
    let mut session = Session::start(Experiment::preset("convnetjs", 1).unwrap(), Some(digits(30)), clock).unwrap();
    session.run_for(0.0);
    let first = session.stats();
    assert!(first.loss.valid_mse.is_some(), "validation comes with the first figures");
    assert!(first.loss.pca_mse.is_none(), "the PCA line waits a second");
    now.set(500.0);
    session.run_for(0.0);
    assert_eq!(session.monitor.curves.valid.len(), 1, "not again before 1.5 s");
    now.set(2000.0);
    session.run_for(0.0);
    assert_eq!(session.monitor.curves.valid.len(), 2);
    let (k, pca) = session.pca_reference().unwrap();
    assert_eq!((k, session.stats().loss.pca_mse), (2, Some(pca)));
    // The line is PCA's own error: an independent fit on the same sample agrees.
    let sample = session.train_set().spread(PCA_MAX_IMAGES);
    let fit = crate::model::pca::Pca::fit(&sample.pixels, sample.n_images, 784, 2);
    assert_eq!(fit.mse_per_pixel(&session.valid_set().pixels, session.valid_set().n_images, 2), pca);
    // Every run_for trains at least one batch; the latest validation is of the network now.
    assert_eq!(Some(session.evaluate(None).unwrap().mse_per_pixel), session.stats().loss.valid_mse);
}

#[test]
fn session_snapshots_keep_the_data_they_train_on() {
    let mut session = Session::start(Experiment::preset("conv-1s-8s", 1).unwrap(), Some(digits(12)), clock(0.01).0).unwrap();
    assert_eq!((session.train_set().width, session.train_set().n_images), (36, 22), "1s and 8s, resized");
    let saved = snapshot(&mut session);
    let mut other = Session::start(Experiment::preset("convnetjs", 1).unwrap(), Some(digits(12)), clock(0.01).0).unwrap();
    other.apply(Command::Load { bytes: saved.into_bytes() }).unwrap();
    assert_eq!(other.state().data, session.state().data);
    assert!(other.train_set() == session.train_set(), "the same 1s and 8s at 36×36");
}

#[test]
fn session_opens_files_without_digits_to_convert_them() {
    let mut source = start("tied-sigmoid", 2);
    steps(&mut source, 1);
    let saved = snapshot(&mut source);
    let mut session = Session::open(saved.as_bytes(), None, DEFAULT_SEED, clock(0.0).0).unwrap();
    assert_eq!(session.experiment().origin, Origin::Snapshot);
    assert_eq!(snapshot(&mut session), saved);
    // Without digits it cannot train, and says so instead of failing later.
    let stats = session.run_for(5.0);
    assert!(stats.paused_reason.is_some_and(|r| r.contains("empty")));
    let Payload::Convnetjs(text) = session.apply(Command::ExportConvnetjs).unwrap().payload else { panic!() };
    assert!(text.contains("\"layer_type\":\"sigmoid\""));
}

#[test]
fn session_state_names_where_the_network_came_from() {
    let mut session = start("denoising", 1);
    assert_eq!(session.state().preset, "denoising");
    assert_eq!(session.state().comparison.as_deref(), Some("the same network without noise"));
    let spec = session.state().spec;
    assert_eq!(session.apply(Command::LoadSpec { spec }).unwrap().state.preset, "custom");
    assert!(session.state().comparison.is_none(), "a network of one's own has no preset comparison");
    let saved = snapshot(&mut session);
    assert_eq!(session.apply(Command::Load { bytes: saved.into_bytes() }).unwrap().state.preset, "snapshot");
}
