//! The panels about the network itself: the per-layer network view of the current example,
//! the current training image, first-layer filters (every conv layer's filters for conv
//! networks), and seed 001's sample activations.

use super::Session;
use crate::model::network::Workspace;
use crate::pretrain::Phase;
use crate::render::image::{feature_maps, samples};
use crate::render::netview::{LayerView, NetworkView};
use crate::render::scene::{Align, Scene, INK, MUTED};
use crate::render::TileGrid;

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

pub fn network(session: &Session, work: &mut Workspace) -> Scene {
    let (input, _, _) = current_example(session);
    let net = session.network();
    let acts = net.infer(work, &input, 1, None);
    let (w, h, depth) = net.input_shape();
    let n_layers = net.layers().len();
    let titles: Vec<String> = net
        .layers()
        .iter()
        .enumerate()
        .map(|(idx, l)| {
            let tied = if l.tied() { " (tied)" } else { "" };
            let code = if idx == net.code_layer() { " · code" } else { "" };
            let (c, h, w) = l.out_shape();
            let shape = if l.is_dense() { format!("{}→{}", l.n_in(), l.n_out()) } else { format!("{c}×{h}×{w}") };
            format!("layer {} · {} {} · {shape} {}{tied}{code}", idx + 1, l.kind().name(), l.name(), l.activation().name())
        })
        .collect();
    let filters = (depth == 1 && net.layers()[0].is_dense()).then(|| net.weights(0));
    let layers = (0..n_layers)
        .map(|idx| {
            let layer = &net.layers()[idx];
            LayerView {
                title: titles[idx].clone(),
                activations: acts.activations(idx),
                image_shape: (idx == n_layers - 1 && depth == 1 && layer.n_out() == w * h).then_some((w, h)),
                maps: (!layer.is_dense()).then_some(layer.out_shape()),
            }
        })
        .collect();
    NetworkView { width: 520, input: &input, input_shape: (w, h), layers, filters: filters.as_deref(), max_filters: 256 }.scene()
}

pub fn current(session: &Session) -> Scene {
    let (input, target, label) = current_example(session);
    let (w, h, _) = session.network().input_shape();
    let noisy = !session.trainer().config().noise.is_none();
    let tiles = if noisy { [input, target].concat() } else { input };
    let image = samples(&tiles, (w, h), 2, 4, Some((0.0, 1.0)));
    let mut scene = Scene::new(image.width.max(200), image.height + 26);
    let text = match label {
        Some(l) => format!("digit {l}{}", if noisy { " · as seen, and clean" } else { "" }),
        None => "current example".into(),
    };
    scene.text(4.0, 10.0, text, 12.0, MUTED, Align::Left);
    scene.image(0.0, 22.0, image);
    scene
}

/// First-layer weights as tiles, with the comparison network's (or, while pretraining, the
/// layer autoencoder's or the random-init twin's) beside them.
pub fn filters(session: &Session) -> Scene {
    let net = session.network();
    if net.layers().iter().any(|l| !l.is_dense()) {
        return conv_filters(session);
    }
    let (w, h, depth) = net.input_shape();
    let mut scene = Scene::new(620, 0);
    if depth != 1 {
        scene.text(8.0, 10.0, "filters are drawn for one-channel inputs", 12.0, MUTED, Align::Left);
        scene.height = 30;
        return scene;
    }
    let first = |net: &crate::model::Network| (net.weights(0), net.layers()[0].n_out());
    let mut blocks = vec![("this network".to_string(), first(net))];
    if let Some(companion) = session.comparison() {
        blocks.push((companion.label.clone(), first(companion.trainer.net())));
    }
    if let Some(p) = session.pretrainer() {
        blocks = match p.phase {
            Phase::Pretraining { layer: 0 } => vec![("the layer-1 autoencoder (pretraining)".into(), first(p.autoencoder.net()))],
            Phase::Pretraining { .. } => vec![("the classifier, pretrained".into(), first(net))],
            _ => vec![("the pretrained classifier".into(), first(net)), ("the classifier from random init".into(), first(p.baseline.net()))],
        };
    }
    let range = session.experiment().preset_info().and_then(|p| p.filters_range);
    let shading = match range {
        Some((lo, hi)) => format!("black ≤ {lo}, white ≥ {hi}"),
        None => "each filter stretched to its own range".into(),
    };
    let mut y = 10.0;
    for (label, (weights, n_units)) in blocks {
        let shown = n_units.min(MAX_TILES);
        scene.text(8.0, y, format!("layer 1 of {label}: {shown} of {n_units} units · {shading}"), 12.0, INK, Align::Left);
        y += 14.0;
        let image = samples(&weights[..shown * w * h], (w, h), 20, 1, range);
        let height = image.height;
        scene.image(4.0, y, image);
        y += height as f32 + 16.0;
    }
    if let Some(share) = session.stats().units_ever_selected {
        scene.text(8.0, y - 4.0, format!("units ever among the top k: {:.0} %", 100.0 * share), 12.0, MUTED, Align::Left);
        y += 14.0;
    }
    scene.height = y as usize;
    scene
}

/// Every conv layer's filters: one row of tiles per output channel, one tile per input
/// channel (seed 001: layer 1 is 20 tiles of 17×17, layer 2 is 2 × 20 tiles of 11×11).
fn conv_filters(session: &Session) -> Scene {
    let net = session.network();
    let mut scene = Scene::new(620, 0);
    let mut y = 10.0;
    for (idx, layer) in net.layers().iter().enumerate() {
        let crate::model::spec::Kind::Conv(g) = layer.kind() else { continue };
        let (c_small, c_big) = (g.small.0, g.big.0);
        scene.text(8.0, y, format!("layer {} ({}): {c_small} × {c_big} filters of {}×{}, each stretched to its range", idx + 1, layer.name(), g.size, g.size), 12.0, INK, Align::Left);
        y += 14.0;
        let scale = (48 / g.size).clamp(1, 4);
        let cols = if c_small == 1 || c_big == 1 { ((600 / (g.size * scale + 2)).max(1)).min(c_small * c_big) } else { c_big };
        let image = TileGrid { tile_w: g.size, tile_h: g.size, cols, scale, gap: 2 }.render(&net.weights(idx), None);
        let height = image.height;
        scene.image(4.0, y, image);
        y += height as f32 + 16.0;
    }
    scene.height = y as usize;
    scene
}

/// Seed 001's "sample activations": for one example of each of the first two classes, the
/// input, every layer's feature maps and the output, left to right.
pub fn sample_activations(session: &Session, work: &mut Workspace) -> Scene {
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
    let mut scene = Scene::new(620, 0);
    let mut y = 8.0;
    for &pick in &picks {
        let input = valid.image(pick).to_vec();
        let acts = net.infer(work, &input, 1, None);
        let label = labels.get(pick).map_or("example".to_string(), |l| format!("digit {l}"));
        scene.text(8.0, y + 6.0, label, 12.0, INK, Align::Left);
        y += 18.0;
        let mut x = 8.0;
        let mut row_height = 0usize;
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
        for (title, image) in blocks {
            scene.text(x, y + 4.0, title, 11.0, MUTED, Align::Left);
            row_height = row_height.max(image.height);
            let width = image.width;
            scene.image(x, y + 12.0, image);
            x += width as f32 + 12.0;
        }
        y += 12.0 + row_height as f32 + 14.0;
        scene.width = scene.width.max(x as usize);
    }
    scene.height = y as usize;
    scene
}
