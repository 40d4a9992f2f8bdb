//! Convolution and transposed convolution. Images are channel-first (c, h, w), one per row of a
//! batch. A conv maps the geometry's big side to its small side; a deconv maps small to big and
//! is the conv's adjoint, so a deconv that shares a conv's filters is exactly its transpose (tied
//! weights). Stride-1 layers are computed directly with the batch in the SIMD lanes (direct.rs)
//! where that is faster (`is_direct`); the others by unfolding (im2col), every product going
//! through `matmul::gemm`.
//!
//! The batch is cut into groups of a few images whose unfolded columns sit side by side, so
//! each product is (channels or patch) × (images · positions) wide; the groups run in parallel,
//! each on a buffer of its thread's own (grown once, then reused: a step allocates nothing).
//! Filter gradients are summed per group and then over the groups in order, so the result does
//! not depend on the number of threads. Bias and activation are applied to each group's output
//! as soon as it is computed.

use std::cell::RefCell;

use std::sync::atomic::{AtomicU8, Ordering};

use super::activation::Activation;
use super::direct::{self, Lanes};
use super::matmul::{for_each_chunk, for_each_task, gemm, Op, Shared};
use super::spec::Geometry;

/// Which path stride-1 layers take: `BY_POLICY` (the default, `is_direct`), or always the
/// direct one or always unfolding, for the benchmark to measure both on the same layers.
static PATH: AtomicU8 = AtomicU8::new(BY_POLICY);
const BY_POLICY: u8 = 0;
const ALWAYS_DIRECT: u8 = 1;
const ALWAYS_UNFOLDED: u8 = 2;

/// Compute every stride-1 layer directly (`Some(true)`), every layer by unfolding
/// (`Some(false)`), or each as `is_direct` chooses (`None`, the default).
pub fn set_direct(force: Option<bool>) {
    PATH.store(force.map_or(BY_POLICY, |direct| if direct { ALWAYS_DIRECT } else { ALWAYS_UNFOLDED }), Ordering::Relaxed);
}

/// Filters up to which a stride-1 layer is computed directly. In wasm, every count: the direct
/// path beat unfolding on all four conv-1s-8s layers (21.8 / 17.8 / 16.2 / 22.8 GFLOP/s
/// against 17.0 / 2.7 / 3.6 / 21.5, simd128, one thread). Natively `matrixmultiply`'s AVX
/// kernels make unfolding faster for the 20-filter layers (25.1 and 32.3 against 14.3 and 14.5)
/// while the direct path wins for the 2-filter ones (12.3 and 11.6 against 3.1 and 4.0).
const DIRECT_MAX_FILTERS: usize = if cfg!(target_arch = "wasm32") { usize::MAX } else { 4 };

/// Whether `g` is computed by direct.rs: stride 1 with the padding inside the window (so the
/// adjoint's padding, size − 1 − pad, is not negative), and few enough filters.
fn is_direct(g: &Geometry) -> bool {
    let possible = g.stride == 1 && g.pad < g.size;
    match PATH.load(Ordering::Relaxed) {
        ALWAYS_DIRECT => possible,
        ALWAYS_UNFOLDED => false,
        _ => possible && g.small.0 <= DIRECT_MAX_FILTERS,
    }
}

/// `scratch` cut into consecutive parts of these lengths (grown once, then reused).
fn parts<const N: usize>(scratch: &mut Vec<f32>, lens: [usize; N]) -> [&mut [f32]; N] {
    let total = lens.iter().sum();
    if scratch.len() < total {
        scratch.resize(total, 0.0);
    }
    let mut rest = &mut scratch[..];
    lens.map(|len| {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
        rest = tail;
        head
    })
}

/// At least the floats the direct path's scratch takes for `g` at `batch`: a backward pass
/// holds both sides in lanes, the input gradient in lanes and the laid-out filters (either
/// tensor padded by up to size − 1 on each side and widened for the tiles, the images rounded
/// up), in u64 so the budget can judge it before anything is allocated.
pub fn direct_scratch_bound(g: &Geometry, batch: usize) -> u64 {
    let (size, images) = (g.size as u64, (batch as u64).saturating_add(8));
    let tensor = |(c, h, w): (usize, usize, usize)| {
        let rows = (h as u64).saturating_add(size.saturating_mul(2));
        let cols = (w as u64).saturating_add(size.saturating_mul(2)).saturating_add(8);
        (c as u64).saturating_mul(rows).saturating_mul(cols).saturating_mul(images)
    };
    let taps = [g.small.0 as u64, g.big.0 as u64, size, size.saturating_add(3), 4].into_iter().fold(1u64, u64::saturating_mul);
    tensor(g.big).saturating_add(tensor(g.small)).saturating_mul(2).saturating_add(taps)
}

/// Lay out the filters for the conv direction (big to small) of `g`.
fn conv_taps(filters: &[f32], g: &Geometry, taps: &mut [f32]) {
    let (c_big, size) = (g.big.0, g.size);
    direct::tile_weights(g.small.0, c_big, size, |o, c, ky, kx| filters[((o * c_big + c) * size + ky) * size + kx], taps);
}

/// Lay out the filters for the adjoint (small to big) of `g`: flipped and transposed.
fn adjoint_taps(filters: &[f32], g: &Geometry, taps: &mut [f32]) {
    let (c_big, size, last) = (g.big.0, g.size, g.size - 1);
    direct::tile_weights(c_big, g.small.0, size, |o, c, ky, kx| filters[((c * c_big + o) * size + last - ky) * size + last - kx], taps);
}

/// The padding that turns the adjoint into a correlation: size − 1 − pad.
fn adjoint_pad(g: &Geometry) -> usize {
    g.size - 1 - g.pad
}

/// The direct forward pass: `out` = the conv of `x` (big to small) or, with `adjoint`, the
/// deconv of `x` (small to big); then `finish(image_idx, image)` on each image.
#[allow(clippy::too_many_arguments)]
fn direct_forward(x: &[f32], filters: &[f32], g: &Geometry, adjoint: bool, batch: usize, scratch: &mut Vec<f32>, out: &mut [f32], finish: impl Fn(usize, &mut [f32]) + Sync + Send) {
    let ((c_from, h_from, w_from), (c_to, h_to, w_to), pad) = if adjoint { (g.small, g.big, adjoint_pad(g)) } else { (g.big, g.small, g.pad) };
    let t_in = Lanes::input(c_from, (h_from, w_from), pad, g.size, batch);
    let t_out = Lanes::output(c_to, (h_to, w_to), batch);
    let [lanes_in, lanes_out, taps] = parts(scratch, [t_in.floats(), t_out.floats(), direct::taps_len(c_to, c_from, g.size)]);
    direct::to_lanes(x, batch, (h_from, w_from), pad, t_in, lanes_in);
    if adjoint { adjoint_taps(filters, g, taps) } else { conv_taps(filters, g, taps) }
    direct::correlate(lanes_in, t_in, pad, (h_from, w_from), taps, g.size, lanes_out, t_out);
    direct::from_lanes(lanes_out, t_out, (h_to, w_to), batch, out, finish);
}

/// The direct backward pass of a conv (x big, dy small) or, with `adjoint`, of a deconv (x
/// small, dy big): d_filters += Σ over the batch of small ⋆ big, and dx (when given) = the
/// gradient dy sends back, the deconv of dy for a conv and the conv of dy for a deconv, then
/// `post(image_idx, image)` on each. dy is turned to lanes once, padded as the input gradient's
/// correlation reads it, and the filter gradient reads the same lanes.
#[allow(clippy::too_many_arguments)]
fn direct_backward(x: &[f32], filters: &[f32], dy: &[f32], d_filters: &mut [f32], dx: Option<&mut [f32]>, g: &Geometry, adjoint: bool, batch: usize, scratch: &mut Vec<f32>, post: impl Fn(usize, &mut [f32]) + Sync + Send) {
    let ((c_big, h_big, w_big), (c_small, h_small, w_small), size) = (g.big, g.small, g.size);
    // The small side at its padding (a conv's dy, as the adjoint reads it; a deconv's x, unpadded)
    // and the big side at the conv's.
    let small_pad = if adjoint { 0 } else { adjoint_pad(g) };
    let t_small = Lanes::input(c_small, (h_small, w_small), small_pad, size, batch);
    let t_big = Lanes::input(c_big, (h_big, w_big), g.pad, size, batch);
    let (c_dx, dims_dx) = if adjoint { (c_small, (h_small, w_small)) } else { (c_big, (h_big, w_big)) };
    let t_dx = Lanes::output(c_dx, dims_dx, batch);
    let n_taps = if dx.is_some() { direct::taps_len(c_small, c_big, size) } else { 0 };
    let n_dx = if dx.is_some() { t_dx.floats() } else { 0 };
    let [lanes_small, lanes_big, taps, lanes_dx] = parts(scratch, [t_small.floats(), t_big.floats(), n_taps, n_dx]);
    let (small, big) = if adjoint { (x, dy) } else { (dy, x) };
    direct::to_lanes(small, batch, (h_small, w_small), small_pad, t_small, lanes_small);
    direct::to_lanes(big, batch, (h_big, w_big), g.pad, t_big, lanes_big);
    direct::filter_gradient(lanes_small, t_small, small_pad, (h_small, w_small), lanes_big, t_big, size, d_filters);
    let Some(dx) = dx else { return };
    if adjoint {
        conv_taps(filters, g, taps);
        direct::correlate(lanes_big, t_big, g.pad, (h_big, w_big), taps, size, lanes_dx, t_dx);
    } else {
        adjoint_taps(filters, g, taps);
        direct::correlate(lanes_small, t_small, small_pad, (h_small, w_small), taps, size, lanes_dx, t_dx);
    }
    direct::from_lanes(lanes_dx, t_dx, dims_dx, batch, dx, post);
}

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

/// Conv forward: y (batch, small) = activation(filters (c_small, patch) ⋆ x + bias).
#[allow(clippy::too_many_arguments)]
pub fn conv_forward(x: &[f32], filters: &[f32], bias: &[f32], activation: Activation, y: &mut [f32], g: &Geometry, batch: usize, scratch: &mut Vec<f32>) {
    if is_direct(g) {
        direct_forward(x, filters, g, false, batch, scratch, y, |_, image| bias_activate(image, bias, activation));
    } else {
        conv_forward_unfolded(x, filters, bias, activation, y, g, batch);
    }
}

/// Conv backward: d_filters += the filter gradient; dx (when given) = the input gradient, then
/// `post(image, dx_image)` on each image's gradient. `scratch` is the layer's working memory.
#[allow(clippy::too_many_arguments)]
pub fn conv_backward(x: &[f32], filters: &[f32], dy: &[f32], d_filters: &mut [f32], dx: Option<&mut [f32]>, g: &Geometry, batch: usize, scratch: &mut Vec<f32>, post: impl Fn(usize, &mut [f32]) + Sync + Send) {
    if is_direct(g) {
        direct_backward(x, filters, dy, d_filters, dx, g, false, batch, scratch, post);
    } else {
        conv_backward_unfolded(x, filters, dy, d_filters, dx, g, batch, scratch, post);
    }
}

/// Deconv forward: y (batch, big) = activation(the adjoint of the conv with these filters, applied to x, + bias).
#[allow(clippy::too_many_arguments)]
pub fn deconv_forward(x: &[f32], filters: &[f32], bias: &[f32], activation: Activation, y: &mut [f32], g: &Geometry, batch: usize, scratch: &mut Vec<f32>) {
    if is_direct(g) {
        direct_forward(x, filters, g, true, batch, scratch, y, |_, image| bias_activate(image, bias, activation));
    } else {
        deconv_forward_unfolded(x, filters, bias, activation, y, g, batch);
    }
}

/// Deconv backward: d_filters += the filter gradient; dx (when given) = the input gradient (the
/// conv of dy), then `post(image, dx_image)` on each image's gradient.
#[allow(clippy::too_many_arguments)]
pub fn deconv_backward(x: &[f32], filters: &[f32], dy: &[f32], d_filters: &mut [f32], dx: Option<&mut [f32]>, g: &Geometry, batch: usize, scratch: &mut Vec<f32>, post: impl Fn(usize, &mut [f32]) + Sync + Send) {
    if is_direct(g) {
        direct_backward(x, filters, dy, d_filters, dx, g, true, batch, scratch, post);
    } else {
        deconv_backward_unfolded(x, filters, dy, d_filters, dx, g, batch, scratch, post);
    }
}

/// The unfolded conv forward: y (batch, small) = activation(filters (c_small, patch) · im2col(x) + bias).
#[allow(clippy::too_many_arguments)]
fn conv_forward_unfolded(x: &[f32], filters: &[f32], bias: &[f32], activation: Activation, y: &mut [f32], g: &Geometry, batch: usize) {
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

/// The unfolded conv backward: d_filters += dy · im2col(x)ᵀ; dx (when given) = col2im(filtersᵀ · dy), then
/// `post(image, dx_image)` on each image's gradient. `scratch` holds the groups' filter
/// gradients until they are summed.
#[allow(clippy::too_many_arguments)]
fn conv_backward_unfolded(x: &[f32], filters: &[f32], dy: &[f32], d_filters: &mut [f32], dx: Option<&mut [f32]>, g: &Geometry, batch: usize, scratch: &mut Vec<f32>, post: impl Fn(usize, &mut [f32]) + Sync + Send) {
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

/// The unfolded deconv forward: y (batch, big) = activation(col2im(filtersᵀ · x) + bias).
#[allow(clippy::too_many_arguments)]
fn deconv_forward_unfolded(x: &[f32], filters: &[f32], bias: &[f32], activation: Activation, y: &mut [f32], g: &Geometry, batch: usize) {
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

/// The unfolded deconv backward: d_filters += x · im2col(dy)ᵀ; dx (when given) = filters · im2col(dy), then
/// `post(image, dx_image)` on each image's gradient.
#[allow(clippy::too_many_arguments)]
fn deconv_backward_unfolded(x: &[f32], filters: &[f32], dy: &[f32], d_filters: &mut [f32], dx: Option<&mut [f32]>, g: &Geometry, batch: usize, scratch: &mut Vec<f32>, post: impl Fn(usize, &mut [f32]) + Sync + Send) {
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

    /// Equal up to rounding: sums of thousands of terms in another order differ by a few ulps of
    /// the terms' size, so the tolerance scales with the typical magnitude, not each element's.
    fn close(got: &[f32], want: &[f32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        let scale = want.iter().map(|w| w.abs()).sum::<f32>() / want.len() as f32;
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() < 1e-4 * (1.0 + scale), "{what} [{i}]: direct {g} vs unfolded {w}");
        }
    }

    /// The direct path (direct.rs) gives what unfolding gives, in all four passes, for stride-1
    /// geometries with and without padding, odd and even channel counts (direct.rs blocks
    /// filters in twos), windows that are not whole tiles, and batches that do not fill the lanes.
    #[test]
    fn direct_path_matches_unfolding_in_every_pass() {
        let mut rng = Rng::from_seed(9);
        let g = |big: (usize, usize, usize), cs: usize, size: usize, pad: usize| {
            let side = |s: usize| s + 2 * pad + 1 - size;
            Geometry { big, small: (cs, side(big.1), side(big.2)), size, stride: 1, pad }
        };
        let shapes = [g((1, 12, 12), 3, 5, 0), g((3, 9, 7), 2, 3, 1), g((2, 10, 10), 1, 4, 2), g((5, 8, 8), 4, 1, 0), g((20, 20, 20), 2, 11, 0), g((1, 36, 36), 20, 17, 0)];
        // Not square, and kernels wider than the small side (a deconv reading it, unpadded, in
        // its filter gradient): 35 wide and 36 high, and the other way round.
        let shapes = shapes.into_iter().chain([g((1, 36, 35), 2, 34, 0), g((2, 36, 35), 1, 5, 2), g((1, 35, 36), 3, 30, 1), g((1, 36, 35), 2, 17, 0), g((3, 6, 9), 2, 5, 0), g((1, 9, 4), 1, 4, 3)]);
        for geometry in shapes {
            assert!(geometry.stride == 1 && geometry.pad < geometry.size);
            for batch in [1, 3, 9] {
                let (big, small) = (geometry.big.0 * geometry.big.1 * geometry.big.2, geometry.small.0 * geometry.small.1 * geometry.small.2);
                let (x_big, x_small) = (random(batch * big, &mut rng), random(batch * small, &mut rng));
                let filters = random(geometry.small.0 * geometry.patch_len(), &mut rng);
                let (bias_small, bias_big) = (random(geometry.small.0, &mut rng), random(geometry.big.0, &mut rng));
                let what = format!("{geometry:?} batch {batch}");
                let mut scratch = Vec::new();
                // Forward passes, bias and activation included.
                let (mut direct, mut unfolded) = (vec![0.0; batch * small], vec![0.0; batch * small]);
                direct_forward(&x_big, &filters, &geometry, false, batch, &mut scratch, &mut direct, |_, image| bias_activate(image, &bias_small, Activation::Tanh));
                conv_forward_unfolded(&x_big, &filters, &bias_small, Activation::Tanh, &mut unfolded, &geometry, batch);
                close(&direct, &unfolded, &format!("conv forward {what}"));
                let (mut direct, mut unfolded) = (vec![0.0; batch * big], vec![0.0; batch * big]);
                direct_forward(&x_small, &filters, &geometry, true, batch, &mut scratch, &mut direct, |_, image| bias_activate(image, &bias_big, Activation::Tanh));
                deconv_forward_unfolded(&x_small, &filters, &bias_big, Activation::Tanh, &mut unfolded, &geometry, batch);
                close(&direct, &unfolded, &format!("deconv forward {what}"));
                // Backward passes: filter gradients are added to what is there; `post` sees each image.
                let start = random(filters.len(), &mut rng);
                let post = |image_idx: usize, image: &mut [f32]| image.iter_mut().for_each(|v| *v *= 1.0 + image_idx as f32);
                let (mut d_direct, mut d_unfolded) = (start.clone(), start.clone());
                let (mut dx_direct, mut dx_unfolded) = (vec![0.0; batch * big], vec![0.0; batch * big]);
                direct_backward(&x_big, &filters, &x_small, &mut d_direct, Some(&mut dx_direct), &geometry, false, batch, &mut scratch, post);
                conv_backward_unfolded(&x_big, &filters, &x_small, &mut d_unfolded, Some(&mut dx_unfolded), &geometry, batch, &mut Vec::new(), post);
                close(&d_direct, &d_unfolded, &format!("conv filter gradient {what}"));
                close(&dx_direct, &dx_unfolded, &format!("conv input gradient {what}"));
                let (mut d_direct, mut d_unfolded) = (start.clone(), start);
                let (mut dx_direct, mut dx_unfolded) = (vec![0.0; batch * small], vec![0.0; batch * small]);
                direct_backward(&x_small, &filters, &x_big, &mut d_direct, Some(&mut dx_direct), &geometry, true, batch, &mut scratch, post);
                deconv_backward_unfolded(&x_small, &filters, &x_big, &mut d_unfolded, Some(&mut dx_unfolded), &geometry, batch, &mut Vec::new(), post);
                close(&d_direct, &d_unfolded, &format!("deconv filter gradient {what}"));
                close(&dx_direct, &dx_unfolded, &format!("deconv input gradient {what}"));
                // The budget's bound holds for what the four passes took.
                assert!(scratch.len() as u64 <= direct_scratch_bound(&geometry, batch), "{what}: scratch {} floats", scratch.len());
            }
        }
    }
}
