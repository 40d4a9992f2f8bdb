//! The panels about the network itself: the per-layer network view of the current example (its
//! activations), the current training image, first-layer filters (every conv layer's filters
//! for conv networks; the comparisons' beside), and seed 001's sample activations, each laid
//! out for the width it is given.

use super::progress::{k_text, main_label};
use super::{show_fitted, Session};
use crate::model::network::Workspace;
use crate::pretrain::Phase;
use crate::render::image::tile_columns;
use crate::render::image::{feature_maps, heat_strips};
use crate::render::netview::{LayerView, NetworkView};
use crate::render::scene::{fit, text_width, Align, Scene, INK, MUTED};
use crate::render::TileGrid;

const PAD: f32 = 8.0;
const CAPTION: f32 = 12.0;
const LABEL: f32 = 11.0;

/// Filters drawn at most per block.
const MAX_TILES: usize = 400;

/// The example the network looks at: the first of the last trained batch as it saw it, the
/// clean target, and its label (the first validation digit before any training).
pub fn current_example(session: &Session) -> (Vec<f32>, Vec<f32>, Option<u8>) {
    let trainer = session.trainer();
    let net = trainer.net();
    let n = net.n_inputs();
    let valid = session.valid_set();
    let (inputs, targets, indices) = trainer.last_batch();
    if inputs.len() < n || indices.is_empty() {
        if valid.n_images == 0 {
            return (vec![0.0; n], vec![0.0; n], None);
        }
        return (valid.image(0).to_vec(), valid.image(0).to_vec(), valid.labels.as_ref().map(|l| l[0]));
    }
    let input = inputs[..n].to_vec();
    if net.is_classifier() {
        // A classifier's targets are one-hot rows: the label is where the 1 is.
        let label = targets[..net.n_outputs()].iter().position(|&t| t == 1.0).map(|c| c as u8);
        return (input.clone(), input, label);
    }
    let label = session.train_set().labels.as_ref().and_then(|l| l.get(indices[0] as usize).copied());
    (input, targets[..n].to_vec(), label)
}

pub fn network(session: &Session, work: &mut Workspace, width: usize) -> Scene {
    let (input, _, _) = current_example(session);
    let net = session.network();
    let acts = net.infer(work, &input, 1, None);
    let (w, h, depth) = net.input_shape();
    let n_layers = net.layers().len();
    let layers = (0..n_layers)
        .map(|idx| {
            let layer = &net.layers()[idx];
            LayerView {
                title: layer_title(net, idx),
                activations: acts.activations(idx),
                image_shape: (idx == n_layers - 1 && depth == 1 && layer.n_out() == w * h).then_some((w, h)),
                maps: layer.is_conv().then_some(layer.out_shape()),
            }
        })
        .collect();
    NetworkView { width, input: &input, input_shape: (w, h), layers }.scene()
}

/// "layer 2 · fc code · 50→2 linear · code": the layer's place, kind, name, shape and activation.
pub fn layer_title(net: &crate::model::Network, idx: usize) -> String {
    let l = &net.layers()[idx];
    let tied = if l.tied() { " (tied)" } else { "" };
    let code = if idx == net.code_layer() { " · code" } else { "" };
    let (c, h, w) = l.out_shape();
    let shape = if !l.is_conv() { format!("{}→{}", l.n_in(), l.n_out()) } else { format!("{c}×{h}×{w}") };
    format!("layer {} · {} {} · {shape} {}{tied}{code}", idx + 1, l.kind().name(), l.name(), l.activation().name())
}

/// The current training image (as seen, and clean when noise is on), as large as the width
/// allows up to four times its size, each with its caption.
pub fn current(session: &Session, width: usize) -> Scene {
    let (input, target, label) = current_example(session);
    let (w, h, _) = session.network().input_shape();
    let noisy = !session.trainer().config().noise.is_none();
    let mut shown: Vec<(&str, Vec<f32>)> = vec![(if noisy { "as seen" } else { "input" }, input)];
    if noisy {
        shown.push(("clean", target));
    }
    let mut scene = Scene::new(width, 0);
    let room = width as f32 - 2.0 * PAD;
    let text = match label {
        Some(l) => format!("digit {l}{}", if noisy { ", as seen with noise and clean" } else { "" }),
        None => "current example".into(),
    };
    let top = scene.paragraph(PAD, 4.0, &text, CAPTION, MUTED, room) + 4.0;
    let pitch = room / shown.len() as f32;
    let mut bottom = top;
    for (idx, (caption, values)) in shown.into_iter().enumerate() {
        let x = PAD + idx as f32 * pitch;
        let image = if h <= 1 {
            heat_strips(&values, w, ((pitch as usize).saturating_sub(10) / w.max(1)).clamp(1, 8), 10, 1)
        } else {
            TileGrid { tile_w: w, tile_h: h, cols: 1, scale: 1, gap: 0 }.render(&values, Some((0.0, 1.0)))
        };
        let scale = ((pitch - 8.0) / image.width as f32).min(4.0);
        let (_, shown_h) = show_fitted(&mut scene, x, top, image, pitch - 8.0, scale);
        let below = scene.paragraph(x, top + shown_h + 2.0, caption, LABEL, MUTED, pitch - 8.0);
        bottom = bottom.max(below);
    }
    scene.height = (bottom + 4.0).ceil() as usize;
    scene
}

/// One block of the filters panel: whose weights, their shading, and the heading above them.
struct Block {
    heading: String,
    weights: Vec<f32>, // (n_units, n_in)
    n_units: usize,
}

/// First-layer weights as tiles (every conv layer's filters for conv networks), with the
/// comparison networks' beside them (side by side where the width allows, else stacked): the
/// k-sparse networks labelled by their k, and while pretraining, the layer autoencoder's or
/// the random-init twin's. (The network view shows activations only: the weights are here.)
pub fn filters(session: &Session, width: usize) -> Scene {
    let net = session.network();
    if net.layers().iter().any(|l| l.is_conv()) {
        return conv_filters(session, width);
    }
    let (w, h, depth) = net.input_shape();
    let mut scene = Scene::new(width, 0);
    let room = width as f32 - 2.0 * PAD;
    if depth != 1 {
        let y = scene.paragraph(PAD, 6.0, "filters are drawn for one-channel inputs", CAPTION, MUTED, room);
        scene.height = (y + 6.0) as usize;
        return scene;
    }
    let block = |heading: String, net: &crate::model::Network| Block { heading, weights: net.weights(0), n_units: net.layers()[0].n_out() };
    let comparing = !session.comparisons().is_empty();
    let own = match k_text(net) {
        Some(k) => k,
        None if comparing => main_label(session),
        None => "this network".into(),
    };
    let mut blocks = vec![block(own, net)];
    for companion in session.comparisons() {
        let heading = match k_text(companion.trainer.net()) {
            Some(k) if companion.label.starts_with("k = ") => k,
            _ => companion.label.clone(),
        };
        blocks.push(block(heading, companion.trainer.net()));
    }
    if let Some(p) = session.pretrainer() {
        blocks = match p.phase {
            Phase::Pretraining { layer: 0 } => vec![block("the layer-1 autoencoder (pretraining)".into(), p.autoencoder.net())],
            Phase::Pretraining { .. } => vec![block("the classifier, pretrained".into(), net)],
            _ => vec![block("the pretrained classifier".into(), net), block("the classifier from random init".into(), p.baseline.net())],
        };
    }
    let range = session.experiment().preset_info().and_then(|p| p.filters_range);
    let shading = match (range, h <= 1) {
        (_, true) => "blue negative, orange positive, shaded by the largest weight".to_string(),
        (Some((lo, hi)), false) => format!("black ≤ {lo}, white ≥ {hi}"),
        (None, false) => "each filter stretched to its own range".into(),
    };
    let kind = if h <= 1 { format!("a strip of {w} numbers") } else { format!("a {w}×{h} image") };
    let mut y = scene.paragraph(PAD, 4.0, &format!("layer 1 weights, each unit's as {kind} · {shading}"), CAPTION, INK, room) + 4.0;
    // Side by side where each block keeps 260 px, else one under another.
    let n_cols = ((room + PAD) / (260.0 + PAD)).floor().clamp(1.0, blocks.len() as f32) as usize;
    let col_w = (room - PAD * (n_cols - 1) as f32) / n_cols as f32;
    // Fewer rows of tiles a block when blocks stack, so the panel stays a screen or two tall.
    let max_rows = if blocks.len() > n_cols { 8 } else { 20 };
    for row in blocks.chunks(n_cols) {
        let mut bottom = y;
        for (col, b) in row.iter().enumerate() {
            let x = PAD + col as f32 * (col_w + PAD);
            let (image, scale, shown) = if h <= 1 {
                let shown = b.n_units.min(MAX_TILES).min(max_rows * 5);
                let cell = ((col_w as usize).saturating_sub(2) / w.max(1)).clamp(1, 8);
                (samples_strips(&b.weights[..shown * w], w, cell), 1.0, shown)
            } else {
                let (cols, tile) = tile_columns(w, col_w, &[20, 16, 12, 10, 8, 6, 5, 4]);
                let shown = b.n_units.min(MAX_TILES).min(cols * max_rows);
                let image = TileGrid { tile_w: w, tile_h: h, cols, scale: 1, gap: 2 }.render(&b.weights[..shown * w * h], range);
                (image, tile / w as f32, shown)
            };
            let heading = format!("{}: {shown} of {} units", b.heading, b.n_units);
            let top = scene.paragraph(x, y, &heading, CAPTION, INK, col_w) + 2.0;
            let (_, shown_h) = show_fitted(&mut scene, x, top, image, col_w, scale);
            bottom = bottom.max(top + shown_h);
        }
        y = bottom + 12.0;
    }
    if let Some(share) = session.stats().units_ever_selected {
        y = scene.paragraph(PAD, y, &format!("units ever among the top k: {:.0} %", 100.0 * share), CAPTION, MUTED, room) + 4.0;
    }
    scene.height = y.ceil() as usize;
    scene
}

/// Weight vectors (n, dim) as heat strips with `cell`-pixel cells.
fn samples_strips(values: &[f32], dim: usize, cell: usize) -> crate::render::Rgba {
    heat_strips(values, dim, cell, 8, 2)
}

/// Every conv layer's filters: one row of tiles per output channel, one tile per input
/// channel (seed 001: layer 1 is 20 tiles of 17×17, layer 2 is 2 × 20 tiles of 11×11), each
/// layer's grid as wide as the panel allows and never cut: every column shows.
fn conv_filters(session: &Session, width: usize) -> Scene {
    let net = session.network();
    let mut scene = Scene::new(width, 0);
    let room = width as f32 - 2.0 * PAD;
    let mut y = 4.0;
    for (idx, layer) in net.layers().iter().enumerate() {
        let crate::model::spec::Kind::Conv(g) = layer.kind() else { continue };
        let (c_small, c_big) = (g.small.0, g.big.0);
        let heading = format!("layer {} ({}): {c_small} × {c_big} filters of {}×{}, each stretched to its range", idx + 1, layer.name(), g.size, g.size);
        y = scene.paragraph(PAD, y, &heading, CAPTION, INK, room) + 2.0;
        let tile = g.size as f32 + 2.0;
        let cols = if c_small == 1 || c_big == 1 {
            // A flat list: as many a row as fit at twice their size (at least 4 a row).
            ((room / (2.0 * tile)) as usize).clamp(4, 40).min(c_small * c_big)
        } else {
            c_big
        };
        let image = TileGrid { tile_w: g.size, tile_h: g.size, cols, scale: 1, gap: 2 }.render(&net.weights(idx), None);
        let scale = (room / image.width as f32).min(4.0);
        let (_, shown_h) = show_fitted(&mut scene, PAD, y, image, room, scale);
        y += shown_h + 12.0;
    }
    scene.height = y.ceil() as usize;
    scene
}

/// Seed 001's "sample activations": for one example of each of the first two classes, the
/// input, every layer's feature maps and the output, left to right, wrapping to the next line
/// when the width runs out; each block's title over it, no wider than its block.
pub fn sample_activations(session: &Session, work: &mut Workspace, width: usize) -> Scene {
    let valid = session.valid_set();
    let labels = valid.labels.clone().unwrap_or_default();
    let mut picks: Vec<usize> = Vec::new();
    for (idx, label) in labels.iter().enumerate() {
        if picks.iter().all(|&p| labels[p] != *label) {
            picks.push(idx);
        }
        if picks.len() == 2 {
            break;
        }
    }
    if picks.is_empty() && valid.n_images > 0 {
        picks.push(0);
    }
    let net = session.network();
    let (w, h, _) = net.input_shape();
    let n_layers = net.layers().len();
    let room = width as f32 - 2.0 * PAD;
    let right = width as f32 - PAD;
    let mut scene = Scene::new(width, 0);
    let mut y = 4.0;
    for &pick in &picks {
        let input = valid.image(pick).to_vec();
        let acts = net.infer(work, &input, 1, None);
        let label = labels.get(pick).map_or("example".to_string(), |l| format!("digit {l}"));
        y = scene.paragraph(PAD, y, &label, CAPTION, INK, room) + 2.0;
        let mut blocks = vec![("input".to_string(), TileGrid { tile_w: w, tile_h: h, cols: 1, scale: 2, gap: 0 }.render(&input, Some((0.0, 1.0))))];
        for (idx, layer) in net.layers().iter().enumerate() {
            let (c, lh, lw) = layer.out_shape();
            let image = if idx == n_layers - 1 && layer.n_out() == w * h {
                TileGrid { tile_w: w, tile_h: h, cols: 1, scale: 2, gap: 0 }.render(acts.activations(idx), Some((0.0, 1.0)))
            } else {
                let cols = if c > 4 { c.div_ceil(4) } else { 1 };
                feature_maps(acts.activations(idx), (c, lh, lw), cols, if lh <= 12 { 2 } else { 1 })
            };
            let title = if idx == n_layers - 1 { "output".to_string() } else { format!("layer {}", idx + 1) };
            blocks.push((title, image));
        }
        let mut x = PAD;
        let mut row_height = 0.0f32;
        for (title, image) in blocks {
            let block_w = (image.width as f32).max(text_width(&title, LABEL)).min(room);
            if x > PAD && x + block_w > right {
                x = PAD;
                y += 14.0 + row_height + 10.0;
                row_height = 0.0;
            }
            scene.text(x, y + LABEL / 2.0, fit(&title, LABEL, block_w), LABEL, MUTED, Align::Left);
            let (shown_w, shown_h) = show_fitted(&mut scene, x, y + 14.0, image, room, 1.0);
            row_height = row_height.max(shown_h);
            x += block_w.max(shown_w) + 12.0;
        }
        y += 14.0 + row_height + 16.0;
    }
    scene.height = y.ceil() as usize;
    scene
}
