//! What each panel draws, checked against the session it draws: the scatter's points are the
//! validation codes, the turn-off grid has a row per code unit, the loss graph's dashed line
//! sits at PCA's error, and every panel of every preset draws without touching the network.

use super::codes::{scatter_points, SCATTER_DIGITS, TURNOFF_DIGITS};
use super::progress::GRAPH_SIZE;
use super::*;
use crate::model::UnitMask;
use crate::render::plot::{format_tick, LossGraph, Series};
use crate::render::scene::{Item, REFERENCE};
use crate::session::tests::digits;
use crate::session::{Clock, Command, Experiment};

struct Frozen(f64);

impl Clock for Frozen {
    fn now_ms(&self) -> f64 {
        self.0
    }
}

fn start(preset: &str) -> Session {
    Session::start(Experiment::preset(preset, 1).unwrap(), Some(digits(30)), Box::new(Frozen(0.0))).unwrap()
}

fn draw(panel: Panel, session: &Session) -> Scene {
    scene(panel, session, &mut Workspace::default())
}

#[test]
fn scatter_points_are_the_validation_codes() {
    let mut session = start("convnetjs");
    session.apply(Command::Step).unwrap();
    let (points, shown) = scatter_points(&session, &mut Workspace::default());
    let valid = session.valid_set().clone();
    assert_eq!(shown.n_images, valid.n_images.min(SCATTER_DIGITS));
    // The code layer's two units for each validation digit, computed here on their own.
    let net = session.network();
    let mut work = Workspace::default();
    let codes = net.infer(&mut work, &valid.pixels, valid.n_images, None).activations(net.code_layer()).to_vec();
    let want: Vec<(f32, f32)> = codes.chunks_exact(2).map(|c| (c[0], c[1])).collect();
    assert_eq!(points, want);
    // Another neuron pair of another layer is what the view asks for.
    session.apply(Command::View { layer: Some(1), x: Some(3), y: Some(7), log_y: None }).unwrap();
    let (points, _) = scatter_points(&session, &mut Workspace::default());
    let acts = session.network().infer(&mut work, &valid.pixels, valid.n_images, None).activations(1).to_vec();
    assert_eq!(points[4], (acts[4 * 50 + 3], acts[4 * 50 + 7]));
    let scene = draw(Panel::Scatter, &session);
    assert!(scene.texts().iter().any(|t| t.starts_with("layer 2 (enc2: 50 tanh) · x: neuron 3 · y: neuron 7 · 30 examples")), "{:?}", scene.texts());
}

#[test]
fn turnoff_grid_has_a_row_per_code_unit() {
    let mut session = start("turnoff");
    session.apply(Command::Step).unwrap();
    let scene = draw(Panel::Turnoff, &session);
    let units = session.network().layers()[session.network().code_layer()].n_out();
    let texts = scene.texts();
    for unit in 0..units {
        assert!(texts.iter().any(|t| t.starts_with(&format!("unit {unit} only"))), "unit {unit}: {texts:?}");
    }
    assert!(!texts.iter().any(|t| t.starts_with(&format!("unit {units} only"))));
    // One image: input, all on, then a row per unit, TURNOFF_DIGITS digits wide.
    let images: Vec<_> = scene.items.iter().filter_map(|i| if let Item::Image { image, .. } = i { Some(image) } else { None }).collect();
    assert_eq!(images.len(), 1);
    let grid = crate::render::TileGrid { tile_w: 28, tile_h: 28, cols: TURNOFF_DIGITS, scale: 1, gap: 2 };
    assert_eq!((images[0].width, images[0].height), grid.size((units + 2) * TURNOFF_DIGITS));
    // The row of unit 0 is the decoder's output with every other unit at 0.
    let digits = session.valid_set().spread(TURNOFF_DIGITS);
    let mask = UnitMask { layer: session.network().code_layer(), keep: (0..units).map(|u| u == 0).collect() };
    let mut work = Workspace::default();
    let masked = session.network().infer(&mut work, &digits.pixels, digits.n_images, Some(&mask)).output().to_vec();
    let want = grid.render(&masked, Some((0.0, 1.0)));
    let ((x0, y0), (x1, y1)) = (grid.origin(2 * TURNOFF_DIGITS), grid.origin(0));
    for (dx, dy) in [(14, 14), (3, 20), (20, 7)] {
        assert_eq!(images[0].get(x0 + dx, y0 + dy), want.get(x1 + dx, y1 + dy), "unit 0's first digit at ({dx}, {dy})");
    }
}

#[test]
fn loss_graph_pca_line_sits_at_the_pca_error() {
    let mut session = start("convnetjs");
    for _ in 0..5 {
        session.apply(Command::Step).unwrap();
    }
    let (k, pca) = session.pca_reference().unwrap();
    let scene = draw(Panel::Loss, &session);
    let dashed: Vec<&Vec<(f32, f32)>> = scene.items.iter().filter_map(|i| if let Item::Line { points, dashed: true, stroke, .. } = i { (*stroke == REFERENCE).then_some(points) } else { None }).collect();
    assert_eq!(dashed.len(), 1, "one dashed PCA line");
    let line = dashed[0];
    assert!(line.iter().all(|p| p.1 == line[0].1), "horizontal");
    // Where the graph's own y axis puts PCA's error.
    let curves = &session.monitor.curves;
    let graph = LossGraph {
        width: GRAPH_SIZE.0,
        height: GRAPH_SIZE.1,
        series: vec![Series { label: "", colour: REFERENCE, points: &curves.train }, Series { label: "", colour: REFERENCE, points: &curves.valid }],
        reference: Some(("", pca, REFERENCE)),
        log_y: false,
        y_label: "",
    };
    assert_eq!(line[0].1, graph.axes().unwrap().1.map(pca));
    assert!(scene.texts().contains(&format!("PCA-{k} {}", format_tick(pca)).as_str()));
}

#[test]
fn stats_panel_shows_the_sessions_figures() {
    let mut session = start("tied-sigmoid");
    for _ in 0..3 {
        session.apply(Command::Step).unwrap();
    }
    let stats = session.stats();
    let texts: Vec<String> = draw(Panel::Stats, &session).texts().iter().map(|t| t.to_string()).collect();
    assert!(texts.contains(&"60".to_string()), "three batches of 20: {texts:?}");
    assert!(texts.contains(&format!("{:.5}", stats.loss.valid_mse.unwrap())));
    assert!(texts.contains(&format!("{:.5}", stats.loss.valid_bce.unwrap())), "sigmoid outputs report cross-entropy");
    assert!(texts.contains(&"sgd · lr 0.1".to_string()));
    assert!(texts.contains(&"paused".to_string()));
}

#[test]
fn reconstructions_show_the_corruption_only_when_noise_is_on() {
    let session = start("denoising");
    let texts = draw(Panel::Recon, &session).texts().iter().map(|t| t.to_string()).collect::<Vec<_>>();
    assert!(texts.contains(&"H(x)".to_string()) && texts.contains(&"F(H(x))".to_string()), "{texts:?}");
    let session = start("tied-sigmoid");
    let texts = draw(Panel::Recon, &session).texts().iter().map(|t| t.to_string()).collect::<Vec<_>>();
    assert!(!texts.contains(&"H(x)".to_string()) && texts.contains(&"F(x)".to_string()));
}

#[test]
fn filters_show_the_presets_shading_and_the_comparison_beside() {
    let mut session = start("denoising");
    session.apply(Command::Compare { label: None, spec: None, config: None }).unwrap();
    let texts = draw(Panel::Filters, &session).texts().iter().map(|t| t.to_string()).collect::<Vec<_>>();
    assert!(texts[0].starts_with("layer 1 of this network: 100 of 100 units · black ≤ -3, white ≥ 3"), "{texts:?}");
    assert!(texts[1].starts_with("layer 1 of the same network without noise"), "{texts:?}");
}

#[test]
fn every_panel_of_every_preset_draws_and_changes_nothing() {
    let digits = digits(120);
    for preset in crate::presets::all() {
        let mut session = Session::start(Experiment::preset(&preset.name, 1).unwrap(), Some(digits.clone()), Box::new(Frozen(0.0))).unwrap();
        session.apply(Command::Step).unwrap();
        let before = (session.snapshot_text(), session.stats());
        let mut work = Workspace::default();
        for panel in Panel::ALL {
            let scene = scene(panel, &session, &mut work);
            assert!(scene.width > 0 && scene.height > 0 && !scene.items.is_empty(), "{}: {} is empty", preset.name, panel.name());
        }
        assert!((session.snapshot_text(), session.stats()) == before, "{}: drawing changed the session", preset.name);
    }
}

#[test]
fn panel_titles_follow_the_network() {
    let title = |session: &Session, panel: Panel| info(session).into_iter().find(|i| i.name == panel.name()).unwrap().title;
    assert_eq!(title(&start("turnoff"), Panel::Turnoff), "Turning off code units");
    let conv = Session::start(Experiment::preset("conv-1s-8s", 1).unwrap(), Some(digits(12)), Box::new(Frozen(0.0))).unwrap();
    assert_eq!(title(&conv, Panel::Turnoff), "Sample activations");
    assert_eq!(info(&conv).len(), Panel::ALL.len());
    for panel in Panel::ALL {
        assert_eq!(Panel::from_name(panel.name()), Some(panel));
    }
    assert_eq!(Panel::from_name("nope"), None);
}

#[test]
fn schedule_redraws_each_panel_at_its_pace() {
    let mut schedule = Schedule::default();
    assert!(Panel::ALL.iter().all(|&p| schedule.is_due(p, 0.0)), "everything is due at first");
    schedule.drawn(Panel::Stats, 0.0, 5.0);
    assert!(!schedule.is_due(Panel::Stats, 204.0) && schedule.is_due(Panel::Stats, 205.0), "every 200 ms");
    // A panel that took 300 ms to draw waits ten times that.
    schedule.drawn(Panel::Scatter, 1000.0, 1300.0);
    assert!(!schedule.is_due(Panel::Scatter, 4299.0) && schedule.is_due(Panel::Scatter, 4300.0));
    schedule.all_due();
    assert!(schedule.is_due(Panel::Scatter, 1300.0));
}

#[test]
fn numbers_are_grouped_in_thousands() {
    assert_eq!(group_thousands(0), "0");
    assert_eq!(group_thousands(999), "999");
    assert_eq!(group_thousands(1000), "1,000");
    assert_eq!(group_thousands(1_234_567), "1,234,567");
}
