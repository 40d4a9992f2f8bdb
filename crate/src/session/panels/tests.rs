//! What each panel draws, checked against the session it draws: the scatter's points are the
//! validation codes, the turn-off grid has a row per code unit, the loss graph's dashed line
//! sits at PCA's error; every panel of every preset fits the width it is given (phone to
//! desktop) without touching the network; the words describe the numbers drawn.

use super::codes::TURNOFF_DIGITS;
use super::progress::{with_loss_graph, KNN_COLOUR, STATUS};
use super::*;
use crate::model::UnitMask;
use crate::render::plot::format_tick;
use crate::render::scene::{Item, CLASS_COLOURS, REFERENCE};
use crate::session::explore::{scatter_points, scatter_title, ScatterData, SCATTER_DIGITS};
use crate::session::tests::digits;
use crate::clock::Manual;
use crate::session::{Answer, Clock, Command, Experiment, Query};

/// Widths to lay panels out at: a phone, the desktop's natural width, a wide screen.
const WIDTHS: [usize; 3] = [340, 560, 1200];

/// A clock standing at `ms`.
fn frozen(ms: f64) -> Box<dyn Clock> {
    Manual::at(ms).boxed()
}

/// A clock that moves on a little every time it is read, so `run_for` trains a few batches
/// of the main network and of its comparisons.
fn ticking() -> Box<dyn Clock> {
    Manual::ticking(0.01).boxed()
}

/// Train the network and its comparisons until every comparison has trained a batch, then pause.
fn train_all(session: &mut Session) {
    session.apply(Command::Resume).unwrap();
    for _ in 0..20 {
        session.run_for(0.05);
        if session.comparisons().iter().all(|c| c.trainer.progress().examples_seen > 0) {
            break;
        }
    }
    session.apply(Command::Pause).unwrap();
    assert!(session.comparisons().iter().all(|c| c.trainer.progress().examples_seen > 0), "the comparisons trained");
}

fn start(preset: &str) -> Session {
    Session::start(Experiment::preset(preset, 1).unwrap(), Some(digits(30)), frozen(0.0)).unwrap()
}

fn steps(session: &mut Session, n: usize) {
    for _ in 0..n {
        session.apply(Command::Step).unwrap();
    }
}

fn draw(panel: Panel, session: &Session) -> Scene {
    scene(panel, session, &mut Workspace::default(), panel.natural_width())
}

fn owned(scene: &Scene) -> Vec<String> {
    scene.texts().iter().map(|t| t.to_string()).collect()
}

fn images(scene: &Scene) -> Vec<(f32, f32, f32, f32, &crate::render::Rgba)> {
    scene.items.iter().filter_map(|i| if let Item::Image { x, y, w, h, image } = i { Some((*x, *y, *w, *h, image)) } else { None }).collect()
}

/// Why `scene` does not fit `width`: an item outside it, or text on other text or on an image.
fn misfits(scene: &Scene, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    if scene.width != width {
        out.push(format!("drawn {} wide, not {width}", scene.width));
    }
    let eps = 0.5;
    for item in &scene.items {
        let Some((x0, y0, x1, y1)) = item.bounds() else { continue };
        if x0 < -eps || x1 > width as f32 + eps || y0 < -eps || y1 > scene.height as f32 + eps {
            out.push(format!("outside {width}×{}: {:?}", scene.height, short(item)));
        }
    }
    let texts: Vec<&Item> = scene.items.iter().filter(|i| matches!(i, Item::Text { .. })).collect();
    let boxes: Vec<&Item> = scene.items.iter().filter(|i| matches!(i, Item::Text { .. } | Item::Image { .. })).collect();
    let overlap = |a: (f32, f32, f32, f32), b: (f32, f32, f32, f32)| a.0 < b.2 - eps && b.0 < a.2 - eps && a.1 < b.3 - eps && b.1 < a.3 - eps;
    for (idx, text) in texts.iter().enumerate() {
        let a = text.bounds().unwrap();
        for other in &boxes {
            if std::ptr::eq(*text, *other) || (matches!(other, Item::Text { .. }) && texts[..idx].iter().any(|t| std::ptr::eq(*t, *other))) {
                continue;
            }
            if overlap(a, other.bounds().unwrap()) {
                out.push(format!("{:?} overlaps {:?}", short(text), short(other)));
            }
        }
    }
    out
}

/// The fit check itself catches what it is for: text past the edge, text on text, text on
/// an image, a scene of the wrong width; and passes a scene that fits.
#[test]
fn the_fit_check_catches_overflow_and_overlap() {
    use crate::render::scene::{Align, INK};
    let image = crate::render::Rgba::new(10, 10, [0, 0, 0, 255]);
    type Build = fn(&mut Scene, crate::render::Rgba);
    let cases: [(&str, Build, usize); 5] = [
        ("fits", |s, i| { s.text(4.0, 10.0, "ok", 11.0, INK, Align::Left); s.image_sized(4.0, 20.0, 50.0, 50.0, i); }, 0),
        ("past the right edge", |s, _| s.text(90.0, 10.0, "too long here", 11.0, INK, Align::Left), 1),
        ("text on text", |s, _| { s.text(4.0, 10.0, "one", 11.0, INK, Align::Left); s.text(10.0, 12.0, "two", 11.0, INK, Align::Left); }, 1),
        ("text on an image", |s, i| { s.image(4.0, 4.0, i); s.text(8.0, 8.0, "x", 11.0, INK, Align::Left); }, 1),
        ("an image past the edge", |s, i| s.image_sized(60.0, 4.0, 50.0, 10.0, i), 1),
    ];
    for (what, build, n_wrong) in cases {
        let mut scene = Scene::new(100, 100);
        build(&mut scene, image.clone());
        assert_eq!(misfits(&scene, 100).len(), n_wrong, "{what}: {:?}", misfits(&scene, 100));
    }
    assert_eq!(misfits(&Scene::new(120, 10), 100).len(), 1, "the wrong width");
}

fn short(item: &Item) -> String {
    match item {
        Item::Text { x, y, text, .. } => format!("text {text:?} at ({x:.0}, {y:.0})"),
        Item::Image { x, y, w, h, .. } => format!("image {w:.0}×{h:.0} at ({x:.0}, {y:.0})"),
        other => format!("{:?}", other.bounds()),
    }
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
    session.apply(Command::View { layer: Some(1), x: Some(3), y: Some(7), manifold: None, log_y: None, components: None, ellipses: None }).unwrap();
    let (points, _) = scatter_points(&session, &mut Workspace::default());
    let acts = session.network().infer(&mut work, &valid.pixels, valid.n_images, None).activations(1).to_vec();
    assert_eq!(points[4], (acts[4 * 50 + 3], acts[4 * 50 + 7]));
    let texts = owned(&draw(Panel::Scatter, &session)).join(" ");
    assert!(texts.contains("layer 2 (enc2: 50 tanh) · x: neuron 3 · y: neuron 7 · 30 examples"), "{texts}");
}

/// A code wider than two units is plotted on its first two principal components by default
/// (two of 1,000 units of a sparse code are one column at 0): the points are the PCA scores of
/// the codes, the title says so, decoding at a digit's own point gives back its own decoding,
/// and naming a neuron brings the neuron pair back.
#[test]
fn a_wide_code_is_plotted_on_its_principal_components() {
    let mut session = start("k-sparse");
    steps(&mut session, 3);
    let view = session.view();
    assert!(view.components, "k-sparse opens on principal components: {view:?}");
    let mut work = Workspace::default();
    let data = ScatterData::of(&session, &mut work);
    let basis = data.basis.as_ref().expect("a basis");
    let reference = crate::model::pca::Pca::fit(&data.codes, data.digits.n_images, data.units, 2);
    for j in 0..2 {
        assert!((basis.pca.variances[j] - reference.variances[j]).abs() <= 1e-3 * reference.variances[j], "component {j}: {} vs {}", basis.pca.variances[j], reference.variances[j]);
    }
    assert!(basis.share > 0.0 && basis.share <= 1.0);
    let scores = basis.pca.project(&data.codes, data.digits.n_images, 2);
    assert_eq!(data.points[5], (scores[10], scores[11]));
    // The points spread along both axes (a neuron pair of this code is one column at 0).
    let spread = |f: fn(&(f32, f32)) -> f32| data.points.iter().map(f).fold(f32::MIN, f32::max) - data.points.iter().map(f).fold(f32::MAX, f32::min);
    assert!(spread(|p| p.0) > 0.0 && spread(|p| p.1) > 0.0);
    let texts = owned(&draw(Panel::Scatter, &session)).join(" ");
    assert!(texts.contains("principal components 1, 2"), "{texts}");
    // The decoder at a digit's own point draws what it draws from the digit's own code.
    let labels = data.digits.labels.clone().unwrap();
    let chart = data.chart(560, &labels, scatter_title(&session, &data), None, &[]);
    let (x_axis, y_axis) = chart.axes();
    let last = data.points.len() - 1;
    let (x, y) = data.points[last];
    let Answer::Point(point) = session.query(Query::Point { px: x_axis.map(x as f64), py: y_axis.map(y as f64), width: 560.0 }).unwrap() else { panic!() };
    let own = session.network().decode(&mut work, view.layer, &data.codes[last * data.units..(last + 1) * data.units], 1).output().to_vec();
    let decoded = point.decoded.expect("decoded").pixels;
    let worst = decoded.iter().zip(&own).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-2, "decoded at its own point: off by {worst}");
    // One neuron named: the neuron pair again.
    session.apply(Command::View { layer: None, x: Some(3), y: None, manifold: None, log_y: None, components: None, ellipses: None }).unwrap();
    assert!(!session.view().components);
    let texts = owned(&draw(Panel::Scatter, &session)).join(" ");
    assert!(texts.contains("x: neuron 3 · y: neuron 1"), "{texts}");
    session.apply(Command::View { layer: None, x: None, y: None, manifold: None, log_y: None, components: Some(true), ellipses: None }).unwrap();
    assert!(session.view().components);
}

/// The pointer over the scatter maps through the geometry the scatter was drawn with at the
/// width the page gave it: at the last-drawn digit's centre (always on top), Point finds that
/// digit, and the drawn plot has that digit's class frame where the chart says it is.
#[test]
fn pointing_at_a_digit_finds_it_at_every_width() {
    let mut session = start("convnetjs");
    steps(&mut session, 3);
    let mut work = Workspace::default();
    let data = ScatterData::of(&session, &mut work);
    let labels = data.digits.labels.clone().unwrap();
    let last = data.points.len() - 1;
    for width in WIDTHS {
        let chart = data.chart(width, &labels, scatter_title(&session, &data), None, &[]);
        let (x_axis, y_axis) = chart.axes();
        let (x, y) = data.points[last];
        let (px, py) = (x_axis.map(x as f64), y_axis.map(y as f64));
        let Answer::Point(point) = session.query(Query::Point { px, py, width: width as f64 }).unwrap() else { panic!() };
        let digit = point.digit.unwrap_or_else(|| panic!("{width}: no digit under ({px}, {py})"));
        assert_eq!(digit.index, last, "{width}");
        // Its frame (for the page's mark) is where the chart puts it, around the pointer.
        let [fl, ft, fw, fh] = digit.frame;
        assert_eq!((fl as i64, ft as i64), chart.positions()[last], "{width}");
        assert!(px >= fl && px < (fl + fw) && py >= ft && py < (ft + fh), "{width}: {:?} around ({px}, {py})", digit.frame);
        assert_eq!(digit.code, data.codes[2 * last..2 * last + 2].to_vec(), "{width}");
        assert!((point.x - x as f64).abs() < 1e-3 * (x_axis.hi - x_axis.lo), "{width}: {} vs {x}", point.x);
        // The scatter drawn at this width puts the digit's frame where the chart does.
        let scene = scene(Panel::Scatter, &session, &mut work, width);
        let (x0, y0, ..) = chart.plot_area();
        let plot = images(&scene)[0].4;
        let (left, top) = chart.positions()[last];
        assert_eq!(plot.get((left - x0 as i64) as usize, (top - y0 as i64) as usize), CLASS_COLOURS[labels[last] as usize], "{width}");
        // Far outside any thumbnail, no digit.
        let Answer::Point(empty) = session.query(Query::Point { px: 1.0, py: 1.0, width: width as f64 }).unwrap() else { panic!() };
        assert!(empty.digit.is_none(), "{width}");
    }
}

#[test]
fn turnoff_grid_has_a_row_per_code_unit() {
    let mut session = start("turnoff");
    session.apply(Command::Step).unwrap();
    let scene = draw(Panel::Turnoff, &session);
    let units = session.network().layers()[session.network().code_layer()].n_out();
    let texts = owned(&scene);
    for unit in 0..units {
        assert!(texts.iter().any(|t| *t == format!("unit {unit}") || *t == format!("unit {unit}, dead")), "unit {unit}: {texts:?}");
    }
    assert!(!texts.iter().any(|t| t.starts_with(&format!("unit {units}"))));
    // One image: input, all on, then a row per unit, TURNOFF_DIGITS digits wide.
    let shown = images(&scene);
    assert_eq!(shown.len(), 1);
    let image = shown[0].4;
    let grid = crate::render::TileGrid { tile_w: 28, tile_h: 28, cols: TURNOFF_DIGITS, scale: 1, gap: 2 };
    assert_eq!((image.width, image.height), grid.size((units + 2) * TURNOFF_DIGITS));
    // The row of unit 0 is the decoder's output with every other unit at 0.
    let digits = session.valid_set().spread(TURNOFF_DIGITS);
    let mask = UnitMask { layer: session.network().code_layer(), keep: (0..units).map(|u| u == 0).collect() };
    let mut work = Workspace::default();
    let masked = session.network().infer(&mut work, &digits.pixels, digits.n_images, Some(&mask)).output().to_vec();
    let want = grid.render(&masked, Some((0.0, 1.0)));
    let ((x0, y0), (x1, y1)) = (grid.origin(2 * TURNOFF_DIGITS), grid.origin(0));
    for (dx, dy) in [(14, 14), (3, 20), (20, 7)] {
        assert_eq!(image.get(x0 + dx, y0 + dy), want.get(x1 + dx, y1 + dy), "unit 0's first digit at ({dx}, {dy})");
    }
}

/// Every column shows, whatever the width: the turn-off grid's eight digits a row and the conv
/// net's layer-2 filters (2 × 20 tiles of 11×11) are drawn whole, shrunk rather than cut.
#[test]
fn turnoff_grid_and_conv_filters_show_every_column() {
    let mut turnoff = start("turnoff");
    turnoff.apply(Command::Step).unwrap();
    let conv = Session::start(Experiment::preset("conv-1s-8s", 1).unwrap(), Some(digits(12)), frozen(0.0)).unwrap();
    for width in [MIN_WIDTH, 340, 560, 1200] {
        let grid = draw_at(Panel::Turnoff, &turnoff, width);
        let (x, _, w, _, image) = images(&grid)[0];
        assert_eq!(image.width, 2 + TURNOFF_DIGITS * 30, "{width}: eight digits a row");
        assert!(x + w <= width as f32 && w >= 0.5 * image.width as f32, "{width}: shown {w} wide from {x}");
        let texts = owned(&grid).join(" ");
        assert!(texts.contains("all code units but one set to 0"), "{width}: the title shows: {texts}");
        let filters = draw_at(Panel::Filters, &conv, width);
        let shown = images(&filters);
        assert_eq!(shown.len(), 2, "{width}: a grid per conv layer");
        let (x, _, w, _, layer2) = shown[1];
        assert_eq!(layer2.width, 2 + 20 * 13, "{width}: twenty 11×11 filters a row");
        assert_eq!(layer2.height, 2 + 2 * 13, "{width}: a row per output channel");
        assert!(x + w <= width as f32, "{width}: shown {w} wide from {x}");
        assert!(misfits(&filters, width).is_empty() && misfits(&grid, width).is_empty(), "{width}: {:?} {:?}", misfits(&filters, width), misfits(&grid, width));
    }
}

fn draw_at(panel: Panel, session: &Session, width: usize) -> Scene {
    scene(panel, session, &mut Workspace::default(), width)
}

#[test]
fn loss_graph_pca_line_sits_at_the_pca_error() {
    let mut session = start("convnetjs");
    steps(&mut session, 5);
    let (k, pca) = session.pca_reference().unwrap();
    for width in WIDTHS {
        let scene = draw_at(Panel::Loss, &session, width);
        let dashed: Vec<&Vec<(f32, f32)>> = scene.items.iter().filter_map(|i| if let Item::Line { points, dashed: true, stroke, .. } = i { (*stroke == REFERENCE).then_some(points) } else { None }).collect();
        assert_eq!(dashed.len(), 1, "one dashed PCA line");
        let line = dashed[0];
        assert!(line.iter().all(|p| p.1 == line[0].1), "horizontal");
        // Where the graph's own y axis puts PCA's error, at this width.
        let (_, y_axis) = with_loss_graph(&session, width, |graph| graph.axes()).unwrap();
        assert_eq!(line[0].1, y_axis.map(pca));
        assert_eq!(scene.height, with_loss_graph(&session, width, |graph| graph.height()));
        assert!(scene.texts().contains(&format!("PCA-{k} {}", format_tick(pca)).as_str()));
    }
}

/// The code's 5-nearest-neighbour accuracy joins the loss graph on its own right-hand axis
/// once it has been measured, as a labelled line through the measures.
#[test]
fn loss_graph_shows_what_the_code_knows_on_a_right_axis() {
    let now = Manual::at(0.0);
    let mut session = Session::start(Experiment::preset("convnetjs", 1).unwrap(), Some(digits(30)), now.boxed()).unwrap();
    steps(&mut session, 3);
    assert!(!owned(&draw(Panel::Loss, &session)).iter().any(|t| t.contains("5-NN")), "nothing measured yet");
    for (t, n) in [(1500.0, 3), (5000.0, 3)] {
        now.set(t);
        steps(&mut session, n);
    }
    let measures = session.monitor.knowledge.clone();
    assert_eq!(measures.len(), 2, "{measures:?}");
    let scene = draw(Panel::Loss, &session);
    let texts = owned(&scene);
    assert!(texts.contains(&"5-NN accuracy".to_string()) && texts.iter().any(|t| t.starts_with("code's 5-NN accuracy")), "{texts:?}");
    let line = scene.items.iter().find_map(|i| if let Item::Line { points, stroke, .. } = i { (*stroke == KNN_COLOUR).then_some(points.clone()) } else { None }).unwrap();
    let right = with_loss_graph(&session, 560, |graph| graph.right_axis()).unwrap();
    assert_eq!(line.len(), 2);
    assert_eq!(line[1].1, right.map(measures[1].1));
    assert!(texts.iter().any(|t| t.ends_with(" %")), "percent ticks: {texts:?}");
}

#[test]
fn stats_panel_shows_the_sessions_figures() {
    let mut session = start("tied-sigmoid");
    steps(&mut session, 3);
    let stats = session.stats();
    let texts = owned(&draw(Panel::Stats, &session));
    assert!(texts.contains(&"60".to_string()), "three batches of 20: {texts:?}");
    assert!(texts.contains(&loss_text(stats.loss.valid_mse)), "{texts:?}");
    assert!(texts.contains(&loss_text(stats.loss.valid_bce)), "sigmoid outputs report cross-entropy");
    assert!(texts.contains(&"sgd · lr 0.1".to_string()));
    assert!(texts.contains(&"paused".to_string()));
    // The canvas draws exactly the rows the page gets as text, in order.
    let rows = stats_rows(&session);
    assert_eq!(texts, rows.iter().flat_map(|(l, v)| [l.clone(), v.clone()]).collect::<Vec<_>>());
    assert_eq!(rows.last().unwrap(), &(STATUS.to_string(), "paused".to_string()));
}

/// linear-20 against its 19-unit comparison: both losses side by side, in numbers one can
/// read (powers of ten, not "0.00000").
#[test]
fn linear_20_shows_both_losses_side_by_side_in_readable_units() {
    let mut session = Session::start(Experiment::preset("linear-20", 1).unwrap(), None, ticking()).unwrap();
    session.apply(Command::Compare { label: None, spec: None, config: None }).unwrap();
    train_all(&mut session);
    let stats = session.stats();
    let rows = stats_rows(&session);
    let find = |label: &str| rows.iter().find(|(l, _)| l == label).unwrap_or_else(|| panic!("{label}: {rows:?}")).1.clone();
    let own = find("20 hidden units: train · validation MSE/px");
    let other = find("19 hidden units: train · validation MSE/px");
    assert_eq!(own, format!("{} · {}", loss_text(stats.loss.train_mse), loss_text(stats.loss.valid_mse)));
    assert_eq!(other, format!("{} · {}", loss_text(stats.comparisons[0].train_mse), loss_text(stats.comparisons[0].valid_mse)));
    for value in [&own, &other] {
        assert!(!value.contains("0.000") && !value.contains('–'), "{value}");
    }
    let texts = owned(&draw(Panel::Stats, &session)).join(" ");
    assert!(texts.contains(&own) && texts.contains(&other), "{texts}");
}

#[test]
fn reconstructions_of_a_denoising_network_show_clean_corrupted_and_restored() {
    let session = start("denoising");
    let scene = draw(Panel::Recon, &session);
    let texts = owned(&scene);
    let rows = ["x: the clean digit", "H(x): corrupted, what the network sees", "F(H(x)): reconstruction"];
    for row in rows {
        assert_eq!(texts.iter().filter(|t| *t == row).count(), 2, "{row} over each of two blocks of ten: {texts:?}");
    }
    assert!(texts.join(" ").contains("masking noise: 30 % of pixels set to 0"), "{texts:?}");
    // The middle row of a block is the clean row corrupted: fewer bright pixels, none added.
    let shown = images(&scene);
    assert_eq!(shown.len(), 6);
    let bright = |image: &crate::render::Rgba| (0..image.height).flat_map(|y| (0..image.width).map(move |x| (x, y))).filter(|&(x, y)| image.get(x, y)[0] > 128).count();
    assert!(bright(shown[1].4) < bright(shown[0].4));
    let session = start("tied-sigmoid");
    let texts = owned(&draw(Panel::Recon, &session));
    assert!(!texts.iter().any(|t| t.starts_with("H(x)")) && texts.contains(&"x: the input digit".to_string()) && texts.contains(&"F(x): reconstruction".to_string()), "{texts:?}");
}

#[test]
fn filters_show_the_presets_shading_and_the_comparison_beside() {
    let mut session = start("denoising");
    session.apply(Command::Compare { label: None, spec: None, config: None }).unwrap();
    let texts = owned(&draw(Panel::Filters, &session)).join(" ");
    assert!(texts.starts_with("layer 1 weights, each unit's as a 28×28 image · black ≤ -3, white ≥ 3"), "{texts}");
    assert!(texts.contains("this network: 100 of 100 units") && texts.contains("the same network without noise:"), "{texts}");
    // The network view shows activations only: the weights are the filters panel's.
    let network = owned(&draw(Panel::Network, &session)).join(" ");
    assert!(!network.contains("weights"), "{network}");
}

/// k-sparse: the k in force while it anneals, in the stats and over the filters, and the
/// companions' filters beside, each labelled by its k.
#[test]
fn k_sparse_shows_k_annealing_and_the_other_k_beside() {
    let mut session = Session::start(Experiment::preset("k-sparse", 1).unwrap(), Some(digits(30)), ticking()).unwrap();
    session.apply(Command::Compare { label: None, spec: None, config: None }).unwrap();
    train_all(&mut session);
    // k falls from 100 over 90,000 examples: after a few batches it is still 100.
    assert_eq!(progress::top_k(session.network()), Some((100, 25)));
    let rows = stats_rows(&session);
    let k_row = rows.iter().find(|(l, _)| l.starts_with("k in force")).unwrap();
    assert_eq!(k_row.1, "100, annealing to 25", "{rows:?}");
    for width in [340, 1200] {
        let texts = owned(&draw_at(Panel::Filters, &session, width)).join(" ");
        for heading in ["k = 25 (now 100, annealing)", "k = 70 (now 100, annealing)", "k = 10 (now 100, annealing)"] {
            assert!(texts.contains(heading), "{width}: {heading}: {texts}");
        }
    }
    // Side by side on a wide screen (one row of three grids), one under another on a phone.
    let tops = |width| images(&draw_at(Panel::Filters, &session, width)).iter().map(|i| i.1).collect::<Vec<_>>();
    let (wide, narrow) = (tops(1200), tops(340));
    assert!(wide.len() == 3 && wide.iter().all(|&y| y == wide[0]), "{wide:?}");
    assert!(narrow.len() == 3 && narrow.windows(2).all(|w| w[1] > w[0]), "{narrow:?}");
}

/// Pretraining: the phases in the stats and marked on the graph; once done, the final
/// accuracy of the pretrained classifier against the random one.
#[test]
fn pretraining_shows_its_phases_and_the_final_accuracies() {
    // The pretraining preset's classifier, 784-500-250-100-10, shrunk to 784-16-8-10.
    let mut experiment = Experiment::preset("pretrain", 1).unwrap();
    let mut layers = experiment.spec.layers.clone();
    layers.remove(3);
    for (layer, units) in layers[1..3].iter_mut().zip([16, 8]) {
        let crate::model::LayerSpec::Fc { units: u, .. } = layer else { panic!("fc layers") };
        *u = units;
    }
    experiment.spec = crate::model::NetSpec { layers };
    let plan = experiment.pretrain.as_mut().unwrap();
    (plan.n_labels, plan.epochs_per_layer, plan.finetune_epochs) = (60, 1, 20);
    let mut session = Session::start(experiment, Some(digits(20)), frozen(0.0)).unwrap();
    let loss_note = |s: &Session| info(s).into_iter().find(|i| i.name == "loss").unwrap().note;
    assert!(!loss_note(&session).contains("PCA"), "no PCA line while pretraining");
    let mut seen_layer_2 = false;
    while session.pretrainer().unwrap().phase != crate::pretrain::Phase::Done {
        session.apply(Command::Step).unwrap();
        if session.pretrainer().unwrap().phase == (crate::pretrain::Phase::Pretraining { layer: 1 }) && !seen_layer_2 {
            seen_layer_2 = true;
            let rows = stats_rows(&session);
            assert!(rows[0].1.starts_with("2 of 3: pretraining layer 2 of 2"), "{rows:?}");
            let texts = owned(&draw(Panel::Loss, &session));
            assert!(texts.contains(&"layer 1".to_string()) && texts.contains(&"layer 2".to_string()), "phases marked: {texts:?}");
        }
    }
    assert!(seen_layer_2);
    let stats = session.stats().pretraining.unwrap();
    let (a, b) = (stats.accuracy_pretrained.unwrap(), stats.accuracy_random.unwrap());
    let rows = stats_rows(&session);
    assert_eq!(rows[0].1, "done: all 3 phases");
    let value = |label: &str| rows.iter().find(|(l, _)| l == label).unwrap().1.clone();
    assert_eq!(value("final validation accuracy, pretrained"), format!("{:.1} %", 100.0 * a));
    assert_eq!(value("final validation accuracy, random init"), format!("{:.1} %", 100.0 * b));
    let texts = owned(&draw(Panel::Loss, &session)).join(" ");
    assert!(texts.contains(&format!("final validation accuracy: pretrained {:.1} %, random init {:.1} %", 100.0 * a, 100.0 * b)), "{texts}");
    let label = describe(&session).into_iter().find(|t| t.name == "stats").unwrap().label;
    assert!(label.contains(&format!("{:.1} %", 100.0 * a)) && label.contains("pretraining done"), "{label}");
}

/// Every panel of every preset (with its comparisons training) at a phone's, the desktop's and
/// a wide screen's width: exactly that wide, nothing outside, no text on text or on an image,
/// and drawing changes nothing.
#[test]
fn every_panel_of_every_preset_fits_its_width_and_changes_nothing() {
    let digits = digits(120);
    for preset in crate::presets::all() {
        let mut session = Session::start(Experiment::preset(&preset.name, 1).unwrap(), Some(digits.clone()), frozen(0.0)).unwrap();
        if !preset.comparisons.is_empty() {
            session.apply(Command::Compare { label: None, spec: None, config: None }).unwrap();
        }
        session.apply(Command::Step).unwrap();
        let before = (session.snapshot_text(), session.stats());
        let mut work = Workspace::default();
        for panel in Panel::ALL {
            for width in WIDTHS {
                let scene = scene(panel, &session, &mut work, width);
                assert!(scene.height > 0 && !scene.items.is_empty(), "{}: {} is empty", preset.name, panel.name());
                let wrong = misfits(&scene, width);
                assert!(wrong.is_empty(), "{} at {width}, {}: {wrong:#?}", panel.name(), preset.name);
            }
        }
        assert!((session.snapshot_text(), session.stats()) == before, "{}: drawing changed the session", preset.name);
    }
}

/// Heights follow the content: the scatter's plot is square, so it grows with the width; a
/// width outside the range is clamped.
#[test]
fn panels_grow_with_their_width_and_clamp_it() {
    let mut session = start("convnetjs");
    steps(&mut session, 2);
    let heights: Vec<usize> = WIDTHS.iter().map(|&w| draw_at(Panel::Scatter, &session, w).height).collect();
    assert!(heights.windows(2).all(|h| h[1] > h[0]), "{heights:?}");
    assert_eq!(draw_at(Panel::Stats, &session, 100).width, MIN_WIDTH);
    assert_eq!(draw_at(Panel::Stats, &session, 5000).width, MAX_WIDTH);
    for (asked, want) in [(343.7, 343), (f64::NAN, MIN_WIDTH), (-5.0, MIN_WIDTH), (f64::INFINITY, MAX_WIDTH)] {
        assert_eq!(clamp_width(asked), want, "{asked}");
    }
}

#[test]
fn panels_are_shown_where_they_mean_something() {
    let cases = [
        ("turnoff", Panel::Turnoff, true),
        ("convnetjs", Panel::Turnoff, true),
        ("tied-sigmoid", Panel::Turnoff, false),
        ("k-sparse", Panel::Turnoff, false),
        ("linear-20", Panel::Turnoff, false),
        ("pretrain", Panel::Turnoff, false),
        ("conv-1s-8s", Panel::Turnoff, true),
        ("tied-sigmoid", Panel::Filters, true),
        ("tied-sigmoid", Panel::Scatter, true),
    ];
    let digits = digits(120);
    for (preset, panel, want) in cases {
        let session = Session::start(Experiment::preset(preset, 1).unwrap(), Some(digits.clone()), frozen(0.0)).unwrap();
        let got = info(&session).into_iter().find(|i| i.name == panel.name()).unwrap().shown;
        assert_eq!(got, want, "{preset}: {}", panel.name());
    }
    // The PCA note only where the PCA line is drawn.
    let note = |preset: &str| info(&Session::start(Experiment::preset(preset, 1).unwrap(), Some(digits.clone()), frozen(0.0)).unwrap()).into_iter().find(|i| i.name == "loss").unwrap().note;
    assert!(note("convnetjs").contains("PCA with 2 components"));
    assert!(!note("k-sparse").contains("PCA"), "a 1,000-unit code has no smaller PCA");
    assert!(!note("conv-1s-8s").contains("PCA"), "too large a PCA to fit while training");
}

/// The words for each panel say what it shows now, with the numbers drawn, and change as
/// training goes on.
#[test]
fn panel_texts_say_what_the_panels_show_now() {
    let mut session = start("convnetjs");
    let label = |s: &Session, panel: Panel| describe(s).into_iter().find(|t| t.name == panel.name()).unwrap().label;
    assert_eq!(describe(&session).len(), Panel::ALL.len());
    assert_eq!(label(&session, Panel::Loss), "Loss graph: empty until the first trained batch.");
    let stats_before = label(&session, Panel::Stats);
    steps(&mut session, 4);
    let stats = session.stats();
    let loss = label(&session, Panel::Loss);
    assert!(loss.starts_with("Loss graph: after 200 examples"), "{loss}");
    assert!(loss.contains(&format!("training loss {} and validation loss {} MSE per pixel", loss_text(stats.loss.train_mse), loss_text(stats.loss.valid_mse))), "{loss}");
    let stats_after = label(&session, Panel::Stats);
    assert_ne!(stats_before, stats_after);
    assert!(stats_after.contains("200 examples seen"), "{stats_after}");
    let scatter = label(&session, Panel::Scatter);
    assert!(scatter.starts_with("Code scatter of 30 validation digits on neurons 0 and 1 of layer 'code'") && scatter.contains("sit furthest apart"), "{scatter}");
    let recon = label(&session, Panel::Recon);
    assert!(recon.starts_with("Reconstructions of 20 validation digits: mean error"), "{recon}");
    steps(&mut session, 4);
    let later = label(&session, Panel::Loss);
    assert!(later.starts_with("Loss graph: after 400 examples") && later != loss, "{later}");
    assert!(label(&session, Panel::Turnoff).contains("of the 2 code units"), "{}", label(&session, Panel::Turnoff));
}

#[test]
fn panel_titles_follow_the_network() {
    let title = |session: &Session, panel: Panel| info(session).into_iter().find(|i| i.name == panel.name()).unwrap().title;
    assert_eq!(title(&start("turnoff"), Panel::Turnoff), "Turning off code units");
    let conv = Session::start(Experiment::preset("conv-1s-8s", 1).unwrap(), Some(digits(12)), frozen(0.0)).unwrap();
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

/// The page's layout: widths by panel name, clamped; a bad ratio or an unknown panel is refused
/// and changes nothing. Only due panels are painted, and a painted one waits its period.
#[test]
fn display_takes_the_layout_and_paints_what_is_due() {
    let session = start("convnetjs");
    let mut display = Display::default();
    let layout = |dpr: f64, widths: &[(&str, f64)]| Layout { dpr, widths: widths.iter().map(|&(n, w)| (n.to_string(), w)).collect() };
    display.set_layout(layout(2.0, &[("scatter", 560.0), ("loss", 10.0)])).unwrap();
    assert_eq!((display.dpr, display.width_of(Panel::Scatter), display.width_of(Panel::Loss)), (2.0, 560, MIN_WIDTH));
    assert_eq!(display.width_of(Panel::Recon), Panel::Recon.natural_width());
    for (bad, fragment) in [(layout(f64::NAN, &[]), "device pixel ratio"), (layout(1.0, &[("scater", 400.0)]), "no panel called \"scater\"")] {
        assert!(display.set_layout(bad).unwrap_err().0.contains(fragment));
    }
    assert_eq!((display.dpr, display.width_of(Panel::Scatter)), (2.0, 560), "a refused layout changes nothing");
    let targets = [(Panel::Scatter, "a"), (Panel::Loss, "b")];
    let mut painted = Vec::new();
    display.draw_due(&session, &Manual::at(0.0), &targets, |target, panel, scene| painted.push((*target, panel, scene.width)));
    assert_eq!(painted, [("a", Panel::Scatter, 560), ("b", Panel::Loss, MIN_WIDTH)]);
    painted.clear();
    // The scatter is due again after 400 ms, the loss graph after 500.
    display.draw_due(&session, &Manual::at(Panel::Scatter.every_ms() - 1.0), &targets, |target, panel, _| painted.push((*target, panel, 0)));
    assert!(painted.is_empty(), "{painted:?}");
    display.draw_due(&session, &Manual::at(Panel::Scatter.every_ms()), &targets, |target, panel, _| painted.push((*target, panel, 0)));
    assert_eq!(painted, [("a", Panel::Scatter, 0)]);
}

/// `PANELS` is in `Panel::ALL`'s order (a panel's row is found by its index), and names are
/// unique.
#[test]
fn the_panels_table_is_in_drawing_order() {
    for (row, panel) in PANELS.iter().zip(Panel::ALL) {
        assert_eq!(row.panel, panel, "{}", row.name);
        assert_eq!(Panel::from_name(row.name), Some(panel));
    }
    assert_eq!(PANELS.len(), Panel::ALL.len());
}

/// Each preset's point is one or more panels that exist and are shown for its network.
#[test]
fn every_presets_point_is_a_panel_it_shows() {
    for preset in crate::presets::all() {
        assert!(!preset.point.is_empty(), "{} names its point", preset.name);
        let session = Session::start(Experiment::preset(&preset.name, 1).unwrap(), Some(digits(120)), frozen(0.0)).unwrap();
        for name in &preset.point {
            let panel = Panel::from_name(name).unwrap_or_else(|| panic!("{}: no panel {name}", preset.name));
            assert!(shown(panel, &session), "{}: {name} is shown", preset.name);
        }
    }
}
