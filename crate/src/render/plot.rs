//! Plot geometry: "nice" axis ticks on linear and log scales, and the loss graph (smoothed train
//! loss and validation loss against examples seen, with a dashed reference line).

use super::scene::{Align, Colour, Scene, GRID, INK, MUTED};

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

pub struct LossGraph<'a> {
    pub width: usize,
    pub height: usize,
    pub series: Vec<Series<'a>>,
    /// A horizontal dashed line: (label, value, colour).
    pub reference: Option<(&'a str, f64, Colour)>,
    pub log_y: bool,
    /// What the y axis measures, e.g. "MSE/px".
    pub y_label: &'a str,
}

const LEFT: f32 = 62.0;
const RIGHT: f32 = 14.0;
const TOP: f32 = 40.0;
const BOTTOM: f32 = 34.0;

impl LossGraph<'_> {
    /// The axes this graph's data calls for, or None before there is any data.
    pub fn axes(&self) -> Option<(Axis, Axis)> {
        let xs = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
        let x_hi = xs.fold(f64::NEG_INFINITY, f64::max);
        if !x_hi.is_finite() {
            return None;
        }
        let x_lo = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).fold(f64::INFINITY, f64::min);
        let ys = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).chain(self.reference.map(|r| r.1));
        let (y_lo, y_hi) = data_range(ys, self.log_y)?;
        let x_hi = if x_hi > x_lo { x_hi } else { x_lo + 1.0 };
        let (w, h) = (self.width as f32, self.height as f32);
        let x = Axis { lo: x_lo, hi: x_hi, log: false, from: LEFT, to: w - RIGHT };
        let y = Axis { lo: y_lo, hi: y_hi, log: self.log_y, from: h - BOTTOM, to: TOP };
        Some((x, y))
    }

    pub fn scene(&self) -> Scene {
        let mut scene = Scene::new(self.width, self.height);
        let (w, h) = (self.width as f32, self.height as f32);
        let Some((x_axis, y_axis)) = self.axes() else {
            scene.text(w / 2.0, h / 2.0, "the graph starts with the first trained batch", 13.0, MUTED, Align::Center);
            return scene;
        };
        for tick in y_axis.ticks() {
            let py = y_axis.map(tick);
            scene.line(vec![(LEFT, py), (w - RIGHT, py)], GRID, 1.0, false);
            scene.text(LEFT - 6.0, py, format_tick(tick), 11.0, MUTED, Align::Right);
        }
        for tick in x_axis.ticks() {
            let px = x_axis.map(tick);
            scene.line(vec![(px, TOP), (px, h - BOTTOM)], GRID, 1.0, false);
            scene.text(px, h - BOTTOM + 12.0, format_tick(tick), 11.0, MUTED, Align::Center);
        }
        scene.text(w - RIGHT, h - 8.0, "examples seen", 11.0, MUTED, Align::Right);
        let scale = if self.log_y { format!("{} (log scale)", self.y_label) } else { self.y_label.to_string() };
        scene.text(LEFT, 12.0, scale.clone(), 11.0, MUTED, Align::Left);
        if let Some((label, value, colour)) = self.reference {
            let py = y_axis.map(value);
            scene.line(vec![(LEFT, py), (w - RIGHT, py)], colour, 1.5, true);
            scene.text(w - RIGHT - 4.0, py - 8.0, format!("{label} {}", format_tick(value)), 11.0, colour, Align::Right);
        }
        // The legend starts after the axis label.
        let legend_start = LEFT + (6.5 * (scale.chars().count() as f32) + 24.0).max(130.0);
        let (mut legend_x, mut legend_y) = (legend_start, 8.0);
        for series in &self.series {
            let points: Vec<(f32, f32)> = series
                .points
                .iter()
                .filter(|p| p.1.is_finite() && (!self.log_y || p.1 > 0.0))
                .map(|&(x, y)| (x_axis.map(x), y_axis.map(y)))
                .collect();
            if points.len() == 1 {
                let (px, py) = points[0];
                scene.rect(px - 2.0, py - 2.0, 4.0, 4.0, series.colour);
            } else if points.len() > 1 {
                scene.line(points, series.colour, 1.5, false);
            }
            let item_width = 16.0 + 6.5 * series.label.chars().count() as f32 + 14.0;
            if legend_x + item_width > w - RIGHT {
                legend_x = legend_start;
                legend_y += 14.0;
            }
            scene.rect(legend_x, legend_y, 12.0, 3.0, series.colour);
            scene.text(legend_x + 16.0, legend_y + 2.0, series.label, 11.0, INK, Align::Left);
            legend_x += item_width;
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
            height: 200,
            series: vec![Series { label: "train", colour: INK, points }],
            reference: None,
            log_y,
            y_label: "MSE/px",
        };
        let points: &'static [(f64, f64)] = Box::leak(Box::new(train));
        let (x, y) = graph(points, false).axes().unwrap();
        assert_eq!((x.lo, x.hi), (0.0, 2000.0));
        // The y range hugs [0.04, 0.1] with 5 % padding; a smaller loss later lowers it.
        assert!((y.lo - 0.037).abs() < 1e-9 && (y.hi - 0.103).abs() < 1e-9, "{y:?}");
        // Pixel mapping: the first point at the left and near the top, the last at the right.
        assert_eq!(x.map(0.0), LEFT);
        assert_eq!(x.map(2000.0), 400.0 - RIGHT);
        assert!(y.map(0.1) < y.map(0.04));
        let (_, log_y) = graph(points, true).axes().unwrap();
        assert!(log_y.log && log_y.lo < 0.04 && log_y.hi > 0.1);
        // The scene has the tick labels and a line per series.
        let scene = graph(points, false).scene();
        let texts = scene.texts();
        assert!(texts.contains(&"1k") && texts.contains(&"0.06"), "{texts:?}");
        assert!(scene.items.iter().any(|i| matches!(i, Item::Line { points, .. } if points.len() == 3)));
        assert!(graph(&[], false).axes().is_none());
    }
}
