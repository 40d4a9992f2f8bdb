//! Plot geometry: "nice" axis ticks on linear and log scales, and the loss graph (smoothed train
//! loss and validation loss against examples seen, with a dashed reference line, phase markers
//! and a second measure on a right-hand axis), laid out for the width it is given.

use super::scene::{fit, line_height, text_width, wrap, Align, Colour, Scene, GRID, INK, MUTED};

/// Tick values covering [lo, hi] at a 1, 2 or 5 × 10^k step, about `target` of them.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).map(|v| if v.abs() < step * 1e-9 { 0.0 } else { v }).collect()
}

/// Ticks for a log axis over [lo, hi] (both > 0): the powers of ten inside, with 2× and 5×
/// multiples added when fewer than three powers fit.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo) {
        return vec![lo];
    }
    let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let powers: Vec<f64> = (a..=b).map(|k| 10f64.powi(k)).filter(|v| *v >= lo && *v <= hi).collect();
    if powers.len() >= 3 {
        return powers;
    }
    (a..=b)
        .flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)))
        .filter(|v| *v >= lo * (1.0 - 1e-12) && *v <= hi * (1.0 + 1e-12))
        .collect()
}

/// A compact label: 1500 → "1.5k", 2000000 → "2M", 0.0123 → "0.0123".
pub fn format_tick(v: f64) -> String {
    let a = v.abs();
    let trim = |s: String| if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if a == 0.0 {
        "0".into()
    } else if a >= 1e6 {
        format!("{}M", trim(format!("{:.2}", v / 1e6)))
    } else if a >= 1e3 {
        format!("{}k", trim(format!("{:.2}", v / 1e3)))
    } else if a >= 1.0 {
        trim(format!("{v:.2}"))
    } else if a < 1e-3 {
        let text = format!("{v:.1e}");
        text.replace(".0e", "e")
    } else {
        let digits = (-a.log10().floor()) as usize + 1; // two significant digits
        trim(format!("{v:.digits$}"))
    }
}

/// A linear or log mapping from data to pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    /// Pixel positions of lo and hi (hi may be smaller, as on a y axis).
    pub from: f32,
    pub to: f32,
}

impl Axis {
    pub fn map(&self, v: f64) -> f32 {
        let (v, lo, hi) = if self.log { (v.max(1e-300).log10(), self.lo.log10(), self.hi.log10()) } else { (v, self.lo, self.hi) };
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
        self.from + (self.to - self.from) * t as f32
    }

    /// The data value at pixel `p`: the inverse of `map`.
    pub fn unmap(&self, p: f32) -> f64 {
        let t = if self.to != self.from { ((p - self.from) / (self.to - self.from)) as f64 } else { 0.5 };
        if self.log {
            let (lo, hi) = (self.lo.log10(), self.hi.log10());
            10f64.powf(lo + (hi - lo) * t)
        } else {
            self.lo + (self.hi - self.lo) * t
        }
    }

    pub fn ticks(&self) -> Vec<f64> {
        if self.log {
            log_ticks(self.lo, self.hi)
        } else {
            nice_ticks(self.lo, self.hi, 5)
        }
    }
}

/// The data range of values, widened a little so lines do not sit on the frame; on a log
/// scale only positive values count.
pub fn data_range(values: impl Iterator<Item = f64>, log: bool) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && (!log || *v > 0.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return None;
    }
    if log {
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo / 1.5, hi * 1.5) };
        let pad = (hi / lo).powf(0.05);
        Some((lo / pad, hi * pad))
    } else {
        let span = if hi > lo { hi - lo } else { lo.abs().max(1e-3) };
        Some((lo - 0.05 * span, hi + 0.05 * span))
    }
}

pub struct Series<'a> {
    pub label: &'a str,
    pub colour: Colour,
    pub points: &'a [(f64, f64)],
}

/// A loss graph laid out for its width: titles and a legend that wraps above the plot, the
/// plot (its height follows the width), tick labels below and beside it. Its height is
/// `height()`: the legend's rows plus the plot.
pub struct LossGraph<'a> {
    pub width: usize,
    pub series: Vec<Series<'a>>,
    /// A horizontal dashed line: (label, value, colour).
    pub reference: Option<(&'a str, f64, Colour)>,
    pub log_y: bool,
    /// What the y axis measures, e.g. "MSE/px".
    pub y_label: &'a str,
    /// The y values are shares, labelled as percentages.
    pub percent_y: bool,
    /// A second measure on a right-hand axis (shares, labelled as percentages): its series
    /// (drawn as a line, labelled in the legend) and the axis's title.
    pub right: Option<(Series<'a>, &'a str)>,
    /// Vertical dashed lines at these x values, each labelled at the plot's top (phases; an
    /// empty label marks an end). The x axis spans them all.
    pub markers: Vec<(f64, String)>,
    /// Lines of text between the legend and the plot (a result worth reading out).
    pub notes: Vec<(String, Colour)>,
}

/// Margins of the plot area inside a loss graph's scene, and the scene's height.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
    pub height: usize,
}

const PAD: f32 = 8.0;
const BOTTOM: f32 = 34.0;
const TICK_SIZE: f32 = 11.0;
const LEGEND_ROW: f32 = 16.0;

/// 0.853 as "85 %" (or "85.3 %" when `step` is under a percent).
fn percent(v: f64, step: f64) -> String {
    if step < 0.01 {
        format!("{:.1} %", 100.0 * v)
    } else {
        format!("{:.0} %", 100.0 * v)
    }
}

/// Tick labels: (value, text) for an axis.
fn tick_labels(axis: &Axis, as_percent: bool) -> Vec<(f64, String)> {
    let ticks = axis.ticks();
    let step = ticks.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min);
    ticks.into_iter().map(|t| (t, if as_percent { percent(t, step) } else { tick_text(t, step) })).collect()
}

/// A tick's label with the decimals its step needs (two significant digits alone write both
/// 0.0345 and 0.035 as "0.035" when the ticks are 0.0005 apart).
fn tick_text(t: f64, step: f64) -> String {
    let a = t.abs();
    if !(step.is_finite() && step > 0.0 && step < 1.0) || a == 0.0 || a >= 1e3 || a < 1e-3 {
        return format_tick(t);
    }
    let decimals = (-step.log10()).ceil().max(0.0) as usize;
    let needed = format!("{t:.decimals$}");
    let short = format_tick(t);
    // The shorter text when it says the same number to the step's precision.
    if short.parse::<f64>().is_ok_and(|v| (v - t).abs() < step * 1e-3) { short } else { needed.trim_end_matches('0').trim_end_matches('.').to_string() }
}

impl LossGraph<'_> {
    /// The plot's height in pixels for this width: about 0.4 of it, within 150..=360.
    pub fn plot_height(&self) -> f32 {
        (self.width as f32 * 0.4).round().clamp(150.0, 360.0)
    }

    fn all_series(&self) -> impl Iterator<Item = &Series<'_>> {
        self.series.iter().chain(self.right.as_ref().map(|(s, _)| s))
    }

    /// The y range and its ticks' labels, which set the left margin.
    fn y_range(&self) -> Option<(f64, f64)> {
        let ceiling = self.ceiling().map_or(f64::INFINITY, |(c, _)| c);
        let ys = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).chain(self.reference.map(|r| r.1)).map(|v| v.min(ceiling));
        data_range(ys, self.log_y)
    }

    /// Where a linear axis stops when a spike would flatten everything else (a learning rate
    /// far too large sends the loss up a thousandfold for a step or two): three times the 90th
    /// percentile of the values, when the largest is past it; and that largest value. Points
    /// above it are drawn at the top, and a note says so. A log scale needs none.
    fn ceiling(&self) -> Option<(f64, f64)> {
        if self.log_y || self.percent_y {
            return None;
        }
        let mut ys: Vec<f64> = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).collect();
        if ys.len() < 10 {
            return None;
        }
        ys.sort_by(f64::total_cmp);
        let (p90, max) = (ys[ys.len() * 9 / 10], ys[ys.len() - 1]);
        let ceiling = 3.0 * p90.max(self.reference.map_or(0.0, |r| r.1));
        (ceiling > 0.0 && max > ceiling).then_some((ceiling, max))
    }

    fn right_range(&self) -> Option<(f64, f64)> {
        let (series, _) = self.right.as_ref()?;
        let (lo, hi) = data_range(series.points.iter().map(|p| p.1), false)?;
        // Whole tenths, at least two of them, so a wobble of half a point does not fill the
        // height and look dramatic: 90.5–91.5 % is drawn on 80–100 %.
        let (lo, hi) = ((lo.max(0.0) * 10.0 - 1e-9).floor() / 10.0, (hi.min(1.0) * 10.0 + 1e-9).ceil() / 10.0);
        let (lo, hi) = if hi - lo < 0.2 { if hi >= 1.0 { (hi - 0.2, hi) } else { (lo, lo + 0.2) } } else { (lo, hi) };
        Some((lo.max(0.0), hi.min(1.0)))
    }

    /// Where the legend's items go: (x, y of the row's middle, label as drawn) for each series,
    /// then the y below the legend.
    fn legend(&self) -> (Vec<(f32, f32, String)>, f32) {
        let w = self.width as f32;
        let scale = self.y_title();
        let right_title = self.right.as_ref().map(|(_, t)| *t).unwrap_or("");
        // First line: the y axis's title, and the right axis's when both fit.
        let both = text_width(&scale, TICK_SIZE) + text_width(right_title, TICK_SIZE) + 3.0 * PAD <= w;
        let mut y = 12.0 + if right_title.is_empty() || both { 0.0 } else { LEGEND_ROW };
        y += LEGEND_ROW;
        let mut x = PAD;
        let mut items = Vec::new();
        for series in self.all_series() {
            let label = fit(series.label, TICK_SIZE, w - 2.0 * PAD - 30.0);
            let item_width = 16.0 + text_width(&label, TICK_SIZE) + 14.0;
            if x > PAD && x + item_width > w - PAD {
                x = PAD;
                y += LEGEND_ROW;
            }
            items.push((x, y, label));
            x += item_width;
        }
        let below = if items.is_empty() { y - LEGEND_ROW / 2.0 } else { y + LEGEND_ROW / 2.0 };
        (items, below)
    }

    fn y_title(&self) -> String {
        if self.log_y {
            format!("{} (log scale)", self.y_label)
        } else {
            self.y_label.to_string()
        }
    }

    /// The notes' lines, wrapped to the width.
    fn note_lines(&self) -> Vec<(String, Colour)> {
        let room = self.width as f32 - 2.0 * PAD;
        let clipped = self.ceiling().map(|(ceiling, max)| {
            (format!("The axis stops at {}: the loss spiked to {} (drawn at the top); a log scale shows it whole.", format_tick(ceiling), format_tick(max)), MUTED)
        });
        self.notes.iter().cloned().chain(clipped).flat_map(|(text, colour)| wrap(&text, 12.0, room).into_iter().map(move |l| (l, colour))).collect()
    }

    /// The plot area's margins and the scene's height.
    pub fn frame(&self) -> Frame {
        let label_width = |labels: Vec<(f64, String)>| labels.iter().map(|(_, t)| text_width(t, TICK_SIZE)).fold(0.0f32, f32::max);
        let left = match self.y_range() {
            Some((lo, hi)) => {
                let axis = Axis { lo, hi, log: self.log_y, from: 0.0, to: 1.0 };
                (label_width(tick_labels(&axis, self.percent_y)) + 14.0).max(36.0)
            }
            None => 36.0,
        };
        let right = match self.right_range() {
            Some((lo, hi)) => label_width(tick_labels(&Axis { lo, hi, log: false, from: 0.0, to: 1.0 }, true)) + 14.0,
            None => 14.0,
        };
        let (_, below_legend) = self.legend();
        let notes = self.note_lines().len() as f32 * line_height(12.0);
        let top = (below_legend + notes + 10.0).ceil();
        let height = (top + self.plot_height() + BOTTOM) as usize;
        Frame { left, top, right, bottom: BOTTOM, height }
    }

    pub fn height(&self) -> usize {
        self.frame().height
    }

    /// The axes this graph's data calls for, or None before there is any data.
    pub fn axes(&self) -> Option<(Axis, Axis)> {
        let xs = || self.all_series().flat_map(|s| s.points.iter().map(|p| p.0));
        let x_hi = xs().fold(f64::NEG_INFINITY, f64::max);
        if !x_hi.is_finite() {
            return None;
        }
        let x_hi = self.markers.iter().map(|m| m.0).fold(x_hi, f64::max);
        let x_lo = xs().chain(self.markers.iter().map(|m| m.0)).fold(f64::INFINITY, f64::min);
        let (y_lo, y_hi) = self.y_range()?;
        let x_hi = if x_hi > x_lo { x_hi } else { x_lo + 1.0 };
        let frame = self.frame();
        let (w, h) = (self.width as f32, frame.height as f32);
        let x = Axis { lo: x_lo, hi: x_hi, log: false, from: frame.left, to: w - frame.right };
        let y = Axis { lo: y_lo, hi: y_hi, log: self.log_y, from: h - frame.bottom, to: frame.top };
        Some((x, y))
    }

    /// The right-hand axis, when there is a second measure with data.
    pub fn right_axis(&self) -> Option<Axis> {
        let (lo, hi) = self.right_range()?;
        let frame = self.frame();
        Some(Axis { lo, hi, log: false, from: frame.height as f32 - frame.bottom, to: frame.top })
    }

    pub fn scene(&self) -> Scene {
        let frame = self.frame();
        let mut scene = Scene::new(self.width, frame.height);
        let (w, h) = (self.width as f32, frame.height as f32);
        let (left, right, top) = (frame.left, w - frame.right, frame.top);
        let Some((x_axis, y_axis)) = self.axes() else {
            let lines = wrap("the graph starts with the first trained batch", 13.0, w - 2.0 * PAD);
            for (idx, line) in lines.iter().enumerate() {
                scene.text(w / 2.0, h / 2.0 + idx as f32 * line_height(13.0), line.clone(), 13.0, MUTED, Align::Center);
            }
            return scene;
        };
        let bottom = h - frame.bottom;
        for (tick, label) in tick_labels(&y_axis, self.percent_y) {
            let py = y_axis.map(tick);
            scene.line(vec![(left, py), (right, py)], GRID, 1.0, false);
            scene.text(left - 6.0, py, label, TICK_SIZE, MUTED, Align::Right);
        }
        let plot_w = right - left;
        let target = ((plot_w / 60.0) as usize).clamp(3, 10);
        for tick in nice_ticks(x_axis.lo, x_axis.hi, target) {
            let px = x_axis.map(tick);
            scene.line(vec![(px, top), (px, bottom)], GRID, 1.0, false);
            let label = format_tick(tick);
            let half = text_width(&label, TICK_SIZE) / 2.0;
            scene.text(px.clamp(half + 1.0, w - half - 1.0), bottom + 12.0, label, TICK_SIZE, MUTED, Align::Center);
        }
        scene.text(w - PAD, h - 8.0, "examples seen", TICK_SIZE, MUTED, Align::Right);
        let scale = self.y_title();
        scene.text(PAD, 12.0, scale.clone(), TICK_SIZE, MUTED, Align::Left);
        if let Some((series, title)) = &self.right {
            let both = text_width(&scale, TICK_SIZE) + text_width(title, TICK_SIZE) + 3.0 * PAD <= w;
            scene.text(w - PAD, if both { 12.0 } else { 12.0 + LEGEND_ROW }, *title, TICK_SIZE, series.colour, Align::Right);
        }
        for (x, label) in &self.markers {
            let px = x_axis.map(*x);
            if !(left - 0.5..=right + 0.5).contains(&px) {
                continue;
            }
            scene.line(vec![(px, top), (px, bottom)], MUTED, 1.0, true);
            // The label runs right of its line, cut short of the next marker.
            let next = self.markers.iter().map(|(x, _)| x_axis.map(*x)).filter(|&p| p > px + 1.0).fold(right, f32::min);
            let room = next - px - 8.0;
            if !label.is_empty() && room >= text_width("…", TICK_SIZE) * 2.0 {
                scene.text(px + 3.0, top + 8.0, fit(label, TICK_SIZE, room), TICK_SIZE, MUTED, Align::Left);
            }
        }
        if let Some((label, value, colour)) = self.reference {
            let py = y_axis.map(value);
            scene.line(vec![(left, py), (right, py)], colour, 1.5, true);
            let text = fit(&format!("{label} {}", format_tick(value)), TICK_SIZE, plot_w - 8.0);
            // Above the line, or below it where the line runs along the plot's top.
            let ty = if py - 8.0 - TICK_SIZE / 2.0 >= top { py - 8.0 } else { py + 8.0 };
            scene.text(right - 4.0, ty, text, TICK_SIZE, colour, Align::Right);
        }
        let (legend, below_legend) = self.legend();
        let mut note_y = below_legend;
        for (line, colour) in self.note_lines() {
            scene.text(PAD, note_y + line_height(12.0) / 2.0, line, 12.0, colour, Align::Left);
            note_y += line_height(12.0);
        }
        let right_axis = self.right_axis();
        if let (Some((series, _)), Some(axis)) = (&self.right, right_axis) {
            for (tick, label) in tick_labels(&axis, true) {
                scene.text(right + 6.0, axis.map(tick), label, TICK_SIZE, series.colour, Align::Left);
            }
        }
        for (idx, series) in self.all_series().enumerate() {
            let is_right = idx == self.series.len();
            let ceiling = self.ceiling().map_or(f64::INFINITY, |(c, _)| c);
            let y_of = |v: f64| if is_right { right_axis.map_or(bottom, |a| a.map(v)) } else { y_axis.map(v.min(ceiling)) };
            let points: Vec<(f32, f32)> = series
                .points
                .iter()
                .filter(|p| p.1.is_finite() && (is_right || !self.log_y || p.1 > 0.0))
                .map(|&(x, y)| (x_axis.map(x), y_of(y)))
                .collect();
            if points.len() == 1 {
                let (px, py) = points[0];
                scene.rect(px - 2.0, py - 2.0, 4.0, 4.0, series.colour);
            } else if points.len() > 1 {
                scene.line(points, series.colour, 1.5, is_right);
            }
            let (lx, ly, label) = &legend[idx];
            // The swatch drawn as the line is: two dashes for the dashed right-axis line.
            if is_right {
                scene.rect(*lx, ly - 1.0, 5.0, 2.0, series.colour);
                scene.rect(lx + 7.0, ly - 1.0, 5.0, 2.0, series.colour);
            } else {
                scene.rect(*lx, ly - 1.5, 12.0, 3.0, series.colour);
            }
            scene.text(lx + 16.0, *ly, label.clone(), TICK_SIZE, INK, Align::Left);
        }
        scene
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::scene::Item;

    /// One tick case: the range, the target count, and the ticks expected.
    fn check(lo: f64, hi: f64, target: usize, want: &[f64]) {
        let got = nice_ticks(lo, hi, target);
        assert_eq!(got.len(), want.len(), "{lo}..{hi}: {got:?}");
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12 * w.abs().max(1.0), "{lo}..{hi}: {got:?}");
        }
    }

    /// A spike a thousand times the loss stops the axis at three times the 90th percentile, says
    /// so, and draws the spike at the top; on a log scale the axis takes it whole.
    #[test]
    fn a_spike_clips_the_axis_and_says_so() {
        let points: Vec<(f64, f64)> = (0..40).map(|i| (i as f64 * 100.0, if i == 20 { 1300.0 } else { 0.1 - i as f64 * 0.001 })).collect();
        let points: &'static [(f64, f64)] = Box::leak(points.into_boxed_slice());
        let graph = |log_y| LossGraph {
            width: 400,
            series: vec![Series { label: "train", colour: [1, 2, 3, 255], points }],
            reference: None,
            log_y,
            y_label: "MSE/px",
            percent_y: false,
            right: None,
            markers: vec![],
            notes: vec![],
        };
        let (lo, hi) = graph(false).y_range().unwrap();
        assert!(hi < 0.35 && lo < 0.07, "{lo}..{hi}");
        let scene = graph(false).scene();
        assert!(scene.texts().iter().any(|t| t.contains("The axis stops at") && t.contains("spiked to 1.3k")), "{:?}", scene.texts());
        let (_, y_axis) = graph(false).axes().unwrap();
        let line = scene.items.iter().find_map(|i| if let Item::Line { points, .. } = i { Some(points.clone()) } else { None }).unwrap();
        assert!(line.iter().all(|p| p.1 >= y_axis.map(hi) - 0.5), "every point within the plot");
        let (_, hi) = graph(true).y_range().unwrap();
        assert!(hi > 1300.0, "a log scale takes it whole");
        assert!(!graph(true).scene().texts().iter().any(|t| t.contains("The axis stops")));
    }

    /// A percent axis spans whole tenths, at least two: noise of half a point stays small.
    #[test]
    fn percent_axes_start_from_a_sensible_floor() {
        let graph = |points: &'static [(f64, f64)]| LossGraph {
            width: 400,
            series: vec![],
            reference: None,
            log_y: false,
            y_label: "MSE/px",
            percent_y: false,
            right: Some((Series { label: "5-NN", colour: [1, 2, 3, 255], points }, "5-NN accuracy")),
            markers: vec![],
            notes: vec![],
        };
        let range = |points| graph(points).right_range().map(|(lo, hi)| ((lo * 100.0).round(), (hi * 100.0).round()));
        assert_eq!(range(&[(1.0, 0.905), (2.0, 0.915)]), Some((80.0, 100.0)));
        assert_eq!(range(&[(1.0, 0.976), (2.0, 0.98)]), Some((80.0, 100.0)));
        assert_eq!(range(&[(1.0, 0.12), (2.0, 0.55)]), Some((0.0, 60.0)));
        assert_eq!(range(&[(1.0, 0.42), (2.0, 0.43)]), Some((40.0, 60.0)));
    }

    #[test]
    fn tick_labels_on_a_narrow_range_are_all_different() {
        // A validation loss that moves between 0.0338 and 0.0352: ticks 0.0005 apart.
        for (lo, hi) in [(0.0338, 0.0352), (0.0101, 0.0109), (0.25, 0.2512), (1.0, 1.004), (0.0, 0.003)] {
            let axis = Axis { lo, hi, log: false, from: 0.0, to: 100.0 };
            let labels: Vec<String> = tick_labels(&axis, false).into_iter().map(|(_, l)| l).collect();
            let unique: std::collections::HashSet<&String> = labels.iter().collect();
            assert_eq!(unique.len(), labels.len(), "{lo}..{hi}: {labels:?}");
            for (t, l) in tick_labels(&axis, false) {
                assert!((l.parse::<f64>().unwrap() - t).abs() < 1e-9 + (hi - lo) * 1e-3, "{l} for {t}");
            }
        }
    }

    #[test]
    fn ticks_are_nice_and_inside_the_range() {
        check(0.0, 10.0, 5, &[0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        check(0.0, 1.0, 5, &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        check(0.031, 0.068, 5, &[0.04, 0.05, 0.06]);
        check(0.0, 180_000.0, 5, &[0.0, 50_000.0, 100_000.0, 150_000.0]);
        check(-3.0, 3.0, 5, &[-2.0, 0.0, 2.0]);
        let close = |got: Vec<f64>, want: &[f64]| {
            assert_eq!(got.len(), want.len(), "{got:?}");
            assert!(got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-12), "{got:?}");
        };
        close(log_ticks(0.001, 10.0), &[0.001, 0.01, 0.1, 1.0, 10.0]);
        close(log_ticks(0.03, 0.07), &[0.05]);
        close(log_ticks(0.02, 0.3), &[0.02, 0.05, 0.1, 0.2]);
        assert_eq!(format_tick(1500.0), "1.5k");
        assert_eq!(format_tick(2_000_000.0), "2M");
        assert_eq!(format_tick(0.05), "0.05");
        assert_eq!(format_tick(0.0123), "0.012");
        assert_eq!(format_tick(7.3e-14), "7.3e-14");
        assert_eq!(format_tick(1e-5), "1e-5");
    }

    #[test]
    fn axes_follow_the_data_up_and_down() {
        let train = [(0.0, 0.1), (1000.0, 0.05), (2000.0, 0.04)];
        let graph = |points: &'static [(f64, f64)], log_y| LossGraph {
            width: 400,
            series: vec![Series { label: "train", colour: INK, points }],
            reference: None,
            log_y,
            y_label: "MSE/px",
            percent_y: false,
            right: None,
            markers: Vec::new(),
            notes: Vec::new(),
        };
        let points: &'static [(f64, f64)] = Box::leak(Box::new(train));
        let (x, y) = graph(points, false).axes().unwrap();
        assert_eq!((x.lo, x.hi), (0.0, 2000.0));
        // The y range hugs [0.04, 0.1] with 5 % padding; a smaller loss later lowers it.
        assert!((y.lo - 0.037).abs() < 1e-9 && (y.hi - 0.103).abs() < 1e-9, "{y:?}");
        // Pixel mapping: the first point at the left and near the top, the last at the right.
        let frame = graph(points, false).frame();
        assert_eq!(x.map(0.0), frame.left);
        assert_eq!(x.map(2000.0), 400.0 - frame.right);
        assert!(y.map(0.1) < y.map(0.04));
        // The plot is 0.4 of the width tall (160 px at 400), under a title and a legend row.
        assert_eq!(y.map(y.lo) - y.map(y.hi), 160.0);
        assert_eq!(frame.height as f32, frame.top + 160.0 + BOTTOM);
        let (_, log_y) = graph(points, true).axes().unwrap();
        assert!(log_y.log && log_y.lo < 0.04 && log_y.hi > 0.1);
        // The scene has the tick labels and a line per series.
        let scene = graph(points, false).scene();
        let texts = scene.texts();
        assert!(texts.contains(&"1k") && texts.contains(&"0.06"), "{texts:?}");
        assert!(scene.items.iter().any(|i| matches!(i, Item::Line { points, .. } if points.len() == 3)));
        assert!(graph(&[], false).axes().is_none());
    }

    /// A second measure gets its own axis on the right, in percent, and the legend wraps to
    /// the width: at 280 px every label stays inside the scene.
    #[test]
    fn the_right_axis_and_the_legend_fit_the_width() {
        let train: &'static [(f64, f64)] = Box::leak(Box::new([(0.0, 0.1), (1000.0, 0.05), (2000.0, 0.04)]));
        let knn: &'static [(f64, f64)] = Box::leak(Box::new([(500.0, 0.62), (2000.0, 0.81)]));
        const KNN: Colour = [1, 2, 3, 255];
        for width in [280, 560, 1200] {
            let graph = LossGraph {
                width,
                series: vec![
                    Series { label: "train (smoothed)", colour: INK, points: train },
                    Series { label: "validation: the same network without noise, a long label", colour: INK, points: train },
                ],
                reference: Some(("PCA-2", 0.06, INK)),
                log_y: false,
                y_label: "MSE/px",
                percent_y: false,
                right: Some((Series { label: "5-NN accuracy of the code", colour: KNN, points: knn }, "5-NN accuracy")),
                markers: vec![(1000.0, "layer 2".into())],
                notes: vec![("a note long enough to need wrapping on the narrowest of the screens".into(), INK)],
            };
            let right = graph.right_axis().unwrap();
            assert!(right.lo <= 0.62 && right.hi >= 0.81 && right.hi <= 1.0, "{right:?}");
            let (_, y) = graph.axes().unwrap();
            assert_eq!((right.from, right.to), (y.from, y.to), "both axes span the plot");
            let scene = graph.scene();
            assert_eq!((scene.width, scene.height), (width, graph.height()));
            let texts = scene.texts();
            assert!(texts.iter().any(|t| t.ends_with('%')), "{width}: {texts:?}");
            assert!(texts.contains(&"layer 2") && texts.contains(&"5-NN accuracy"), "{width}: {texts:?}");
            for item in &scene.items {
                if let Some((x0, y0, x1, y1)) = item.bounds() {
                    assert!(x0 >= 0.0 && x1 <= width as f32 && y0 >= 0.0 && y1 <= scene.height as f32, "{width}: {item:?}");
                }
            }
            // The dashed knn line maps accuracy through the right axis.
            let dashed = scene.items.iter().find_map(|i| if let Item::Line { points, dashed: true, stroke, .. } = i { (*stroke == KNN).then_some(points.clone()) } else { None });
            assert_eq!(dashed.unwrap()[1].1, right.map(0.81));
        }
    }
}
