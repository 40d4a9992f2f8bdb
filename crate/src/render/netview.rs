//! The network view: for one example, every layer's title (type, shape, min/max activation) and
//! its activations as a grid of squares (or as an image when the layer is image-shaped), the
//! reconstruction beside the input, and the first layer's weights as tiles.

use super::image::{feature_maps, heat_strips, min_max, Rgba, TileGrid};
use super::scene::{Align, Scene, INK, MUTED};

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
    /// First-layer weights (n_units, input pixels), drawn as tiles each normalised to itself.
    pub filters: Option<&'a [f32]>,
    /// Cap on how many filters are drawn.
    pub max_filters: usize,
}

const SQUARE: usize = 9;
const ROW_GAP: f32 = 10.0;
const TITLE: f32 = 18.0;

/// Activations as squares in rows, shaded black..white over [lo, hi] of this layer.
pub fn activation_squares(values: &[f32], max_width: usize) -> Rgba {
    let per_row = (max_width / SQUARE).clamp(1, 64).min(values.len().max(1));
    let grid = TileGrid { tile_w: 1, tile_h: 1, cols: per_row, scale: SQUARE - 1, gap: 1 };
    grid.render(values, Some(min_max(values)))
}

impl NetworkView<'_> {
    pub fn scene(&self) -> Scene {
        let mut scene = Scene::new(self.width, 0);
        let mut y = 8.0f32;
        let (iw, ih) = self.input_shape;
        let as_image = |values: &[f32], range: Option<(f32, f32)>| {
            if ih <= 1 {
                heat_strips(values, iw, (self.width / 2 / iw.max(1)).clamp(1, 4), 10, 0)
            } else {
                TileGrid { tile_w: iw, tile_h: ih, cols: 1, scale: 2, gap: 0 }.render(values, range)
            }
        };
        scene.text(8.0, y + 6.0, format!("input {iw}×{ih}"), 12.0, INK, Align::Left);
        y += TITLE;
        let input_image = as_image(self.input, Some((0.0, 1.0)));
        let input_height = input_image.height;
        scene.image(8.0, y, input_image);
        y += input_height as f32 + ROW_GAP;
        let n_layers = self.layers.len();
        for (layer_idx, layer) in self.layers.iter().enumerate() {
            let (lo, hi) = min_max(layer.activations);
            scene.text(8.0, y + 6.0, format!("{} · min {lo:.3} · max {hi:.3}", layer.title), 12.0, INK, Align::Left);
            y += TITLE;
            let image = match (layer.image_shape, layer.maps) {
                (Some((w, h)), _) if w * h == layer.activations.len() => as_image(layer.activations, Some((0.0, 1.0))),
                (_, Some((c, h, w))) if c * h * w == layer.activations.len() => {
                    let cols = ((self.width - 16) / (w + 1)).max(1);
                    feature_maps(layer.activations, (c, h, w), cols, 1)
                }
                _ => activation_squares(layer.activations, self.width - 16),
            };
            let height = image.height;
            let width = image.width;
            scene.image(8.0, y, image);
            let mut height = height;
            if layer_idx == n_layers - 1 && layer.image_shape.is_some() {
                // The reconstruction beside the input it came from (below it, for vectors).
                let input_image = as_image(self.input, Some((0.0, 1.0)));
                let (ix, iy) = if ih <= 1 { (8.0, y + height as f32 + 2.0) } else { (16.0 + width as f32, y) };
                if ih <= 1 {
                    height += input_image.height + 2;
                }
                let label = if ih <= 1 { "top: reconstruction · bottom: input" } else { "left: reconstruction · right: input" };
                scene.text(if ih <= 1 { 16.0 + width as f32 } else { 24.0 + 2.0 * width as f32 }, y + 10.0, label, 11.0, MUTED, Align::Left);
                scene.image(ix, iy, input_image);
            }
            y += height as f32 + ROW_GAP;
        }
        if let Some(filters) = self.filters {
            let n_pixels = iw * ih;
            let n_filters = (filters.len() / n_pixels).min(self.max_filters);
            scene.text(8.0, y + 6.0, format!("layer 1 weights: {n_filters} of {} units, each as a {iw}×{ih} image", filters.len() / n_pixels), 12.0, INK, Align::Left);
            y += TITLE;
            let cols = ((self.width - 16) / (iw + 1)).max(1);
            let image = if ih <= 1 {
                heat_strips(&filters[..n_filters * n_pixels], iw, (self.width / 2 / iw.max(1)).clamp(1, 4), 6, 1)
            } else {
                TileGrid { tile_w: iw, tile_h: ih, cols, scale: 1, gap: 1 }.render(&filters[..n_filters * n_pixels], None)
            };
            let height = image.height;
            scene.image(8.0, y, image);
            y += height as f32 + ROW_GAP;
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
        let filters = vec![0.0; 3 * 4];
        let view = NetworkView {
            width: 300,
            input: &input,
            input_shape: (2, 2),
            layers: vec![
                LayerView { title: "fc 2 tanh".into(), activations: &code, image_shape: None, maps: None },
                LayerView { title: "fc 4 linear".into(), activations: &out, image_shape: Some((2, 2)), maps: None },
            ],
            filters: Some(&filters),
            max_filters: 2,
        };
        let scene = view.scene();
        let texts = scene.texts();
        assert!(texts.iter().any(|t| t.starts_with("fc 2 tanh · min -0.400 · max 0.200")), "{texts:?}");
        assert!(texts.iter().any(|t| t.starts_with("layer 1 weights: 2 of 3 units")), "{texts:?}");
        let images: Vec<(f32, f32, usize)> = scene
            .items
            .iter()
            .filter_map(|i| if let Item::Image { x, y, image } = i { Some((*x, *y, image.width)) } else { None })
            .collect();
        // input, code squares, output, input again beside it, filters: each below the last.
        assert_eq!(images.len(), 5);
        assert!(images.windows(2).all(|w| w[1].1 >= w[0].1));
        assert_eq!(images[3].1, images[2].1, "the second copy of the input shares the output's row");
        assert!(images[3].0 > images[2].0);
        // Two code units as squares: 1 + 2 · 9 pixels wide.
        assert_eq!(images[1].2, 1 + 2 * SQUARE);
        assert!(scene.height as f32 > images[4].1);
    }
}
