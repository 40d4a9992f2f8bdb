//! The panels about what the network makes of digits: the code scatter, the reconstructions
//! (a classifier's answers instead; a denoising network's clean, corrupted and reconstructed
//! digits; comparison networks' beside), and seed 000's turn-off grid (seed 001's sample
//! activations for conv networks, which `layers.rs` draws), each laid out for its width.

use super::progress::main_label;
use super::{layers, show_fitted, Session};
use crate::data::Noise;
use crate::model::network::Workspace;
use crate::model::UnitMask;
use crate::render::image::{heat_strips, tile_columns};
use crate::render::scene::{text_width, Align, Scene, INK, MUTED};
use crate::render::TileGrid;
use crate::rng::Rng;
use crate::session::explore;

/// Validation digits in the reconstructions panel.
pub const RECON_DIGITS: usize = 20;
/// The turn-off grid is drawn for codes of 2 to this many units, on this many digits.
pub const TURNOFF_MAX_UNITS: usize = 32;
pub const TURNOFF_DIGITS: usize = 8;
const RIGHT: [u8; 4] = [110, 220, 120, 255];
const WRONG: [u8; 4] = [255, 107, 107, 255];
const PAD: f32 = 8.0;
const CAPTION: f32 = 12.0;
const LABEL: f32 = 11.0;

pub fn scatter(session: &Session, work: &mut Workspace, width: usize) -> Scene {
    let data = explore::ScatterData::recent(session, work);
    let view = session.view();
    let title = explore::scatter_title(session, &data);
    let labels = data.digits.labels.clone().unwrap_or_default();
    let marks = explore::marked_points(session, work, &data);
    let background = if view.manifold { explore::manifold(session, &data, work, width) } else { None };
    data.chart(width, &labels, title, background, &marks).scene()
}

/// What the noise does, in words.
pub fn noise_text(noise: Noise) -> String {
    match noise {
        Noise::None => "no noise".into(),
        Noise::Masking { fraction } => format!("masking noise: {:.0} % of pixels set to 0", 100.0 * fraction),
        Noise::Gaussian { sigma } => format!("Gaussian noise, σ = {sigma}"),
        Noise::SaltPepper { fraction } => format!("salt-and-pepper noise on {:.0} % of pixels", 100.0 * fraction),
    }
}

/// The reconstructions panel's digits: validation digits x, what the network sees (H(x) when
/// it trains with noise, else x), its outputs, and each comparison network's outputs of the
/// same inputs (labelled by the comparison).
pub struct Reconstructions {
    pub digits: crate::data::Dataset,
    pub noise: Noise,
    pub seen: Vec<f32>,    // (n_digits, n_pixels)
    pub outputs: Vec<f32>, // (n_digits, n_outputs)
    /// Each comparison's label and outputs (n_digits, n_outputs).
    pub beside: Vec<(String, Vec<f32>)>,
    /// A variational autoencoder's samples: codes drawn from its prior N(0, I), decoded by it
    /// (n_samples, n_outputs), and by each comparison of the same code size, labelled.
    pub samples: Vec<(String, Vec<f32>)>,
}

/// Samples from a variational code's prior shown at a time.
pub const PRIOR_SAMPLES: usize = 20;

/// `PRIOR_SAMPLES` codes from N(0, I) of `units` numbers: draw `draw` of the run's seed, from a
/// generator of their own (drawing never touches training's).
pub fn prior_codes(seed: u64, draw: u64, units: usize) -> Vec<f32> {
    let mut rng = Rng::from_seed(seed ^ 0x5a3b_1e00 ^ draw.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    (0..PRIOR_SAMPLES * units).map(|_| rng.normal()).collect()
}

impl Reconstructions {
    pub fn of(session: &Session, work: &mut Workspace) -> Reconstructions {
        let valid = session.valid_set();
        let digits = valid.spread(if valid.height <= 1 { 6 } else { RECON_DIGITS });
        let noise = session.trainer().config().noise;
        let mut seen = digits.pixels.clone();
        // Display noise comes from a generator derived from the run's seed, so drawing never
        // draws from (and never changes) the training stream.
        noise.apply(&mut seen, &mut Rng::from_seed(session.trainer().seed() ^ 0xd15_91a7));
        let outputs = session.network().infer(work, &seen, digits.n_images, None).output().to_vec();
        let n_out = outputs.len() / digits.n_images.max(1);
        let beside = session
            .comparisons()
            .iter()
            .filter(|c| c.trainer.net().n_outputs() == n_out)
            .map(|c| (c.label.clone(), c.trainer.net().infer(work, &seen, digits.n_images, None).output().to_vec()))
            .collect();
        let mut samples = Vec::new();
        let net = session.network();
        if let Some(g) = net.gaussian_layer() {
            let units = net.layers()[g].n_out();
            let codes = prior_codes(session.trainer().seed(), session.prior_draw, units);
            samples.push(("samples: codes drawn from N(0, I), decoded".to_string(), net.decode(work, g, &codes, PRIOR_SAMPLES).output().to_vec()));
            for c in session.comparisons() {
                let other = c.trainer.net();
                if other.code_layer() == g && other.layers()[g].n_out() == units && other.n_outputs() == n_out {
                    samples.push((format!("the same codes decoded by {}", c.label), other.decode(work, g, &codes, PRIOR_SAMPLES).output().to_vec()));
                }
            }
        }
        Reconstructions { digits, noise, seen, outputs, beside, samples }
    }

    /// Each digit's squared error per pixel against the clean x, for (outputs, then beside).
    pub fn errors(&self, outputs: &[f32]) -> Vec<f64> {
        let n_px = self.digits.n_pixels();
        self.digits.pixels.chunks_exact(n_px).zip(outputs.chunks_exact(n_px)).map(|(x, y)| x.iter().zip(y).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>() / n_px as f64).collect()
    }
}

/// Validation digits x, their corruption H(x) when noise is on, and the reconstructions (the
/// comparison networks' beside): blocks of digits as wide as the panel, a labelled row each.
pub fn reconstructions(session: &Session, work: &mut Workspace, width: usize) -> Scene {
    if session.network().is_classifier() {
        return answers(session, work, width);
    }
    let recon = Reconstructions::of(session, work);
    let digits = &recon.digits;
    let noisy = !recon.noise.is_none();
    let (out_label, seen_label) = if noisy { ("F(H(x))", "H(x)") } else { ("F(x)", "x") };
    let main = main_label(session);
    let (thing, things) = if digits.height <= 1 { ("vector", "vectors") } else { ("digit", "digits") };
    // Rows of (label, values) per block.
    let mut kinds: Vec<(String, &[f32])> = vec![(format!("x: the {} {thing}", if noisy { "clean" } else { "input" }), &digits.pixels)];
    if noisy {
        kinds.push(("H(x): corrupted, what the network sees".into(), &recon.seen));
    }
    let own = if recon.beside.is_empty() { format!("{out_label}: reconstruction") } else { format!("{out_label}: reconstruction, {main}") };
    kinds.push((own, &recon.outputs));
    for (label, outputs) in &recon.beside {
        kinds.push((format!("{out_label}: {label}"), outputs));
    }
    let caption = if noisy {
        format!("each validation {thing} x, its corruption H(x) ({}), and the network's reconstruction F(H(x)) of the corrupted {thing}", noise_text(recon.noise))
    } else {
        format!("validation {things} x and their reconstructions {out_label} from {seen_label}")
    };
    let mut scene = Scene::new(width, 0);
    let room = width as f32 - 2.0 * PAD;
    // A variational autoencoder's samples come first, the caption of the reconstructions after.
    let mut y = if recon.samples.is_empty() { scene.paragraph(PAD, 4.0, &caption, CAPTION, INK, room) + 4.0 } else { 4.0 };
    let n_px = digits.n_pixels();
    if digits.height <= 1 {
        // Vectors: one heat strip each, a block per vector.
        let cell = ((room as usize - 2) / digits.width.max(1)).clamp(1, 8);
        for idx in 0..digits.n_images {
            for (label, values) in &kinds {
                y = scene.paragraph(PAD, y, &format!("{label} · {thing} {}", idx + 1), LABEL, MUTED, room);
                let strip = heat_strips(&values[idx * n_px..(idx + 1) * n_px], digits.width, cell, 10, 1);
                y += show_fitted(&mut scene, PAD, y, strip, room, 1.0).1 + 4.0;
            }
            y += 4.0;
        }
        scene.height = y.ceil() as usize;
        return scene;
    }
    let (cols, shown) = tile_columns(digits.width, room, &[20, 10, 5]);
    if !recon.samples.is_empty() {
        // The prior's samples first (the point of a variational code), in blocks as wide as
        // the digits below.
        y = scene.paragraph(PAD, y, "Sampling: the decoder draws a digit for any code; here for codes drawn at random from the standard normal the variational code is trained toward", CAPTION, INK, room) + 4.0;
        for block in 0..PRIOR_SAMPLES.div_ceil(cols) {
            let range = block * cols * n_px..((block + 1) * cols).min(PRIOR_SAMPLES) * n_px;
            for (label, values) in &recon.samples {
                y = scene.paragraph(PAD, y, label, LABEL, MUTED, room);
                let image = TileGrid { tile_w: digits.width, tile_h: digits.height, cols, scale: 1, gap: 2 }.render(&values[range.clone()], Some((0.0, 1.0)));
                y += show_fitted(&mut scene, PAD, y, image, room, shown / digits.width as f32).1 + 2.0;
            }
            y += 8.0;
        }
    }
    if !recon.samples.is_empty() {
        y = scene.paragraph(PAD, y, &format!("{caption}, each decoded from its mean code"), CAPTION, INK, room) + 4.0;
    }
    for block in 0..digits.n_images.div_ceil(cols) {
        let range = block * cols * n_px..((block + 1) * cols).min(digits.n_images) * n_px;
        for (label, values) in &kinds {
            y = scene.paragraph(PAD, y, label, LABEL, MUTED, room);
            let image = TileGrid { tile_w: digits.width, tile_h: digits.height, cols, scale: 1, gap: 2 }.render(&values[range.clone()], Some((0.0, 1.0)));
            let scale = shown / digits.width as f32;
            y += show_fitted(&mut scene, PAD, y, image, room, scale).1 + 2.0;
        }
        y += 8.0;
    }
    scene.height = y.ceil() as usize;
    scene
}

/// A classifier's answers for validation digits: each digit with its predicted class under it.
fn answers(session: &Session, work: &mut Workspace, width: usize) -> Scene {
    let digits = session.valid_set().spread(RECON_DIGITS);
    let net = session.network();
    let n_classes = net.n_outputs();
    let predicted: Vec<usize> = net
        .infer(work, &digits.pixels, digits.n_images, None)
        .output()
        .chunks_exact(n_classes)
        .map(|p| p.iter().enumerate().fold(0, |best, (i, &v)| if v > p[best] { i } else { best }))
        .collect();
    let mut scene = Scene::new(width, 0);
    let room = width as f32 - 2.0 * PAD;
    let top = scene.paragraph(PAD, 4.0, "validation digits and the classifier's answer (green: right, red: wrong)", CAPTION, INK, room) + 4.0;
    // Tiles with room for the answer under each.
    let (cols, shown) = tile_columns(digits.width, room, &[10, 5]);
    let pitch = room / cols as f32;
    let row_h = shown * digits.height as f32 / digits.width as f32 + 18.0;
    let labels = digits.labels.clone().unwrap_or_default();
    for (idx, &class) in predicted.iter().enumerate() {
        let (col, row) = ((idx % cols) as f32, (idx / cols) as f32);
        let (x, y) = (PAD + col * pitch + (pitch - shown) / 2.0, top + row * row_h);
        let tile = TileGrid { tile_w: digits.width, tile_h: digits.height, cols: 1, scale: 1, gap: 0 }.render(digits.image(idx), Some((0.0, 1.0)));
        let tile_h = shown * digits.height as f32 / digits.width as f32;
        scene.image_sized(x, y, shown, tile_h, tile);
        let colour = if labels.get(idx).is_some_and(|&l| l as usize == class) { RIGHT } else { WRONG };
        scene.text(x + shown / 2.0, y + tile_h + 9.0, class.to_string(), CAPTION, colour, Align::Center);
    }
    scene.height = (top + digits.n_images.div_ceil(cols) as f32 * row_h + 4.0).ceil() as usize;
    scene
}

/// Whether the turn-off grid means something for this network: an autoencoder of images
/// whose code layer is dense with 2 to `TURNOFF_MAX_UNITS` units.
pub fn turnoff_applies(session: &Session) -> bool {
    let net = session.network();
    let code = &net.layers()[net.code_layer()];
    let (_, h, _) = net.input_shape();
    !net.is_classifier() && h > 1 && net.n_outputs() == net.n_inputs() && !code.is_conv() && (2..=TURNOFF_MAX_UNITS).contains(&code.n_out())
}

/// Seed 000's experiment: the decoder's output when every code unit but one is set to 0, a
/// row per unit under the input and the output with all units on; the labels left, the
/// digits filling the rest of the width.
pub fn turnoff(session: &Session, work: &mut Workspace, width: usize) -> Scene {
    let net = session.network();
    if net.layers().iter().any(|l| l.is_conv()) {
        return layers::sample_activations(session, work, width);
    }
    let code = net.code_layer();
    let units = net.layers()[code].n_out();
    let (w, h, _) = net.input_shape();
    let room = width as f32 - 2.0 * PAD;
    if !turnoff_applies(session) {
        let mut scene = Scene::new(width, 0);
        let why = if net.is_classifier() {
            "autoencoders".to_string()
        } else if h <= 1 {
            "image data".to_string()
        } else {
            format!("codes of 2 to {TURNOFF_MAX_UNITS} units (this one has {units})")
        };
        let y = scene.paragraph(PAD, 6.0, &format!("the turn-off grid is drawn for {why}"), CAPTION, MUTED, room);
        scene.height = (y + 6.0) as usize;
        return scene;
    }
    let dead = net.dead_units(work, &session.valid_set().pixels, session.valid_set().n_images);
    let digits = session.valid_set().spread(TURNOFF_DIGITS);
    let mut tiles = digits.pixels.clone();
    tiles.extend_from_slice(net.infer(work, &digits.pixels, digits.n_images, None).output());
    for unit in 0..units {
        let mask = UnitMask { layer: code, keep: (0..units).map(|u| u == unit).collect() };
        tiles.extend_from_slice(net.infer(work, &digits.pixels, digits.n_images, Some(&mask)).output());
    }
    let grid = TileGrid { tile_w: w, tile_h: h, cols: TURNOFF_DIGITS, scale: 1, gap: 2 };
    let image = grid.render(&tiles, Some((0.0, 1.0)));
    let mut labels: Vec<(String, [u8; 4])> = vec![("input".into(), MUTED), ("all units on".into(), MUTED)];
    labels.extend(dead.iter().enumerate().map(|(unit, &is_dead)| if is_dead { (format!("unit {unit}, dead"), WRONG) } else { (format!("unit {unit}"), MUTED) }));
    let label_w = labels.iter().map(|(l, _)| text_width(l, CAPTION)).fold(0.0f32, f32::max).ceil() + 12.0;
    let mut scene = Scene::new(width, 0);
    let n_dead = dead.iter().filter(|&&d| d).count();
    let caption = format!(
        "the decoder's output with all code units but one set to 0: row \"unit n\" keeps unit n alone · {n_dead} dead unit{}",
        if n_dead == 1 { "" } else { "s" }
    );
    let top = scene.paragraph(PAD, 4.0, &caption, CAPTION, INK, room) + 4.0;
    // The digits fill what the labels leave, up to twice their size.
    let digits_room = room - label_w;
    let scale = (digits_room / image.width as f32).min(2.0);
    let row_y = |row: usize| top + (grid.origin(row * TURNOFF_DIGITS).1 as f32 + h as f32 / 2.0) * scale;
    for (row, (label, colour)) in labels.into_iter().enumerate() {
        scene.text(PAD + label_w - 8.0, row_y(row), label, CAPTION, colour, Align::Right);
    }
    let (_, shown_h) = show_fitted(&mut scene, PAD + label_w, top, image, digits_room, scale);
    scene.height = (top + shown_h + 6.0).ceil() as usize;
    scene
}
