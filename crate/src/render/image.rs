//! RGBA pixel buffers and grids of grey-scale tiles (digits, reconstructions, filters).

/// An RGBA image, 4 bytes a pixel, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Rgba {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>, // (height, width, 4)
}

impl Rgba {
    pub fn new(width: usize, height: usize, fill: [u8; 4]) -> Rgba {
        Rgba { width, height, pixels: fill.repeat(width * height) }
    }

    pub fn get(&self, x: usize, y: usize) -> [u8; 4] {
        let at = (y * self.width + x) * 4;
        self.pixels[at..at + 4].try_into().expect("4 bytes")
    }

    pub fn set(&mut self, x: usize, y: usize, colour: [u8; 4]) {
        let at = (y * self.width + x) * 4;
        self.pixels[at..at + 4].copy_from_slice(&colour);
    }
}

/// How grey-scale tiles are laid out: `cols` tiles a row, each tile `tile_w × tile_h` values
/// drawn `scale` times enlarged, with `gap` background pixels between and around tiles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TileGrid {
    pub tile_w: usize,
    pub tile_h: usize,
    pub cols: usize,
    pub scale: usize,
    pub gap: usize,
}

/// Background between tiles.
pub const BACKGROUND: [u8; 4] = [34, 34, 38, 255];

impl TileGrid {
    pub fn rows_for(&self, n_tiles: usize) -> usize {
        n_tiles.div_ceil(self.cols.max(1))
    }

    /// Top-left pixel of tile `tile_idx`.
    pub fn origin(&self, tile_idx: usize) -> (usize, usize) {
        let (col, row) = (tile_idx % self.cols, tile_idx / self.cols);
        (self.gap + col * (self.tile_w * self.scale + self.gap), self.gap + row * (self.tile_h * self.scale + self.gap))
    }

    pub fn size(&self, n_tiles: usize) -> (usize, usize) {
        let rows = self.rows_for(n_tiles);
        let cols = self.cols.min(n_tiles.max(1));
        (self.gap + cols * (self.tile_w * self.scale + self.gap), self.gap + rows * (self.tile_h * self.scale + self.gap))
    }

    /// Draw `tiles` (n_tiles, tile_h · tile_w) with values mapped linearly from [lo, hi] to
    /// black..white (clamped). `range` None normalises each tile to its own min and max.
    pub fn render(&self, tiles: &[f32], range: Option<(f32, f32)>) -> Rgba {
        let tile_len = self.tile_w * self.tile_h;
        let n_tiles = tiles.len() / tile_len;
        let (width, height) = self.size(n_tiles);
        let mut image = Rgba::new(width, height, BACKGROUND);
        for (tile_idx, tile) in tiles.chunks_exact(tile_len).enumerate() {
            let (lo, hi) = range.unwrap_or_else(|| min_max(tile));
            let span = if hi > lo { hi - lo } else { 1.0 };
            let (x0, y0) = self.origin(tile_idx);
            for ty in 0..self.tile_h {
                for tx in 0..self.tile_w {
                    let v = ((tile[ty * self.tile_w + tx] - lo) / span).clamp(0.0, 1.0);
                    let grey = (v * 255.0).round() as u8;
                    for sy in 0..self.scale {
                        for sx in 0..self.scale {
                            image.set(x0 + tx * self.scale + sx, y0 + ty * self.scale + sy, [grey, grey, grey, 255]);
                        }
                    }
                }
            }
        }
        image
    }
}

pub fn min_max(values: &[f32]) -> (f32, f32) {
    values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

/// A digit is shown at least this many pixels wide where the width allows.
const MIN_TILE: f32 = 30.0;

/// Of `candidates` (columns a row, most first), the most that still show a `tile_w`-pixel tile
/// (with a 2-pixel gap) at least `MIN_TILE` wide in `room`, else the fewest; and the width each
/// tile is shown at (at most four times its size).
pub fn tile_columns(tile_w: usize, room: f32, candidates: &[usize]) -> (usize, f32) {
    let shown = |cols: usize| ((room / (2.0 + cols as f32 * (tile_w as f32 + 2.0))) * tile_w as f32).min(4.0 * tile_w as f32);
    let cols = candidates.iter().copied().find(|&c| shown(c) >= MIN_TILE).unwrap_or(*candidates.last().unwrap_or(&1));
    (cols, shown(cols))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_layout_places_tiles_row_by_row() {
        let grid = TileGrid { tile_w: 2, tile_h: 3, cols: 4, scale: 2, gap: 1 };
        // 6 tiles in rows of 4: 2 rows. Width 1 + 4·(4 + 1) = 21; height 1 + 2·(6 + 1) = 15.
        assert_eq!(grid.size(6), (21, 15));
        assert_eq!(grid.origin(0), (1, 1));
        assert_eq!(grid.origin(3), (16, 1));
        assert_eq!(grid.origin(4), (1, 8));
        // Fewer tiles than columns: the image is only as wide as the tiles.
        assert_eq!(grid.size(2), (11, 8));
    }

    #[test]
    fn values_map_to_grey_levels() {
        let grid = TileGrid { tile_w: 2, tile_h: 1, cols: 2, scale: 1, gap: 0 };
        let image = grid.render(&[0.0, 1.0, 0.5, 0.5], Some((0.0, 1.0)));
        assert_eq!(image.get(0, 0), [0, 0, 0, 255]);
        assert_eq!(image.get(1, 0), [255, 255, 255, 255]);
        assert_eq!(image.get(2, 0), [128, 128, 128, 255]);
        // Per-tile normalisation stretches each tile to black..white.
        let stretched = grid.render(&[2.0, 4.0, -1.0, -3.0], None);
        assert_eq!(stretched.get(0, 0)[0], 0);
        assert_eq!(stretched.get(1, 0)[0], 255);
        assert_eq!(stretched.get(2, 0)[0], 255);
        assert_eq!(stretched.get(3, 0)[0], 0);
    }
}

/// A diverging colour for v in [−1, 1]: blue for negative, black at 0, orange for positive.
pub fn diverging(v: f32) -> [u8; 4] {
    let v = v.clamp(-1.0, 1.0);
    if v >= 0.0 {
        [(255.0 * v) as u8, (150.0 * v) as u8, (40.0 * v) as u8, 255]
    } else {
        let a = -v;
        [(40.0 * a) as u8, (140.0 * a) as u8, (255.0 * a) as u8, 255]
    }
}

/// Vectors (n, dim) as heat strips stacked top to bottom: each number a `cell_w × cell_h`
/// cell coloured by `diverging(v / scale)`, with `scale` the largest |v| of all vectors.
pub fn heat_strips(vectors: &[f32], dim: usize, cell_w: usize, cell_h: usize, gap: usize) -> Rgba {
    let n = vectors.len() / dim.max(1);
    let scale = vectors.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-12);
    let mut image = Rgba::new(gap + dim * cell_w + gap, gap + n * (cell_h + gap), BACKGROUND);
    for (row, vector) in vectors.chunks_exact(dim).enumerate() {
        for (col, &v) in vector.iter().enumerate() {
            let colour = diverging(v / scale);
            for dy in 0..cell_h {
                for dx in 0..cell_w {
                    image.set(gap + col * cell_w + dx, gap + row * (cell_h + gap) + dy, colour);
                }
            }
        }
    }
    image
}

/// Samples (n, w · h) drawn the way their shape suits: image tiles (values over `range`, or
/// each tile stretched when None) for 2-D shapes, heat strips for 1-row vectors.
pub fn samples(values: &[f32], shape: (usize, usize), cols: usize, scale: usize, range: Option<(f32, f32)>) -> Rgba {
    let (w, h) = shape;
    if h <= 1 {
        heat_strips(values, w, (400 / w.max(1)).clamp(1, 8), 10, 2)
    } else {
        TileGrid { tile_w: w, tile_h: h, cols, scale, gap: 2 }.render(values, range)
    }
}

#[cfg(test)]
mod strip_tests {
    use super::*;

    #[test]
    fn heat_strips_stack_vectors_and_colour_by_sign() {
        let image = heat_strips(&[1.0, -1.0, 0.0, 0.5, 0.0, -0.5], 3, 2, 4, 1);
        assert_eq!((image.width, image.height), (1 + 6 + 1, 1 + 2 * 5));
        assert_eq!(image.get(1, 1), diverging(1.0));
        assert_eq!(image.get(3, 1), diverging(-1.0));
        assert_eq!(image.get(5, 1), [0, 0, 0, 255]);
        assert_eq!(image.get(1, 6), diverging(0.5), "second vector on the second strip");
        assert_eq!(samples(&[0.0; 8], (4, 2), 1, 1, None).width, 2 + 4 + 2, "2-D shapes become tiles");
    }
}

/// Feature maps (c, h, w) as c tiles of h × w, `cols` a row, shaded together over the maps'
/// common range so their strengths compare.
pub fn feature_maps(values: &[f32], shape: (usize, usize, usize), cols: usize, scale: usize) -> Rgba {
    let (c, h, w) = shape;
    debug_assert_eq!(values.len(), c * h * w);
    TileGrid { tile_w: w, tile_h: h, cols: cols.clamp(1, c.max(1)), scale, gap: 1 }.render(values, Some(min_max(values)))
}

#[cfg(test)]
mod map_tests {
    use super::*;

    #[test]
    fn feature_maps_share_one_range() {
        // Two 1x2 maps: [0, 1] and [2, 4]; shaded over [0, 4], so the first map is dark.
        let image = feature_maps(&[0.0, 1.0, 2.0, 4.0], (2, 1, 2), 2, 1);
        assert_eq!((image.width, image.height), (1 + 2 * 3, 3));
        assert_eq!(image.get(1, 1)[0], 0);
        assert_eq!(image.get(2, 1)[0], 64);
        assert_eq!(image.get(5, 1)[0], 255);
    }
}
