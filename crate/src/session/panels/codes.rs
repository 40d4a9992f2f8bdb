//! The panels about what the network makes of digits: the code scatter, the reconstructions
//! (a classifier's answers instead), and seed 000's turn-off grid (seed 001's sample
//! activations for conv networks, which `layers.rs` draws).

use super::layers;
use super::Session;
use crate::model::network::Workspace;
use crate::model::UnitMask;
use crate::render::image::samples;
use crate::render::scatter::Scatter;
use crate::render::scene::{Align, Scene, INK, MUTED};
use crate::render::TileGrid;
use crate::rng::Rng;

/// Validation digits in the scatter.
pub const SCATTER_DIGITS: usize = 500;
/// Validation digits in the reconstructions panel.
const RECON_DIGITS: usize = 20;
/// The turn-off grid is drawn for codes of at most this many units, on this many digits.
pub const TURNOFF_MAX_UNITS: usize = 32;
pub const TURNOFF_DIGITS: usize = 8;
const RIGHT: [u8; 4] = [110, 220, 120, 255];
const WRONG: [u8; 4] = [255, 107, 107, 255];

/// The codes of the scatter's digits: the (x, y) neuron pair of the viewed layer, one point
/// per digit, with the digits they belong to.
pub fn scatter_points(session: &Session, work: &mut Workspace) -> (Vec<(f32, f32)>, crate::data::Dataset) {
    let digits = session.valid_set().spread(SCATTER_DIGITS);
    let view = session.view();
    let net = session.network();
    let units = net.layers()[view.layer].n_out();
    let acts = net.infer(work, &digits.pixels, digits.n_images, None).activations(view.layer);
    let (x, y) = (view.x.min(units - 1), view.y.min(units - 1));
    let points = acts.chunks_exact(units).map(|row| (row[x], row[y])).collect();
    (points, digits)
}

pub fn scatter(session: &Session, work: &mut Workspace) -> Scene {
    let (points, digits) = scatter_points(session, work);
    let view = session.view();
    let net = session.network();
    let layer = &net.layers()[view.layer];
    let title = format!(
        "layer {} ({}: {} {}{}) · x: neuron {} · y: neuron {} · {} examples",
        view.layer + 1,
        layer.name(),
        layer.n_out(),
        layer.activation().name(),
        if view.layer == net.code_layer() { ", code" } else { "" },
        view.x,
        view.y,
        digits.n_images
    );
    let labels = digits.labels.clone().unwrap_or_default();
    Scatter { width: 560, height: 560, points: &points, labels: &labels, images: &digits.pixels, thumb_w: digits.width, thumb_h: digits.height, title }.scene()
}

/// Inputs x, their corruption H(x) when noise is on, and the reconstructions.
pub fn reconstructions(session: &Session, work: &mut Workspace) -> Scene {
    if session.network().is_classifier() {
        return answers(session, work);
    }
    let valid = session.valid_set();
    let vectors = valid.height <= 1;
    let digits = valid.spread(if vectors { 6 } else { RECON_DIGITS });
    let noise = session.trainer().config().noise;
    let mut corrupted = digits.pixels.clone();
    // Display noise comes from a generator derived from the run's seed, so drawing never
    // draws from (and never changes) the training stream.
    noise.apply(&mut corrupted, &mut Rng::from_seed(session.trainer().seed() ^ 0xd15_91a7));
    let outputs = session.network().infer(work, &corrupted, digits.n_images, None).output().to_vec();
    let n_px = digits.n_pixels();
    let out_label = if noise.is_none() { "F(x)" } else { "F(H(x))" };
    let caption = if noise.is_none() { "input x and reconstruction F(x)" } else { "input x, corrupted H(x), reconstruction F(H(x))" };
    // Rows of (label, values): blocks of ten digits, or one strip per vector.
    let per_block = if vectors { 1 } else { 10 };
    let mut rows: Vec<(&str, &[f32])> = Vec::new();
    for block in 0..digits.n_images.div_ceil(per_block) {
        let range = block * per_block * n_px..((block + 1) * per_block).min(digits.n_images) * n_px;
        rows.push(("x", &digits.pixels[range.clone()]));
        if !noise.is_none() {
            rows.push(("H(x)", &corrupted[range.clone()]));
        }
        rows.push((out_label, &outputs[range]));
    }
    let tiles: Vec<f32> = rows.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    let image = samples(&tiles, (digits.width, digits.height), per_block, 2, Some((0.0, 1.0)));
    let row_height = image.height as f32 / rows.len() as f32;
    let mut scene = Scene::new(image.width + 70, image.height + 24);
    for (row, (label, _)) in rows.iter().enumerate() {
        scene.text(62.0, 22.0 + (row as f32 + 0.5) * row_height, *label, 12.0, MUTED, Align::Right);
    }
    scene.text(70.0, 10.0, caption, 12.0, INK, Align::Left);
    scene.image(70.0, 22.0, image);
    scene
}

/// A classifier's answers for validation digits: each digit with its predicted class.
fn answers(session: &Session, work: &mut Workspace) -> Scene {
    let digits = session.valid_set().spread(RECON_DIGITS);
    let net = session.network();
    let n_classes = net.n_outputs();
    let predicted: Vec<usize> = net
        .infer(work, &digits.pixels, digits.n_images, None)
        .output()
        .chunks_exact(n_classes)
        .map(|p| p.iter().enumerate().fold(0, |best, (i, &v)| if v > p[best] { i } else { best }))
        .collect();
    let grid = TileGrid { tile_w: digits.width, tile_h: digits.height, cols: 10, scale: 2, gap: 18 };
    let image = grid.render(&digits.pixels, Some((0.0, 1.0)));
    let mut scene = Scene::new(image.width + 20, image.height + 24);
    scene.text(10.0, 10.0, "validation digits and the classifier's answer (green: right, red: wrong)", 12.0, INK, Align::Left);
    scene.image(10.0, 22.0, image);
    let labels = digits.labels.clone().unwrap_or_default();
    for (idx, &class) in predicted.iter().enumerate() {
        let (x, y) = grid.origin(idx);
        let colour = if labels.get(idx).is_some_and(|&l| l as usize == class) { RIGHT } else { WRONG };
        let tile_h = (digits.height * 2) as f32;
        scene.text(10.0 + x as f32 + digits.width as f32, 22.0 + y as f32 + tile_h + 9.0, class.to_string(), 12.0, colour, Align::Center);
    }
    scene
}

/// Which code units no validation digit activates.
pub fn dead_units(session: &Session, work: &mut Workspace) -> Vec<bool> {
    let net = session.network();
    let code = net.code_layer();
    let units = net.layers()[code].n_out();
    let valid = session.valid_set();
    let acts = net.infer(work, &valid.pixels, valid.n_images, None).activations(code);
    (0..units).map(|u| acts.chunks_exact(units).all(|row| row[u] == 0.0)).collect()
}

/// Seed 000's experiment: the decoder's output when every code unit but one is set to 0.
pub fn turnoff(session: &Session, work: &mut Workspace) -> Scene {
    let net = session.network();
    if net.layers().iter().any(|l| !l.is_dense()) {
        return layers::sample_activations(session, work);
    }
    let code = net.code_layer();
    let units = net.layers()[code].n_out();
    let (w, h, _) = net.input_shape();
    if units > TURNOFF_MAX_UNITS || h <= 1 || net.is_classifier() {
        let mut scene = Scene::new(560, 30);
        let why = if net.is_classifier() {
            "autoencoders".to_string()
        } else if h <= 1 {
            "image data".to_string()
        } else {
            format!("codes of at most {TURNOFF_MAX_UNITS} units (this one has {units})")
        };
        scene.text(8.0, 14.0, format!("the turn-off grid is drawn for {why}"), 12.0, MUTED, Align::Left);
        return scene;
    }
    let dead = dead_units(session, work);
    let digits = session.valid_set().spread(TURNOFF_DIGITS);
    let mut tiles = digits.pixels.clone();
    tiles.extend_from_slice(net.infer(work, &digits.pixels, digits.n_images, None).output());
    for unit in 0..units {
        let mask = UnitMask { layer: code, keep: (0..units).map(|u| u == unit).collect() };
        tiles.extend_from_slice(net.infer(work, &digits.pixels, digits.n_images, Some(&mask)).output());
    }
    let grid = TileGrid { tile_w: w, tile_h: h, cols: TURNOFF_DIGITS, scale: 1, gap: 2 };
    let image = grid.render(&tiles, Some((0.0, 1.0)));
    let mut scene = Scene::new(image.width + 130, image.height + 24);
    let n_dead = dead.iter().filter(|&&d| d).count();
    scene.text(130.0, 10.0, format!("all code units but one set to 0 · {n_dead} dead unit{}", if n_dead == 1 { "" } else { "s" }), 12.0, INK, Align::Left);
    let row_y = |row: usize| 22.0 + grid.origin(row * TURNOFF_DIGITS).1 as f32 + h as f32 / 2.0;
    scene.text(122.0, row_y(0), "input", 12.0, MUTED, Align::Right);
    scene.text(122.0, row_y(1), "all units on", 12.0, MUTED, Align::Right);
    for (unit, is_dead) in dead.iter().enumerate() {
        let (label, colour) = if *is_dead { (format!("unit {unit} only · dead"), WRONG) } else { (format!("unit {unit} only"), MUTED) };
        scene.text(122.0, row_y(unit + 2), label, 12.0, colour, Align::Right);
    }
    scene.image(130.0, 22.0, image);
    scene
}
