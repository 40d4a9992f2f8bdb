//! The network view: for one example, every layer's title (type, shape, min/max activation) and
//! its activations as a grid of squares (or as an image when the layer is image-shaped), and
//! the reconstruction beside the input, laid out for the width it is given. (The weights are
//! the filters panel's business.)

use super::image::{feature_maps, heat_strips, min_max, Rgba, TileGrid};
use super::scene::{text_width, Align, Scene, INK, MUTED};

pub struct LayerView<'a> {
    pub title: String,
    /// This example's activations, one per unit.
    pub activations: &'a [f32],
    /// (width, height) when the units form an image (the output of an autoencoder).
    pub image_shape: Option<(usize, usize)>,
    /// (channels, height, width) when the units are feature maps (conv and deconv layers).
    pub maps: Option<(usize, usize, usize)>,
}

pub struct NetworkView<'a> {
    pub width: usize,
    /// The example's input (what the network saw) and its shape.
    pub input: &'a [f32],
    pub input_shape: (usize, usize),
    pub layers: Vec<LayerView<'a>>,
}

const SQUARE: usize = 9;
const ROW_GAP: f32 = 10.0;
const PAD: f32 = 8.0;
const TITLE_SIZE: f32 = 12.0;
const LABEL_SIZE: f32 = 11.0;

/// Activations as squares in rows, shaded black..white over [lo, hi] of this layer.
pub fn activation_squares(values: &[f32], max_width: usize) -> Rgba {
    let per_row = (max_width.saturating_sub(1) / SQUARE).clamp(1, 64).min(values.len().max(1));
    let grid = TileGrid { tile_w: 1, tile_h: 1, cols: per_row, scale: SQUARE - 1, gap: 1 };
    grid.render(values, Some(min_max(values)))
}

impl NetworkView<'_> {
    /// Every layer's title (wrapped to the width) over its activations, top to bottom; an
    /// image wider than the panel is shown shrunk to fit.
    pub fn scene(&self) -> Scene {
        let mut scene = Scene::new(self.width, 0);
        let room = self.width as f32 - 2.0 * PAD;
        let mut y = 6.0f32;
        let (iw, ih) = self.input_shape;
        let scale = if self.width >= 800 { 3 } else { 2 };
        let as_image = |values: &[f32], range: Option<(f32, f32)>, strip_room: f32| {
            if ih <= 1 {
                heat_strips(values, iw, ((strip_room as usize).saturating_sub(2) / iw.max(1)).clamp(1, 4), 10, 1)
            } else {
                TileGrid { tile_w: iw, tile_h: ih, cols: 1, scale, gap: 0 }.render(values, range)
            }
        };
        // An image at (x, y), shrunk to `room` wide if it is wider; returns its shown size.
        let place = |scene: &mut Scene, x: f32, y: f32, image: Rgba, room: f32| {
            let (w, h) = (image.width as f32, image.height as f32);
            let shrink = (room / w).min(1.0);
            scene.image_sized(x, y, w * shrink, (h * shrink).max(1.0), image);
            (w * shrink, (h * shrink).max(1.0))
        };
        y = scene.paragraph(PAD, y, &format!("input {iw}×{ih}"), TITLE_SIZE, INK, room) + 2.0;
        let (_, input_height) = place(&mut scene, PAD, y, as_image(self.input, Some((0.0, 1.0)), room), room);
        y += input_height + ROW_GAP;
        let n_layers = self.layers.len();
        for (layer_idx, layer) in self.layers.iter().enumerate() {
            let (lo, hi) = min_max(layer.activations);
            y = scene.paragraph(PAD, y, &format!("{} · min {lo:.3} · max {hi:.3}", layer.title), TITLE_SIZE, INK, room) + 2.0;
            let beside_input = layer_idx == n_layers - 1 && matches!(layer.image_shape, Some((w, h)) if w * h == layer.activations.len());
            if beside_input {
                // The reconstruction beside the input it came from (below it, for vectors),
                // with a label saying which is which where it fits, else under them.
                let half = if ih <= 1 { room } else { (room - PAD) / 2.0 };
                let (ow, oh) = place(&mut scene, PAD, y, as_image(layer.activations, Some((0.0, 1.0)), half), half);
                let (ix, iy) = if ih <= 1 { (PAD, y + oh + 2.0) } else { (2.0 * PAD + ow, y) };
                let (iw_shown, ih_shown) = place(&mut scene, ix, iy, as_image(self.input, Some((0.0, 1.0)), half), half);
                let label = if ih <= 1 { "top: reconstruction · bottom: input" } else { "left: reconstruction · right: input" };
                let right_of = ix + iw_shown + PAD;
                let bottom = (iy + ih_shown).max(y + oh);
                if right_of + text_width(label, LABEL_SIZE) <= self.width as f32 - PAD {
                    scene.text(right_of, y + LABEL_SIZE / 2.0 + 1.0, label, LABEL_SIZE, MUTED, Align::Left);
                    y = bottom + ROW_GAP;
                } else {
                    y = scene.paragraph(PAD, bottom + 3.0, label, LABEL_SIZE, MUTED, room) + ROW_GAP;
                }
                continue;
            }
            let image = match layer.maps {
                Some((c, h, w)) if c * h * w == layer.activations.len() => {
                    // Small maps enlarged (up to three times) where they all fit one row.
                    let scale = ((room as usize).saturating_sub(1) / (c * (w + 1)).max(1)).clamp(1, 3);
                    let cols = ((room as usize).saturating_sub(1) / (w * scale + 1)).max(1);
                    feature_maps(layer.activations, (c, h, w), cols, scale)
                }
                _ => match layer.image_shape {
                    Some((w, h)) if w * h == layer.activations.len() => as_image(layer.activations, Some((0.0, 1.0)), room),
                    _ => activation_squares(layer.activations, room as usize),
                },
            };
            let (_, height) = place(&mut scene, PAD, y, image, room);
            y += height + ROW_GAP;
        }
        scene.height = y.ceil() as usize;
        scene
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::scene::Item;

    #[test]
    fn layers_stack_with_titles_and_the_output_sits_beside_the_input() {
        let input = vec![0.5; 4];
        let code = [0.2, -0.4];
        let out = [0.1, 0.2, 0.3, 0.4];
        for width in [280, 520] {
            let view = NetworkView {
                width,
                input: &input,
                input_shape: (2, 2),
                layers: vec![
                    LayerView { title: "fc 2 tanh".into(), activations: &code, image_shape: None, maps: None },
                    LayerView { title: "fc 4 linear".into(), activations: &out, image_shape: Some((2, 2)), maps: None },
                ],
            };
            let scene = view.scene();
            let texts = scene.texts();
            assert!(texts.iter().any(|t| t.starts_with("fc 2 tanh · min -0.400 · max 0.200")), "{texts:?}");
            assert!(texts.contains(&"left: reconstruction · right: input"), "{texts:?}");
            let images: Vec<(f32, f32, f32)> = scene.items.iter().filter_map(|i| if let Item::Image { x, y, w, .. } = i { Some((*x, *y, *w)) } else { None }).collect();
            // input, code squares, output, input again beside it: each below the last.
            assert_eq!(images.len(), 4);
            assert!(images.windows(2).all(|w| w[1].1 >= w[0].1));
            assert_eq!(images[3].1, images[2].1, "the second copy of the input shares the output's row");
            assert!(images[3].0 > images[2].0);
            // Two code units as squares: 1 + 2 · 9 pixels wide.
            assert_eq!(images[1].2, (1 + 2 * SQUARE) as f32);
            assert!(scene.height as f32 > images[3].1);
            for item in &scene.items {
                let (x0, _, x1, y1) = item.bounds().unwrap();
                assert!(x0 >= 0.0 && x1 <= width as f32 && y1 <= scene.height as f32, "{width}: {item:?}");
            }
        }
    }
}
