//! The code scatter: each digit drawn as a thumbnail at its code position (two chosen neurons of
//! one layer), framed in its class colour, with axes and a class legend.

use super::image::Rgba;
use super::plot::{format_tick, nice_ticks, Axis};
use super::scene::{Align, Scene, ACCENT, CLASS_COLOURS, GRID, INK, MUTED, PANEL};

pub struct Scatter<'a> {
    pub width: usize,
    pub height: usize,
    /// (x, y) code values, one pair per digit.
    pub points: &'a [(f32, f32)],
    pub labels: &'a [u8],
    /// The digits' images (n, thumb_w · thumb_h), values in [0, 1].
    pub images: &'a [f32],
    pub thumb_w: usize,
    pub thumb_h: usize,
    pub title: String,
}

const MARGIN_LEFT: usize = 46;
const MARGIN_TOP: usize = 24;
const MARGIN_RIGHT: usize = 12;
const MARGIN_BOTTOM: usize = 46;

impl Scatter<'_> {
    /// The plot area (x0, y0, width, height) in canvas pixels.
    pub fn plot_area(&self) -> (usize, usize, usize, usize) {
        (MARGIN_LEFT, MARGIN_TOP, self.width - MARGIN_LEFT - MARGIN_RIGHT, self.height - MARGIN_TOP - MARGIN_BOTTOM)
    }

    /// Data-to-pixel axes for the thumbnails' centres: the extreme digits touch the area's edges.
    pub fn axes(&self) -> (Axis, Axis) {
        let range = |sel: fn(&(f32, f32)) -> f32| {
            let (lo, hi) = self.points.iter().map(sel).filter(|v| v.is_finite()).fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
            if !lo.is_finite() {
                (-1.0, 1.0)
            } else if hi > lo {
                (lo as f64, hi as f64)
            } else {
                (lo as f64 - 1.0, hi as f64 + 1.0)
            }
        };
        let (x0, y0, w, h) = self.plot_area();
        let (half_w, half_h) = (self.thumb_w as f32 / 2.0 + 1.0, self.thumb_h as f32 / 2.0 + 1.0);
        let (xlo, xhi) = range(|p| p.0);
        let (ylo, yhi) = range(|p| p.1);
        let x = Axis { lo: xlo, hi: xhi, log: false, from: x0 as f32 + half_w, to: (x0 + w) as f32 - half_w };
        let y = Axis { lo: ylo, hi: yhi, log: false, from: (y0 + h) as f32 - half_h, to: y0 as f32 + half_h };
        (x, y)
    }

    /// Top-left pixel of each digit's framed thumbnail.
    pub fn positions(&self) -> Vec<(i64, i64)> {
        let (x, y) = self.axes();
        self.points
            .iter()
            .map(|&(px, py)| {
                let cx = x.map(px as f64);
                let cy = y.map(py as f64);
                ((cx - self.thumb_w as f32 / 2.0 - 1.0).round() as i64, (cy - self.thumb_h as f32 / 2.0 - 1.0).round() as i64)
            })
            .collect()
    }

    pub fn scene(&self) -> Scene {
        let mut scene = Scene::new(self.width, self.height);
        let (x0, y0, w, h) = self.plot_area();
        let (x_axis, y_axis) = self.axes();
        let mut plot = Rgba::new(w, h, [24, 24, 27, 255]);
        for tick in nice_ticks(x_axis.lo, x_axis.hi, 5) {
            let px = x_axis.map(tick) as i64 - x0 as i64;
            if (0..w as i64).contains(&px) {
                (0..h).for_each(|py| plot.set(px as usize, py, GRID));
            }
            scene.text(x_axis.map(tick), (y0 + h + 12) as f32, format_tick(tick), 11.0, MUTED, Align::Center);
        }
        for tick in nice_ticks(y_axis.lo, y_axis.hi, 5) {
            let py = y_axis.map(tick) as i64 - y0 as i64;
            if (0..h as i64).contains(&py) {
                (0..w).for_each(|px| plot.set(px, py as usize, GRID));
            }
            scene.text(x0 as f32 - 6.0, y_axis.map(tick), format_tick(tick), 11.0, MUTED, Align::Right);
        }
        let tile = self.thumb_w * self.thumb_h;
        // Vectors that are not images (one row) are drawn as dots, not thumbnails.
        let dots = self.thumb_h <= 1;
        for (idx, (left, top)) in self.positions().into_iter().enumerate() {
            let colour = self.labels.get(idx).map_or(ACCENT, |&l| CLASS_COLOURS[l as usize % 10]);
            if dots {
                let (cx, cy) = (left + (self.thumb_w / 2) as i64 - x0 as i64, top + (self.thumb_h / 2) as i64 - y0 as i64);
                for (dx, dy) in (-2..=2).flat_map(|dx| (-2..=2).map(move |dy| (dx, dy))) {
                    let (px, py) = (cx + dx, cy + dy);
                    if px >= 0 && py >= 0 && px < w as i64 && py < h as i64 {
                        plot.set(px as usize, py as usize, colour);
                    }
                }
                continue;
            }
            let image = &self.images[idx * tile..(idx + 1) * tile];
            for ty in 0..self.thumb_h + 2 {
                for tx in 0..self.thumb_w + 2 {
                    let (px, py) = (left - x0 as i64 + tx as i64, top - y0 as i64 + ty as i64);
                    if px < 0 || py < 0 || px >= w as i64 || py >= h as i64 {
                        continue;
                    }
                    let frame = tx == 0 || ty == 0 || tx == self.thumb_w + 1 || ty == self.thumb_h + 1;
                    let c = if frame {
                        colour
                    } else {
                        let v = (image[(ty - 1) * self.thumb_w + tx - 1].clamp(0.0, 1.0) * 255.0) as u8;
                        [v, v, v, 255]
                    };
                    plot.set(px as usize, py as usize, c);
                }
            }
        }
        scene.image(x0 as f32, y0 as f32, plot);
        scene.text(x0 as f32, 12.0, self.title.clone(), 12.0, INK, Align::Left);
        // Legend: one swatch per class along the bottom (labelled data only).
        let legend_y = (self.height - 12) as f32;
        let classes = if self.labels.is_empty() { 0 } else { 10 };
        for (digit, colour) in CLASS_COLOURS.iter().enumerate().take(classes) {
            let lx = x0 as f32 + digit as f32 * 34.0;
            scene.rect(lx, legend_y - 6.0, 12.0, 12.0, *colour);
            scene.text(lx + 16.0, legend_y, digit.to_string(), 11.0, INK, Align::Left);
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
        let images = vec![0.5; 3 * 4];
        let scatter = Scatter { width: 200, height: 170, points: &points, labels: &labels, images: &images, thumb_w: 2, thumb_h: 2, title: "t".into() };
        let (x0, y0, w, h) = scatter.plot_area();
        assert_eq!((x0, y0, w, h), (46, 24, 142, 100));
        let pos = scatter.positions();
        // Lowest x at the left edge, highest x at the right; highest y at the top.
        assert_eq!(pos[0].0, x0 as i64);
        assert_eq!(pos[1].0 + 4, (x0 + w) as i64);
        assert_eq!(pos[1].1, y0 as i64);
        assert_eq!(pos[0].1 + 4, (y0 + h) as i64);
        // The middle point sits midway.
        assert_eq!(pos[2].0, (pos[0].0 + pos[1].0) / 2);
        let scene = scatter.scene();
        let Some(Item::Image { image, .. }) = scene.items.iter().find(|i| matches!(i, Item::Image { .. })) else { panic!() };
        // The first digit's frame is class 3's colour, its inside the digit's grey.
        let (lx, ly) = ((pos[0].0 - x0 as i64) as usize, (pos[0].1 - y0 as i64) as usize);
        assert_eq!(image.get(lx, ly), CLASS_COLOURS[3]);
        assert_eq!(image.get(lx + 1, ly + 1), [127, 127, 127, 255]);
        assert!(scene.texts().contains(&"9"), "legend lists every class");
    }
}
