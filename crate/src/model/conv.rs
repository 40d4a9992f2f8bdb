//! Convolution and transposed convolution by unfolding (im2col): every product goes through
//! `matmul::gemm`. Images are channel-first (c, h, w), one per row of a batch. A conv maps the
//! geometry's big side to its small side; a deconv maps small to big and is the conv's adjoint,
//! so a deconv that shares a conv's filters is exactly its transpose (tied weights).
//!
//! The batch is cut into groups of a few images whose unfolded columns sit side by side, so
//! each product is (channels or patch) × (images · positions) wide; the groups run in parallel,
//! each on a buffer of its thread's own (grown once, then reused: a step allocates nothing).
//! Filter gradients are summed per group and then over the groups in order, so the result does
//! not depend on the number of threads. Bias and activation are applied to each group's output
//! as soon as it is computed.

use std::cell::RefCell;

use super::activation::Activation;
use super::matmul::{for_each_chunk, for_each_task, gemm, Op, Shared};
use super::spec::Geometry;

/// The most floats one group's unfolded columns may take (4 MB: they stay in L2 or L3).
const GROUP_FLOATS: usize = 1 << 20;
/// A group's products are at least this many columns wide, where memory allows.
const GROUP_COLUMNS: usize = 256;

thread_local! {
    /// Each thread's unfolding buffer, kept for the life of the thread.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` on this thread's scratch buffer, at least `len` floats long.
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        if scratch.len() < len {
            scratch.resize(len, 0.0);
        }
        f(&mut scratch[..len])
    })
}

/// Visit every (cols row, position, image index) triple the kernel windows touch: cols row
/// (c, ky, kx), position (oy, ox) reads image pixel (c, oy·stride − pad + ky, ox·stride − pad + kx).
/// Window positions that fall in the padding are skipped. im2col and col2im are both this walk.
#[inline]
fn for_each_tap(g: &Geometry, mut visit: impl FnMut(usize, usize, usize)) {
    let (c_big, h_big, w_big) = g.big;
    let (_, h_small, w_small) = g.small;
    for c in 0..c_big {
        for ky in 0..g.size {
            for kx in 0..g.size {
                let row = (c * g.size + ky) * g.size + kx;
                for oy in 0..h_small {
                    let y = (oy * g.stride + ky) as isize - g.pad as isize;
                    if y < 0 || y >= h_big as isize {
                        continue;
                    }
                    let line = (c * h_big + y as usize) * w_big;
                    for ox in 0..w_small {
                        let x = (ox * g.stride + kx) as isize - g.pad as isize;
                        if x >= 0 && (x as usize) < w_big {
                            visit(row, oy * w_small + ox, line + x as usize);
                        }
                    }
                }
            }
        }
    }
}

/// Unfold one image (c_big, h_big, w_big) into cols (c_big · size², h_small · w_small);
/// entries whose window lies in the padding are 0.
pub fn im2col(image: &[f32], g: &Geometry, cols: &mut [f32]) {
    unfold(image, g, 1, cols);
}

/// Fold cols back, adding into one image (c_big, h_big, w_big): the adjoint of `im2col`.
pub fn col2im_add(cols: &[f32], g: &Geometry, image: &mut [f32]) {
    fold_add(cols, g, 1, image);
}

/// Unfold `images` consecutive images into cols (patch, images · positions): image j's
/// positions are columns j · positions … (j + 1) · positions − 1.
fn unfold(images: &[f32], g: &Geometry, count: usize, cols: &mut [f32]) {
    let (big, n_pos) = (g.big.0 * g.big.1 * g.big.2, g.small.1 * g.small.2);
    let width = count * n_pos;
    debug_assert_eq!(cols.len(), g.patch_len() * width);
    if g.pad > 0 {
        cols.iter_mut().for_each(|v| *v = 0.0);
    }
    for (j, image) in images.chunks_exact(big).take(count).enumerate() {
        for_each_tap(g, |row, pos, pixel| cols[row * width + j * n_pos + pos] = image[pixel]);
    }
}

/// The adjoint of `unfold`: add cols (patch, images · positions) into `images` images.
fn fold_add(cols: &[f32], g: &Geometry, count: usize, images: &mut [f32]) {
    let (big, n_pos) = (g.big.0 * g.big.1 * g.big.2, g.small.1 * g.small.2);
    let width = count * n_pos;
    for (j, image) in images.chunks_exact_mut(big).take(count).enumerate() {
        for_each_tap(g, |row, pos, pixel| image[pixel] += cols[row * width + j * n_pos + pos]);
    }
}

/// (images, channels, positions) → (channels, images · positions), and back with `back`.
fn regroup(from: &[f32], to: &mut [f32], count: usize, channels: usize, n_pos: usize, back: bool) {
    for j in 0..count {
        for c in 0..channels {
            let (image_major, channel_major) = ((j * channels + c) * n_pos, c * count * n_pos + j * n_pos);
            let (src, dst) = if back { (channel_major, image_major) } else { (image_major, channel_major) };
            to[dst..dst + n_pos].copy_from_slice(&from[src..src + n_pos]);
        }
    }
}

/// Add each channel's bias to its positions, then apply the activation, image by image.
fn bias_activate(images: &mut [f32], bias: &[f32], activation: Activation) {
    let positions = images.len() / bias.len().max(1);
    for (channel, b) in images.chunks_exact_mut(positions.max(1)).zip(bias.iter().cycle()) {
        channel.iter_mut().for_each(|v| *v += b);
        activation.apply(channel);
    }
}

fn sizes(g: &Geometry) -> (usize, usize, usize, usize) {
    let big = g.big.0 * g.big.1 * g.big.2;
    let small = g.small.0 * g.small.1 * g.small.2;
    (big, small, g.small.0, g.small.1 * g.small.2)
}

/// Images per group for this geometry: products at least `GROUP_COLUMNS` wide, unfolded
/// columns within `GROUP_FLOATS`. It depends on the shapes only, never on the threads.
fn group_size(g: &Geometry, batch: usize) -> usize {
    let n_pos = g.small.1 * g.small.2;
    let by_width = GROUP_COLUMNS.div_ceil(n_pos.max(1));
    let by_memory = GROUP_FLOATS / (g.patch_len() * n_pos).max(1);
    by_width.min(by_memory).clamp(1, batch.max(1))
}

/// Conv forward: y (batch, small) = activation(filters (c_small, patch) · im2col(x) + bias).
#[allow(clippy::too_many_arguments)]
pub fn conv_forward(x: &[f32], filters: &[f32], bias: &[f32], activation: Activation, y: &mut [f32], g: &Geometry, batch: usize, _scratch: &mut Vec<f32>) {
    let (big, small, c_small, n_pos) = sizes(g);
    let (patch, group) = (g.patch_len(), group_size(g, batch));
    for_each_chunk(&mut y[..batch * small], group * small, |task, y_group| {
        let (first, count) = (task * group, y_group.len() / small);
        let width = count * n_pos;
        let regrouped = if count > 1 { c_small * width } else { 0 };
        with_scratch(patch * width + regrouped, |buf| {
            let (cols, out) = buf.split_at_mut(patch * width);
            unfold(&x[first * big..(first + count) * big], g, count, cols);
            if count == 1 {
                gemm(c_small, patch, width, filters, Op::N, cols, Op::N, 0.0, y_group);
            } else {
                gemm(c_small, patch, width, filters, Op::N, cols, Op::N, 0.0, out);
                regroup(out, y_group, count, c_small, n_pos, true);
            }
        });
        y_group.chunks_exact_mut(small).for_each(|image| bias_activate(image, bias, activation));
    });
}

/// Conv backward: d_filters += dy · im2col(x)ᵀ; dx (when given) = col2im(filtersᵀ · dy), then
/// `post(image, dx_image)` on each image's gradient. `scratch` holds the groups' filter
/// gradients until they are summed.
#[allow(clippy::too_many_arguments)]
pub fn conv_backward(x: &[f32], filters: &[f32], dy: &[f32], d_filters: &mut [f32], dx: Option<&mut [f32]>, g: &Geometry, batch: usize, scratch: &mut Vec<f32>, post: impl Fn(usize, &mut [f32]) + Sync + Send) {
    let (big, small, c_small, n_pos) = sizes(g);
    let (patch, group) = (g.patch_len(), group_size(g, batch));
    let tasks = batch.div_ceil(group);
    let f_len = d_filters.len();
    scratch.resize(tasks * f_len, 0.0);
    let partials = Shared::new(&mut scratch[..tasks * f_len]);
    let with_dx = dx.is_some();
    let dx = dx.map(Shared::new);
    for_each_task(tasks, |task| {
        let (first, count) = (task * group, group.min(batch - task * group));
        let width = count * n_pos;
        let regrouped = if count > 1 { c_small * width } else { 0 };
        let d_cols_len = if with_dx { patch * width } else { 0 };
        with_scratch(patch * width + d_cols_len + regrouped, |buf| {
            let (cols, rest) = buf.split_at_mut(patch * width);
            let (d_cols, dy_cm) = rest.split_at_mut(d_cols_len);
            unfold(&x[first * big..(first + count) * big], g, count, cols);
            let dy_group = &dy[first * small..(first + count) * small];
            let dy_cm: &[f32] = if count == 1 {
                dy_group
            } else {
                regroup(dy_group, dy_cm, count, c_small, n_pos, false);
                dy_cm
            };
            // SAFETY: each task owns partial `task` and the dx rows of its own images.
            let partial = unsafe { partials.part(task * f_len, f_len) };
            gemm(c_small, width, patch, dy_cm, Op::N, cols, Op::T, 0.0, partial);
            if let Some(dx) = dx {
                let dx_group = unsafe { dx.part(first * big, count * big) };
                gemm(patch, c_small, width, filters, Op::T, dy_cm, Op::N, 0.0, d_cols);
                dx_group.iter_mut().for_each(|v| *v = 0.0);
                fold_add(d_cols, g, count, dx_group);
                dx_group.chunks_exact_mut(big).enumerate().for_each(|(j, image)| post(first + j, image));
            }
        });
    });
    sum_partials(&scratch[..tasks * f_len], d_filters);
}

/// d_filters += the groups' filter gradients, in group order.
fn sum_partials(partials: &[f32], d_filters: &mut [f32]) {
    for partial in partials.chunks_exact(d_filters.len()) {
        d_filters.iter_mut().zip(partial).for_each(|(d, p)| *d += p);
    }
}

/// Deconv forward: y (batch, big) = activation(col2im(filtersᵀ · x) + bias).
#[allow(clippy::too_many_arguments)]
pub fn deconv_forward(x: &[f32], filters: &[f32], bias: &[f32], activation: Activation, y: &mut [f32], g: &Geometry, batch: usize, _scratch: &mut Vec<f32>) {
    let (big, small, c_small, n_pos) = sizes(g);
    let (patch, group) = (g.patch_len(), group_size(g, batch));
    for_each_chunk(&mut y[..batch * big], group * big, |task, y_group| {
        let (first, count) = (task * group, y_group.len() / big);
        let width = count * n_pos;
        let regrouped = if count > 1 { c_small * width } else { 0 };
        with_scratch(patch * width + regrouped, |buf| {
            let (cols, x_cm) = buf.split_at_mut(patch * width);
            let x_group = &x[first * small..(first + count) * small];
            let x_cm: &[f32] = if count == 1 {
                x_group
            } else {
                regroup(x_group, x_cm, count, c_small, n_pos, false);
                x_cm
            };
            gemm(patch, c_small, width, filters, Op::T, x_cm, Op::N, 0.0, cols);
            y_group.iter_mut().for_each(|v| *v = 0.0);
            fold_add(cols, g, count, y_group);
        });
        y_group.chunks_exact_mut(big).for_each(|image| bias_activate(image, bias, activation));
    });
}

/// Deconv backward: d_filters += x · im2col(dy)ᵀ; dx (when given) = filters · im2col(dy), then
/// `post(image, dx_image)` on each image's gradient.
#[allow(clippy::too_many_arguments)]
pub fn deconv_backward(x: &[f32], filters: &[f32], dy: &[f32], d_filters: &mut [f32], dx: Option<&mut [f32]>, g: &Geometry, batch: usize, scratch: &mut Vec<f32>, post: impl Fn(usize, &mut [f32]) + Sync + Send) {
    let (big, small, c_small, n_pos) = sizes(g);
    let (patch, group) = (g.patch_len(), group_size(g, batch));
    let tasks = batch.div_ceil(group);
    let f_len = d_filters.len();
    scratch.resize(tasks * f_len, 0.0);
    let partials = Shared::new(&mut scratch[..tasks * f_len]);
    let dx = dx.map(Shared::new);
    for_each_task(tasks, |task| {
        let (first, count) = (task * group, group.min(batch - task * group));
        let width = count * n_pos;
        let regrouped = if count > 1 { c_small * width } else { 0 };
        with_scratch(patch * width + 2 * regrouped, |buf| {
            let (cols, rest) = buf.split_at_mut(patch * width);
            let (x_cm, dx_cm) = rest.split_at_mut(regrouped);
            unfold(&dy[first * big..(first + count) * big], g, count, cols);
            let x_group = &x[first * small..(first + count) * small];
            let x_cm: &[f32] = if count == 1 {
                x_group
            } else {
                regroup(x_group, x_cm, count, c_small, n_pos, false);
                x_cm
            };
            // SAFETY: each task owns partial `task` and the dx rows of its own images.
            let partial = unsafe { partials.part(task * f_len, f_len) };
            gemm(c_small, width, patch, x_cm, Op::N, cols, Op::T, 0.0, partial);
            if let Some(dx) = dx {
                let dx_group = unsafe { dx.part(first * small, count * small) };
                if count == 1 {
                    gemm(c_small, patch, width, filters, Op::N, cols, Op::N, 0.0, dx_group);
                } else {
                    gemm(c_small, patch, width, filters, Op::N, cols, Op::N, 0.0, dx_cm);
                    regroup(dx_cm, dx_group, count, c_small, n_pos, true);
                }
                dx_group.chunks_exact_mut(small).enumerate().for_each(|(j, image)| post(first + j, image));
            }
        });
    });
    sum_partials(&scratch[..tasks * f_len], d_filters);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random(n: usize, rng: &mut Rng) -> Vec<f32> {
        (0..n).map(|_| rng.normal()).collect()
    }

    /// The direct definition: y[o][oy][ox] = Σ_c,ky,kx f[o][c][ky][kx] · x[c][oy·s−p+ky][ox·s−p+kx].
    fn naive_conv(x: &[f32], f: &[f32], g: &Geometry) -> Vec<f32> {
        let ((cb, hb, wb), (cs, hs, ws)) = (g.big, g.small);
        let mut y = vec![0.0; cs * hs * ws];
        for o in 0..cs {
            for oy in 0..hs {
                for ox in 0..ws {
                    let mut acc = 0.0;
                    for c in 0..cb {
                        for ky in 0..g.size {
                            for kx in 0..g.size {
                                let (yy, xx) = ((oy * g.stride + ky) as isize - g.pad as isize, (ox * g.stride + kx) as isize - g.pad as isize);
                                if yy >= 0 && xx >= 0 && (yy as usize) < hb && (xx as usize) < wb {
                                    acc += f[((o * cb + c) * g.size + ky) * g.size + kx] * x[(c * hb + yy as usize) * wb + xx as usize];
                                }
                            }
                        }
                    }
                    y[(o * hs + oy) * ws + ox] = acc;
                }
            }
        }
        y
    }

    fn geometries() -> Vec<Geometry> {
        let g = |big: (usize, usize, usize), cs: usize, size: usize, stride: usize, pad: usize| {
            let side = |s: usize| (s + 2 * pad - size) / stride + 1;
            Geometry { big, small: (cs, side(big.1), side(big.2)), size, stride, pad }
        };
        vec![g((1, 6, 6), 2, 3, 1, 0), g((2, 7, 5), 3, 3, 2, 1), g((3, 5, 5), 2, 2, 2, 0), g((1, 36, 36), 4, 17, 1, 0), g((2, 8, 8), 1, 4, 2, 1)]
    }

    #[test]
    fn conv_matches_the_definition_and_deconv_is_its_adjoint() {
        let mut rng = Rng::from_seed(5);
        for g in geometries() {
            let (big, small) = (g.big.0 * g.big.1 * g.big.2, g.small.0 * g.small.1 * g.small.2);
            let x = random(2 * big, &mut rng);
            let f = random(g.small.0 * g.patch_len(), &mut rng);
            let mut y = vec![0.0; 2 * small];
            let mut cols = Vec::new();
            conv_forward(&x, &f, &vec![0.0; g.small.0], Activation::Linear, &mut y, &g, 2, &mut cols);
            for b in 0..2 {
                let want = naive_conv(&x[b * big..(b + 1) * big], &f, &g);
                for (got, want) in y[b * small..(b + 1) * small].iter().zip(&want) {
                    assert!((got - want).abs() < 1e-3 * (1.0 + want.abs()), "{g:?}: {got} vs {want}");
                }
            }
            // ⟨conv(x), z⟩ = ⟨x, deconv(z)⟩ for the same filters: the deconv is the transpose.
            let z = random(small, &mut rng);
            let mut back = vec![0.0; big];
            deconv_forward(&z, &f, &vec![0.0; g.big.0], Activation::Linear, &mut back, &g, 1, &mut cols);
            let lhs: f64 = y[..small].iter().zip(&z).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
            let rhs: f64 = x[..big].iter().zip(&back).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
            assert!((lhs - rhs).abs() < 1e-3 * (1.0 + lhs.abs()), "{g:?}: {lhs} vs {rhs}");
        }
    }
}
