//! The code scatter: each digit drawn as a thumbnail at its code position (two chosen neurons of
//! one layer), framed in its class colour, with axes and a class legend, laid out for the width
//! it is given (a square plot; thumbnails shrink on narrow screens).

use super::image::Rgba;
use super::plot::{format_tick, nice_ticks, Axis};
use super::scene::{line_height, text_width, wrap, Align, Scene, ACCENT, CLASS_COLOURS, GRID, INK, MUTED, PANEL};

pub struct Scatter<'a> {
    /// The scene's width; the plot area is square and the height follows.
    pub width: usize,
    /// (x, y) code values, one pair per digit.
    pub points: &'a [(f32, f32)],
    pub labels: &'a [u8],
    /// The digits' images (n, thumb_w · thumb_h), values in [0, 1].
    pub images: &'a [f32],
    pub thumb_w: usize,
    pub thumb_h: usize,
    pub title: String,
    /// Drawn under the grid and the digits, filling the plot area (the decoded manifold).
    pub background: Option<Rgba>,
    /// Points to mark with a ring (a drawn digit's code), in data coordinates.
    pub marks: &'a [(f32, f32)],
    /// The axes cover at least [−at_least, at_least] (a variational code's prior, ±2.5 σ);
    /// 0: the data's range alone.
    pub at_least: f32,
    /// Each point's standard deviation along x and y (a variational code's), then each mark's,
    /// drawn as an ellipse around it in its class colour (a mark's in the accent colour);
    /// empty: none drawn.
    pub spreads: &'a [(f32, f32)],
}

const PAD: usize = 8;
const MARGIN_RIGHT: usize = 12;
const TICK_SIZE: f32 = 11.0;
const TITLE_SIZE: f32 = 12.0;
/// The width at which thumbnails are drawn at their own size; narrower, they shrink with it
/// (to half size at most).
pub const FULL_SIZE_WIDTH: usize = 560;

/// Far enough off any canvas that a thumbnail placed there draws nothing, near enough that
/// pixel arithmetic on it cannot overflow.
const OFF_CANVAS: i64 = 1 << 40;

/// A grey image (sh, sw) shrunk or enlarged to (dh, dw) by averaging the source pixels each
/// target pixel covers.
pub fn resample(image: &[f32], (sw, sh): (usize, usize), (dw, dh): (usize, usize)) -> Vec<f32> {
    if (sw, sh) == (dw, dh) {
        return image.to_vec();
    }
    let (fx, fy) = (sw as f32 / dw as f32, sh as f32 / dh as f32);
    let mut out = Vec::with_capacity(dw * dh);
    for ty in 0..dh {
        let (y_lo, y_hi) = ((ty as f32 * fy) as usize, (((ty + 1) as f32 * fy).ceil() as usize).clamp(1, sh));
        for tx in 0..dw {
            let (x_lo, x_hi) = ((tx as f32 * fx) as usize, (((tx + 1) as f32 * fx).ceil() as usize).clamp(1, sw));
            let (y_lo, x_lo) = (y_lo.min(y_hi - 1), x_lo.min(x_hi - 1));
            let sum: f32 = (y_lo..y_hi).flat_map(|y| (x_lo..x_hi).map(move |x| (x, y))).map(|(x, y)| image[y * sw + x]).sum();
            out.push(sum / ((y_hi - y_lo) * (x_hi - x_lo)) as f32);
        }
    }
    out
}

impl Scatter<'_> {
    /// Vectors that are not images (one row) are drawn as dots, not thumbnails.
    fn dots(&self) -> bool {
        self.thumb_h <= 1
    }

    /// The size a thumbnail is drawn at, inside its one-pixel class frame.
    pub fn thumb_size(&self) -> (usize, usize) {
        if self.dots() {
            return (3, 3);
        }
        let scale = (self.width as f32 / FULL_SIZE_WIDTH as f32).clamp(0.5, 1.0);
        let size = |n: usize| ((n as f32 * scale).round() as usize).max(1);
        (size(self.thumb_w), size(self.thumb_h))
    }

    /// The data ranges of x and y (the marks count too: a drawn digit's code shows even where
    /// no digit lies).
    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let range = |sel: fn(&(f32, f32)) -> f32| {
            let (lo, hi) = self.points.iter().chain(self.marks).map(sel).filter(|v| v.is_finite()).fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
            let (lo, hi) = if self.at_least > 0.0 { (lo.min(-self.at_least), hi.max(self.at_least)) } else { (lo, hi) };
            if !lo.is_finite() {
                (-1.0, 1.0)
            } else if hi > lo {
                (lo as f64, hi as f64)
            } else {
                (lo as f64 - 1.0, hi as f64 + 1.0)
            }
        };
        (range(|p| p.0), range(|p| p.1))
    }

    fn title_lines(&self) -> Vec<String> {
        wrap(&self.title, TITLE_SIZE, (self.width - 2 * PAD) as f32)
    }

    /// The legend's swatch spacing and first swatch's x (no legend without labels).
    fn legend(&self) -> Option<(f32, f32)> {
        if self.labels.is_empty() {
            return None;
        }
        let (x0, _, _, _) = self.plot_area();
        let spacing = (((self.width - PAD) as f32 - x0 as f32) / 10.0).min(34.0);
        if spacing >= 24.0 {
            Some((spacing, x0 as f32))
        } else {
            Some((((self.width - 2 * PAD) as f32 / 10.0).min(34.0), PAD as f32))
        }
    }

    /// The plot area (x0, y0, width, height) in canvas pixels: square, under the title, right
    /// of the y tick labels.
    pub fn plot_area(&self) -> (usize, usize, usize, usize) {
        let (_, (ylo, yhi)) = self.ranges();
        let label_width = nice_ticks(ylo, yhi, 5).iter().map(|&t| text_width(&format_tick(t), TICK_SIZE)).fold(0.0f32, f32::max);
        let x0 = (label_width.ceil() as usize + 12).max(30);
        let y0 = 6 + self.title_lines().len() * line_height(TITLE_SIZE) as usize + 8;
        let side = self.width.saturating_sub(x0 + MARGIN_RIGHT).max(1);
        (x0, y0, side, side)
    }

    /// The scene's height: the title, the square plot, its x tick labels and the legend.
    pub fn height(&self) -> usize {
        let (_, y0, _, h) = self.plot_area();
        y0 + h + if self.labels.is_empty() { 26 } else { 46 }
    }

    /// Data-to-pixel axes for the thumbnails' centres: the extreme digits touch the area's edges.
    pub fn axes(&self) -> (Axis, Axis) {
        let (x0, y0, w, h) = self.plot_area();
        let (dw, dh) = self.thumb_size();
        let (half_w, half_h) = (dw as f32 / 2.0 + 1.0, dh as f32 / 2.0 + 1.0);
        let ((xlo, xhi), (ylo, yhi)) = self.ranges();
        let x = Axis { lo: xlo, hi: xhi, log: false, from: x0 as f32 + half_w, to: (x0 + w) as f32 - half_w };
        let y = Axis { lo: ylo, hi: yhi, log: false, from: (y0 + h) as f32 - half_h, to: y0 as f32 + half_h };
        (x, y)
    }

    /// Top-left pixel of each digit's framed thumbnail (`thumb_size` plus a pixel of frame on
    /// each side). A code that is not a finite number (a network gone wrong) has no place on
    /// the axes: it lands far off the canvas, undrawn.
    pub fn positions(&self) -> Vec<(i64, i64)> {
        let (x, y) = self.axes();
        let (dw, dh) = self.thumb_size();
        let corner = |axis: &Axis, v: f32, size: usize| {
            let centre = axis.map(v as f64);
            if centre.is_finite() {
                ((centre - size as f32 / 2.0 - 1.0).round() as i64).clamp(-OFF_CANVAS, OFF_CANVAS)
            } else {
                -OFF_CANVAS
            }
        };
        self.points.iter().map(|&(px, py)| (corner(&x, px, dw), corner(&y, py, dh))).collect()
    }

    pub fn scene(&self) -> Scene {
        let mut scene = Scene::new(self.width, self.height());
        let (x0, y0, w, h) = self.plot_area();
        let (x_axis, y_axis) = self.axes();
        let mut plot = match &self.background {
            Some(image) if (image.width, image.height) == (w, h) => image.clone(),
            _ => Rgba::new(w, h, [24, 24, 27, 255]),
        };
        let target = (w / 70).clamp(4, 10);
        for tick in nice_ticks(x_axis.lo, x_axis.hi, target) {
            let px = x_axis.map(tick) as i64 - x0 as i64;
            if (0..w as i64).contains(&px) {
                (0..h).for_each(|py| plot.set(px as usize, py, GRID));
            }
            let label = format_tick(tick);
            let half = text_width(&label, TICK_SIZE) / 2.0;
            scene.text(x_axis.map(tick).clamp(half, self.width as f32 - half), (y0 + h + 12) as f32, label, TICK_SIZE, MUTED, Align::Center);
        }
        for tick in nice_ticks(y_axis.lo, y_axis.hi, 5) {
            let py = y_axis.map(tick) as i64 - y0 as i64;
            if (0..h as i64).contains(&py) {
                (0..w).for_each(|px| plot.set(px, py as usize, GRID));
            }
            scene.text(x0 as f32 - 6.0, y_axis.map(tick), format_tick(tick), TICK_SIZE, MUTED, Align::Right);
        }
        let tile = self.thumb_w * self.thumb_h;
        let (dw, dh) = self.thumb_size();
        for (idx, (left, top)) in self.positions().into_iter().enumerate() {
            let colour = self.labels.get(idx).map_or(ACCENT, |&l| CLASS_COLOURS[l as usize % 10]);
            if self.dots() {
                let (cx, cy) = (left + 1 + (dw / 2) as i64 - x0 as i64, top + 1 + (dh / 2) as i64 - y0 as i64);
                for (dx, dy) in (-2..=2).flat_map(|dx| (-2..=2).map(move |dy| (dx, dy))) {
                    let (px, py) = (cx + dx, cy + dy);
                    if px >= 0 && py >= 0 && px < w as i64 && py < h as i64 {
                        plot.set(px as usize, py as usize, colour);
                    }
                }
                continue;
            }
            let image = resample(&self.images[idx * tile..(idx + 1) * tile], (self.thumb_w, self.thumb_h), (dw, dh));
            for ty in 0..dh + 2 {
                for tx in 0..dw + 2 {
                    let (px, py) = (left - x0 as i64 + tx as i64, top - y0 as i64 + ty as i64);
                    if px < 0 || py < 0 || px >= w as i64 || py >= h as i64 {
                        continue;
                    }
                    let frame = tx == 0 || ty == 0 || tx == dw + 1 || ty == dh + 1;
                    let c = if frame {
                        colour
                    } else {
                        let v = (image[(ty - 1) * dw + tx - 1].clamp(0.0, 1.0) * 255.0) as u8;
                        [v, v, v, 255]
                    };
                    plot.set(px as usize, py as usize, c);
                }
            }
        }
        // Ellipses over the digits (under them the thumbnails hide them): each point's one-σ
        // outline, in its class colour.
        for (idx, (&(mx, my), &(sx, sy))) in self.points.iter().chain(self.marks).zip(self.spreads).enumerate() {
            let mark = idx >= self.points.len();
            let colour = if mark { ACCENT } else { self.labels.get(idx).map_or(ACCENT, |&l| CLASS_COLOURS[l as usize % 10]) };
            let (cx, cy) = (x_axis.map(mx as f64), y_axis.map(my as f64));
            let (rx, ry) = ((x_axis.map((mx + sx) as f64) - cx).abs(), (y_axis.map((my + sy) as f64) - cy).abs());
            if !(cx.is_finite() && cy.is_finite() && rx.is_finite() && ry.is_finite()) {
                continue;
            }
            // Enough steps for a pixel apart along the outline, at most 2,000.
            let steps = ((2.0 * std::f32::consts::PI * rx.max(ry)).ceil() as usize).clamp(8, 2000);
            for step in 0..steps {
                let angle = step as f32 / steps as f32 * std::f32::consts::TAU;
                let (px, py) = ((cx + rx * angle.cos()).round() as i64 - x0 as i64, (cy + ry * angle.sin()).round() as i64 - y0 as i64);
                if px >= 0 && py >= 0 && px < w as i64 && py < h as i64 {
                    plot.set(px as usize, py as usize, colour);
                }
            }
        }
        for &(mx, my) in self.marks {
            let (cx, cy) = (x_axis.map(mx as f64) - x0 as f32, y_axis.map(my as f64) - y0 as f32);
            // A ring of radius 9 px, two pixels wide.
            for step in 0..360 {
                let angle = (step as f32).to_radians();
                for radius in [9.0f32, 10.0] {
                    let (px, py) = ((cx + radius * angle.cos()).round() as i64, (cy + radius * angle.sin()).round() as i64);
                    if px >= 0 && py >= 0 && px < w as i64 && py < h as i64 {
                        plot.set(px as usize, py as usize, ACCENT);
                    }
                }
            }
        }
        scene.image(x0 as f32, y0 as f32, plot);
        let step = line_height(TITLE_SIZE);
        for (idx, line) in self.title_lines().into_iter().enumerate() {
            scene.text(PAD as f32, 6.0 + step * (idx as f32 + 0.5), line, TITLE_SIZE, INK, Align::Left);
        }
        // Legend: one swatch per class along the bottom (labelled data only).
        if let Some((spacing, start)) = self.legend() {
            let legend_y = (scene.height - 12) as f32;
            for (digit, colour) in CLASS_COLOURS.iter().enumerate() {
                let lx = start + digit as f32 * spacing;
                scene.rect(lx, legend_y - 6.0, 12.0, 12.0, *colour);
                scene.text(lx + 15.0, legend_y, digit.to_string(), TICK_SIZE, INK, Align::Left);
            }
        }
        scene.background = PANEL;
        scene
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::scene::Item;

    #[test]
    fn extreme_digits_touch_the_plot_edges_and_carry_class_frames() {
        let points = [(-2.0, 0.0), (2.0, 1.0), (0.0, 0.5)];
        let labels = [3, 7, 1];
        let images = vec![0.5; 3 * 16];
        let scatter = Scatter { width: 280, points: &points, labels: &labels, images: &images, thumb_w: 4, thumb_h: 4, title: "t".into(), background: None, marks: &[], at_least: 0.0, spreads: &[] };
        // At 280 px, half of 560: thumbnails at half size, a square plot under the title.
        assert_eq!(scatter.thumb_size(), (2, 2));
        let (x0, y0, w, h) = scatter.plot_area();
        assert_eq!((x0, y0, w, h), (30, 6 + 16 + 8, 280 - 30 - 12, 280 - 30 - 12));
        assert_eq!(scatter.height(), y0 + h + 46);
        let pos = scatter.positions();
        // Lowest x at the left edge, highest x at the right; highest y at the top.
        assert_eq!(pos[0].0, x0 as i64);
        assert_eq!(pos[1].0 + 4, (x0 + w) as i64);
        assert_eq!(pos[1].1, y0 as i64);
        assert_eq!(pos[0].1 + 4, (y0 + h) as i64);
        // The middle point sits midway.
        assert_eq!(pos[2].0, (pos[0].0 + pos[1].0) / 2);
        let scene = scatter.scene();
        assert_eq!((scene.width, scene.height), (280, scatter.height()));
        let Some(Item::Image { image, .. }) = scene.items.iter().find(|i| matches!(i, Item::Image { .. })) else { panic!() };
        // The first digit's frame is class 3's colour, its inside the digit's grey.
        let (lx, ly) = ((pos[0].0 - x0 as i64) as usize, (pos[0].1 - y0 as i64) as usize);
        assert_eq!(image.get(lx, ly), CLASS_COLOURS[3]);
        assert_eq!(image.get(lx + 1, ly + 1), [127, 127, 127, 255]);
        assert!(scene.texts().contains(&"9"), "legend lists every class");
        for item in &scene.items {
            let (x0, _, x1, _) = item.bounds().unwrap();
            assert!(x0 >= 0.0 && x1 <= 280.0, "{item:?}");
        }
    }

    #[test]
    fn thumbnails_shrink_by_averaging() {
        let image = [0.0, 1.0, 1.0, 1.0, /* row 2 */ 0.0, 0.0, 1.0, 1.0];
        assert_eq!(resample(&image, (4, 2), (2, 1)), vec![0.25, 1.0]);
        assert_eq!(resample(&image, (4, 2), (4, 2)), image.to_vec());
        // 28 px digits: full size from 560 px, 17 px at 340, never under 14.
        let scatter = |width| Scatter { width, points: &[], labels: &[], images: &[], thumb_w: 28, thumb_h: 28, title: String::new(), background: None, marks: &[], at_least: 0.0, spreads: &[] };
        assert_eq!([1200, 560, 340, 280].map(|w| scatter(w).thumb_size().0), [28, 28, 17, 14]);
    }

    /// Codes that are not finite numbers are left out of the axes and off the canvas; the
    /// finite ones still span the plot, and nothing overflows on the way (tests check overflow).
    #[test]
    fn codes_that_are_not_numbers_are_not_drawn() {
        let points = [(f32::INFINITY, 0.0), (f32::NAN, 0.5), (0.0, 0.0), (1.0, 1.0), (f32::NEG_INFINITY, f32::INFINITY)];
        let labels = [0, 1, 2, 3, 4];
        let images = vec![1.0; 5 * 16];
        let marks = [(f32::NAN, 0.5), (f32::INFINITY, f32::NEG_INFINITY)];
        let scatter = Scatter { width: 280, points: &points, labels: &labels, images: &images, thumb_w: 4, thumb_h: 4, title: "t".into(), background: None, marks: &marks, at_least: 0.0, spreads: &[] };
        let (x0, _, w, _) = scatter.plot_area();
        let pos = scatter.positions();
        assert_eq!((pos[2].0, pos[3].0 + 4), (x0 as i64, (x0 + w) as i64), "finite codes span the plot");
        assert!([0, 1, 4].iter().all(|&i| pos[i].0 < -(1 << 30) || pos[i].1 < -(1 << 30)), "{pos:?}");
        let scene = scatter.scene();
        let Some(Item::Image { image, .. }) = scene.items.iter().find(|i| matches!(i, Item::Image { .. })) else { panic!() };
        let framed = |colour| (0..image.height).flat_map(|y| (0..image.width).map(move |x| (x, y))).any(|(x, y)| image.get(x, y) == colour);
        assert!(framed(CLASS_COLOURS[2]) && framed(CLASS_COLOURS[3]));
        assert!(!framed(CLASS_COLOURS[0]) && !framed(CLASS_COLOURS[1]) && !framed(CLASS_COLOURS[4]));
    }
}
