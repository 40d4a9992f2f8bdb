//! Every matrix product in the crate goes through this module: the three forms a dense layer
//! needs, plus their transposed-weight twins for tied layers. Row-major f32 slices only. Two
//! backends sit behind `gemm`: `matrixmultiply`'s packed GEMM (AVX2/FMA natively, where it wins)
//! and our register-tile kernel (kernel.rs: simd128 or relaxed-simd tiles in wasm, where it wins).
//! `Backend::Auto` picks by target; the benchmarks switch backends to measure both in one run.

use std::cell::Cell;

use super::kernel::{self, View};

/// Which implementation computes products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The faster one measured for this target: our tiles in wasm, `matrixmultiply` natively.
    Auto,
    /// Our tile kernel with the best tile compiled in (the scalar reference tile natively).
    Tiles,
    /// The `matrixmultiply` crate.
    Matrixmultiply,
}

thread_local! {
    static BACKEND: Cell<Backend> = const { Cell::new(Backend::Auto) };
}

/// Choose the backend for every later product on this thread (benchmarks and tests only; the
/// two backends may differ in the last bits, each deterministic on its own).
pub fn set_backend(backend: Backend) {
    BACKEND.with(|b| b.set(backend));
}

/// The backend `gemm` uses now on this thread, with `Auto` resolved.
pub fn backend() -> Backend {
    match BACKEND.with(Cell::get) {
        chosen @ (Backend::Tiles | Backend::Matrixmultiply) => chosen,
        Backend::Auto if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) => Backend::Tiles,
        Backend::Auto => Backend::Matrixmultiply,
    }
}

/// Which tile the wasm build compiled in: "relaxed-simd", "simd128" or, natively, "native".
pub fn simd_level() -> &'static str {
    if cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd")) {
        "relaxed-simd"
    } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "simd128"
    } else {
        "native"
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type BestTile = kernel::SimdTile;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
type BestTile = kernel::ScalarTile;

/// Whether an operand is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    N,
    T,
}

/// C (m, n) = op(A) (m, k) · op(B) (k, n) + beta · C, all row-major and contiguous.
/// `a` is stored as (m, k) when `op_a` is N and as (k, m) when it is T; likewise `b`.
#[allow(clippy::too_many_arguments)]
pub fn gemm(m: usize, k: usize, n: usize, a: &[f32], op_a: Op, b: &[f32], op_b: Op, beta: f32, c: &mut [f32]) {
    assert_eq!(a.len(), m * k, "gemm: A has {} elements, expected {m}x{k}", a.len());
    assert_eq!(b.len(), k * n, "gemm: B has {} elements, expected {k}x{n}", b.len());
    assert_eq!(c.len(), m * n, "gemm: C has {} elements, expected {m}x{n}", c.len());
    if m == 0 || n == 0 {
        return;
    }
    // Row and column strides of op(A) and op(B) as seen by the product.
    let (rsa, csa) = match op_a {
        Op::N => (k as isize, 1),
        Op::T => (1, m as isize),
    };
    let (rsb, csb) = match op_b {
        Op::N => (n as isize, 1),
        Op::T => (1, k as isize),
    };
    if backend() == Backend::Tiles {
        let view = |data, rs: isize, cs: isize| View { data, rs: rs as usize, cs: cs as usize };
        kernel::gemm::<BestTile>(m, k, n, view(a, rsa, csa), view(b, rsb, csb), beta, c);
        return;
    }
    // SAFETY: the asserts above guarantee every index the strides reach lies inside the slices,
    // and `c` is a unique borrow that does not alias `a` or `b`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// Forward: Y (batch, n_out) = X (batch, n_in) · Wᵀ, W (n_out, n_in).
pub fn forward(x: &[f32], w: &[f32], y: &mut [f32], batch: usize, n_in: usize, n_out: usize) {
    gemm(batch, n_in, n_out, x, Op::N, w, Op::T, 0.0, y);
}

/// Input gradient: dX (batch, n_in) = dY (batch, n_out) · W, W (n_out, n_in).
pub fn backward_input(dy: &[f32], w: &[f32], dx: &mut [f32], batch: usize, n_in: usize, n_out: usize) {
    gemm(batch, n_out, n_in, dy, Op::N, w, Op::N, 0.0, dx);
}

/// Weight gradient, accumulated: dW (n_out, n_in) += dYᵀ (n_out, batch) · X (batch, n_in).
pub fn backward_weights(dy: &[f32], x: &[f32], dw: &mut [f32], batch: usize, n_in: usize, n_out: usize) {
    gemm(n_out, batch, n_in, dy, Op::T, x, Op::N, 1.0, dw);
}

/// The tied twins: the layer's weight is Wᵀ where W (n_in, n_out) belongs to its mirror layer.
/// Forward: Y (batch, n_out) = X (batch, n_in) · W.
pub fn forward_tied(x: &[f32], w: &[f32], y: &mut [f32], batch: usize, n_in: usize, n_out: usize) {
    gemm(batch, n_in, n_out, x, Op::N, w, Op::N, 0.0, y);
}

/// Tied input gradient: dX (batch, n_in) = dY (batch, n_out) · Wᵀ, W (n_in, n_out).
pub fn backward_input_tied(dy: &[f32], w: &[f32], dx: &mut [f32], batch: usize, n_in: usize, n_out: usize) {
    gemm(batch, n_out, n_in, dy, Op::N, w, Op::T, 0.0, dx);
}

/// Tied weight gradient, accumulated into the mirror's W (n_in, n_out) += Xᵀ (n_in, batch) · dY (batch, n_out).
pub fn backward_weights_tied(dy: &[f32], x: &[f32], dw: &mut [f32], batch: usize, n_in: usize, n_out: usize) {
    gemm(n_in, batch, n_out, x, Op::T, dy, Op::N, 1.0, dw);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook triple loop, the independent reference for every form.
    fn naive(m: usize, k: usize, n: usize, a: &[f32], op_a: Op, b: &[f32], op_b: Op) -> Vec<f32> {
        let at = |i: usize, p: usize| if op_a == Op::N { a[i * k + p] } else { a[p * m + i] };
        let bt = |p: usize, j: usize| if op_b == Op::N { b[p * n + j] } else { b[j * k + p] };
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| at(i, p) * bt(p, j)).sum();
            }
        }
        c
    }

    fn filled(len: usize, salt: usize) -> Vec<f32> {
        (0..len).map(|i| (((i * 7 + salt * 13) % 23) as f32 - 11.0) / 8.0).collect()
    }

    #[test]
    fn every_transpose_combination_matches_the_triple_loop() {
        for backend in [Backend::Matrixmultiply, Backend::Tiles] {
            every_combination(backend);
        }
        set_backend(Backend::Auto);
    }

    fn every_combination(backend: Backend) {
        set_backend(backend);
        for &(m, k, n) in &[(1, 1, 1), (3, 5, 2), (17, 33, 9), (50, 784, 20)] {
            for op_a in [Op::N, Op::T] {
                for op_b in [Op::N, Op::T] {
                    let a = filled(m * k, 1);
                    let b = filled(k * n, 2);
                    let mut c = filled(m * n, 3);
                    let c0 = c.clone();
                    gemm(m, k, n, &a, op_a, &b, op_b, 1.0, &mut c);
                    let want = naive(m, k, n, &a, op_a, &b, op_b);
                    for idx in 0..m * n {
                        let expect = want[idx] + c0[idx];
                        assert!((c[idx] - expect).abs() <= 1e-4 * (1.0 + expect.abs()), "{backend:?} {m}x{k}x{n} {op_a:?}{op_b:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn dense_forms_agree_with_their_definitions() {
        // X (2, 3), W (4, 3): Y = X Wᵀ is (2, 4).
        let (batch, n_in, n_out) = (2, 3, 4);
        let x = filled(batch * n_in, 4);
        let w = filled(n_out * n_in, 5);
        let mut y = vec![0.0; batch * n_out];
        forward(&x, &w, &mut y, batch, n_in, n_out);
        assert_eq!(y, naive(batch, n_in, n_out, &x, Op::N, &w, Op::T));
        let dy = filled(batch * n_out, 6);
        let mut dx = vec![0.0; batch * n_in];
        backward_input(&dy, &w, &mut dx, batch, n_in, n_out);
        assert_eq!(dx, naive(batch, n_out, n_in, &dy, Op::N, &w, Op::N));
        let mut dw = vec![1.0; n_out * n_in];
        backward_weights(&dy, &x, &mut dw, batch, n_in, n_out);
        let want: Vec<f32> = naive(n_out, batch, n_in, &dy, Op::T, &x, Op::N).iter().map(|v| v + 1.0).collect();
        assert_eq!(dw, want);
    }
}
