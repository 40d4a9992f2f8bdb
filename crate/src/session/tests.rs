//! The session as a front end drives it, natively: every command, every preset's first steps,
//! save → load → continue bit for bit, refusals that change nothing, and training budgets on a
//! clock the test turns by hand.

use super::*;
use crate::clock::Manual;
use crate::data::Noise;
use crate::model::Optimizer;
use crate::presets;
use crate::pretrain::PretrainPlan;
use crate::train::MAX_BATCH;
use serde_bytes::ByteBuf;

/// A clock that moves `per_read` ms every time it is read, and a handle to move it by hand.
fn clock(per_read: f64) -> (Box<dyn Clock>, Manual) {
    let now = Manual::ticking(per_read);
    (now.boxed(), now)
}

/// `per_class` 28×28 synthetic digits of each class, stored class by class as the built-in
/// digits are (so the fixed split keeps a tenth of each class): a bar placed by the class and
/// a faint diagonal that varies with the image.
pub(super) fn digits(per_class: usize) -> Dataset {
    crate::data::synthetic::digits(per_class)
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
    let Answer::Outputs(outputs) = session.query(Query::Reconstruct { inputs }).unwrap() else { panic!("outputs") };
    outputs
}

/// One refused command: it fails with `fragment` in its sentence and leaves the session as it
/// was: the same network, optimiser state and generator (the snapshot), the same state the
/// controls show and the same figures.
fn check_refused(session: &mut Session, command: Command, fragment: &str) {
    let before = (session.snapshot_text(), session.state(), session.stats());
    let label: String = match &command {
        Command::Load { bytes } => format!("Load {:?}", String::from_utf8_lossy(&bytes[..bytes.len().min(300)])),
        other => format!("{other:?}"),
    };
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

/// A run started on the first part of its digits while the rest arrive is the run that had all
/// of them from the start: it trains its first epoch on the first part, waits there (a step is
/// refused, `run_for` trains nothing, and the figures say why), and goes on once they have
/// arrived, bit for bit as the other. What it saved while waiting resumes the same way.
#[test]
fn digits_that_arrive_late_give_the_same_run() {
    let all = digits(40).with_first_part(100); // 400 digits; 90 training digits in the first part
    let open = |data: Dataset| Session::start(Experiment::preset("convnetjs", 3).unwrap(), Some(data), clock(0.01).0).unwrap();
    let (mut early, mut late) = (open(all.first_images(150)), open(all.clone()));
    assert_eq!(early.train_set().first_part, 90);
    let batch = early.trainer().config().batch_size as u64;
    assert!(early.stats().arriving.is_some_and(|s| s.contains("first 90 training digits")), "{:?}", early.stats().arriving);
    while !early.waiting_for_digits() {
        early.apply(Command::Step).unwrap();
    }
    assert_eq!(early.examples_seen(), 90 / batch * batch, "the first part's whole batches");
    let stats = early.stats();
    assert!(stats.waiting && stats.arriving.is_some_and(|s| s.contains("One pass over the first 90")));
    check_refused(&mut early, Command::Step, "still arriving");
    let waiting = snapshot(&mut early);
    early.apply(Command::Resume).unwrap();
    early.run_for(30.0);
    assert_eq!(early.examples_seen(), 90 / batch * batch, "run_for trains nothing while it waits");
    // A snapshot of a later epoch cannot open on the first part: it says why, and changes nothing.
    let mut ahead = open(all.clone());
    steps(&mut ahead, 30);
    check_refused(&mut early, Command::Load { bytes: snapshot(&mut ahead).into_bytes() }, "still arriving");
    // Pretraining draws its labels from every digit: it waits for them.
    let err = early.apply(Command::LoadPreset { name: "pretrain".into(), seed: None }).err();
    assert!(err.as_ref().is_some_and(|e| e.0.contains("still arriving")), "{err:?}");

    early.digits_arrived(all.clone()).unwrap();
    assert!(early.stats().arriving.is_none() && !early.stats().waiting);
    assert!(early.digits_arrived(all.clone()).unwrap_err().0.contains("already"));
    let mut resumed = Session::open(waiting.as_bytes(), Some(all.clone()), 3, clock(0.01).0).unwrap();
    for session in [&mut early, &mut late, &mut resumed] {
        session.apply(Command::Pause).unwrap();
        while session.examples_seen() < 3 * 360 {
            session.apply(Command::Step).unwrap();
        }
    }
    assert_eq!(early.trainer().progress().epoch, late.trainer().progress().epoch);
    assert!(early.trainer().progress().epoch >= 2, "past the first part, on all 360 training digits");
    assert_eq!(early.trainer().progress().order.len(), 360);
    assert_eq!(early.trainer().progress(), late.trainer().progress());
    assert_eq!(outputs(&early), outputs(&late));
    assert_eq!(resumed.trainer().progress(), late.trainer().progress());
    assert_eq!(outputs(&resumed), outputs(&late));
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
    assert_eq!(set_lr(&mut session, 0.1).unwrap_err().0, "adadelta has no learning rate");
    let mut session = start("turnoff", 1);
    let reply = set_lr(&mut session, 0.0005).unwrap();
    assert_eq!(reply.state.config.optimizer.learning_rate(), Some(0.0005), "the rate typed is the rate shown");
    let shown = serde_json::to_value(&reply.state).unwrap();
    assert_eq!(shown.pointer("/config/optimizer/lr"), Some(&serde_json::json!(0.0005)), "and reaches the page as 0.0005");
    assert_eq!(session.trainer().config().optimizer.learning_rate(), Some(0.0005));
    let saved = snapshot(&mut session);
    for lr in [-3.0, 0.0] {
        assert!(set_lr(&mut session, lr).unwrap_err().0.contains("learning rate must be a positive number"));
        assert_eq!(snapshot(&mut session), saved);
    }
}

/// Set the learning rate the way the page and a link do: the settings table's row, then the
/// one door for settings (`SetConfig`).
fn set_lr(session: &mut Session, lr: f32) -> Result<Reply, Error> {
    let row = settings::find("lr").unwrap();
    let now = session.settings();
    let next = row.set(&now.to_json(), serde_json::json!(crate::decimal::widen(lr)), session.experiment())?;
    session.apply(now.command(&settings::Settings::from_json(next)?, protocol::Door::Config))
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
    assert_eq!((reply.state.config.optimizer.name(), reply.state.config), ("sgd", config));
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
    assert_eq!((reply.state.preset.as_str(), reply.state.seed, reply.state.config.optimizer.name()), ("linear-20", 5, "adam"));
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
    assert_eq!((reply.state.config.optimizer.name(), reply.state.seed), ("rmsprop", 2), "the settings and seed stay");
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
    for preset in ["convnetjs", "denoising", "k-sparse", "vae"] {
        let (n, m) = (4, 5);
        let mut straight = start(preset, 7);
        steps(&mut straight, n + m);
        let mut first = start(preset, 7);
        steps(&mut first, n);
        let saved = snapshot(&mut first);
        let mut second = start("turnoff", 1);
        let reply = second.apply(Command::Load { bytes: saved.clone().into_bytes() }).unwrap();
        assert_eq!(reply.payload, Payload::Loaded(Loaded::Snapshot));
        assert_eq!(reply.state.preset, preset, "a snapshot remembers its preset");
        assert_eq!(snapshot(&mut second), saved, "{preset}: loading changed nothing");
        steps(&mut second, m);
        assert_eq!(snapshot(&mut second), snapshot(&mut straight), "{preset}: the resumed run differs");
    }
}

/// The variational autoencoder: validation reports the negative ELBO and its two parts, its
/// β-0 twin trains beside it with the KL term measured but free, β is a setting that comes and
/// goes with the gaussian layer, and ConvNetJS export refuses it naming the layer.
#[test]
fn the_variational_autoencoder_reports_its_bound_and_trains_its_beta_0_twin() {
    let mut session = start("vae", 2);
    steps(&mut session, 3);
    let elbo = session.evaluate(None).unwrap().elbo.expect("a VAE reports its bound");
    assert!(elbo.kl > 0.0 && elbo.reconstruction > 0.0, "{elbo:?}");
    assert!((elbo.negative_elbo - elbo.reconstruction - elbo.kl).abs() < 1e-9);
    assert_eq!(session.evaluate(None).unwrap().elbo, Some(elbo), "measuring draws from its own generator: the same twice");
    assert!(start("convnetjs", 2).evaluate(None).unwrap().elbo.is_none());
    check_refused(&mut session, Command::ExportConvnetjs, "variational (gaussian) code");
    // β is a setting of this network, and only of networks with a gaussian layer.
    assert_eq!(session.state().config.beta, Some(1.0));
    let mut config = session.state().config;
    config.beta = Some(0.25);
    session.apply(Command::SetConfig { config }).unwrap();
    assert_eq!(session.trainer().config().beta, Some(0.25));
    let plain = NetSpec::from_json(&crate::presets::find("convnetjs").unwrap().spec.to_json()).unwrap();
    session.apply(Command::LoadSpec { spec: plain.to_json() }).unwrap();
    assert_eq!(session.state().config.beta, None, "no gaussian layer, no beta");
    let mut vae = start("vae", 2);
    vae.apply(Command::Compare { label: None, spec: None, config: None }).unwrap();
    steps(&mut vae, 2);
    let stats = vae.stats();
    assert_eq!(stats.comparisons.len(), 1);
    assert!(stats.comparisons[0].label.contains("beta 0"));
    // The prior's samples: another draw on request; nothing to sample without a gaussian code.
    assert_eq!(vae.state().prior_draw, Some(0));
    vae.apply(Command::Resample).unwrap();
    assert_eq!(vae.state().prior_draw, Some(1));
    assert_eq!(start("convnetjs", 1).state().prior_draw, None);
    check_refused(&mut start("convnetjs", 1), Command::Resample, "only a variational autoencoder");
    // The scatter's spreads: on from the start on the code's two units, off on request, and
    // refused where the scatter plots another layer.
    let view = |layer, ellipses| Command::View { layer, x: None, y: None, manifold: None, log_y: None, components: None, ellipses };
    assert_eq!(vae.view().ellipses, Some(true));
    vae.apply(view(None, Some(false))).unwrap();
    assert_eq!(vae.view().ellipses, Some(false));
    vae.apply(view(Some(0), None)).unwrap();
    assert_eq!(vae.view().ellipses, None, "the encoder's 512 units have no spreads");
    check_refused(&mut vae, view(None, Some(true)), "no spreads to draw");
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
    let reply = session.apply(Command::View { layer: Some(0), x: None, y: Some(7), manifold: None, log_y: Some(true), components: None, ellipses: None }).unwrap();
    assert_eq!(reply.state.view, View { layer: 0, x: 0, y: 7, manifold: false, log_y: true, components: false, ellipses: None });
    let reply = session.apply(Command::Cycle).unwrap();
    assert_eq!((reply.state.view.x, reply.state.view.y), (1, 8));
    check_refused(&mut session, Command::View { layer: Some(9), x: None, y: None, manifold: None, log_y: None, components: None, ellipses: None }, "there is no layer 9");
    check_refused(&mut session, Command::View { layer: Some(2), x: Some(5), y: None, manifold: None, log_y: None, components: None, ellipses: None }, "no neuron 5");
    check_refused(&mut session, Command::View { layer: None, x: Some(99), y: None, manifold: None, log_y: Some(false), components: None, ellipses: None }, "no neuron 99");
    // Cycling wraps around the layer's units.
    session.apply(Command::View { layer: Some(2), x: None, y: None, manifold: None, log_y: None, components: None, ellipses: None }).unwrap();
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
    let companion = &session.comparisons()[0];
    assert_eq!(companion.trainer.net().layers()[0].n_out(), 19);
    // It trained beside, batch for batch (the main network may be one batch ahead).
    let (main, other) = (session.examples_seen(), companion.trainer.progress().examples_seen);
    assert!(main - other <= 50 && other > 0, "{main} vs {other}");
    assert!(session.stats().comparisons[0].train_mse.is_some());
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
    assert_eq!(description.limits.max_file_bytes, crate::budget::MAX_BYTES);
    let linear = description.presets.iter().find(|p| p.name == "linear-20").unwrap();
    assert_eq!(linear.comparison.as_deref(), Some("19 hidden units"));
    assert!(linear.look_for.starts_with("What to look for: ") && linear.look_for.contains("19-unit comparison"), "{}", linear.look_for);
}

#[test]
fn session_refused_commands_leave_it_exactly_as_it_was() {
    let mut session = start("turnoff", 1);
    steps(&mut session, 2);
    session.apply(Command::Resume).unwrap();
    session.run_for(10.0);
    let saved = snapshot(&mut session);
    let mut cases: Vec<(Command, &str)> = vec![
        (Command::SetConfig { config: TrainConfig { optimizer: Optimizer::Rmsprop { lr: 0.0, rho: 0.9, eps: 1e-8 }, ..presets::find("turnoff").unwrap().train.clone() } }, "positive"),
        (Command::LoadPreset { name: "".into(), seed: Some(3) }, "unknown preset"),
        (Command::LoadSpec { spec: r#"{"layers": []}"#.into() }, "layer 0"),
        (Command::Load { bytes: saved.as_bytes()[..saved.len() / 2].to_vec() }, "not valid JSON"),
        (Command::Load { bytes: vec![0xff, 0xfe, 0x00] }, "not text"),
        (Command::Load { bytes: b"[1, 2]".to_vec() }, "expected a JSON object"),
        (Command::Load { bytes: saved.replacen(&format!("\"version\":{}", crate::snapshot::VERSION), "\"version\":99", 1).into_bytes() }, "version 99"),
        // Version 2's base64 arrays: a NaN written in them, and text that is not base64.
        (Command::Load { bytes: nan_param(&saved).into_bytes() }, "not a finite number"),
        (Command::Load { bytes: saved.replacen("\"data\":\"", "\"data\":\"!", 1).into_bytes() }, "not valid base64"),
        (Command::Load { bytes: vec![0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02] }, "not a valid gzip stream"),
        (Command::Load { bytes: saved.replacen("\"train\":{", "\"extra\":1,\"train\":{", 1).into_bytes() }, "unknown field `extra`"),
        (Command::View { layer: None, x: None, y: Some(10), manifold: None, log_y: None, components: None, ellipses: None }, "no neuron 10"),
        (Command::Compare { label: None, spec: Some("nope".into()), config: None }, "not valid JSON"),
    ];
    let mut config = session.state().config;
    config.l2_decay = -1.0;
    cases.push((Command::SetConfig { config: config.clone() }, "l2_decay"));
    config.l2_decay = 0.0;
    config.noise = Noise::Masking { fraction: 2.0 };
    cases.push((Command::SetConfig { config }, "the fraction of pixels must be between 0 and 1, got 2"));
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
    // Resume and step after the end say what there is (nothing left) and what reset does.
    for command in [Command::Resume, Command::Step] {
        let refusal = session.apply(command).unwrap_err().0;
        assert!(refusal.starts_with("Pretraining is finished: after 20 epochs on 60 labels the pretrained classifier reads "), "{refusal}");
        assert!(refusal.ends_with("There is nothing left to train; reset runs it again from the seed."), "{refusal}");
    }
    assert!(session.stats().paused);
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
    let sample = session.train_set().spread(reference::MAX_IMAGES);
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
    assert_eq!(session.experiment().origin, Origin::Preset("tied-sigmoid".into()));
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
    assert_eq!(session.apply(Command::LoadSpec { spec: spec.clone() }).unwrap().state.preset, "custom");
    assert!(session.state().comparison.is_none(), "a network of one's own has no preset comparison");
    // A file whose network, data and settings are a preset's shows that preset, whatever it
    // says it came from (here "custom": the editor's copy of the denoising network).
    let saved = snapshot(&mut session);
    let origin = |session: &mut Session, text: &str| session.apply(Command::Load { bytes: text.as_bytes().to_vec() }).unwrap().state.preset;
    assert_eq!(origin(&mut session, &saved), "denoising");
    let edit = |text: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut value: serde_json::Value = serde_json::from_str(text).unwrap();
        edit(&mut value);
        value.to_string()
    };
    assert_eq!(origin(&mut session, &edit(&saved, &|v| drop(v.as_object_mut().unwrap().remove("origin")))), "denoising");
    // One that names a preset it no longer is (the preset changed since) is what it is.
    let turnoff = snapshot(&mut start("turnoff", 2));
    assert_eq!(origin(&mut session, &edit(&turnoff, &|v| v["origin"] = "convnetjs".into())), "turnoff");
    // A preset with its settings changed keeps its name, as it does while training.
    let mut tied = start("tied-sigmoid", 1);
    let mut config = tied.state().config;
    config.noise = Noise::Masking { fraction: 0.3 };
    tied.apply(Command::SetConfig { config }).unwrap();
    let noisy = snapshot(&mut tied);
    assert_eq!(origin(&mut session, &noisy), "tied-sigmoid");
    // Without its name, those settings are the denoising preset's.
    assert_eq!(origin(&mut session, &edit(&noisy, &|v| drop(v.as_object_mut().unwrap().remove("origin")))), "denoising");
    // A network of one's own stays "custom", or "snapshot" where the file does not say.
    session.apply(Command::LoadSpec { spec: spec.replace("\"units\": 100", "\"units\": 50") }).unwrap();
    let own = snapshot(&mut session);
    assert_eq!(origin(&mut session, &own), "custom");
    assert_eq!(origin(&mut session, &edit(&own, &|v| drop(v.as_object_mut().unwrap().remove("origin")))), "snapshot");
    // ConvNetJS files name no layers, so an imported network is never exactly a preset's
    // definition (not even the ConvNetJS demo's own): it shows as an import.
    let Payload::Convnetjs(text) = start("convnetjs", 1).apply(Command::ExportConvnetjs).unwrap().payload else { panic!("export") };
    assert_eq!(origin(&mut session, &text), "convnetjs-import");
}

/// Pretraining and a comparison are part of what is saved: a run saved mid-phase, loaded into
/// another session and continued is the run that never stopped, to the bit.
#[test]
fn session_saves_and_resumes_pretraining_and_comparisons_exactly() {
    let mut experiment = Experiment::preset("pretrain", 3).unwrap();
    let mut layers = experiment.spec.layers.clone();
    layers.remove(3);
    for (layer, units) in layers[1..3].iter_mut().zip([12, 6]) {
        let crate::model::LayerSpec::Fc { units: u, .. } = layer else { panic!("fc layers") };
        *u = units;
    }
    experiment.spec = NetSpec { layers };
    // No longer the preset's network, so not named after it (a file that said so would load as
    // what it is).
    experiment.origin = Origin::Custom;
    let plan = experiment.pretrain.as_mut().unwrap();
    (plan.n_labels, plan.epochs_per_layer, plan.finetune_epochs) = (60, 1, 4);
    let run = |cut: Option<usize>| {
        let mut session = Session::start(experiment.clone(), Some(digits(20)), clock(0.0).0).unwrap();
        let mut phases = vec![];
        for step in 0..40 {
            if cut == Some(step) {
                let saved = snapshot(&mut session);
                let mut other = Session::start(Experiment::preset("convnetjs", 9).unwrap(), Some(digits(20)), clock(0.0).0).unwrap();
                other.apply(Command::Load { bytes: saved.into_bytes() }).unwrap();
                session = other;
            }
            session.train_batch().unwrap();
            phases.push(session.pretrainer().unwrap().phase);
        }
        (snapshot(&mut session), phases)
    };
    let (straight, phases) = run(None);
    assert!(phases.contains(&crate::pretrain::Phase::Pretraining { layer: 1 }) && phases.contains(&crate::pretrain::Phase::FineTuning), "{phases:?}");
    // Cut in the first layer's phase, in the second's (its inputs are recomputed) and while
    // fine-tuning.
    for cut in [3, phases.iter().position(|p| *p == crate::pretrain::Phase::Pretraining { layer: 1 }).unwrap() + 2, 38] {
        assert!(run(Some(cut)).0 == straight, "saved at step {cut} and resumed, the run differs");
    }
    // A comparison comes back with the network it was compared with.
    let mut session = Session::start(Experiment::preset("linear-20", 2).unwrap(), None, clock(0.5).0).unwrap();
    session.apply(Command::Compare { label: None, spec: None, config: None }).unwrap();
    session.run_for(20.0);
    let saved = snapshot(&mut session);
    let mut other = start("turnoff", 1);
    let reply = other.apply(Command::Load { bytes: saved.clone().into_bytes() }).unwrap();
    assert_eq!(reply.state.comparing.as_deref(), Some("19 hidden units"));
    assert_eq!(snapshot(&mut other), saved);
}

/// Sizes that pass validation but would take too much memory or time are refused before
/// anything is allocated, through every door: the editor, settings, files and data specs.
#[test]
fn session_refuses_what_the_budget_cannot_hold_and_keeps_training() {
    let mut session = start("turnoff", 1);
    session.apply(Command::Step).unwrap();
    let spec = |hidden: usize| {
        format!(
            r#"{{"layers":[{{"type":"input","width":28,"height":28,"depth":1}},{{"type":"fc","units":{hidden},"activation":"relu"}},{{"type":"fc","units":{hidden},"activation":"relu"}},{{"type":"fc","units":784,"activation":"linear"}},{{"type":"output","loss":"mse"}}]}}"#
        )
    };
    // Two 65,536-unit layers: 4.3 billion weights between them, past the parameter limit.
    check_refused(&mut session, Command::LoadSpec { spec: spec(65_536) }, "more than the limit of 16777216");
    // 784-2900-2900-784 fits the limit on parameters (13.0 million) and the memory to train it
    // at this batch (its two shards' gradients included), not in a snapshot a page could
    // restore (the memory to train a network comes up only with conv scratch, below).
    check_refused(&mut session, Command::LoadSpec { spec: spec(2_900) }, "more than the 128 MB a snapshot may be");
    // A snapshot whose data asks for the digits at 1024×1024.
    let saved = snapshot(&mut session);
    let huge_data = saved.replacen("\"data\":{\"type\":\"mnist\"}", "\"data\":{\"type\":\"mnist\",\"size\":[1024,1024]}", 1);
    assert_ne!(huge_data, saved);
    check_refused(&mut session, Command::Load { bytes: huge_data.into_bytes() }, "resizing 300 images to 1024×1024 would take 1.2 GB");
    // A wider network is fine at its batch, but a step at batch 4,096 is too much work.
    session.apply(Command::LoadSpec { spec: spec(1_500) }).unwrap();
    let mut config = session.state().config;
    config.batch_size = 4096;
    check_refused(&mut session, Command::SetConfig { config }, "GFLOP");
    // Conv unfolding scratch past the budget.
    // 256 maps of 28×28 into 256 more through 15×15 kernels: 57,600-row patches at 784
    // positions, 45 million numbers of scratch an example (and 14.7 million parameters).
    let conv = r#"{"layers":[{"type":"input","width":28,"height":28,"depth":1},
        {"type":"conv","name":"c1","filters":256,"size":3,"pad":1,"activation":"tanh"},
        {"type":"conv","name":"c2","filters":256,"size":15,"pad":7,"activation":"tanh"},
        {"type":"deconv","filters":256,"size":15,"pad":7,"activation":"tanh","tied":"c2"},
        {"type":"deconv","filters":1,"size":3,"pad":1,"activation":"linear","tied":"c1"},{"type":"output","loss":"mse"}]}"#;
    check_refused(&mut session, Command::LoadSpec { spec: conv.into() }, "allowed");
    // Linear data of a million vectors of 4,096.
    let mut experiment = Experiment::preset("linear-20", 1).unwrap();
    experiment.data = crate::data::DataSpec::Linear { n_samples: 1_000_000, n_independent: 20, dim: 4096 };
    let err = Session::start(experiment, None, clock(0.0).0).err().unwrap();
    assert!(err.0.contains("linear data of 1000000 × 4096 would take 30.5 GB"), "{err}");
    let seen = session.examples_seen();
    session.apply(Command::Resume).unwrap();
    session.run_for(5.0);
    assert!(session.examples_seen() > seen, "still training");
}

/// Saved state that does not describe this data is refused, not silently reshaped.
#[test]
fn session_refuses_snapshots_that_do_not_fit_their_data() {
    let mut session = start("convnetjs", 1);
    steps(&mut session, 2);
    let saved: serde_json::Value = serde_json::from_str(&snapshot(&mut session)).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut value = saved.clone();
        f(&mut value);
        value.to_string().into_bytes()
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (edit(&|v| (v["progress"]["order"], v["progress"]["cursor"]) = (serde_json::json!([0, 1, 2]), serde_json::json!(1))), "order lists 3 examples, but its training data has 270"),
        (edit(&|v| v["progress"]["order"] = serde_json::json!(vec![0; 270])), "not a shuffle of 270 examples"),
        (edit(&|v| v["progress"]["steps"] = serde_json::json!(u64::MAX)), "beyond 2^53"),
        (edit(&|v| v["rng"]["state"] = serde_json::json!("abc")), "expected 16 hex digits"),
        (edit(&|v| v["train"]["l2_decay"] = serde_json::json!(1e9)), "l2_decay must be a number between 0 and 1"),
        (edit(&|v| v["train"]["k_schedule"] = serde_json::json!({"start": u64::MAX, "anneal_examples": 10})), "k_schedule.start"),
        (edit(&|v| v["spec"]["layers"][0] = serde_json::json!({"type": "input", "width": 784, "height": 1, "depth": 1})), "takes 784×1 images, but its data is 28×28"),
        (br#"{"format": "bottleneck-snapshot", "format": "x"}"#.to_vec(), "the key \"format\" appears twice"),
    ];
    for (bytes, fragment) in cases {
        check_refused(&mut session, Command::Load { bytes }, fragment);
    }
}

/// What the code knows, measured on the session's clock: the scores are the probes' on the
/// code layer's activations, and they agree with a plain independent count (nearest neighbours
/// by brute force in f64) on the same codes; measuring waits nine times its own cost.
#[test]
fn session_measures_what_the_code_knows_and_it_agrees_with_a_plain_count() {
    let (clock, now) = clock(0.0);
    let mut session = Session::start(Experiment::preset("turnoff", 1).unwrap(), Some(digits(30)), clock).unwrap();
    for _ in 0..20 {
        session.train_batch().unwrap();
    }
    session.run_for(0.0);
    assert!(session.stats().knowledge.is_none(), "not in the first second");
    now.set(1500.0);
    session.run_for(0.0);
    let knowledge = session.stats().knowledge.expect("measured");
    assert_eq!(knowledge.units, 10);
    assert!(knowledge.pca.is_some(), "PCA-10 is a reference for a 10-unit code");
    // The bars are told apart by their pixels perfectly.
    assert!(knowledge.pixels.knn > 0.99 && knowledge.pixels.linear > 0.99, "{knowledge:?}");
    // An independent count of the code's 5-nearest-neighbour accuracy on the same digits.
    let net = session.network();
    let code = net.code_layer();
    let sample = session.train_set().spread(knowledge::PROBE_DIGITS);
    let valid = session.valid_set();
    let mut work = crate::model::network::Workspace::default();
    let a = net.infer(&mut work, &sample.pixels, sample.n_images, None).activations(code).to_vec();
    let b = net.infer(&mut work, &valid.pixels, valid.n_images, None).activations(code).to_vec();
    let (la, lb) = (sample.labels.as_ref().unwrap(), valid.labels.as_ref().unwrap());
    let mut right = 0;
    for (row, &label) in b.chunks_exact(10).zip(lb) {
        let mut d: Vec<(f64, usize)> = a.chunks_exact(10).enumerate().map(|(t, r)| (r.iter().zip(row).map(|(x, y)| ((x - y) as f64).powi(2)).sum(), t)).collect();
        d.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let mut votes = [0; 10];
        d[..5].iter().for_each(|&(_, t)| votes[la[t] as usize] += 1);
        let most = *votes.iter().max().unwrap();
        let winner = d[..5].iter().map(|&(_, t)| la[t]).find(|&c| votes[c as usize] == most).unwrap();
        right += usize::from(winner == label);
    }
    let plain = right as f64 / lb.len() as f64;
    assert!((plain - knowledge.code.knn).abs() <= 0.01, "probe {} vs plain count {plain}", knowledge.code.knn);
    // The next measure waits at least 3 s of the clock.
    let measured_at = knowledge.examples_seen;
    now.set(2000.0);
    session.run_for(0.0);
    assert_eq!(session.stats().knowledge.unwrap().examples_seen, measured_at, "not again within 3 s");
    now.set(5000.0);
    session.run_for(0.0);
    assert!(session.stats().knowledge.unwrap().examples_seen > measured_at);
    assert_eq!(session.monitor.knowledge.len(), 2);
    // The same measure on demand (what `bottleneck eval` prints) is the live one.
    let live = session.stats().knowledge.unwrap();
    assert_eq!(session.knowledge_on(session.train_set(), session.valid_set()).as_ref(), Some(&live));
}

/// The pointer over the scatter: at a digit's own point, the decoder draws that digit's
/// reconstruction; over its thumbnail, the digit itself is reported with its code.
#[test]
fn session_decodes_any_point_of_the_scatter() {
    let mut session = start("convnetjs", 1);
    steps(&mut session, 5);
    let mut work = crate::model::network::Workspace::default();
    let data = explore::ScatterData::of(&session, &mut work);
    let labels = data.digits.labels.clone().unwrap();
    let chart = data.chart(560, &labels, explore::scatter_title(&session, &data), None, &[]);
    let (x_axis, y_axis) = chart.axes();
    let index = 7;
    let (x, y) = data.points[index];
    let (px, py) = (x_axis.map(x as f64), y_axis.map(y as f64));
    let Answer::Point(point) = session.query(Query::Point { px, py, width: 560.0 }).unwrap() else { panic!() };
    assert!((point.x - x as f64).abs() < 1e-3 * (x_axis.hi - x_axis.lo) && (point.y - y as f64).abs() < 1e-3 * (y_axis.hi - y_axis.lo));
    assert_eq!(point.held, None, "a 2-unit code has nothing else to hold");
    let digit = point.digit.expect("the pointer is on the digit's thumbnail");
    assert_eq!(digit.code, data.codes[2 * digit.index..2 * digit.index + 2].to_vec());
    // Decoding the digit's exact code draws its reconstruction.
    let code = &data.codes[2 * index..2 * index + 2];
    let exact = session.network().decode(&mut work, session.view().layer, code, 1).output().to_vec();
    let reconstruction = session.network().infer(&mut work, data.digits.image(index), 1, None).output().to_vec();
    assert_eq!(exact, reconstruction);
    assert_eq!(point.decoded.unwrap().pixels.len(), 784);
    // A 10-unit code holds the other eight at the nearest digit's values.
    let mut session = start("turnoff", 1);
    steps(&mut session, 2);
    let Answer::Point(point) = session.query(Query::Point { px: 280.0, py: 280.0, width: 560.0 }).unwrap() else { panic!() };
    assert!(point.held.is_some() && point.decoded.is_some());
    assert!(session.query(Query::Point { px: f32::NAN, py: 0.0, width: 560.0 }).is_err());
}

/// The pointer's questions reuse the scatter's codes for `SCATTER_REUSE_MS` (the pointer finds
/// what was last drawn, and hovering does not forward 500 digits per move); after that, or after
/// any command, they are computed again.
#[test]
fn pointer_questions_reuse_the_scatter_for_a_moment() {
    let (clock, now) = clock(0.0);
    let mut session = Session::start(Experiment::preset("convnetjs", 1).unwrap(), Some(digits(20)), clock).unwrap();
    session.apply(Command::Step).unwrap();
    let at = |session: &Session| {
        let Answer::Point(point) = session.query(Query::Point { px: 200.0, py: 200.0, width: 560.0 }).unwrap() else { panic!() };
        (point.x, point.y)
    };
    let first = at(&session);
    // Training changes the codes, but within the moment the same chart answers.
    for _ in 0..20 {
        session.train_batch().unwrap();
    }
    now.set(now.get() + explore::SCATTER_REUSE_MS);
    assert_eq!(at(&session), first);
    // A moment later the codes are the network's own again.
    now.set(now.get() + 1.0);
    let later = at(&session);
    assert_ne!(later, first);
    // So they are after a command, at once.
    for _ in 0..20 {
        session.train_batch().unwrap();
    }
    session.apply(Command::Pause).unwrap();
    assert_ne!(at(&session), later);
}

#[test]
fn session_interpolates_between_two_digits_in_code_and_in_pixels() {
    let mut session = start("convnetjs", 1);
    steps(&mut session, 3);
    let Answer::Path(path) = session.query(Query::Interpolate { from: 3, to: 25, steps: 9 }).unwrap() else { panic!() };
    assert_eq!((path.code.len(), path.pixels.len()), (9, 9));
    let mut work = crate::model::network::Workspace::default();
    let digits = session.valid_set().spread(explore::SCATTER_DIGITS);
    assert_eq!(path.pixels[0].pixels, digits.image(3));
    assert_eq!(path.pixels[8].pixels, digits.image(25));
    // The path's ends are the two digits' reconstructions (decoded from their own codes).
    let ends = session.network().infer(&mut work, &[digits.image(3), digits.image(25)].concat(), 2, None).output().to_vec();
    let near = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
    assert!(near(&path.code[0].pixels, &ends[..784]) && near(&path.code[8].pixels, &ends[784..]));
    assert!(session.query(Query::Interpolate { from: 3, to: 999, steps: 9 }).unwrap_err().0.contains("no digit 999"));
    assert!(session.query(Query::Interpolate { from: 3, to: 4, steps: 1 }).is_err());
}

/// A drawing is made into an MNIST-like input, corrupted for a denoising preset, and once set
/// its code is marked on the scatter; the manifold fills the scatter's background.
#[test]
fn session_draws_digits_and_the_manifold() {
    let mut session = start("denoising", 1);
    let strokes = vec![vec![[140.0, 40.0], [140.0, 240.0]]];
    let Answer::Drawing(Some(drawn)) = session.query(Query::Digitize { strokes: strokes.clone(), size: [280.0, 280.0], pen: 18.0 }).unwrap() else { panic!() };
    assert_eq!((drawn.input.width, drawn.input.height), (28, 28));
    assert!(drawn.corrupted.is_some(), "a denoising preset shows what its noise does");
    assert!(drawn.reconstruction.is_some() && drawn.classes.is_none());
    assert_eq!(drawn.code.len(), 100);
    let Answer::Drawing(None) = session.query(Query::Digitize { strokes: vec![], size: [280.0, 280.0], pen: 18.0 }).unwrap() else { panic!() };
    let reply = session.apply(Command::Mark { digits: vec![drawn.input.pixels.clone()] }).unwrap();
    assert_eq!(reply.state.marked, 1);
    check_refused(&mut session, Command::Mark { digits: vec![vec![0.5; 10]] }, "a digit for this network is 784 numbers, not 10");
    check_refused(&mut session, Command::Mark { digits: vec![vec![1.5; 784]] }, "each between 0 and 1");
    let mut work = crate::model::network::Workspace::default();
    let marked = panels::scene(panels::Panel::Scatter, &session, &mut work, 560);
    let plot = |scene: &crate::render::Scene| -> Vec<[u8; 4]> {
        let Some(crate::render::scene::Item::Image { image, .. }) = scene.items.iter().find(|i| matches!(i, crate::render::scene::Item::Image { .. })) else { panic!() };
        (0..image.height).flat_map(|y| (0..image.width).map(move |x| (x, y))).map(|(x, y)| image.get(x, y)).collect()
    };
    assert!(plot(&marked).contains(&crate::render::scene::ACCENT), "the drawing's ring");
    session.apply(Command::Mark { digits: vec![] }).unwrap();
    assert!(!plot(&panels::scene(panels::Panel::Scatter, &session, &mut work, 560)).contains(&crate::render::scene::ACCENT));
    // The manifold: the background is no longer one flat colour.
    let mut session = start("convnetjs", 1);
    steps(&mut session, 3);
    let flat = plot(&panels::scene(panels::Panel::Scatter, &session, &mut work, 560));
    session.apply(Command::View { layer: None, x: None, y: None, manifold: Some(true), log_y: None, components: None, ellipses: None }).unwrap();
    let filled = plot(&panels::scene(panels::Panel::Scatter, &session, &mut work, 560));
    let background = [24, 24, 27, 255];
    let count = |p: &[[u8; 4]]| p.iter().filter(|&&c| c == background).count();
    assert!(count(&filled) * 2 < count(&flat), "{} of the flat plot's {} background pixels remain", count(&filled), count(&flat));
    // A classifier says what it reads in a drawing.
    let classifier = Session::start(Experiment::preset("pretrain", 1).unwrap(), Some(digits(120)), clock(0.0).0).unwrap();
    let Answer::Drawing(Some(read)) = classifier.query(Query::Digitize { strokes, size: [280.0, 280.0], pen: 18.0 }).unwrap() else { panic!() };
    assert_eq!(read.classes.map(|c| c.len()), Some(10));
}

/// Slow motion: at two steps a second the clock decides every step; single steps still go.
#[test]
fn session_slow_motion_trains_at_the_speed_asked() {
    let (clock, now) = clock(0.0);
    let mut session = Session::start(Experiment::preset("convnetjs", 1).unwrap(), Some(digits(30)), clock).unwrap();
    session.apply(Command::SetSpeed { steps_per_second: Some(2.0) }).unwrap();
    for t in 0..40 {
        now.set(t as f64 * 50.0); // two seconds in 50 ms ticks
        session.run_for(20.0);
    }
    assert_eq!(session.trainer().progress().steps, 4, "two steps a second for two seconds");
    session.apply(Command::Step).unwrap();
    assert_eq!(session.trainer().progress().steps, 5);
    check_refused(&mut session, Command::SetSpeed { steps_per_second: Some(0.0) }, "slow motion runs from 0.1 to 1000");
    assert_eq!(session.apply(Command::SetSpeed { steps_per_second: None }).unwrap().state.speed, None);
    // The k in force shows while k anneals.
    let mut session = start("k-sparse", 1);
    steps(&mut session, 1);
    assert_eq!(session.stats().top_k, Some(100), "k starts at 100");
}

/// Digits of your own: an IDX file to train on (the experiment starts over on them, and the
/// built-in digits come back on request), and pictures made into digits.
#[test]
fn session_trains_on_your_digits_and_reads_your_pictures() {
    let mut session = start("convnetjs", 1);
    steps(&mut session, 2);
    let (labels, pixels) = crate::data::synthetic::bars(150, 200);
    let images = crate::data::idx::encode_images(&pixels, 150, 28, 28);
    let reply = session.apply(Command::UseDigits { files: vec![ByteBuf::from(crate::data::idx::encode_labels(&labels)), ByteBuf::from(images.clone())] }).unwrap();
    assert_eq!(reply.state.digits, "your 150 digits");
    assert_eq!((reply.stats.examples_seen, session.train_set().n_images), (0.0, 135));
    steps(&mut session, 1);
    check_refused(&mut session, Command::UseDigits { files: vec![ByteBuf::from(images[..100].to_vec())] }, "promises");
    let reply = session.apply(Command::BuiltInDigits).unwrap();
    assert_eq!((reply.state.digits.as_str(), session.train_set().n_images), ("built-in", 270));
    // A picture: dark ink on light paper.
    let (w, h) = (40, 40);
    let rgba: Vec<u8> = (0..w * h).flat_map(|i| {
        let v = if (18..22).contains(&(i % w)) && (5..35).contains(&(i / w)) { 0 } else { 250 };
        [v, v, v, 255]
    }).collect();
    let Answer::Drawing(Some(read)) = session.query(Query::Picture { width: w, height: h, rgba }).unwrap() else { panic!() };
    assert_eq!(read.input.pixels.len(), 784);
    assert!(session.query(Query::Picture { width: w, height: h, rgba: vec![1, 2, 3] }).is_err());
    // The synthetic preset makes its own data: your digits do not go there.
    let mut linear = Session::start(Experiment::preset("linear-20", 1).unwrap(), None, clock(0.0).0).unwrap();
    check_refused(&mut linear, Command::UseDigits { files: vec![ByteBuf::from(images)] }, "makes its own data");
}

/// k-sparse presets train the other two k beside their own, and show them side by side.
#[test]
fn session_compares_three_k_side_by_side() {
    let mut session = start("k-sparse", 1);
    let reply = session.apply(Command::Compare { label: None, spec: None, config: None }).unwrap();
    assert_eq!(reply.state.comparison.as_deref(), Some("k = 70 and k = 10"));
    assert_eq!(reply.state.comparing.as_deref(), Some("k = 70 and k = 10"));
    session.apply(Command::Resume).unwrap();
    session.run_for(5.0);
    let ks: Vec<usize> = session.comparisons().iter().map(|c| c.trainer.net().layers()[0].kind().top_k().unwrap()).collect();
    assert_eq!(ks, [70, 10]);
    assert!(session.comparisons().iter().all(|c| c.trainer.progress().examples_seen > 0));
    let mut work = crate::model::network::Workspace::default();
    let texts: Vec<String> = panels::scene(panels::Panel::Recon, &session, &mut work, 560).texts().iter().map(|t| t.to_string()).collect();
    for row in ["F(x): reconstruction, k = 25", "F(x): k = 70", "F(x): k = 10"] {
        assert!(texts.contains(&row.to_string()), "{row}: {texts:?}");
    }
    let filters = panels::scene(panels::Panel::Filters, &session, &mut work, 620);
    assert!(filters.texts().iter().any(|t| t.starts_with("k = 10")), "{:?}", filters.texts());
    let saved = snapshot(&mut session);
    let mut other = start("convnetjs", 1);
    assert_eq!(other.apply(Command::Load { bytes: saved.into_bytes() }).unwrap().stats.comparisons.len(), 2);
}

/// A large PCA reference (100 components) is fit a slice at a time while training goes on, so
/// no frame waits for all of it; knowledge waits for it; the finished fit is the one-go fit.
#[test]
fn session_fits_a_large_pca_in_slices_between_batches() {
    let (clock, now) = clock(1.0);
    let mut session = Session::start(Experiment::preset("tied-sigmoid", 1).unwrap(), Some(digits(30)), clock).unwrap();
    session.run_for(0.0);
    now.set(1500.0);
    let mut slices = 0;
    while session.pca.fit.is_none() {
        let seen = session.run.examples_seen();
        let before = now.get();
        session.run_for(0.0);
        assert!(session.run.examples_seen() > seen, "training goes on between slices");
        assert!(now.get() - before < 200.0, "one slice stays short: {} ms", now.get() - before);
        if session.pca.fit.is_none() {
            assert!(session.pca.is_fitting() && session.knowledge.is_none(), "knowledge waits for its PCA");
        }
        slices += 1;
        assert!(slices < 100, "the fit finishes");
    }
    assert!(slices >= 5, "the fit took {slices} slices");
    assert!(session.stats().knowledge.is_some_and(|k| k.pca.is_some()), "measured against PCA-100 once it is there");
    let sample = session.train_set().spread(reference::MAX_IMAGES);
    let one_go = crate::model::pca::Pca::fit(&sample.pixels, sample.n_images, 784, 100);
    assert_eq!(session.pca.fit.as_ref().unwrap().model, one_go);
}

/// The page's speed ladder climbs from one step a second and every rung is a speed the session
/// accepts.
#[test]
fn session_speed_ladder_is_accepted_rung_by_rung() {
    let mut session = start("turnoff", 1);
    assert_eq!(describe().speeds.first(), Some(&1.0));
    assert!(SPEEDS.windows(2).all(|w| w[0] < w[1]));
    for speed in SPEEDS {
        assert_eq!(session.apply(Command::SetSpeed { steps_per_second: Some(speed) }).unwrap().state.speed, Some(speed));
    }
    assert_eq!(session.apply(Command::SetSpeed { steps_per_second: None }).unwrap().state.speed, None);
}

/// Every change a user makes to the training settings is kept at the examples seen then: in
/// the state, on the loss graph (and its words), and in the snapshot; a new run starts without.
#[test]
fn changes_are_marked_where_they_happened_and_saved_with_the_run() {
    let mut session = start("turnoff", 1);
    steps(&mut session, 3);
    set_lr(&mut session, 0.05).unwrap();
    let at = session.examples_seen();
    let mut config = session.state().config;
    config.batch_size = 100;
    config.optimizer = Optimizer::Adam { lr: 0.002, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    session.apply(Command::SetConfig { config: config.clone() }).unwrap();
    session.apply(Command::SetConfig { config }).unwrap(); // the same settings again: no change
    let changes: Vec<(u64, String)> = session.state().changes.iter().map(|c| (c.examples_seen, c.label.clone())).collect();
    assert_eq!(changes, [(at, "learning rate 0.05".to_string()), (at, "optimiser adam, batch size 100".to_string())]);
    steps(&mut session, 2);
    session.run_for(1.0);
    let text = panels::describe(&session).into_iter().find(|t| t.name == "loss").unwrap().label;
    assert!(text.contains(&format!("marked on it: learning rate 0.05 at {at} examples")), "{text}");
    // Saved and loaded: the marks come back with the run.
    let saved = session.snapshot_text().unwrap();
    let mut other = start("convnetjs", 1);
    other.apply(Command::Load { bytes: saved.into_bytes() }).unwrap();
    let labels: Vec<String> = other.state().changes.iter().map(|c| c.label.clone()).collect();
    assert_eq!(labels, ["learning rate 0.05", "optimiser adam, batch size 100"]);
    other.apply(Command::LoadPreset { name: "turnoff".into(), seed: None }).unwrap();
    assert!(other.state().changes.is_empty(), "a new run starts with no marks");
}

/// A learning rate far too large for `turnoff` leaves a finite but broken network: the session
/// says which layer died and that the change is the likely cause, and undo goes back to the
/// run just before the change, which then trains on.
#[test]
fn a_broken_network_is_said_and_the_change_undone() {
    let (clock, now) = clock(1.0);
    let mut session = Session::start(Experiment::preset("turnoff", 1).unwrap(), Some(digits(30)), clock).unwrap();
    steps(&mut session, 4);
    session.apply(Command::Resume).unwrap();
    let before = snapshot(&mut session);
    let at = session.examples_seen();
    set_lr(&mut session, 0.05).unwrap();
    assert_eq!(session.state().undo.as_deref(), Some("learning rate 0.05"));
    let mut health = None;
    for _ in 1..200 {
        now.advance(400.0);
        health = session.run_for(10.0).health;
        if health.is_some() {
            break;
        }
    }
    let health = health.expect("the broken network is noticed");
    assert!(health.contains("is dead") || health.contains("stopped moving"), "{health}");
    assert!(health.ends_with(&format!("Your change at {} examples (learning rate 0.05) is the likely cause: undo goes back to just before it.", crate::decimal::group_thousands(at))), "{health}");
    let reply = session.apply(Command::Undo).unwrap();
    assert_eq!(reply.stats.examples_seen, at as f64, "back to just before the change");
    assert_eq!(reply.state.config.optimizer.learning_rate(), Some(0.001));
    assert_eq!((reply.stats.health.as_deref(), reply.state.undo.as_deref()), (None, None));
    assert_eq!(reply.state.changes.last().map(|c| c.label.as_str()), Some("undid: learning rate 0.05"));
    assert_eq!(session.monitor.curves.train.last().map_or(0.0, |p| p.0), at as f64, "the curve goes back too");
    // The run is the one from before the change, bit for bit (but for its marks).
    let strip = |text: String| {
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v.as_object_mut().unwrap().remove("changes");
        v
    };
    assert_eq!(strip(snapshot(&mut session)), strip(before));
    check_refused(&mut session, Command::Undo, "no change to undo");
    steps(&mut session, 2);
    assert!(session.examples_seen() > at);
}

/// `stop=N` in a link: training pauses by itself at exactly N examples (its last batch cut short
/// where N is not a whole number of batches) and says so; the same link gives the same network on one thread and on two;
/// resuming trains on past it, and the stop is spent.
#[test]
fn a_link_with_stop_pauses_at_exactly_that_many_examples_on_any_thread_count() {
    let pairs: Vec<(String, String)> = [("preset", "tied-sigmoid"), ("seed", "3"), ("stop", "210")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let (mut session, notes) = link::start(&pairs, Some(digits(30)), clock(0.01).0).unwrap();
            assert!(notes.is_empty(), "{notes:?}");
            assert_eq!(session.state().stop, Some(210));
            let written = link::write(&session);
            assert!(written.contains(&("stop".to_string(), "210".to_string())), "{written:?}");
            let mut stats = session.stats();
            for _ in 0..1000 {
                stats = session.run_for(5.0);
                if stats.paused {
                    break;
                }
            }
            assert!(stats.paused && stats.paused_reason.is_none(), "{stats:?}");
            assert_eq!(stats.examples_seen, 210.0, "ten batches of 20, then one cut to 10");
            assert!(stats.stopped.as_deref().is_some_and(|s| s.contains("Paused at 210 examples, as asked")), "{:?}", stats.stopped);
            // Asked again, nothing more is trained.
            assert_eq!(session.run_for(5.0).examples_seen, 210.0);
            let out = outputs(&session);
            // Resuming trains on past the stop, which is spent.
            session.apply(Command::Resume).unwrap();
            assert_eq!(session.state().stop, None, "the stop is spent");
            assert!(session.run_for(5.0).examples_seen > 210.0);
            assert!(session.stats().stopped.is_none());
            check_refused(&mut session, Command::SetStop { examples: Some(0) }, "at least 1 example");
            out
        })
    };
    assert_eq!(run(1), run(2), "one thread and two give the same network");
}

/// The snapshot text with its first parameter's first number made NaN (in base64).
fn nan_param(saved: &str) -> String {
    let start = saved.find("\"data\":\"").unwrap() + "\"data\":\"".len();
    let end = start + saved[start..].find('"').unwrap();
    let mut values = crate::snapshot::floats::decode(&saved[start..end]).unwrap();
    values[0] = f32::NAN;
    format!("{}{}{}", &saved[..start], crate::snapshot::floats::encode(&values), &saved[end..])
}

/// A saved file the page gzipped (CompressionStream) loads as its text does, bit for bit.
#[test]
fn a_gzipped_snapshot_loads_as_its_text_does() {
    use std::io::Write;
    let mut session = start("tied-sigmoid", 4);
    steps(&mut session, 3);
    let saved = snapshot(&mut session);
    assert!(saved.contains(&format!("\"version\":{}", crate::snapshot::VERSION)));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(saved.as_bytes()).unwrap();
    let packed = gz.finish().unwrap();
    assert!(packed.len() < saved.len(), "gzip makes it smaller: {} of {}", packed.len(), saved.len());
    let mut other = start("convnetjs", 1);
    other.apply(Command::Load { bytes: packed }).unwrap();
    assert_eq!(outputs(&other), outputs(&session));
    assert_eq!(snapshot(&mut other), saved);
}
