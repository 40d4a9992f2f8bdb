//! Stride-1 convolutions computed directly, with the batch in the SIMD lanes. Images are turned
//! to (channel, row, column, image), so one f32x4 holds the same pixel of four images and every
//! multiply-add is a filter weight (broadcast) times such a vector. Nothing is unfolded: a layer
//! with few filters, where im2col's columns are each used by only a couple of filters, runs at
//! the speed of the arithmetic instead of memory's. conv.rs chooses between this and its im2col
//! path; the two tensor kernels here know nothing of layers, bias or activations.
//!
//! Two kernels cover a conv layer and its adjoint (the deconv) in both directions:
//! `correlate` (out[o][y][x] = Σ_c,ky,kx w[o][c][ky][kx] · in[c][y + ky][x + kx], a conv's
//! forward pass, and with the filters flipped and the input padded by size − 1 − pad, its input
//! gradient) and `filter_gradient` (dw[f][c][ky][kx] += Σ_y,x small[f][y][x] · big[c][y + ky][x + kx]).
//! Every output element is summed by one task in a fixed order, so the results do not depend on
//! the number of threads.

use std::ops::Range;

use super::matmul::{for_each_chunk, for_each_task, Shared};

/// Floats in one vector: the images one multiply-add serves.
const LANES: usize = 4;
/// Images are padded (with zeros) to a multiple of this: the one-filter tile reads two vectors.
const IMAGE_GRAIN: usize = 2 * LANES;
/// Output columns per `correlate` tile; a tile reads OX − 1 columns past a window, so the
/// filters it multiplies by are padded with OX − 1 zero columns on each side.
const OX: usize = 4;
/// Filter columns per `filter_gradient` tile.
const KQ: usize = 4;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lane {
    use core::arch::wasm32::*;
    pub type V = v128;

    #[inline(always)]
    pub fn zero() -> V {
        f32x4_splat(0.0)
    }
    /// # Safety
    /// `p` is readable for 4 floats.
    #[inline(always)]
    pub unsafe fn load(p: *const f32) -> V {
        v128_load(p as *const v128)
    }
    /// # Safety
    /// `p` is readable.
    #[inline(always)]
    pub unsafe fn splat(p: *const f32) -> V {
        v128_load32_splat(p as *const u32)
    }
    /// # Safety
    /// `p` is writable for 4 floats.
    #[inline(always)]
    pub unsafe fn store(p: *mut f32, v: V) {
        v128_store(p as *mut v128, v)
    }
    /// acc + a · b, fused where relaxed-simd allows: kernel.rs's tiles' multiply-add.
    pub use crate::model::kernel::simd::madd;
    #[inline(always)]
    pub fn sum(v: V) -> f32 {
        (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v)) + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v))
    }
}

/// The same lane operations on plain arrays: natively the compiler turns them into its own
/// vector instructions.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lane {
    pub type V = [f32; 4];

    #[inline(always)]
    pub fn zero() -> V {
        [0.0; 4]
    }
    /// # Safety
    /// `p` is readable for 4 floats.
    #[inline(always)]
    pub unsafe fn load(p: *const f32) -> V {
        std::ptr::read_unaligned(p as *const V)
    }
    /// # Safety
    /// `p` is readable.
    #[inline(always)]
    pub unsafe fn splat(p: *const f32) -> V {
        [*p; 4]
    }
    /// # Safety
    /// `p` is writable for 4 floats.
    #[inline(always)]
    pub unsafe fn store(p: *mut f32, v: V) {
        std::ptr::write_unaligned(p as *mut V, v)
    }
    #[inline(always)]
    pub fn madd(a: V, b: V, acc: V) -> V {
        [acc[0] + a[0] * b[0], acc[1] + a[1] * b[1], acc[2] + a[2] * b[2], acc[3] + a[3] * b[3]]
    }
    #[inline(always)]
    pub fn sum(v: V) -> f32 {
        (v[0] + v[1]) + (v[2] + v[3])
    }
}

use lane::V;

/// A tensor in lanes: `channels` planes of `rows` × `cols` pixels for `images` images (zero past
/// the batch). Images go in blocks of LANES: block b holds images 4b … 4b + 3, pixel after pixel
/// (channel, row, col), each pixel one vector of the block's four images, so a tile walking
/// along a row reads consecutive memory.
#[derive(Clone, Copy, Debug)]
pub struct Lanes {
    pub channels: usize,
    pub rows: usize,
    pub cols: usize,
    pub images: usize,
}

impl Lanes {
    /// Floats the tensor takes.
    pub fn floats(&self) -> usize {
        self.block() * self.blocks()
    }

    /// Floats in one block of LANES images.
    fn block(&self) -> usize {
        self.channels * self.rows * self.cols * LANES
    }

    fn blocks(&self) -> usize {
        self.images / LANES
    }

    /// Where pixel (channel, row, col) of a block starts, from the block's start.
    #[inline(always)]
    fn at(&self, channel: usize, row: usize, col: usize) -> usize {
        ((channel * self.rows + row) * self.cols + col) * LANES
    }

    /// Floats from one channel's plane to the next.
    fn plane(&self) -> usize {
        self.rows * self.cols * LANES
    }

    /// The layout of a correlation's input: `channels` × (h, w) images with `pad` zero pixels
    /// on every side, for a window of `size`, wide enough for both kernels' tiles to read past
    /// the last output column. A tensor narrower than the window has no output columns: a
    /// deconv's input, unpadded, which only `filter_gradient` reads as its small side (the
    /// deconv's filters may be wider than it), needs no room for either kernel's tiles.
    pub fn input(channels: usize, (h, w): (usize, usize), pad: usize, size: usize, batch: usize) -> Lanes {
        let (rows, cols) = (h + 2 * pad, w + 2 * pad);
        let cols = match (cols + 1).checked_sub(size) {
            Some(out_w) if out_w > 0 => cols.max(out_w.next_multiple_of(OX) + size - 1).max(out_w + size.next_multiple_of(KQ) - 1),
            _ => cols,
        };
        Lanes { channels, rows, cols, images: batch.next_multiple_of(IMAGE_GRAIN) }
    }

    /// The layout of a correlation's output: (h, w) rounded up to whole tiles of OX columns.
    pub fn output(channels: usize, (h, w): (usize, usize), batch: usize) -> Lanes {
        Lanes { channels, rows: h, cols: w.next_multiple_of(OX), images: batch.next_multiple_of(IMAGE_GRAIN) }
    }
}

/// Copy `batch` image-major images (channels, h, w) into `out` laid out as `t`, with `pad` zero
/// pixels before each image's first row and column; everything else in `out` becomes 0.
pub fn to_lanes(images: &[f32], batch: usize, (h, w): (usize, usize), pad: usize, t: Lanes, out: &mut [f32]) {
    let image_len = t.channels * h * w;
    for_each_chunk(&mut out[..t.floats()], t.block(), |block_idx, block| {
        block.iter_mut().for_each(|v| *v = 0.0);
        for lane in 0..LANES.min(batch.saturating_sub(block_idx * LANES)) {
            let image = &images[(block_idx * LANES + lane) * image_len..][..image_len];
            for channel in 0..t.channels {
                for (row, line) in image[channel * h * w..(channel + 1) * h * w].chunks_exact(w).enumerate() {
                    let start = t.at(channel, row + pad, pad) + lane;
                    for (col, &v) in line.iter().enumerate() {
                        block[start + col * LANES] = v;
                    }
                }
            }
        }
    });
}

/// Copy the (channels, h, w) pixels of `t` back to `batch` image-major images, then run
/// `finish(image_idx, image)` on each.
pub fn from_lanes(lanes: &[f32], t: Lanes, (h, w): (usize, usize), batch: usize, images: &mut [f32], finish: impl Fn(usize, &mut [f32]) + Sync + Send) {
    let image_len = t.channels * h * w;
    for_each_chunk(&mut images[..batch * image_len], image_len, |image_idx, image| {
        let block = &lanes[image_idx / LANES * t.block()..][..t.block()];
        for channel in 0..t.channels {
            for row in 0..h {
                let line = &mut image[(channel * h + row) * w..(channel * h + row + 1) * w];
                let start = t.at(channel, row, 0) + image_idx % LANES;
                for (col, v) in line.iter_mut().enumerate() {
                    *v = block[start + col * LANES];
                }
            }
        }
        finish(image_idx, image);
    });
}

/// Filters per `correlate` or `filter_gradient` tile: 2 where the count is even.
fn filters_per_tile(c_out: usize) -> usize {
    if c_out.is_multiple_of(2) {
        2
    } else {
        1
    }
}

/// Floats of `tile_weights`' output for these filters.
pub fn taps_len(c_out: usize, c_in: usize, size: usize) -> usize {
    c_out * c_in * size * (size + OX - 1) * OX
}

/// Lay the filters out in the order `correlate`'s tiles read them: for each block of filters,
/// channel, filter row and input column j of a tile, the weight each (output column p, filter)
/// pair multiplies column j by: w[o][c][ky][j − p], or 0 where j − p is outside the filter.
/// `weight(o, c, ky, kx)` gives the filters (so a flipped, transposed filter bank needs no copy).
pub fn tile_weights(c_out: usize, c_in: usize, size: usize, weight: impl Fn(usize, usize, usize, usize) -> f32, taps: &mut [f32]) {
    let fb = filters_per_tile(c_out);
    let mut slot = 0;
    for first in (0..c_out).step_by(fb) {
        for c in 0..c_in {
            for ky in 0..size {
                for j in 0..size + OX - 1 {
                    for p in 0..OX {
                        for o in first..first + fb {
                            taps[slot] = if j >= p && j - p < size { weight(o, c, ky, j - p) } else { 0.0 };
                            slot += 1;
                        }
                    }
                }
            }
        }
    }
    debug_assert_eq!(slot, taps_len(c_out, c_in, size));
}

/// One tile of `correlate`: FB filters × OX output columns × BV blocks of images, summed over
/// every input channel, filter rows `ky` and tile columns `js` (the others read only padding).
///
/// # Safety
/// `input` points at the tile's first input pixel (channel 0, its row, its first column) in its
/// first block of tensor `t_in`, readable for the window in BV blocks; `taps` at its filters'
/// part of `tile_weights`; `out` at its first output in tensor `t_out`, writable likewise.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn correlate_tile<const FB: usize, const BV: usize>(input: *const f32, t_in: Lanes, size: usize, ky: Range<usize>, js: Range<usize>, taps: *const f32, out: *mut f32, t_out: Lanes) {
    let mut acc = [[[lane::zero(); BV]; OX]; FB];
    let (row_stride, plane, block, span) = (t_in.cols * LANES, t_in.plane(), t_in.block(), size + OX - 1);
    for c in 0..t_in.channels {
        for ky in ky.clone() {
            let row = input.add(c * plane + ky * row_stride);
            let mut tap = taps.add(((c * size + ky) * span + js.start) * OX * FB);
            for j in js.clone() {
                let pixel = row.add(j * LANES);
                let xs: [V; BV] = std::array::from_fn(|v| lane::load(pixel.add(v * block)));
                for p in 0..OX {
                    for (f, acc_f) in acc.iter_mut().enumerate() {
                        let w = lane::splat(tap.add(p * FB + f));
                        for v in 0..BV {
                            acc_f[p][v] = lane::madd(w, xs[v], acc_f[p][v]);
                        }
                    }
                }
                tap = tap.add(OX * FB);
            }
        }
    }
    for (f, acc_f) in acc.iter().enumerate() {
        for (p, acc_p) in acc_f.iter().enumerate() {
            for (v, &sum) in acc_p.iter().enumerate() {
                lane::store(out.add(f * t_out.plane() + p * LANES + v * t_out.block()), sum);
            }
        }
    }
}

/// out (t_out) = the valid correlation of `input` (t_in) with the filters `taps` laid out by
/// `tile_weights` for `size` × `size` windows: t_out.rows = t_in.rows − size + 1 and t_in wide
/// enough (`Lanes::input`). Only `pad` and the `(h, w)` pixels after it may be non-zero in each
/// channel: windows are clipped to them, so a heavily padded input (a deconv's, padded by
/// size − 1) costs only its real multiply-adds. Tasks are (filter block, output row) pairs.
#[allow(clippy::too_many_arguments)]
pub fn correlate(input: &[f32], t_in: Lanes, pad: usize, (h, w): (usize, usize), taps: &[f32], size: usize, output: &mut [f32], t_out: Lanes) {
    let (c_in, c_out) = (t_in.channels, t_out.channels);
    let fb = filters_per_tile(c_out);
    assert!(t_out.rows + size == t_in.rows + 1 && t_out.cols + size - 1 <= t_in.cols && t_in.images == t_out.images && t_out.cols.is_multiple_of(OX));
    assert!(pad + h <= t_in.rows && pad + w <= t_in.cols);
    assert!(input.len() >= t_in.floats() && output.len() >= t_out.floats() && taps.len() >= taps_len(c_out, c_in, size));
    let block_taps = c_in * size * (size + OX - 1) * OX * fb;
    // The window offsets (filter rows, or tile columns) at `at` that land on the pixels.
    let clip = |at: usize, len: usize, extent: usize| pad.saturating_sub(at).min(len)..(pad + extent).saturating_sub(at).min(len);
    let shared = Shared::new(&mut output[..t_out.floats()]);
    for_each_task(c_out / fb * t_out.rows, |task| {
        let (first, row) = (task / t_out.rows * fb, task % t_out.rows);
        let ky = clip(row, size, h);
        // SAFETY: the task writes output row `row` of its filters in every block and no other
        // task does; reads stay inside t_in (asserted above).
        unsafe {
            let taps = taps.as_ptr().add(first / fb * block_taps);
            let bv = if fb == 2 { 1 } else { 2 };
            for block in (0..t_in.blocks()).step_by(bv) {
                for col in (0..t_out.cols).step_by(OX) {
                    let js = clip(col, size + OX - 1, w);
                    let input = input.as_ptr().add(block * t_in.block() + t_in.at(0, row, col));
                    let out = shared.at(block * t_out.block() + t_out.at(first, row, col));
                    if fb == 2 {
                        correlate_tile::<2, 1>(input, t_in, size, ky.clone(), js, taps, out, t_out);
                    } else {
                        correlate_tile::<1, 2>(input, t_in, size, ky.clone(), js, taps, out, t_out);
                    }
                }
            }
        }
    });
}

/// dw[f][c][ky][kx] += Σ_row < rows, col < cols, image small[f][row][col] · big[c][row + ky][col + kx]
/// for `size` × `size` filters (f, c, ky, kx), with `rows` × `cols` the small side's pixels,
/// which start `origin` rows and columns into `t_small` (so the padded tensor a correlation
/// reads serves here too). Tasks are (filter block, channel, filter row) triples.
#[allow(clippy::too_many_arguments)]
pub fn filter_gradient(small: &[f32], t_small: Lanes, origin: usize, (rows, cols): (usize, usize), big: &[f32], t_big: Lanes, size: usize, dw: &mut [f32]) {
    let (c_small, c_big) = (t_small.channels, t_big.channels);
    let fb = filters_per_tile(c_small);
    assert!(rows + size <= t_big.rows + 1 && cols + size.next_multiple_of(KQ) - 1 <= t_big.cols && t_small.images == t_big.images);
    assert!(origin + rows <= t_small.rows && origin + cols <= t_small.cols && small.len() >= t_small.floats() && big.len() >= t_big.floats() && dw.len() == c_small * c_big * size * size);
    let shared = Shared::new(dw);
    for_each_task(c_small / fb * c_big * size, |task| {
        let (first, c, ky) = (task / (c_big * size) * fb, task / size % c_big, task % size);
        for kx in (0..size).step_by(KQ) {
            let sums = if fb == 2 {
                gradient_tile::<2>(small, t_small, (origin, rows, cols), big, t_big, (first, c, ky, kx))
            } else {
                let [one] = gradient_tile::<1>(small, t_small, (origin, rows, cols), big, t_big, (first, c, ky, kx));
                [one, [0.0; KQ]]
            };
            for (f, sums_f) in sums.iter().enumerate().take(fb) {
                // SAFETY: the task owns row ky of channel c of its filters.
                let row_out = unsafe { shared.part((((first + f) * c_big + c) * size + ky) * size, size) };
                for q in 0..KQ.min(size - kx) {
                    row_out[kx + q] += sums_f[q];
                }
            }
        }
    });
}

/// One tile of `filter_gradient`: FB filters × KQ filter columns starting at (first, c, ky, kx),
/// summed block by block, row by row, column by column.
#[inline(always)]
#[allow(clippy::needless_range_loop)]
fn gradient_tile<const FB: usize>(small: &[f32], t_small: Lanes, (origin, rows, cols): (usize, usize, usize), big: &[f32], t_big: Lanes, (first, c, ky, kx): (usize, usize, usize, usize)) -> [[f32; KQ]; FB] {
    let mut acc = [[lane::zero(); KQ]; FB];
    for block in 0..t_big.blocks() {
        let (small_block, big_block) = (&small[block * t_small.block()..][..t_small.block()], &big[block * t_big.block()..][..t_big.block()]);
        for row in 0..rows {
            let big_row = &big_block[t_big.at(c, row + ky, kx)..][..(cols + KQ - 1) * LANES];
            let small_rows: [&[f32]; FB] = std::array::from_fn(|f| &small_block[t_small.at(first + f, origin + row, origin)..][..cols * LANES]);
            for col in 0..cols {
                // SAFETY: col · LANES + LANES ≤ each small row's length, and
                // (col + q) · LANES + LANES ≤ the big row's, for q < KQ.
                unsafe {
                    let s: [V; FB] = std::array::from_fn(|f| lane::load(small_rows[f].as_ptr().add(col * LANES)));
                    for q in 0..KQ {
                        let b = lane::load(big_row.as_ptr().add((col + q) * LANES));
                        for f in 0..FB {
                            acc[f][q] = lane::madd(s[f], b, acc[f][q]);
                        }
                    }
                }
            }
        }
    }
    std::array::from_fn(|f| std::array::from_fn(|q| lane::sum(acc[f][q])))
}
