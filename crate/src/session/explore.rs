//! Asking the code questions: what the decoder draws at any point of the scatter, which digit is
//! under the pointer and what the network makes of it, the path between two digits decoded in
//! code space beside the same path blended in pixels, a drawn digit's code and reconstruction,
//! and the decoded manifold behind the scatter; `Session::query`, the door all these questions
//! come through. Everything here reads the session in a workspace of its own; nothing changes it.

use std::rc::Rc;

use super::protocol::{Answer, DigitInfo, DrawingInfo, Image, Path, PointInfo, Query, View};
use super::{Error, Session, MAX_MARKED};
use crate::data::{drawing, transform, Dataset};
use crate::model::network::Workspace;
use crate::model::pca::Pca;
use crate::render::scatter::Scatter;
use crate::render::Rgba;
use crate::rng::Rng;

impl Session {
    /// Answer a question about the network without changing it.
    pub fn query(&self, query: Query) -> Result<Answer, Error> {
        let mut work = Workspace::default();
        match query {
            Query::Point { px, py, width } => Ok(Answer::Point(point(self, &mut work, px, py, crate::render::scene::clamp_width(width))?)),
            Query::Interpolate { from, to, steps } => Ok(Answer::Path(interpolate(self, &mut work, from, to, steps)?)),
            Query::Digitize { strokes, size, pen } => {
                let digit = drawing::digitize(&strokes, size, pen)?;
                Ok(Answer::Drawing(digit.map(|d| drawing(self, &mut work, d)).transpose()?))
            }
            Query::Picture { width, height, rgba } => {
                let digit = drawing::from_picture(width, height, &rgba)?;
                Ok(Answer::Drawing(digit.map(|d| drawing(self, &mut work, d)).transpose()?))
            }
            Query::Reconstruct { inputs } => {
                let net = self.network();
                let n_inputs = net.n_inputs();
                if inputs.is_empty() || inputs.len() % n_inputs != 0 {
                    return Err(Error(format!("{} numbers are not a whole number of {n_inputs}-number examples", inputs.len())));
                }
                if inputs.iter().any(|v| !v.is_finite()) {
                    return Err("every input must be a finite number".into());
                }
                Ok(Answer::Outputs(net.infer(&mut work, &inputs, inputs.len() / n_inputs, None).output().to_vec()))
            }
        }
    }
}

/// Cells a side of the decoded manifold behind the scatter.
pub const MANIFOLD_CELLS: usize = 15;
/// Steps of an interpolation path, at most.
pub const MAX_STEPS: usize = 32;

/// Validation digits in the scatter.
/// A variational code's scatter covers at least ±this on both axes: 2.5 standard deviations of
/// its prior N(0, I), the range of Kingma and Welling's decoded map.
pub const PRIOR_SPAN: f32 = 2.5;

pub const SCATTER_DIGITS: usize = crate::budget::EVAL_ROWS;

/// How long the scatter's codes may be reused by the pointer's questions (ms): half the
/// scatter panel's period, so what the pointer finds is what was last drawn, or newer.
pub const SCATTER_REUSE_MS: f64 = 200.0;

/// Subspace iterations of the scatter's principal components: from scratch, and from the last
/// fit (the codes move a little between two paints; 4 M multiply-adds an iteration for 500
/// codes of 1,000 units).
const COLD_ITERATIONS: usize = 40;
const WARM_ITERATIONS: usize = 4;

/// What the scatter plots: its digits, their activations at the viewed layer (n, units), the
/// layer's first two principal components over them when the view asks for them, and the
/// point of each digit (neurons x and y, or its two components).
pub struct ScatterData {
    pub digits: crate::data::Dataset,
    pub codes: Vec<f32>,
    pub units: usize,
    pub basis: Option<Basis>,
    pub points: Vec<(f32, f32)>,
    /// Where the scatter plots two units of a variational code: each digit's standard
    /// deviation along them (drawn as ellipses when the view says so), and the axes cover
    /// the prior's ±2.5 σ.
    pub spreads: Vec<(f32, f32)>,
    pub prior: bool,
    pub show_spreads: bool,
}

/// The fields a `Command::View` changes (None: as they are).
pub(super) struct ViewChange {
    pub layer: Option<usize>,
    pub x: Option<usize>,
    pub y: Option<usize>,
    pub manifold: Option<bool>,
    pub log_y: Option<bool>,
    pub components: Option<bool>,
    pub ellipses: Option<bool>,
}

/// Whether (and how) the view draws spreads: Some(on) where it plots two units of a
/// variational code, else None.
pub(super) fn spreads_shown(net: &crate::model::Network, view: View) -> Option<bool> {
    (net.gaussian_layer() == Some(view.layer) && !view.components).then_some(view.ellipses.unwrap_or(true))
}

/// The scatter's two principal axes, and the share of the codes' variance they hold.
pub struct Basis {
    pub pca: Pca,
    pub share: f64,
}

impl ScatterData {
    pub fn of(session: &Session, work: &mut Workspace) -> ScatterData {
        ScatterData::warm(session, work, None)
    }

    /// As `of`, the principal components iterated from `earlier`'s when it has them.
    fn warm(session: &Session, work: &mut Workspace, earlier: Option<&ScatterData>) -> ScatterData {
        let digits = session.valid_set().spread(SCATTER_DIGITS);
        let view = session.view();
        let net = session.network();
        let units = net.layers()[view.layer].n_out();
        let codes = net.infer(work, &digits.pixels, digits.n_images, None).activations(view.layer).to_vec();
        let n = digits.n_images;
        let basis = (view.components && units > 2 && n > 0).then(|| {
            let warm = earlier.and_then(|e| e.basis.as_ref()).map(|b| &b.pca);
            let iterations = if warm.is_some() { WARM_ITERATIONS } else { COLD_ITERATIONS };
            let pca = Pca::leading(&codes, n, units, 2, warm, iterations);
            let total: f64 = (0..units)
                .map(|u| {
                    let mean = pca.mean[u] as f64;
                    codes.iter().skip(u).step_by(units).map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64
                })
                .sum();
            let share = if total > 0.0 { (pca.variances.iter().sum::<f64>() / total).min(1.0) } else { 0.0 };
            Basis { pca, share }
        });
        let prior = spreads_shown(net, view).is_some();
        let mut spreads = Vec::new();
        if prior {
            // σ = e^(ln σ² / 2) of the two plotted units, from the heads of a forward pass: the
            // plotted digits', then your marked digits' (their ellipses drawn with their rings).
            let (x, y) = (view.x.min(units - 1), view.y.min(units - 1));
            let sigmas = |heads: &[f32]| -> Vec<(f32, f32)> {
                let sigma = |h: &[f32], unit: usize| (0.5 * h[units + unit]).exp();
                heads.chunks_exact(2 * units).map(|h| (sigma(h, x), sigma(h, y))).collect()
            };
            spreads = sigmas(work.gaussian_heads());
            if !session.marked.is_empty() {
                net.infer(work, &session.marked.concat(), session.marked.len(), None);
                spreads.extend(sigmas(work.gaussian_heads()));
            }
        }
        let show_spreads = spreads_shown(net, view) == Some(true);
        let mut data = ScatterData { digits, codes: Vec::new(), units, basis, points: Vec::new(), spreads, prior, show_spreads };
        data.points = data.place(&codes, view);
        data.codes = codes;
        data
    }

    /// Where codes (n, units) of the viewed layer stand in the scatter.
    pub fn place(&self, codes: &[f32], view: View) -> Vec<(f32, f32)> {
        let units = self.units;
        match &self.basis {
            Some(b) => b.pca.project(codes, codes.len() / units, 2).chunks_exact(2).map(|p| (p[0], p[1])).collect(),
            None => {
                let (x, y) = (view.x.min(units - 1), view.y.min(units - 1));
                codes.chunks_exact(units).map(|row| (row[x], row[y])).collect()
            }
        }
    }

    /// What the axes plot, in words.
    pub fn axes(&self, view: View) -> String {
        match &self.basis {
            Some(b) => format!("its principal components 1 and 2 ({}% of the spread)", (b.share * 100.0).round()),
            None => format!("neurons {} and {}", view.x.min(self.units - 1), view.y.min(self.units - 1)),
        }
    }

    /// The scatter as last computed for the view in force, if at most `SCATTER_REUSE_MS` old on
    /// the session's clock, else computed now and kept: the scatter panel and the pointer's
    /// questions share it, so a pointer moving 60 times a second does not forward the 500
    /// digits 60 times a second (hovering cost training 21 % of its examples/s before).
    pub fn recent(session: &Session, work: &mut Workspace) -> Rc<ScatterData> {
        let now = session.now_ms();
        let view = session.view();
        if let Some((at, seen_view, data)) = session.scatter_seen.borrow().as_ref() {
            if *seen_view == view && now - at <= SCATTER_REUSE_MS && now >= *at {
                return Rc::clone(data);
            }
        }
        // The last scatter of the same layer starts the principal components' iteration.
        let earlier = session.scatter_seen.borrow().as_ref().filter(|(_, v, _)| v.layer == view.layer && v.components).map(|(_, _, d)| Rc::clone(d));
        let data = Rc::new(ScatterData::warm(session, work, earlier.as_deref()));
        *session.scatter_seen.borrow_mut() = Some((now, view, Rc::clone(&data)));
        data
    }

    /// The chart of these points drawn `width` pixels wide (its axes map data to canvas pixels
    /// and back; the pointer's pixels must be mapped at the width the scatter was drawn at).
    pub fn chart<'a>(&'a self, width: usize, labels: &'a [u8], title: String, background: Option<Rgba>, marks: &'a [(f32, f32)]) -> Scatter<'a> {
        let spreads: &[(f32, f32)] = if self.show_spreads { &self.spreads } else { &[] };
        let at_least = if self.prior { PRIOR_SPAN } else { 0.0 };
        Scatter { width, points: &self.points, labels, images: &self.digits.pixels, thumb_w: self.digits.width, thumb_h: self.digits.height, title, background, marks, at_least, spreads }
    }
}

/// The codes of the scatter's digits: the (x, y) neuron pair of the viewed layer, one point
/// per digit, with the digits they belong to.
pub fn scatter_points(session: &Session, work: &mut Workspace) -> (Vec<(f32, f32)>, crate::data::Dataset) {
    let data = ScatterData::of(session, work);
    (data.points, data.digits)
}

/// The scatter's title: the layer, what its axes plot (a neuron pair, or its principal
/// components and the share of the variance they hold) and how many digits.
pub fn scatter_title(session: &Session, data: &ScatterData) -> String {
    let view = session.view();
    let net = session.network();
    let layer = &net.layers()[view.layer];
    let axes = match &data.basis {
        Some(b) => format!("x, y: principal components 1, 2 ({}% of the spread)", (b.share * 100.0).round()),
        None => format!("x: neuron {} · y: neuron {}", view.x, view.y),
    };
    format!(
        "layer {} ({}: {} {}{}) · {axes} · {} examples",
        view.layer + 1,
        layer.name(),
        layer.n_out(),
        if layer.kind() == crate::model::spec::Kind::Gaussian { "gaussian" } else { layer.activation().name() },
        if view.layer == net.code_layer() { ", code" } else { "" },
        data.digits.n_images
    )
}

/// Whether the layers after the viewed one draw an image of the input (an autoencoder's
/// decoder), so a point of the scatter can be decoded.
fn decodable(session: &Session) -> bool {
    let net = session.network();
    !net.is_classifier() && session.view().layer + 1 < net.layers().len() && net.n_outputs() == net.n_inputs()
}

fn image(session: &Session, pixels: Vec<f32>) -> Image {
    let (width, height, _) = session.network().input_shape();
    Image { width, height, pixels }
}

/// The code `base` moved to scatter point (x, y), decoded: the viewed pair of units set to x
/// and y, or along the two principal components, the rest of `base` kept.
fn decode_at(session: &Session, work: &mut Workspace, data: &ScatterData, base: &[f32], points: &[(f64, f64)]) -> Vec<f32> {
    let view = session.view();
    let units = base.len();
    let at = data.place(base, view)[0];
    let mut codes = Vec::with_capacity(points.len() * units);
    for &(x, y) in points {
        let start = codes.len();
        codes.extend_from_slice(base);
        let code = &mut codes[start..];
        match &data.basis {
            Some(b) => {
                let (dx, dy) = (x as f32 - at.0, y as f32 - at.1);
                let (c1, c2) = b.pca.components.split_at(units);
                code.iter_mut().zip(c1.iter().zip(c2)).for_each(|(v, (a, b))| *v += dx * a + dy * b);
            }
            None => {
                code[view.x.min(units - 1)] = x as f32;
                code[view.y.min(units - 1)] = y as f32;
            }
        }
    }
    session.network().decode(work, view.layer, &codes, points.len()).output().to_vec()
}

/// The pointer at canvas pixel (px, py) of the scatter drawn `width` pixels wide: the point in
/// the code it stands for, the decoder's image there (the other units held at the nearest
/// plotted digit's values when the layer has more than two), and the digit under the pointer,
/// if any.
pub fn point(session: &Session, work: &mut Workspace, px: f32, py: f32, width: usize) -> Result<PointInfo, Error> {
    if !(px.is_finite() && py.is_finite()) {
        return Err("the pointer's position is not a number".into());
    }
    let data = ScatterData::recent(session, work);
    let labels = data.digits.labels.clone().unwrap_or_default();
    // The same chart the scatter panel draws: its title's lines set the plot's top, and your
    // marked digits are in its axes' range.
    let marks = marked_points(session, work, &data);
    let chart = data.chart(width, &labels, scatter_title(session, &data), None, &marks);
    let (x_axis, y_axis) = chart.axes();
    let (x, y) = (x_axis.unmap(px), y_axis.unmap(py));
    let (span_x, span_y) = ((x_axis.hi - x_axis.lo).max(1e-12), (y_axis.hi - y_axis.lo).max(1e-12));
    let nearest = data
        .points
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| (i, ((a as f64 - x) / span_x).powi(2) + ((b as f64 - y) / span_y).powi(2)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i);
    let (dw, dh) = chart.thumb_size();
    let (tw, th) = (dw as i64 + 2, dh as i64 + 2);
    // The digit drawn last is on top: look from the end.
    let (qx, qy) = (px.floor() as i64, py.floor() as i64);
    let under = chart.positions().into_iter().enumerate().rev().find(|&(_, (left, top))| qx >= left && qx < left + tw && qy >= top && qy < top + th);
    let held = nearest.filter(|_| data.units > 2);
    let decoded = match (decodable(session), nearest) {
        (true, Some(base)) => Some(image(session, decode_at(session, work, &data, &data.codes[base * data.units..(base + 1) * data.units], &[(x, y)]))),
        _ => None,
    };
    let digit = under.map(|(index, (left, top))| digit_info(session, work, &data, index, [left as f32, top as f32, tw as f32, th as f32]));
    Ok(PointInfo { x, y, decoded, held, digit })
}

fn digit_info(session: &Session, work: &mut Workspace, data: &ScatterData, index: usize, frame: [f32; 4]) -> DigitInfo {
    let input = data.digits.image(index).to_vec();
    let output = session.network().infer(work, &input, 1, None).output().to_vec();
    DigitInfo {
        index,
        label: data.digits.labels.as_ref().map(|l| l[index]),
        reconstruction: (output.len() == input.len()).then(|| image(session, output)),
        input: image(session, input),
        code: data.codes[index * data.units..(index + 1) * data.units].to_vec(),
        frame,
    }
}

/// From plotted digit `from` to `to` in `steps` steps: the decoder's images along the straight
/// line between their codes, and the same path as a blend of their pixels.
pub fn interpolate(session: &Session, work: &mut Workspace, from: usize, to: usize, steps: usize) -> Result<Path, Error> {
    if !decodable(session) {
        return Err("this layer has no decoder after it to draw a path with; pick the code layer in the scatter".into());
    }
    if !(2..=MAX_STEPS).contains(&steps) {
        return Err(Error(format!("a path takes 2 to {MAX_STEPS} steps, not {steps}")));
    }
    let data = ScatterData::recent(session, work);
    let n = data.digits.n_images;
    if from >= n || to >= n {
        return Err(Error(format!("the scatter shows digits 0 to {}; there is no digit {}", n.saturating_sub(1), from.max(to))));
    }
    let units = data.units;
    let (a, b) = (&data.codes[from * units..(from + 1) * units], &data.codes[to * units..(to + 1) * units]);
    let (pa, pb) = (data.digits.image(from), data.digits.image(to));
    let t = |step: usize| step as f32 / (steps - 1) as f32;
    let codes: Vec<f32> = (0..steps).flat_map(|s| a.iter().zip(b).map(move |(&u, &v)| u + t(s) * (v - u))).collect();
    let decoded = session.network().decode(work, session.view().layer, &codes, steps).output().to_vec();
    let n_px = pa.len();
    Ok(Path {
        code: decoded.chunks_exact(n_px).map(|c| image(session, c.to_vec())).collect(),
        pixels: (0..steps).map(|s| image(session, pa.iter().zip(pb).map(|(&u, &v)| u + t(s) * (v - u)).collect())).collect(),
    })
}

/// One of your digits (a 28 × 28 MNIST-like image, drawn or from a picture) as this network
/// takes it (resized as the experiment's data is), with what the network makes of it.
pub fn drawing(session: &Session, work: &mut Workspace, digit: Vec<f32>) -> Result<DrawingInfo, Error> {
    let input = as_input(session, digit)?;
    let net = session.network();
    let noise = session.trainer().config().noise;
    let corrupted = (!noise.is_none()).then(|| {
        let mut pixels = input.clone();
        noise.apply(&mut pixels, &mut Rng::from_seed(session.trainer().seed() ^ 0xd7a_3147));
        pixels
    });
    let seen = corrupted.as_ref().unwrap_or(&input);
    let acts = net.infer(work, seen, 1, None);
    let view = session.view();
    let code = acts.activations(view.layer).to_vec();
    let output = acts.output().to_vec();
    let axes = ScatterData::recent(session, work).axes(view);
    Ok(DrawingInfo {
        axes,
        code,
        classes: net.is_classifier().then(|| output.clone()),
        reconstruction: (!net.is_classifier() && output.len() == input.len()).then(|| image(session, output)),
        corrupted: corrupted.map(|c| image(session, c)),
        input: image(session, input),
    })
}

/// A 28 × 28 drawing as this network's input: resized the way the experiment's data is.
pub fn as_input(session: &Session, digit: Vec<f32>) -> Result<Vec<f32>, Error> {
    let net = session.network();
    let (width, height, depth) = net.input_shape();
    if depth != 1 || height <= 1 {
        return Err("this network does not take images, so a drawing cannot go in".into());
    }
    let digit = Dataset::new(drawing::SIDE, drawing::SIDE, digit, None);
    let sized = if (width, height) == (drawing::SIDE, drawing::SIDE) { digit } else { transform::resize_bilinear(&digit, width, height)? };
    Ok(sized.pixels)
}

/// Where your digits land in the scatter `data`, in its data coordinates.
pub fn marked_points(session: &Session, work: &mut Workspace, data: &ScatterData) -> Vec<(f32, f32)> {
    if session.marked.is_empty() {
        return Vec::new();
    }
    let view = session.view();
    let inputs = session.marked.concat();
    let acts = session.network().infer(work, &inputs, session.marked.len(), None).activations(view.layer).to_vec();
    data.place(&acts, view)
}

/// The decoder's images on a grid spanning the scatter's axes, drawn dimly to fill its plot
/// area (the other units held at the plotted digits' mean).
pub fn manifold(session: &Session, data: &ScatterData, work: &mut Workspace, width: usize) -> Option<Rgba> {
    if !decodable(session) || data.points.is_empty() {
        return None;
    }
    let labels = data.digits.labels.clone().unwrap_or_default();
    let marks = marked_points(session, work, &data);
    let chart = data.chart(width, &labels, scatter_title(session, &data), None, &marks);
    let (x_axis, y_axis) = chart.axes();
    let (x0, y0, w, h) = chart.plot_area();
    let n = data.points.len() as f32;
    let mean: Vec<f32> = (0..data.units).map(|u| data.codes.iter().skip(u).step_by(data.units).sum::<f32>() / n).collect();
    let cells = MANIFOLD_CELLS;
    let (cw, ch) = (w as f32 / cells as f32, h as f32 / cells as f32);
    let centres: Vec<(f64, f64)> = (0..cells * cells)
        .map(|c| {
            let (i, j) = (c % cells, c / cells);
            (x_axis.unmap(x0 as f32 + (i as f32 + 0.5) * cw), y_axis.unmap(y0 as f32 + (j as f32 + 0.5) * ch))
        })
        .collect();
    let images = decode_at(session, work, data, &mean, &centres);
    let (iw, ih, _) = session.network().input_shape();
    let mut plot = Rgba::new(w, h, [24, 24, 27, 255]);
    for (c, tile) in images.chunks_exact(iw * ih).enumerate() {
        let (i, j) = (c % cells, c / cells);
        let (left, top) = (i as f32 * cw, j as f32 * ch);
        for py in top.ceil() as usize..((top + ch).floor() as usize).min(h) {
            for px in left.ceil() as usize..((left + cw).floor() as usize).min(w) {
                let (sx, sy) = (((px as f32 - left) / cw * iw as f32) as usize, ((py as f32 - top) / ch * ih as f32) as usize);
                let v = tile[sy.min(ih - 1) * iw + sx.min(iw - 1)].clamp(0.0, 1.0);
                let grey = (24.0 + v * 110.0) as u8;
                plot.set(px, py, [grey, grey, grey, 255]);
            }
        }
    }
    Some(plot)
}

impl Session {
    /// The view with the given changes, if they name a layer and neurons that exist.
    /// A new layer starts at its own default (its principal components when wider than two
    /// units); naming a neuron plots neurons, unless the change also asks for components.
    /// The view after a `Command::View`: a new layer picks its own neurons; the ellipses switch
    /// is kept (on at first) where the scatter plots two units of a variational code, else None,
    /// and turning it on elsewhere is refused.
    pub(super) fn checked_view(&self, change: ViewChange) -> Result<View, Error> {
        let ViewChange { layer, x, y, manifold, log_y, components, ellipses } = change;
        let layers = self.network().layers();
        let mut view = self.view;
        if let Some(layer) = layer {
            let units = layers.get(layer).ok_or_else(|| Error(format!("there is no layer {layer}: the network has {}", layers.len())))?.n_out();
            view = View { layer, x: 0, y: 1.min(units - 1), components: units > 2, ..view };
        }
        let units = layers[view.layer].n_out();
        for (slot, value) in [(&mut view.x, x), (&mut view.y, y)] {
            if let Some(v) = value {
                if v >= units {
                    return Err(Error(format!("layer {} has {units} units; there is no neuron {v}", view.layer)));
                }
                *slot = v;
            }
        }
        if let Some(log_y) = log_y {
            view.log_y = log_y;
        }
        if x.is_some() || y.is_some() {
            view.components = false;
        }
        if let Some(components) = components {
            view.components = components;
        }
        if let Some(manifold) = manifold {
            view.manifold = manifold;
        }
        view.ellipses = spreads_shown(self.network(), view);
        if let Some(on) = ellipses {
            if view.ellipses.is_none() {
                return Err("the scatter does not plot two units of a variational (gaussian) code, so it has no spreads to draw".into());
            }
            view.ellipses = Some(on);
        }
        Ok(view)
    }

    /// Your digits to mark on the scatter, checked: at most `MAX_MARKED`, each the network's
    /// input size, pixels in [0, 1].
    pub(super) fn checked_marks(&self, digits: Vec<Vec<f32>>) -> Result<Vec<Vec<f32>>, Error> {
        let n = self.network().n_inputs();
        if digits.len() > MAX_MARKED {
            return Err(Error(format!("the scatter marks at most {MAX_MARKED} of your digits, not {}", digits.len())));
        }
        if let Some(bad) = digits.iter().find(|d| d.len() != n) {
            return Err(Error(format!("a digit for this network is {n} numbers, not {}", bad.len())));
        }
        if digits.iter().flatten().any(|v| !(0.0..=1.0).contains(v)) {
            return Err(Error("a digit's pixels are each between 0 and 1".into()));
        }
        Ok(digits)
    }
}
