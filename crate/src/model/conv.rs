//! Convolution and transposed convolution by unfolding (im2col): every product goes through
//! `matmul::gemm`. Images are channel-first (c, h, w), one per row of a batch. A conv maps the
//! geometry's big side to its small side; a deconv maps small to big and is the conv's adjoint,
//! so a deconv that shares a conv's filters is exactly its transpose (tied weights).

use super::matmul::{gemm, Op};
use super::spec::Geometry;

/// Visit every (cols index, image index) pair the kernel windows touch: cols row
/// (c, ky, kx), column (oy, ox) reads image pixel (c, oy·stride − pad + ky, ox·stride − pad + kx).
/// Window positions that fall in the padding are skipped. im2col and col2im are both this walk.
#[inline]
fn for_each_tap(g: &Geometry, mut visit: impl FnMut(usize, usize)) {
    let (c_big, h_big, w_big) = g.big;
    let (_, h_small, w_small) = g.small;
    let n_pos = h_small * w_small;
    for c in 0..c_big {
        for ky in 0..g.size {
            for kx in 0..g.size {
                let row = ((c * g.size + ky) * g.size + kx) * n_pos;
                for oy in 0..h_small {
                    let y = (oy * g.stride + ky) as isize - g.pad as isize;
                    if y < 0 || y >= h_big as isize {
                        continue;
                    }
                    let line = (c * h_big + y as usize) * w_big;
                    for ox in 0..w_small {
                        let x = (ox * g.stride + kx) as isize - g.pad as isize;
                        if x >= 0 && (x as usize) < w_big {
                            visit(row + oy * w_small + ox, line + x as usize);
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
    debug_assert_eq!(cols.len(), g.patch_len() * g.small.1 * g.small.2);
    if g.pad > 0 {
        cols.iter_mut().for_each(|v| *v = 0.0);
    }
    for_each_tap(g, |col, pixel| cols[col] = image[pixel]);
}

/// Fold cols back, adding into one image (c_big, h_big, w_big): the adjoint of `im2col`.
pub fn col2im_add(cols: &[f32], g: &Geometry, image: &mut [f32]) {
    for_each_tap(g, |col, pixel| image[pixel] += cols[col]);
}

fn sizes(g: &Geometry) -> (usize, usize, usize, usize) {
    let big = g.big.0 * g.big.1 * g.big.2;
    let small = g.small.0 * g.small.1 * g.small.2;
    (big, small, g.small.0, g.small.1 * g.small.2)
}

/// Conv forward: y (batch, small) = filters (c_small, patch) · im2col(x) per image, no bias.
pub fn conv_forward(x: &[f32], filters: &[f32], y: &mut [f32], g: &Geometry, batch: usize, cols: &mut Vec<f32>) {
    let (big, small, c_small, n_pos) = sizes(g);
    cols.resize(g.patch_len() * n_pos, 0.0);
    let cols = &mut cols[..g.patch_len() * n_pos];
    for b in 0..batch {
        im2col(&x[b * big..(b + 1) * big], g, cols);
        gemm(c_small, g.patch_len(), n_pos, filters, Op::N, cols, Op::N, 0.0, &mut y[b * small..(b + 1) * small]);
    }
}

/// Conv backward: d_filters += dy · im2col(x)ᵀ; dx (when given) = col2im(filtersᵀ · dy).
/// `scratch` holds the unfolded input and its gradient side by side, reused across calls.
#[allow(clippy::too_many_arguments)]
pub fn conv_backward(x: &[f32], filters: &[f32], dy: &[f32], d_filters: &mut [f32], mut dx: Option<&mut [f32]>, g: &Geometry, batch: usize, scratch: &mut Vec<f32>) {
    let (big, small, c_small, n_pos) = sizes(g);
    let patch = g.patch_len();
    scratch.resize(2 * patch * n_pos, 0.0);
    let (cols, d_cols) = scratch.split_at_mut(patch * n_pos);
    for b in 0..batch {
        let dy_b = &dy[b * small..(b + 1) * small];
        im2col(&x[b * big..(b + 1) * big], g, cols);
        gemm(c_small, n_pos, patch, dy_b, Op::N, cols, Op::T, 1.0, d_filters);
        if let Some(dx) = dx.as_deref_mut() {
            gemm(patch, c_small, n_pos, filters, Op::T, dy_b, Op::N, 0.0, d_cols);
            let dx_b = &mut dx[b * big..(b + 1) * big];
            dx_b.iter_mut().for_each(|v| *v = 0.0);
            col2im_add(d_cols, g, dx_b);
        }
    }
}

/// Deconv forward: y (batch, big) = col2im(filtersᵀ · x) per image, no bias.
pub fn deconv_forward(x: &[f32], filters: &[f32], y: &mut [f32], g: &Geometry, batch: usize, cols: &mut Vec<f32>) {
    let (big, small, c_small, n_pos) = sizes(g);
    cols.resize(g.patch_len() * n_pos, 0.0);
    let cols = &mut cols[..g.patch_len() * n_pos];
    for b in 0..batch {
        gemm(g.patch_len(), c_small, n_pos, filters, Op::T, &x[b * small..(b + 1) * small], Op::N, 0.0, cols);
        let y_b = &mut y[b * big..(b + 1) * big];
        y_b.iter_mut().for_each(|v| *v = 0.0);
        col2im_add(cols, g, y_b);
    }
}

/// Deconv backward: d_filters += x · im2col(dy)ᵀ; dx (when given) = filters · im2col(dy).
#[allow(clippy::too_many_arguments)]
pub fn deconv_backward(x: &[f32], filters: &[f32], dy: &[f32], d_filters: &mut [f32], mut dx: Option<&mut [f32]>, g: &Geometry, batch: usize, cols: &mut Vec<f32>) {
    let (big, small, c_small, n_pos) = sizes(g);
    let patch = g.patch_len();
    cols.resize(patch * n_pos, 0.0);
    let cols = &mut cols[..patch * n_pos];
    for b in 0..batch {
        im2col(&dy[b * big..(b + 1) * big], g, cols);
        gemm(c_small, n_pos, patch, &x[b * small..(b + 1) * small], Op::N, cols, Op::T, 1.0, d_filters);
        if let Some(dx) = dx.as_deref_mut() {
            gemm(c_small, patch, n_pos, filters, Op::N, cols, Op::N, 0.0, &mut dx[b * small..(b + 1) * small]);
        }
    }
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
            conv_forward(&x, &f, &mut y, &g, 2, &mut cols);
            for b in 0..2 {
                let want = naive_conv(&x[b * big..(b + 1) * big], &f, &g);
                for (got, want) in y[b * small..(b + 1) * small].iter().zip(&want) {
                    assert!((got - want).abs() < 1e-3 * (1.0 + want.abs()), "{g:?}: {got} vs {want}");
                }
            }
            // ⟨conv(x), z⟩ = ⟨x, deconv(z)⟩ for the same filters: the deconv is the transpose.
            let z = random(small, &mut rng);
            let mut back = vec![0.0; big];
            deconv_forward(&z, &f, &mut back, &g, 1, &mut cols);
            let lhs: f64 = y[..small].iter().zip(&z).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
            let rhs: f64 = x[..big].iter().zip(&back).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
            assert!((lhs - rhs).abs() < 1e-3 * (1.0 + lhs.abs()), "{g:?}: {lhs} vs {rhs}");
        }
    }
}
